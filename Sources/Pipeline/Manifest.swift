import Foundation

/// One clip of a manifest, with its optional per-clip settings.
public struct ManifestEntry: Codable, Sendable, Equatable {
    /// The clip's path or URL (a relative path is taken relative to the manifest's folder).
    public var clip: String
    /// The clip's output folder name (default: from the clip's name).
    public var name: String?
    /// The class to explain and measure for this clip (a label or an index), instead of `--target`.
    public var target: String?
    /// Seconds into the clip to start, and how many to analyse, instead of `--start` / `--duration`.
    public var start: Double?
    public var duration: Double?
    /// 0-based position in the manifest (what shards and the merge order by).
    public var position: Int = 0

    public init(clip: String, name: String? = nil, target: String? = nil, start: Double? = nil, duration: Double? = nil, position: Int = 0) {
        self.clip = clip; self.name = name; self.target = target; self.start = start; self.duration = duration; self.position = position
    }
}

/// The list of clips and feeds a fleet run works through (`--manifest FILE`): one clip path or URL per line (blank
/// lines and `#` comments ignored), or a CSV with a header naming a `clip` column and optional `name`, `target`,
/// `start` and `duration` columns, or a JSON array of clip strings or objects with those keys.
public struct Manifest: Sendable {
    public var path: String
    public var entries: [ManifestEntry]
    /// SHA-256 of the manifest file: shards of different manifests are not merged.
    public var sha256: String

    /// Reads and checks a manifest.
    /// - Throws: `ManifestError` naming the file and line.
    public init(path: String, sha256: (Data) -> String) throws {
        self.path = path
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ManifestError(path: path, line: nil, reason: "cannot be read (\((error as NSError).localizedDescription))")
        }
        self.sha256 = sha256(data)
        guard let text = String(data: data, encoding: .utf8) else { throw ManifestError(path: path, line: nil, reason: "is not UTF-8 text") }
        let lower = path.lowercased()
        var entries: [ManifestEntry]
        if lower.hasSuffix(".json") { entries = try Self.parseJSON(data, path: path) }
        else if lower.hasSuffix(".csv") { entries = try Self.parseCSV(text, path: path) }
        else { entries = Self.parseLines(text) }
        guard !entries.isEmpty else { throw ManifestError(path: path, line: nil, reason: "lists no clip") }
        let base = (path as NSString).deletingLastPathComponent
        for i in entries.indices {
            entries[i].position = i
            let c = entries[i].clip
            if !c.contains("://") && !c.hasPrefix("/") && !base.isEmpty { entries[i].clip = (base as NSString).appendingPathComponent(c) }
            if let s = entries[i].start, !(s >= 0 && s <= 1e9) { throw ManifestError(path: path, line: i + 1, reason: "start must be between 0 and 1e9 seconds") }
            if let d = entries[i].duration, !(d > 0 && d <= 1e9) { throw ManifestError(path: path, line: i + 1, reason: "duration must be more than 0 and at most 1e9 seconds") }
        }
        self.entries = entries
    }

    /// Entries of shard `index` of `count`: the clips at positions `index`, `index + count`, ... A manifest that grows
    /// at its end keeps every earlier clip in its shard.
    public func shard(_ index: Int, of count: Int) -> [ManifestEntry] {
        entries.filter { $0.position % count == index }
    }

    static func parseLines(_ text: String) -> [ManifestEntry] {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }.map { ManifestEntry(clip: $0) }
    }

    static func parseJSON(_ data: Data, path: String) throws -> [ManifestEntry] {
        struct Item: Decodable {
            var clip: String
            var name: String?, target: String?
            var start: Double?, duration: Double?
            init(from decoder: Decoder) throws {
                if let s = try? decoder.singleValueContainer().decode(String.self) { clip = s; return }
                enum K: String, CodingKey { case clip, name, target, start, duration }
                let c = try decoder.container(keyedBy: K.self)
                clip = try c.decode(String.self, forKey: .clip)
                name = try c.decodeIfPresent(String.self, forKey: .name)
                if let t = try? c.decodeIfPresent(Int.self, forKey: .target) { target = String(t) } else { target = try c.decodeIfPresent(String.self, forKey: .target) }
                start = try c.decodeIfPresent(Double.self, forKey: .start)
                duration = try c.decodeIfPresent(Double.self, forKey: .duration)
            }
        }
        do {
            return try JSONDecoder().decode([Item].self, from: data).map {
                ManifestEntry(clip: $0.clip, name: $0.name, target: $0.target, start: $0.start, duration: $0.duration)
            }
        } catch {
            throw ManifestError(path: path, line: nil, reason: "is not a JSON array of clip paths or {\"clip\": ...} objects (\(error))")
        }
    }

    static func parseCSV(_ text: String, path: String) throws -> [ManifestEntry] {
        var rows = CSVRows.parse(text)
        guard !rows.isEmpty else { return [] }
        let header = rows.removeFirst().map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let clipColumn = header.firstIndex(of: "clip") else {
            throw ManifestError(path: path, line: 1, reason: "has no 'clip' column in its header (columns: clip, name, target, start, duration)")
        }
        let known: Set<String> = ["clip", "name", "target", "start", "duration"]
        if let unknown = header.first(where: { !known.contains($0) }) {
            throw ManifestError(path: path, line: 1, reason: "has an unknown column '\(unknown)' (columns: clip, name, target, start, duration)")
        }
        func column(_ name: String) -> Int? { header.firstIndex(of: name) }
        var out: [ManifestEntry] = []
        for (i, row) in rows.enumerated() where !(row.count == 1 && row[0].trimmingCharacters(in: .whitespaces).isEmpty) {
            func field(_ name: String) -> String? {
                guard let c = column(name), c < row.count else { return nil }
                let v = row[c].trimmingCharacters(in: .whitespaces)
                return v.isEmpty ? nil : v
            }
            func number(_ name: String) throws -> Double? {
                guard let v = field(name) else { return nil }
                guard let d = Double(v) else { throw ManifestError(path: path, line: i + 2, reason: "\(name) '\(v)' is not a number of seconds") }
                return d
            }
            guard clipColumn < row.count, let clip = field("clip") else { throw ManifestError(path: path, line: i + 2, reason: "has no clip") }
            out.append(ManifestEntry(clip: clip, name: field("name"), target: field("target"), start: try number("start"), duration: try number("duration")))
        }
        return out
    }
}

/// RFC 4180 rows: quoted fields may hold commas, quotes ("") and line breaks.
enum CSVRows {
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false, i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if quoted {
                if c == "\"" {
                    let n = text.index(after: i)
                    if n < text.endIndex && text[n] == "\"" { field.append("\""); i = n } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(field); field = "" }
            else if c == "\n" || c == "\r\n" || c == "\r" { row.append(field); rows.append(row); row = []; field = "" }
            else { field.append(c) }
            i = text.index(after: i)
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}

/// A manifest that cannot be used, with where and why.
public struct ManifestError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var line: Int?
    public var reason: String
    public var description: String {
        "manifest \(path)\(line.map { " line \($0)" } ?? "") \(reason); fix it and run again"
    }
}

import Foundation
import Robustness

/// One clip of a multi-clip run, as the index lists it.
public struct IndexEntry: Codable, Sendable, Equatable {
    /// The clip path or URL as given.
    public var clip: String
    /// The clip's report folder, relative to the index directory (nil when nothing was written).
    public var folder: String?
    /// `ok`, `partial` or `failed`.
    public var status: String
    /// Why the clip failed.
    public var error: String?
    public var meanRetention: Double?
    /// The verdict against `--fail-under`, when given.
    public var passed: Bool?
    /// The mean retention's 95% interval.
    public var retentionInterval: Interval?
    public var analysedFrames: Int?
    /// The clip's 0-based position in the manifest (fleet runs).
    public var position: Int?
    /// True when the clip's earlier complete results were kept, not recomputed (same model, parameters and bytes).
    public var reused: Bool?

    public init(clip: String, folder: String?, status: String, error: String? = nil, meanRetention: Double? = nil, passed: Bool? = nil,
                retentionInterval: Interval? = nil, analysedFrames: Int? = nil, position: Int? = nil, reused: Bool? = nil) {
        self.clip = clip; self.folder = folder; self.status = status; self.error = error
        self.meanRetention = meanRetention; self.passed = passed; self.retentionInterval = retentionInterval
        self.analysedFrames = analysedFrames; self.position = position; self.reused = reused
    }
}

/// Where an index's clips came from in a fleet run: the manifest, and which shard (or a merge of shards).
public struct FleetInfo: Codable, Sendable, Equatable {
    public var manifest: String
    public var manifestSHA256: String
    /// Clips the manifest lists.
    public var manifestClips: Int
    /// This shard (0-based) and the shard count; nil for an unsharded run or a merge.
    public var shard: Int?
    public var shards: Int?
    /// For a merge: the shards merged, and those missing (their clips are listed as `not-analysed`).
    public var mergedShards: [Int]?
    public var missingShards: [Int]?
    public init(manifest: String, manifestSHA256: String, manifestClips: Int, shard: Int? = nil, shards: Int? = nil,
                mergedShards: [Int]? = nil, missingShards: [Int]? = nil) {
        self.manifest = manifest; self.manifestSHA256 = manifestSHA256; self.manifestClips = manifestClips
        self.shard = shard; self.shards = shards; self.mergedShards = mergedShards; self.missingShards = missingShards
    }
}

/// `index.json`: the clips of a run (see `scripts/schema/index.schema.json`).
public struct IndexFile: Codable, Sendable {
    public var schemaVersion: String
    public var fleet: FleetInfo?
    public var clips: [IndexEntry]
    public init(schemaVersion: String = "1.0", fleet: FleetInfo? = nil, clips: [IndexEntry]) {
        self.schemaVersion = schemaVersion; self.fleet = fleet; self.clips = clips
    }
}

/// Writes `index.json` and `index.html` over several clip reports.
public enum IndexWriter {
    /// Writes `directory/index.json` (`{"schemaVersion", "fleet", "clips": [...]}`) and `directory/index.html`, a table
    /// ranking the clips by mean retention (least robust first, with intervals), linking each clip's `report.html`
    /// and listing failed clips with their error. Both are written atomically.
    /// - Throws: `ReportingError`.
    public static func write(directory: String, entries: [IndexEntry], fleet: FleetInfo? = nil) throws {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw ReportingError(.createDirectory, path: directory, error: error)
        }
        let dir = URL(fileURLWithPath: directory)
        let jsonPath = dir.appendingPathComponent("index.json").path
        let data: Data
        do { data = try ReportJSON.encoder(pretty: true).encode(IndexFile(fleet: fleet, clips: entries)) } catch {
            throw ReportingError(.encode, path: jsonPath, error: error)
        }
        try AtomicFile.write(jsonPath) { out in try out.write(bytes: data); try out.write("\n") }
        try AtomicFile.write(dir.appendingPathComponent("index.html").path) { out in try out.write(html(entries, fleet: fleet)) }
    }

    static func html(_ entries: [IndexEntry], fleet: FleetInfo? = nil) -> String {
        let e = HTML.escape
        let failed = entries.filter { $0.status == "failed" }.count
        // Least robust first; clips without a retention (failed, not analysed) last, in manifest order.
        let ranked = entries.enumerated().sorted { a, b in
            switch (a.element.meanRetention, b.element.meanRetention) {
            case let (x?, y?): return x != y ? x < y : a.offset < b.offset
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.offset < b.offset
            }
        }.map(\.element)
        var fleetLine = ""
        if let f = fleet {
            fleetLine = " &middot; manifest \(e(f.manifest)) (\(f.manifestClips) clips)"
            if let s = f.shard, let n = f.shards { fleetLine += " &middot; shard \(s) of \(n)" }
            if let m = f.mergedShards { fleetLine += " &middot; \(m.count) shard(s) merged" }
            if let missing = f.missingShards, !missing.isEmpty { fleetLine += " &middot; <b class=\"status-failed\">missing shard(s) \(missing.map(String.init).joined(separator: ", "))</b>" }
        }
        var h = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Vigil reports</title>
        <style>
        \(HTML.style)
        .status-ok{color:var(--pass);font-weight:600}.status-partial,.status-incomplete{color:#9a5b00;font-weight:600}.status-failed{color:var(--fail);font-weight:600}
        td.err{color:var(--fail);font-size:13px;overflow-wrap:anywhere}
        </style>
        </head>
        <body>
        <main>
        <header><h1>Vigil reports</h1><div class="sub">\(entries.count) clip(s)\(failed > 0 ? ", \(failed) failed" : "")\(fleetLine)</div></header>
        <h2>Clips, least robust first</h2>
        <table>
        <thead><tr><th>Clip</th><th>Status</th><th style="text-align:right">Mean retention</th><th>Verdict</th><th>Report</th></tr></thead>
        <tbody>

        """
        for entry in ranked {
            let verdict = entry.passed.map { $0 ? "<span class=\"status-ok\">PASS</span>" : "<span class=\"status-failed\">FAIL</span>" } ?? "–"
            var retention = entry.meanRetention.map { String(format: "%.3f", $0) } ?? "–"
            if let i = entry.retentionInterval, entry.meanRetention != nil { retention += String(format: " [%.3f, %.3f]", i.low, i.high) }
            var link = "–"
            if let folder = entry.folder, entry.status != "failed" {
                let href = (folder + "/report.html").addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? folder + "/report.html"
                link = "<a href=\"\(e(href))\">\(e(folder))/report.html</a>"
            }
            h += "<tr><td>\(e(entry.clip))</td><td class=\"status-\(e(entry.status))\">\(e(entry.status))</td><td class=\"num\">\(retention)</td><td>\(verdict)</td><td>\(link)</td></tr>\n"
            if let err = entry.error {
                h += "<tr><td></td><td colspan=\"4\" class=\"err\">\(e(err))</td></tr>\n"
            }
        }
        h += "</tbody>\n</table>\n<footer>Written by Vigil. Each link opens a self-contained report.</footer>\n</main>\n</body>\n</html>\n"
        return h
    }
}

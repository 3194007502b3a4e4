import Foundation

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

    public init(clip: String, folder: String?, status: String, error: String? = nil, meanRetention: Double? = nil, passed: Bool? = nil) {
        self.clip = clip; self.folder = folder; self.status = status; self.error = error
        self.meanRetention = meanRetention; self.passed = passed
    }
}

/// Writes `index.json` and `index.html` over several clip reports.
public enum IndexWriter {
    private struct IndexFile: Encodable {
        var schemaVersion: String
        var clips: [IndexEntry]
    }

    /// Writes `directory/index.json` (`{"schemaVersion", "clips": [...]}`) and `directory/index.html`, a table
    /// linking each clip's `report.html` and listing failed clips with their error. Both are written atomically.
    /// - Throws: `ReportingError`.
    public static func write(directory: String, entries: [IndexEntry]) throws {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw ReportingError(.createDirectory, path: directory, error: error)
        }
        let dir = URL(fileURLWithPath: directory)
        let jsonPath = dir.appendingPathComponent("index.json").path
        let data: Data
        do { data = try ReportJSON.encoder(pretty: true).encode(IndexFile(schemaVersion: "1.0", clips: entries)) } catch {
            throw ReportingError(.encode, path: jsonPath, error: error)
        }
        try AtomicFile.write(jsonPath) { out in try out.write(bytes: data); try out.write("\n") }
        try AtomicFile.write(dir.appendingPathComponent("index.html").path) { out in try out.write(html(entries)) }
    }

    static func html(_ entries: [IndexEntry]) -> String {
        let e = HTML.escape
        let failed = entries.filter { $0.status == "failed" }.count
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
        <header><h1>Vigil reports</h1><div class="sub">\(entries.count) clip(s)\(failed > 0 ? ", \(failed) failed" : "")</div></header>
        <h2>Clips</h2>
        <table>
        <thead><tr><th>Clip</th><th>Status</th><th style="text-align:right">Mean retention</th><th>Verdict</th><th>Report</th></tr></thead>
        <tbody>

        """
        for entry in entries {
            let verdict = entry.passed.map { $0 ? "<span class=\"status-ok\">PASS</span>" : "<span class=\"status-failed\">FAIL</span>" } ?? "–"
            let retention = entry.meanRetention.map { String(format: "%.3f", $0) } ?? "–"
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

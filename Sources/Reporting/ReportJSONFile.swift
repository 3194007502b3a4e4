import Foundation

/// `report.json`, written once the clip is done (to a temporary file, then renamed).
///
/// Version 1: `{"schemaVersion", "partial", "provenance", "frames": [one record per line], "summary", "input", "timing"}`;
/// version 2: `{"schemaVersion", "partial", "provenance", "framesFile", "frameCount", "series", "summary", "input", "timing"}`.
/// Byte-identical for identical inputs except its last key, `timing`.
final class ReportJSONFile: ReportOutput {
    let path: String
    private let encoder = ReportJSON.encoder()

    init(path: String) { self.path = path }

    func finish(_ r: FinishedReport) throws {
        func encode<T: Encodable>(_ v: T, _ what: String) throws -> Data {
            do { return try encoder.encode(v) } catch { throw ReportingError(.encode, path: path, reason: "\(what): \(error)") }
        }
        let provenanceJSON = try encode(r.provenance, "provenance")
        let summaryJSON = try encode(r.summary, "summary")
        let timingJSON = try encode(r.timing, "timing")
        try AtomicFile.write(path) { out in
            try out.write("{\n\"schemaVersion\": \"\(r.format.schemaVersion)\",\n\"partial\": \(r.partial),\n\"provenance\": ")
            try out.write(bytes: provenanceJSON)
            if r.format == .v2 {
                try out.write(",\n\"framesFile\": \"\(ReportWriter.framesFileName)\",\n\"frameCount\": \(r.frameCount),\n\"series\": ")
                try out.write(bytes: try encode(r.series, "series"))
                try out.write(",\n\"summary\": ")
            } else {
                try out.write(",\n\"frames\": [")
                var reader = try LineReader(path: r.recordsPath)
                var first = true
                while let line = try reader.next() {
                    try out.write(first ? "\n" : ",\n")
                    try out.write(bytes: line)
                    first = false
                }
                try out.write(first ? "],\n\"summary\": " : "\n],\n\"summary\": ")
            }
            try out.write(bytes: summaryJSON)
            if let input = r.input {
                try out.write(",\n\"input\": ")
                try out.write(bytes: try encode(input, "input"))
            }
            try out.write(",\n\"timing\": ")
            try out.write(bytes: timingJSON)
            try out.write("\n}\n")
        }
    }
}

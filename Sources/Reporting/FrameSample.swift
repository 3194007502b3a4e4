import Foundation
import Robustness

/// The fields of a frame record (a line of `frames.jsonl`) that the HTML page and the series read back; decoding
/// ignores the rest of the record (the Grad-CAM grid, the patches).
struct FrameSample: Decodable {
    var frame: Int
    var pts: Double
    var top5: [ClassScore]
    var retention: Double
    var retentionInterval: Interval
    var meanDrop: Double
    var flippedTo: [String: Int]
    var camAgreement: Double?

    /// Calls `body` with each record of the file at `path`, one JSON object per line, in order.
    /// - Throws: `ReportingError` when the file cannot be read or a line is not a frame record.
    static func forEach(path: String, _ body: (FrameSample) throws -> Void) throws {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        var reader = try LineReader(path: path)
        var line = 0
        while let bytes = try reader.next() {
            line += 1
            let s: FrameSample
            do { s = try decoder.decode(FrameSample.self, from: Data(bytes)) } catch {
                throw ReportingError(.read, path: path, reason: "line \(line) is not a frame record: \(error)")
            }
            try body(s)
        }
    }
}

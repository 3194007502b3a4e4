import Foundation
import Robustness

/// One analysed frame as `report.json` stores it: `FrameAnalysis`, whose encoding leaves out the wall-clock
/// `timings`, so the frames of two identical runs encode to identical bytes.
public typealias FrameRecord = FrameAnalysis

/// The encoder settings every Vigil JSON file uses: sorted keys, no escaped slashes, shortest round-trip
/// numbers; non-finite numbers become the strings `NaN`, `Infinity`, `-Infinity` (which the schema rejects,
/// so a report carrying one is flagged rather than lost).
enum ReportJSON {
    static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return e
    }
}

/// A report file could not be written or read back.
public struct ReportingError: Error, CustomStringConvertible, Sendable {
    public enum Operation: String, Sendable {
        case createDirectory = "create directory"
        case create, write, read, rename, encode, remove
        case finished = "use a finished report writer for"
    }
    public var operation: Operation
    public var path: String
    public var reason: String

    public init(_ operation: Operation, path: String, reason: String) {
        self.operation = operation; self.path = path; self.reason = reason
    }

    public var description: String { "cannot \(operation.rawValue) \(path): \(reason)" }
}

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

    /// From a Foundation error: the system's reason (errno) when there is one, not the NSError dump.
    public init(_ operation: Operation, path: String, error: Error) {
        self.init(operation, path: path, reason: ReportingError.reason(error))
    }

    public var description: String {
        var s = "cannot \(operation.rawValue) \(path): \(reason)"
        if reason.contains("No space left") { s += "; free space on that disk or choose another --out" }
        return s
    }

    /// The POSIX reason behind a Foundation error, else its description.
    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if let u = ns.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(u.code))) }
        return "\(error)"
    }
}

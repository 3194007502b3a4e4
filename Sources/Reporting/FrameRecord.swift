import Foundation
import Robustness

/// One analysed frame as `report.json` stores it: `FrameAnalysis` without its wall-clock `timings`, so the
/// frames of two identical runs encode to identical bytes.
public struct FrameRecord: Codable, Sendable {
    public var frame: Int
    public var pts: Double
    public var top5: [ClassScore]
    public var target: ClassScore
    /// Grad-CAM at the layer's resolution, row-major `[camHeight, camWidth]`, not normalised.
    public var cam: [Float]
    public var camWidth: Int
    public var camHeight: Int
    public var patches: [PatchOutcome]
    public var retention: Double
    public var retentionInterval: Interval
    public var meanDrop: Double
    public var worstPatch: Int
    public var flippedTo: [String: Int]
    /// Occlusion sensitivity, row-major `[camHeight, camWidth]`; null where no patch reached.
    public var sensitivity: [Float?]
    public var camAgreement: Double?
    public var crop: CropRect

    public init(_ f: FrameAnalysis) {
        frame = f.frame; pts = f.pts; top5 = f.top5; target = f.target; cam = f.cam
        camWidth = f.camWidth; camHeight = f.camHeight; patches = f.patches; retention = f.retention
        retentionInterval = f.retentionInterval; meanDrop = f.meanDrop; worstPatch = f.worstPatch
        flippedTo = f.flippedTo; sensitivity = f.sensitivity; camAgreement = f.camAgreement; crop = f.crop
    }
}

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

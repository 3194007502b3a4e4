import Foundation
import Robustness

/// `frames.jsonl`: one JSON record per analysed frame (without its `timings`), one per line.
///
/// The records stream to a fragment file (`ReportWriter.fragmentName`) while the clip is analysed; the writer reads
/// the clip's series from it once it is closed, and report.json (version 1) copies it. Finishing then renames it to
/// `frames.jsonl` (version 2) or removes it (version 1, whose report.json holds the records inline), so this output
/// goes last in the writer's list.
final class FrameRecordsFile: ReportOutput {
    let fragmentPath: String
    let framesPath: String
    let format: ReportFormat
    private let file: BufferedFile
    private let encoder = ReportJSON.encoder()

    /// Creates (or truncates) the fragment file in `directory`.
    /// - Throws: `ReportingError` naming the path.
    init(directory: String, format: ReportFormat) throws {
        fragmentPath = (directory as NSString).appendingPathComponent(ReportWriter.fragmentName)
        framesPath = (directory as NSString).appendingPathComponent(ReportWriter.framesFileName)
        self.format = format
        file = try BufferedFile(creating: fragmentPath)
    }

    func append(_ frame: FrameAnalysis) throws {
        let record: Data
        do { record = try encoder.encode(frame) } catch {
            throw ReportingError(.encode, path: fragmentPath, reason: "frame \(frame.frame): \(error)")
        }
        try file.write(bytes: record)
        try file.write("\n")
    }

    func close() throws { try file.close() }

    func finish(_ report: FinishedReport) throws {
        if format == .v2 {
            if rename(fragmentPath, framesPath) != 0 {
                throw ReportingError(.rename, path: framesPath, reason: String(cString: strerror(errno)))
            }
        } else {
            do { try FileManager.default.removeItem(atPath: fragmentPath) } catch {
                throw ReportingError(.remove, path: fragmentPath, error: error)
            }
        }
    }
}

import Foundation
import Imaging
import Reporting
import Robustness

/// Report: the clip's figures (`ClipAccumulator`) and its report files (`ReportWriter` and its outputs), fed the
/// analysed frames in order; also keeps the worst frames' thumbnails. Used from one thread.
final class ReportStage {
    let writer: ReportWriter
    private(set) var accumulator: ClipAccumulator
    /// Milliseconds per analysis step (preprocess, classify and CAM, occlusion, ...), summed over the frames.
    private var stageTotals: [String: Double] = [:]

    /// Creates the report folder and its streamed files.
    /// - Parameters:
    ///   - extraOutputs: report outputs of the caller's own, beside the standard ones.
    /// - Throws: `ReportingError` when the folder or a file cannot be created.
    init(directory: String, provenance: Provenance, format: ReportFormat, overlayVideo: Bool, seed: UInt64,
         extraOutputs: [any ReportOutput] = []) throws {
        writer = try ReportWriter(directory: directory, provenance: provenance, format: format, overlayVideo: overlayVideo,
                                  extraOutputs: extraOutputs)
        accumulator = ClipAccumulator(worstCount: 5, seed: seed)
    }

    /// Frames added.
    var count: Int { accumulator.count }

    /// Adds an analysed frame to the figures and to every report file.
    /// - Throws: `ReportingError` when a file cannot be written.
    func add(_ a: FrameAnalysis) throws {
        accumulator.add(a)
        for (k, v) in a.timings { stageTotals[k, default: 0] += v }
        try writer.append(a)
    }

    /// Whether `a` is among the clip's worst frames so far (its thumbnails are then kept).
    func isWorst(_ a: FrameAnalysis) -> Bool { accumulator.isWorst(frame: a.frame) }

    /// Keeps the picture pair of `a`, one of the worst frames so far, and drops those no longer among them.
    func keepThumbnail(of a: FrameAnalysis, original: RGBImage, overlay: RGBImage) {
        writer.setThumbnail(frame: a.frame, pts: a.pts, original: original, overlay: overlay)
        writer.retainThumbnails(Set(accumulator.worstFrameIndices))
    }

    /// The clip's figures so far.
    func summary(failUnder: Double?) -> ClipSummary { accumulator.summary(failUnder: failUnder) }

    /// The run's speed: `wallSeconds`, analysed frames per second and the mean milliseconds per analysis step.
    func timing(wallSeconds wall: Double) -> TimingSummary {
        let n = Double(max(accumulator.count, 1))
        return TimingSummary(wallSeconds: wall, analysedFramesPerSecond: wall > 0 ? Double(accumulator.count) / wall : 0,
                             meanMsPerStage: stageTotals.mapValues { $0 / n })
    }

    /// Writes the report (see `ReportWriter.finish`).
    /// - Throws: `ReportingError` when a file cannot be written.
    func finish(summary: ClipSummary, partial: Bool, input: InputCompleteness? = nil, timing: TimingSummary) throws {
        _ = try writer.finish(summary: summary, partial: partial, input: input, timing: timing)
    }
}

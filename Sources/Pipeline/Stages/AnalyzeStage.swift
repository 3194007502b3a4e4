import Foundation
import MediaIO
import Robustness

/// A frame after the analyse stage: its analysis, or the error that stopped it; neither when the frame was not picked
/// (`--every`, `--fps`) or the run was cancelled before it.
struct AnalysedFrame: @unchecked Sendable {
    var seq: Int
    var frame: VideoFrame
    var analysis: FrameAnalysis? = nil
    var error: Error? = nil
}

/// Analyse: N workers, each on a thread of its own with its own `FrameAnalyzer` (engine workspace), take decoded
/// frames from one queue and put them, analysed, on another in the order they finish (`ReorderStage` puts them back
/// in order). A worker that meets an error passes it on with the frame and goes on; the scheduler decides.
///
/// Preprocessing (crop, resize, normalise to the model's input tensor) stays inside this stage, in
/// `FrameAnalyzer.analyze`, rather than being a stage of its own: it is a small share of a frame's time, it already
/// runs in parallel on the N workers (on a stage of its own it would be one more thread and queue hop, or serialised
/// on the decode thread), and the analyser needs the RGB frame anyway (corruptions are applied to the frame's crop
/// before their own preprocessing), so a split would carry the frame and its tensor together for no gain.
final class AnalyzeStage: @unchecked Sendable {
    /// The analysed frames, in the order the workers finish them.
    let output: BoundedQueue<AnalysedFrame>
    private let analyzers: [FrameAnalyzer]
    private let cancel: CancellationFlag

    /// - Parameters:
    ///   - analyzers: one per worker.
    ///   - outputCapacity: frames the output queue holds; the frame permits bound it in practice.
    init(analyzers: [FrameAnalyzer], cancel: CancellationFlag, outputCapacity: Int = 1 << 20) {
        self.analyzers = analyzers
        self.cancel = cancel
        output = BoundedQueue(capacity: outputCapacity)
    }

    /// Starts the workers on `input`; `output` is closed once `input` is closed and every worker is done.
    func start(input: BoundedQueue<SequencedFrame>) {
        let workers = DispatchGroup()
        let cancel = self.cancel, output = self.output
        for analyzer in analyzers {
            workers.enter()
            Thread.detachNewThread {
                defer { workers.leave() }
                while let s = input.pop() {
                    var w = AnalysedFrame(seq: s.seq, frame: s.frame)
                    if s.frame.isSelected && !cancel.isCancelled {
                        do { w.analysis = try analyzer.analyze(s.frame.image, frame: s.frame.index, pts: s.frame.pts) } catch { w.error = error }
                    }
                    output.push(w)
                }
            }
        }
        Thread.detachNewThread { workers.wait(); output.close() }
    }
}

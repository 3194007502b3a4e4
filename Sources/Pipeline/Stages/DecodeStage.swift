import Foundation
import MediaIO
import Reporting

/// A decoded frame and its place in decoding order (the analyse stage's workers finish out of order).
struct SequencedFrame: Sendable {
    var seq: Int
    var frame: VideoFrame
}

/// Decode: reads a clip's frames (`VideoSource`: demux, decode, scale to RGB) on a thread of its own into a bounded
/// queue, numbered in decoding order, each holding a frame permit. Reading ends at the end of the clip or its window,
/// at a read error, or when the run is cancelled; the queue is then closed.
final class DecodeStage: @unchecked Sendable {
    let source: VideoSource
    /// The decoded frames, in order.
    let output: BoundedQueue<SequencedFrame>
    private let cancel: CancellationFlag
    private let readError = Locked<Error?>(nil)
    private let reading = DispatchGroup()

    /// Opens `url` with `options` as they are; only cancellation is added (`shouldStop`), so that a stalled network
    /// read ends within a second of an interruption.
    /// - Parameters:
    ///   - capacity: frames the output queue holds before reading waits.
    /// - Throws: `FFmpegError` when the clip cannot be opened (see `VideoSource.init`).
    init(url: String, options: VideoSource.Options, cancel: CancellationFlag, capacity: Int) throws {
        var o = options
        o.shouldStop = { cancel.isCancelled }
        source = try VideoSource(url: url, options: o)
        output = BoundedQueue(capacity: capacity)
        self.cancel = cancel
    }

    /// What the clip is.
    var metadata: ClipMetadata { source.metadata }

    /// Starts reading on a thread of its own, taking one of `permits` before each frame.
    func start(permits: FramePermits) {
        reading.enter()
        Thread.detachNewThread { [self] in
            defer { output.close(); reading.leave() }
            var seq = 0
            while !cancel.isCancelled {
                permits.acquire()
                do {
                    guard let f = try source.nextFrame() else { permits.release(); break }
                    output.push(SequencedFrame(seq: seq, frame: f)); seq += 1
                } catch {
                    readError.set(error)
                    permits.release()
                    break
                }
            }
        }
    }

    /// Waits for reading to end.
    /// - Returns: the read error that ended it, if one did.
    func wait() -> Error? {
        reading.wait()
        return readError.get()
    }

    /// Whether the input was whole: no read error or stall, no damaged packet, and (when the whole of an MP4/MOV was
    /// read) as many frames as it declares (MP4/MOV), or frames up to its declared duration (Matroska/WebM). AVI counts
    /// are not compared: AVI declares its null (repeat) frames too. Call after `wait()`.
    func completeness(readError: Error?, analysed: Int, interrupted: Bool) -> InputCompleteness {
        let meta = source.metadata, o = source.options
        var problems: [String] = []
        if let readError { problems.append("\(readError)") }
        if source.damagedPackets > 0 { problems.append("\(source.damagedPackets) damaged packet(s) were skipped or concealed; the frames around them may be missing") }
        let wholeRead = !interrupted && readError == nil && o.start == nil && o.duration == nil && (o.maxFrames.map { analysed < $0 } ?? true)
        if wholeRead, meta.container.hasPrefix("mov,mp4"), let declared = meta.frameCount, source.framesDecoded < declared {
            problems.append("decoded \(source.framesDecoded) of the \(declared) frames the file declares: it is truncated or damaged")
        }
        // Matroska and WebM declare a duration, not a frame count: the last frame must come within a second of its end.
        if wholeRead, meta.container.hasPrefix("matroska"), let declared = meta.duration, let last = source.lastPTS, last + 1 < declared {
            problems.append(String(format: "the frames end at %.2f s but the file declares %.2f s: it is truncated", last, declared))
        }
        return InputCompleteness(declaredFrames: meta.frameCount, decodedFrames: source.framesDecoded, damagedPackets: source.damagedPackets,
                                 complete: problems.isEmpty, problem: problems.isEmpty ? nil : problems.joined(separator: "; "))
    }
}

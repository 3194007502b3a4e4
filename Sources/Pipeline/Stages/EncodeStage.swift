import Foundation
import Imaging
import MediaIO

/// Encode: writes overlay pictures to a `VideoSink` (overlay.mp4, or HLS for a live feed) on a thread of its own,
/// in the order they come. After a write error it goes on taking pictures (no producer waits on it) but writes none;
/// the error cancels the run and `drain()` returns it.
final class EncodeStage: @unchecked Sendable {
    /// One picture of the overlay and its time.
    struct Picture: Sendable {
        var image: RGBImage
        var pts: Double
        /// Drawn over `image` on the encode thread just before it is written (a live feed shows the newest analysis
        /// then); nil: `image` as it is.
        var draw: (@Sendable (RGBImage) -> RGBImage)? = nil
    }

    let sink: VideoSink
    private let input: BoundedQueue<Picture>
    private let failure = Locked<Error?>(nil)
    private let writing = DispatchGroup()

    /// - Parameters:
    ///   - capacity: pictures waiting to be written before `push` waits (or `offer` drops).
    init(sink: VideoSink, capacity: Int) {
        self.sink = sink
        input = BoundedQueue(capacity: capacity)
    }

    /// Starts writing on a thread of its own; each picture taken gives back one of `permits`, when given.
    func start(cancel: CancellationFlag, permits: FramePermits? = nil) {
        writing.enter()
        Thread.detachNewThread { [self] in
            defer { writing.leave() }
            while let p = input.pop() {
                defer { permits?.release() }
                guard failure.get() == nil else { continue }
                do { try sink.write(p.draw?(p.image) ?? p.image, pts: p.pts) } catch { failure.set(error); cancel.cancel("error") }
            }
        }
    }

    /// Queues a picture, waiting for room.
    func push(_ p: Picture) { input.push(p) }

    /// Queues a picture unless the queue is full (a live feed then drops it); false when dropped.
    func offer(_ p: Picture) -> Bool { input.tryPush(p) }

    /// The write error, if one happened so far.
    var error: Error? { failure.get() }

    /// Pictures written.
    var framesWritten: Int { sink.framesWritten }

    /// No more pictures: the thread ends once the queue is empty.
    func close() { input.close() }

    /// Closes the queue and waits until every picture in it was taken.
    /// - Returns: the write error, if one happened.
    func drain() -> Error? {
        input.close()
        writing.wait()
        return failure.get()
    }

    /// Ends the file (flushes the encoder, writes the trailer). Call after `drain()`.
    /// - Throws: `FFmpegError` when the file cannot be finished.
    func finish() throws { try sink.finish() }
}

import Foundation
import Imaging
import MediaIO

/// When and how often a live feed is reopened after it drops.
public struct ReconnectPolicy: Sendable {
    /// Reopen the feed when it ends or fails; false ends the run at the first drop.
    public var enabled: Bool = true
    /// Failed attempts in a row after which the run gives up (nil: never).
    public var limit: Int? = nil
    /// First wait between attempts; it doubles up to `maxDelay`.
    public var initialDelay: Double = 0.5
    public var maxDelay: Double = 10
    public init() {}
}

/// A live source that survives drops: it reopens the URL with backoff when the stream ends or fails, numbers frames
/// continuously across connections, gives each a feed time that continues across gaps, and stamps when it was decoded.
/// Use from one thread at a time (it may move between threads).
final class LiveFeed: @unchecked Sendable {
    struct Frame: @unchecked Sendable {
        /// 0-based number among the frames received by the run (across reconnections).
        var seq: Int
        /// Seconds of video since the run's first frame, continuous across gaps.
        var feedTime: Double
        /// When the frame was decoded (seconds since 1970).
        var decodedAt: Double
        var isSelected: Bool
        var image: RGBImage
    }

    /// What happened to the connection.
    enum Event {
        /// The feed stopped delivering: `cause` is the error or end of stream.
        case dropped(cause: String, at: Date)
        /// A reconnection attempt failed.
        case attemptFailed(attempt: Int, error: String)
        /// Frames come again after `attempts` attempts.
        case reconnected(at: Date, attempts: Int)
        /// The run gives up on the feed (reconnection off, or `limit` failed attempts).
        case gaveUp(reason: String)
    }

    let url: String
    let options: VideoSource.Options
    let policy: ReconnectPolicy
    let cancel: CancellationFlag
    let onEvent: (Event) -> Void
    /// The first connection's metadata; later frames are scaled to its picture size if the feed changes size.
    private(set) var metadata: ClipMetadata
    /// Why `next()` returned nil, when the feed (not the caller) ended the run.
    private(set) var endReason: String?
    private(set) var damagedPackets = 0

    private var source: VideoSource?
    private var seq = 0
    private var offset: Double?
    private var lastFeedTime: Double?
    private var frameInterval: Double

    /// Opens the first connection.
    /// - Throws: `FFmpegError` when the URL cannot be opened at all (nothing is retried before the first frame:
    ///   a wrong URL should fail at once).
    init(url: String, options: VideoSource.Options, policy: ReconnectPolicy, cancel: CancellationFlag, onEvent: @escaping (Event) -> Void) throws {
        self.url = url; self.options = options; self.policy = policy; self.cancel = cancel; self.onEvent = onEvent
        let s = try VideoSource(url: url, options: options)
        source = s
        metadata = s.metadata
        frameInterval = s.metadata.frameRate.value.map { $0 > 0 && $0 < 1000 ? 1 / $0 : 0.04 } ?? 0.04
    }

    /// The next frame, reconnecting as the policy says; nil when the caller cancelled or the feed is given up
    /// (`endReason` says why).
    func next() -> Frame? {
        while !cancel.isCancelled {
            if let s = source {
                do {
                    if let f = try s.nextFrame() { return stamp(f) }
                    damagedPackets += s.damagedPackets
                    source = nil
                    if cancel.isCancelled { return nil }
                    if !drop(cause: "the stream ended", clean: true) { return nil }
                } catch {
                    damagedPackets += s.damagedPackets
                    source = nil
                    if cancel.isCancelled { return nil }
                    if !drop(cause: "\(error)") { return nil }
                }
            }
            if !reconnect() { return nil }
        }
        return nil
    }

    /// Records a drop; false when reconnection is off. With reconnection off, a stream that ends cleanly ends the run
    /// normally; one that fails (a stall, a read error) is given up (`endReason`).
    private func drop(cause: String, clean: Bool = false) -> Bool {
        guard policy.enabled else {
            if clean { return false }
            onEvent(.dropped(cause: cause, at: Date()))
            endReason = "the feed failed (\(cause)) and reconnection is off"
            onEvent(.gaveUp(reason: endReason!))
            return false
        }
        onEvent(.dropped(cause: cause, at: Date()))
        return true
    }

    /// Reopens the URL with backoff until it opens, the limit is reached, or the run is cancelled.
    private func reconnect() -> Bool {
        var delay = policy.initialDelay
        var attempt = 0
        while !cancel.isCancelled {
            if let limit = policy.limit, attempt >= limit {
                endReason = "the feed did not come back after \(attempt) reconnection attempt\(attempt == 1 ? "" : "s")"
                onEvent(.gaveUp(reason: endReason!))
                return false
            }
            sleepCancellable(delay)
            if cancel.isCancelled { return false }
            attempt += 1
            do {
                source = try VideoSource(url: url, options: options)
                onEvent(.reconnected(at: Date(), attempts: attempt))
                // The next connection's clock starts anew: continue feed time one frame after the last one.
                offset = nil
                return true
            } catch {
                onEvent(.attemptFailed(attempt: attempt, error: "\(error)"))
                delay = min(policy.maxDelay, delay * 2)
            }
        }
        return false
    }

    private func sleepCancellable(_ seconds: Double) {
        let end = Date(timeIntervalSinceNow: seconds)
        while !cancel.isCancelled, Date() < end { Thread.sleep(forTimeInterval: min(0.05, max(0, end.timeIntervalSinceNow))) }
    }

    private func stamp(_ f: VideoFrame) -> Frame {
        if offset == nil { offset = (lastFeedTime.map { $0 + frameInterval } ?? 0) - f.pts }
        var t = f.pts + offset!
        if let last = lastFeedTime, t <= last { t = last + 1e-3 }  // a clock that jumps back must not reorder windows
        lastFeedTime = t
        var image = f.image
        if image.width != metadata.width || image.height != metadata.height {
            image = image.resized(width: metadata.width, height: metadata.height, filter: .area)
        }
        defer { seq += 1 }
        return Frame(seq: seq, feedTime: t, decodedAt: Date().timeIntervalSince1970, isSelected: f.isSelected, image: image)
    }
}

import Foundation

/// The frames a clip's pipeline may hold at once: the decode stage takes a permit for each frame it reads, and the
/// last stage a frame reaches gives it back. Memory stays flat whatever the clip length and whichever stage is slow.
final class FramePermits: @unchecked Sendable {
    /// Most frames held at once.
    let limit: Int
    private let cond = NSCondition()
    private var held = 0
    private var most = 0

    init(limit: Int) { self.limit = max(1, limit) }

    /// Takes a permit, waiting while `limit` are held.
    func acquire() {
        cond.lock(); defer { cond.unlock() }
        while held >= limit { cond.wait() }
        held += 1
        most = max(most, held)
    }

    /// Gives a permit back.
    func release() {
        cond.lock(); defer { cond.unlock() }
        held -= 1
        cond.signal()
    }

    /// Permits held now.
    var inUse: Int { cond.lock(); defer { cond.unlock() }; return held }
    /// Most permits held at once so far.
    var peak: Int { cond.lock(); defer { cond.unlock() }; return most }
}

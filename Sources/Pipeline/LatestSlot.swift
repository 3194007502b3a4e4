import Foundation

/// A one-item mailbox where the newest item wins: the real-time hand-off from a live feed to analysers that may be
/// slower than it. A put replaces an item no one has taken yet (the caller counts it as dropped).
final class LatestSlot<Item>: @unchecked Sendable {
    private let cond = NSCondition()
    private var item: Item?
    private var closed = false

    /// Puts `x` in the slot; returns the item it replaced, which will never be taken.
    @discardableResult
    func put(_ x: Item) -> Item? {
        cond.lock(); defer { cond.unlock() }
        let old = item
        item = x
        cond.signal()
        return old
    }

    /// Waits for an item and takes it; nil once closed and empty. `onTake` runs before the slot is unlocked, so a
    /// caller can record what it took before anyone sees the slot empty.
    func take(_ onTake: (Item) -> Void = { _ in }) -> Item? {
        cond.lock(); defer { cond.unlock() }
        while item == nil && !closed { cond.wait() }
        guard let x = item else { return nil }
        item = nil
        onTake(x)
        return x
    }

    /// No more puts; waiting takers get what is left, then nil.
    func close() {
        cond.lock(); closed = true; cond.broadcast(); cond.unlock()
    }
}

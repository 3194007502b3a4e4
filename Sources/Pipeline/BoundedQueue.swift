import Foundation

/// A blocking first-in first-out queue with a capacity: producers wait when it is full, consumers when empty.
/// Closing it wakes everyone; `pop` then drains what is left and returns nil.
final class BoundedQueue<Element>: @unchecked Sendable {
    /// Popped slots are cleared at once: a popped element (a 4K frame is 25 MB) must not stay alive in the array.
    private var items: [Element?] = []
    private var head = 0
    private let capacity: Int
    private var closed = false
    private let cond = NSCondition()

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Appends, waiting for room. Returns false when the queue was closed.
    @discardableResult
    func push(_ e: Element) -> Bool {
        cond.lock(); defer { cond.unlock() }
        while items.count - head >= capacity && !closed { cond.wait() }
        if closed { return false }
        items.append(e)
        cond.broadcast()
        return true
    }

    /// Takes the oldest element, waiting for one; nil once closed and empty.
    func pop() -> Element? {
        cond.lock(); defer { cond.unlock() }
        while items.count == head && !closed { cond.wait() }
        if items.count == head { return nil }
        let e = items[head]!
        items[head] = nil
        head += 1
        if head == items.count { items.removeAll(keepingCapacity: true); head = 0 }
        else if head > 64 && head * 2 > items.count { items.removeFirst(head); head = 0 }
        cond.broadcast()
        return e
    }

    /// Appends without waiting: false when the queue is full or closed (the caller drops the element).
    func tryPush(_ e: Element) -> Bool {
        cond.lock(); defer { cond.unlock() }
        if closed || items.count - head >= capacity { return false }
        items.append(e)
        cond.broadcast()
        return true
    }

    /// What a timed `pop` found.
    enum Timed { case element(Element), timedOut, closed }

    /// Takes the oldest element, waiting at most `seconds` for one.
    func pop(timeout seconds: Double) -> Timed {
        cond.lock()
        let deadline = Date(timeIntervalSinceNow: seconds)
        while items.count == head && !closed {
            if !cond.wait(until: deadline) && items.count == head && !closed { cond.unlock(); return .timedOut }
        }
        cond.unlock()
        return pop().map { .element($0) } ?? .closed
    }

    /// No more pushes; waiting consumers drain and finish.
    func close() {
        cond.lock(); closed = true; cond.broadcast(); cond.unlock()
    }
}

/// A flag set from a signal handler or another thread to stop the pipeline cleanly.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    private var reason: String? = nil
    public init() {}
    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return value }
    public var cancelReason: String? { lock.lock(); defer { lock.unlock() }; return reason }
    public func cancel(_ why: String) { lock.lock(); if !value { value = true; reason = why }; lock.unlock() }
}

/// A value shared between threads behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ v: Value) { value = v }
    func get() -> Value { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ v: Value) { lock.lock(); value = v; lock.unlock() }
    func mutate(_ body: (inout Value) -> Void) { lock.lock(); body(&value); lock.unlock() }
}

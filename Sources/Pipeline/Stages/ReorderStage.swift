/// Reorder: puts the analysed frames back in decoding order (the workers finish out of order). Holds the frames that
/// came early until the ones before them arrive; the frame permits bound how many.
struct ReorderStage {
    private var pending: [Int: AnalysedFrame] = [:]
    /// The sequence number handed over next.
    private(set) var next = 0

    /// Frames waiting for an earlier one.
    var waiting: Int { pending.count }

    /// Takes one frame and hands `body`, in order, every frame that is now due.
    mutating func add(_ f: AnalysedFrame, _ body: (AnalysedFrame) -> Void) {
        pending[f.seq] = f
        while let x = pending.removeValue(forKey: next) { body(x); next += 1 }
    }

    /// Pops `input` until it is closed and empty, handing `body` the frames in order.
    mutating func run(_ input: BoundedQueue<AnalysedFrame>, _ body: (AnalysedFrame) -> Void) {
        while let f = input.pop() { add(f, body) }
    }
}

extension VideoSource: Sequence {
    /// Iterates frames with `for frame in source`; a thrown error ends the iteration and is kept in
    /// `Iterator.error`. Prefer `nextFrame()` where errors must be handled.
    public struct Iterator: IteratorProtocol {
        let source: VideoSource
        /// The error that ended the iteration, if any.
        public private(set) var error: Error?

        /// The next frame, or `nil` at the end or on error.
        public mutating func next() -> VideoFrame? {
            guard error == nil else { return nil }
            do { return try source.nextFrame() } catch { self.error = error; return nil }
        }
    }

    /// An iterator over the remaining frames.
    public func makeIterator() -> Iterator { Iterator(source: self) }
}

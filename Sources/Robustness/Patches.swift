import Imaging

/// A square occlusion patch in model-input pixel coordinates.
public struct Patch: Codable, Sendable, Equatable {
    public var x: Int
    public var y: Int
    public var side: Int
    public init(x: Int, y: Int, side: Int) { self.x = x; self.y = y; self.side = side }
}

/// What hides the pixels under a patch.
public enum PatchFill: String, Codable, Sendable, CaseIterable {
    /// The per-channel mean (zero after normalisation).
    case gray
    /// Pixel value 0.
    case black
    /// A box blur of the patch's own pixels.
    case blur
    /// Seeded uniform noise over 0...255.
    case noise
}

/// Seeded patch placement: the patches of frame i depend only on the seed and i.
public struct PatchSampler: Sendable, Equatable {
    /// Patches per frame.
    public var count: Int
    /// Side as a fraction of the input's short side: fixed when `low == high`, else drawn uniformly.
    public var low: Double
    public var high: Double
    public var seed: UInt64

    /// Multiplier that decorrelates the streams of neighbouring frames.
    public static let frameStride: UInt64 = 0xD1B5_4A32_D192_ED03

    public init(count: Int, low: Double, high: Double, seed: UInt64) {
        self.count = count; self.low = low; self.high = high; self.seed = seed
    }

    /// The patches of source frame `frame` for an input of `width` x `height`.
    ///
    /// state0 = seed + frame * 0xD1B54A32D192ED03; per patch u = (next >> 11) * 2^-53,
    /// side = round(N * (low + (high - low) * u)) clamped to [1, N] with N the short side,
    /// x = next % (width - side + 1), y = next % (height - side + 1).
    public func patches(frame: Int, width: Int, height: Int) -> [Patch] {
        var g = SplitMix64(state: seed &+ UInt64(truncatingIfNeeded: frame) &* Self.frameStride)
        let n = min(width, height)
        return (0..<count).map { _ in
            let u = g.unit()
            let side = min(max(Int((Double(n) * (low + (high - low) * u)).rounded()), 1), n)
            let x = Int(g.next() % UInt64(width - side + 1))
            let y = Int(g.next() % UInt64(height - side + 1))
            return Patch(x: x, y: y, side: side)
        }
    }
}

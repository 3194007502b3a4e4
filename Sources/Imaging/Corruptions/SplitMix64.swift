import Foundation

/// A seeded 64-bit random generator (Steele, Lea and Flood's SplitMix64): the same seed gives the same
/// sequence on every machine, so a corruption, a frame's patches or a bootstrap with a given seed is reproducible
/// (the peers' Python scripts use the same constants).
///
/// It conforms to `RandomNumberGenerator`, and adds the draws the corruptions need: uniform doubles, normal
/// deviates (Box-Muller) and Poisson counts (Knuth below 10, Hörmann's PTRS above, as numpy does).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's state; it advances by the golden-ratio increment on every draw.
    public private(set) var state: UInt64
    private var spareNormal: Double?

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed; spareNormal = nil }

    /// The same, named as the patch sampler and the bootstrap name it (their seeds mix the frame in first).
    public init(state: UInt64) { self.init(seed: state) }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1), 53 random bits.
    @inlinable public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// `uniform()`: patch positions and bootstrap draws.
    @inlinable public mutating func unit() -> Double { uniform() }

    /// A uniform double in [low, high).
    @inlinable public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * uniform() }

    /// A uniform integer in `low..<high` (numpy's `randint(low, high)`).
    @inlinable public mutating func int(_ low: Int, _ high: Int) -> Int { Int.random(in: low..<high, using: &self) }

    /// A standard normal deviate (Box-Muller; the second value of each pair is kept for the next call).
    public mutating func normal() -> Double {
        if let s = spareNormal { spareNormal = nil; return s }
        var u = uniform()
        while u <= 0 { u = uniform() }
        let v = uniform()
        let r = (-2 * Foundation.log(u)).squareRoot()
        spareNormal = r * Foundation.sin(2 * Double.pi * v)
        return r * Foundation.cos(2 * Double.pi * v)
    }

    /// A Poisson count with mean `lambda` (0 for `lambda <= 0`); `PoissonSampler(lambda).draw(&rng)`.
    public mutating func poisson(_ lambda: Double) -> Double {
        var sampler = PoissonSampler(lambda)
        return sampler.draw(&self)
    }
}

/// Poisson counts with one mean, its constants computed once: a picture's bytes take 256 values, so the noise
/// corruptions make one sampler per byte value instead of recomputing `exp`, `sqrt` and `log` per pixel.
public struct PoissonSampler: Sendable {
    public let lambda: Double
    // Knuth (lambda < 10): e^-lambda.
    private let limit: Double
    // PTRS (lambda >= 10).
    private let slam: Double, loglam: Double, b: Double, a: Double, invalpha: Double, vr: Double, logInvalpha: Double

    public init(_ lambda: Double) {
        self.lambda = lambda
        limit = lambda > 0 && lambda < 10 ? Foundation.exp(-lambda) : 0
        slam = lambda.squareRoot(); loglam = lambda > 0 ? Foundation.log(lambda) : 0
        b = 0.931 + 2.53 * slam; a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4); vr = 0.9277 - 3.6224 / (b - 2)
        logInvalpha = Foundation.log(invalpha)
    }

    /// One count, drawing uniforms from `rng`.
    public func draw(_ rng: inout SplitMix64) -> Double {
        if lambda <= 0 { return 0 }
        if lambda < 10 {
            // Knuth: multiply uniforms until the product falls below e^-lambda.
            var k = 0.0, p = rng.uniform()
            while p > limit { k += 1; p *= rng.uniform() }
            return k
        }
        // Hörmann (1993), "The transformed rejection method for generating Poisson random variables" (PTRS).
        while true {
            let u = rng.uniform() - 0.5, v = rng.uniform()
            let us = 0.5 - abs(u)
            let k = ((2 * a / us + b) * u + lambda + 0.43).rounded(.down)
            if us >= 0.07 && v <= vr { return k }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if Foundation.log(v) + logInvalpha - Foundation.log(a / (us * us) + b)
                <= -lambda + k * loglam - Foundation.lgamma(k + 1) { return k }
        }
    }
}

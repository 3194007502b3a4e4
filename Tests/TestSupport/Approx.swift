import TensorCore

/// The worst disagreement between two float sequences under `|a - b| <= atol + rtol * |b|`.
public struct Mismatch: CustomStringConvertible, Sendable {
    public var index: Int, actual: Float, expected: Float, absDiff: Float, relDiff: Float, count: Int
    public var description: String {
        "worst at index \(index): got \(actual), expected \(expected) (abs diff \(absDiff), rel diff \(relDiff)); \(count) element(s) out of tolerance"
    }
}

/// Compares `actual` with `expected` elementwise; returns nil when every element is within tolerance.
public func compare(_ actual: [Float], _ expected: [Float], rtol: Float = 1e-4, atol: Float = 1e-5) -> Mismatch? {
    precondition(actual.count == expected.count, "compare: \(actual.count) vs \(expected.count) elements")
    var worst: Mismatch? = nil
    var bad = 0
    var worstExcess: Float = -1
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        let d = abs(a - e)
        let ok = d <= atol + rtol * abs(e) || (a.isNaN && e.isNaN) || (a == e)
        if !ok {
            bad += 1
            let excess = d.isNaN ? .infinity : d - (atol + rtol * abs(e))
            if excess > worstExcess {
                worstExcess = excess
                worst = Mismatch(index: i, actual: a, expected: e, absDiff: d, relDiff: d / max(abs(e), 1e-30), count: 0)
            }
        }
    }
    worst?.count = bad
    return worst
}

/// A seeded generator for test data (SplitMix64).
public struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    public mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    /// A tensor of uniform values.
    public mutating func tensor(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
        Tensor(shape: shape, data: (0..<shapeCount(shape)).map { _ in float(lo, hi) })
    }
}

import TensorCore

/// Inner product of two float sequences accumulated in double (adjoint identities, finite differences).
public func dot(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "dot: \(a.count) vs \(b.count) elements")
    var s = 0.0
    for i in 0..<a.count { s += Double(a[i]) * Double(b[i]) }
    return s
}

/// Sum of |a_i * b_i| in double: the scale against which an inner product's rounding is judged.
public func absDot(_ a: [Float], _ b: [Float]) -> Double {
    var s = 0.0
    for i in 0..<a.count { s += abs(Double(a[i]) * Double(b[i])) }
    return s
}

/// Checks `<A x, y> == <x, A^T y>` to float precision relative to the size of the terms.
///
/// Returns nil when the two inner products agree within `rtol * scale` (`scale` is the larger of
/// `sum |Ax_i y_i|` and `sum |x_i (A^T y)_i|`), or a `Mismatch` holding both values.
public func adjointMismatch(ax: [Float], y: [Float], x: [Float], aty: [Float], rtol: Double = 1e-5) -> Mismatch? {
    let lhs = dot(ax, y), rhs = dot(x, aty)
    let scale = max(absDot(ax, y), absDot(x, aty), 1e-30)
    let d = abs(lhs - rhs)
    if d <= rtol * scale { return nil }
    return Mismatch(index: 0, actual: Float(lhs), expected: Float(rhs), absDiff: Float(d),
                    relDiff: Float(d / max(abs(rhs), 1e-30)), count: 1)
}

extension SeededRandom {
    /// A tensor whose values are distinct multiples of `step` shifted by half a step, shuffled:
    /// `(j + 0.5) * step` for `j` in `-n/2 ..< n - n/2`. Values are at least `step / 2` from zero
    /// and `step` from one another, so finite differences with `eps < step / 2` cross no kink of
    /// ReLU-like functions and no tie of a max.
    public mutating func spaced(_ shape: [Int], step: Float = 0.05) -> Tensor {
        let n = shapeCount(shape)
        var v = (0..<n).map { Float($0 - n / 2) * step + step / 2 }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            v.swapAt(i, j)
        }
        return Tensor(shape: shape, data: v)
    }
}

/// Text for an `#expect` comment: the mismatch, or nothing when there is none.
public func describe(_ m: Mismatch?) -> String { m.map { "\($0)" } ?? "" }

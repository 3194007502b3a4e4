import Testing
import TensorCore
import TestSupport

/// `body` with a pointer to `a`'s storage, or nil.
func withOptional<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let a else { return body(nil) }
    return a.withUnsafeBufferPointer { body($0.baseAddress!) }
}

@Suite("Layer normalisation")
struct NormalizationTests {
    /// Rows of 1 to 200 values, with and without scale and bias, and rows far from zero (the mean must be removed
    /// before squaring, or the variance loses its digits).
    @Test("layerNorm matches layerNormNaive", arguments: [(3, 1), (5, 7), (17, 64), (2, 200), (4, 33)])
    func matchesNaive(rows: Int, cols: Int) {
        var rng = SeededRandom(seed: UInt64(rows * 1000 + cols))
        for (withScale, withBias, offset) in [(true, true, Float(0)), (true, false, 0), (false, true, 0), (false, false, 0), (true, true, 300)] {
            var x = rng.tensor([rows, cols], -2, 2).data
            for i in 0..<x.count { x[i] += offset }
            let scale = withScale ? rng.tensor([cols], 0.5, 1.5).data : nil
            let bias = withBias ? rng.tensor([cols]).data : nil
            var y = [Float](repeating: .nan, count: x.count)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    withOptional(scale) { s in
                        withOptional(bias) { b in
                            layerNorm(xp.baseAddress!, rows: rows, cols: cols, scale: s, bias: b, epsilon: 1e-5, y: yp.baseAddress!)
                        }
                    }
                }
            }
            let ref = layerNormNaive(x, rows: rows, cols: cols, scale: scale, bias: bias, epsilon: 1e-5)
            let m = compare(y, ref, rtol: 1e-4, atol: 2e-5)
            #expect(m == nil, "scale \(withScale) bias \(withBias) offset \(offset): \(m.map { "\($0)" } ?? "")")
        }
    }

    /// The backward pass against central differences of the naive twin in double precision.
    @Test func backwardMatchesFiniteDifferences() {
        var rng = SeededRandom(seed: 99)
        let rows = 3, cols = 9
        let x = rng.tensor([rows, cols], -2, 2).data, scale = rng.tensor([cols], 0.5, 1.5).data, dy = rng.tensor([rows, cols]).data
        var dx = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { gp in scale.withUnsafeBufferPointer { sp in dx.withUnsafeMutableBufferPointer { dp in
            layerNormBackward(xp.baseAddress!, dy: gp.baseAddress!, rows: rows, cols: cols, scale: sp.baseAddress!, epsilon: 1e-5, dx: dp.baseAddress!)
        } } } }
        var fd = [Float](repeating: 0, count: x.count)
        let eps: Float = 1e-2
        for i in 0..<x.count {
            var p = x, m = x
            p[i] += eps; m[i] -= eps
            let yp = layerNormNaive(p, rows: rows, cols: cols, scale: scale, bias: nil, epsilon: 1e-5)
            let ym = layerNormNaive(m, rows: rows, cols: cols, scale: scale, bias: nil, epsilon: 1e-5)
            fd[i] = Float((dot(yp, dy) - dot(ym, dy)) / Double(2 * eps))
        }
        let m = compare(dx, fd, rtol: 1e-2, atol: 1e-3)
        #expect(m == nil, "\(m.map { "\($0)" } ?? "")")
    }
}

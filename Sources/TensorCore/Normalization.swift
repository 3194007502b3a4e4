import Foundation
import TensorKernelsAVX512

/// Layer normalisation of `rows` rows of `cols` values: y = (x - mean) / sqrt(var + eps) * scale + bias,
/// with the biased variance, as ONNX LayerNormalization over the trailing axes.
///
/// - Parameters:
///   - x: `[rows, cols]`.
///   - scale: `[cols]`, or nil for 1.
///   - bias: `[cols]`, or nil for 0.
///   - y: `[rows, cols]`; may alias `x`.
/// - Complexity: three passes over each row (mean, variance, output), each a simple loop the compiler vectorises.
public func layerNorm(_ x: UnsafePointer<Float>, rows: Int, cols: Int, scale: UnsafePointer<Float>?, bias: UnsafePointer<Float>?,
                      epsilon: Float, y: UnsafeMutablePointer<Float>) {
    guard cols > 0, rows > 0 else { return }
    nonisolated(unsafe) let x = x, y = y, scale = scale, bias = bias
    // Rows split over the threads (a ViT-B's 197 tokens, a ConvNeXt stage's 3136 pixels).
    parallelChunks(rows, minItemsPerChunk: max(1, 16_384 / cols)) { range in
        for r in range {
            let xr = x + r * cols, yr = y + r * cols
            let (mean, rstd) = rowMoments(xr, cols: cols, epsilon: epsilon)
            switch (scale, bias) {
            case let (s?, b?): for i in 0..<cols { yr[i] = (xr[i] - mean) * rstd * s[i] + b[i] }
            case let (s?, nil): for i in 0..<cols { yr[i] = (xr[i] - mean) * rstd * s[i] }
            case let (nil, b?): for i in 0..<cols { yr[i] = (xr[i] - mean) * rstd + b[i] }
            case (nil, nil): for i in 0..<cols { yr[i] = (xr[i] - mean) * rstd }
            }
        }
    }
}

/// Mean and 1 / sqrt(variance + eps) of one row, the sums in double: a row far from zero (300 +- 2) keeps its
/// variance's digits. Eight floats at a time into four-lane double accumulators, the tail one by one.
@inline(__always)
func rowMoments(_ xr: UnsafePointer<Float>, cols: Int, epsilon: Float) -> (mean: Float, rstd: Float) {
    let c8 = cols / 8 * 8
    var s0 = SIMD4<Double>(), s1 = SIMD4<Double>()
    var i = 0
    while i < c8 {
        let v = load8(xr + i)
        s0 += SIMD4<Double>(v.lowHalf); s1 += SIMD4<Double>(v.highHalf)
        i += 8
    }
    var sum = (s0 + s1).sum()
    while i < cols { sum += Double(xr[i]); i += 1 }
    let mean = sum / Double(cols)
    let m = SIMD4<Double>(repeating: mean)
    var q0 = SIMD4<Double>(), q1 = SIMD4<Double>()
    i = 0
    while i < c8 {
        let v = load8(xr + i)
        let d0 = SIMD4<Double>(v.lowHalf) - m, d1 = SIMD4<Double>(v.highHalf) - m
        q0 += d0 * d0; q1 += d1 * d1
        i += 8
    }
    var sq = (q0 + q1).sum()
    while i < cols { let d = Double(xr[i]) - mean; sq += d * d; i += 1 }
    return (Float(mean), Float(1 / (sq / Double(cols) + Double(epsilon)).squareRoot()))
}

/// Reference twin of `layerNorm`: one row at a time in double precision, straight from the definition.
public func layerNormNaive(_ x: [Float], rows: Int, cols: Int, scale: [Float]?, bias: [Float]?, epsilon: Float) -> [Float] {
    var y = [Float](repeating: 0, count: rows * cols)
    for r in 0..<rows {
        let row = (0..<cols).map { Double(x[r * cols + $0]) }
        let mean = row.reduce(0, +) / Double(cols)
        let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(cols)
        for i in 0..<cols {
            let n = (row[i] - mean) / (variance + Double(epsilon)).squareRoot()
            y[r * cols + i] = Float(n * Double(scale?[i] ?? 1) + Double(bias?[i] ?? 0))
        }
    }
    return y
}

/// Gradient of `layerNorm` with respect to x: with n = (x - mean) * rstd and g = dy * scale,
/// dx = rstd * (g - mean(g) - n * mean(g * n)) per row.
///
/// - Parameters: `x`, `dy` and `dx` are `[rows, cols]`; `scale` is `[cols]` or nil.
public func layerNormBackward(_ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, cols: Int, scale: UnsafePointer<Float>?,
                              epsilon: Float, dx: UnsafeMutablePointer<Float>) {
    guard cols > 0 else { return }
    let inv = 1 / Float(cols)
    var g = [Float](repeating: 0, count: cols)
    for r in 0..<rows {
        let xr = x + r * cols, dyr = dy + r * cols, dxr = dx + r * cols
        let (mean, rstd) = rowMoments(xr, cols: cols, epsilon: epsilon)
        var gMean: Float = 0, gnMean: Float = 0
        for i in 0..<cols {
            let gi = dyr[i] * (scale?[i] ?? 1)
            g[i] = gi
            gMean += gi
            gnMean += gi * (xr[i] - mean) * rstd
        }
        gMean *= inv; gnMean *= inv
        for i in 0..<cols { dxr[i] = rstd * (g[i] - gMean - (xr[i] - mean) * rstd * gnMean) }
    }
}

import Foundation

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
    guard cols > 0 else { return }
    for r in 0..<rows {
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

/// Mean and 1 / sqrt(variance + eps) of one row, the sums in double: a row far from zero (300 +- 2) keeps its
/// variance's digits.
@inline(__always)
func rowMoments(_ xr: UnsafePointer<Float>, cols: Int, epsilon: Float) -> (mean: Float, rstd: Float) {
    var sum = 0.0
    for i in 0..<cols { sum += Double(xr[i]) }
    let mean = sum / Double(cols)
    var sq = 0.0
    for i in 0..<cols { let d = Double(xr[i]) - mean; sq += d * d }
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

import Foundation

/// scipy's `gaussian_filter1d` weights: `exp(-x^2 / (2 sigma^2))` for `x` in `-r...r`, `r = Int(truncate *
/// sigma + 0.5)`, normalised to sum 1. Empty for `sigma <= 1e-15` (scipy leaves that axis alone).
func gaussianWeights(sigma: Double, truncate: Double) -> [Double] {
    if sigma <= 1e-15 { return [] }
    let r = Int(truncate * sigma + 0.5)
    var w = (-r...r).map { x in exp(-0.5 * Double(x * x) / (sigma * sigma)) }
    let s = w.reduce(0, +)
    for i in w.indices { w[i] /= s }
    return w
}

/// Separable Gaussian smoothing of every plane, as skimage's `gaussian(channel_axis=-1)` over scipy's
/// `gaussian_filter`: rows (y) first, then columns (x), no smoothing across colours.
///
/// - Parameters:
///   - planes: `count` planes of `height x width` doubles, `planes[p * height * width + y * width + x]`; filtered in place.
///   - sigmaY, sigmaX: Standard deviations in pixels; an axis with sigma 0 is left alone.
///   - truncate: Kernel radius in sigmas (skimage's default is 4).
///   - border: How reads beyond the edge are resolved (skimage's default is `.nearest`).
/// - Complexity: O(count * height * width * (ry + rx)); one line buffer, no per-pixel allocation.
func gaussianFilter(_ planes: inout [Double], count: Int, width: Int, height: Int,
                    sigmaY: Double, sigmaX: Double, truncate: Double = 4, border: Border = .nearest) {
    let wy = gaussianWeights(sigma: sigmaY, truncate: truncate)
    let wx = gaussianWeights(sigma: sigmaX, truncate: truncate)
    let n = width * height
    precondition(planes.count == count * n)
    if n == 0 { return }
    planes.withUnsafeMutableBufferPointer { d in
        if !wy.isEmpty {
            let r = wy.count / 2
            // column: height + 2r values of one column, the edges resolved by `border`.
            var line = [Double](repeating: 0, count: height + 2 * r)
            for p in 0..<count {
                let base = p * n
                for x in 0..<width {
                    for i in 0..<(height + 2 * r) { line[i] = d[base + border.index(i - r, height) * width + x] }
                    for y in 0..<height {
                        var s = 0.0
                        for k in 0..<wy.count { s += wy[k] * line[y + k] }
                        d[base + y * width + x] = s
                    }
                }
            }
        }
        if !wx.isEmpty {
            let r = wx.count / 2
            var line = [Double](repeating: 0, count: width + 2 * r)
            for row in 0..<(count * height) {
                let base = row * width
                for i in 0..<(width + 2 * r) { line[i] = d[base + border.index(i - r, width)] }
                for x in 0..<width {
                    var s = 0.0
                    for k in 0..<wx.count { s += wx[k] * line[x + k] }
                    d[base + x] = s
                }
            }
        }
    }
}

/// The naive twin of `gaussianFilter`: every output pixel sums its full 2-D neighbourhood directly.
func gaussianFilterNaive(_ planes: [Double], count: Int, width: Int, height: Int,
                         sigmaY: Double, sigmaX: Double, truncate: Double = 4, border: Border = .nearest) -> [Double] {
    let wy = gaussianWeights(sigma: sigmaY, truncate: truncate), wx = gaussianWeights(sigma: sigmaX, truncate: truncate)
    let ky = wy.isEmpty ? [1.0] : wy, kx = wx.isEmpty ? [1.0] : wx
    let ry = ky.count / 2, rx = kx.count / 2, n = width * height
    var out = planes
    for p in 0..<count {
        for y in 0..<height {
            for x in 0..<width {
                var s = 0.0
                for i in 0..<ky.count {
                    for j in 0..<kx.count {
                        s += ky[i] * kx[j] * planes[p * n + border.index(y + i - ry, height) * width + border.index(x + j - rx, width)]
                    }
                }
                out[p * n + y * width + x] = s
            }
        }
    }
    return out
}

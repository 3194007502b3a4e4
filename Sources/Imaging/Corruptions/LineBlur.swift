import Foundation

/// The integer offsets of imagecorruptions' `_motion_blur`: tap `i` of `count` reads the picture shifted by
/// `(dx, dy)` along `angle` degrees, `dy = -ceil(i * sin / hypot - 0.5)`, `dx = -ceil(i * cos / hypot - 0.5)`.
/// The list stops at the first tap whose shift reaches past the picture (as the package's loop breaks).
func lineOffsets(count: Int, angle: Double, width: Int, height: Int) -> [(dx: Int, dy: Int)] {
    let rad = angle * (Double.pi / 180)
    let p0 = Double(count) * sin(rad), p1 = Double(count) * cos(rad)
    let h = hypot(p0, p1)
    var out: [(Int, Int)] = []
    for i in 0..<count {
        let dy = -Int(((Double(i) * p0) / h - 0.5).rounded(.up))
        let dx = -Int(((Double(i) * p1) / h - 0.5).rounded(.up))
        if abs(dy) >= height || abs(dx) >= width { break }
        out.append((dx, dy))
    }
    return out
}

/// The weighted sum of shifted copies of each plane along a line: `out[y][x] = sum_i w[i] *
/// in[clamp(y - dy_i)][clamp(x - dx_i)]`, the edges repeated (imagecorruptions' `shift`).
///
/// With `weights` a half-Gaussian normalised to 1 this is imagecorruptions' motion blur; with ones, a streak.
/// - Parameters:
///   - planes: `count` planes of `height x width`.
///   - weights: One weight per tap, tap 0 unshifted.
///   - angle: Direction in degrees (0 to the right, 90 up in picture rows).
/// - Complexity: O(count * height * width * taps); one row of column indices, no per-pixel allocation.
func lineSum(_ planes: [Double], count: Int, width: Int, height: Int, weights: [Double], angle: Double) -> [Double] {
    let n = width * height
    var out = [Double](repeating: 0, count: planes.count)
    if n == 0 { return out }
    let offsets = lineOffsets(count: weights.count, angle: angle, width: width, height: height)
    var cols = [Int](repeating: 0, count: width)
    planes.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for (i, o) in offsets.enumerated() {
                let w = weights[i]
                for x in 0..<width { cols[x] = min(max(x - o.dx, 0), width - 1) }
                for p in 0..<count {
                    for y in 0..<height {
                        let s = p * n + min(max(y - o.dy, 0), height - 1) * width, d = p * n + y * width
                        for x in 0..<width { dst[d + x] += w * src[s + cols[x]] }
                    }
                }
            }
        }
    }
    return out
}

/// imagecorruptions' motion-blur weights: a Gaussian of `sigma` at `0..<2 radius + 1`, normalised to 1.
func motionBlurWeights(radius: Int, sigma: Double) -> [Double] {
    let w = (0..<(2 * radius + 1)).map { x in exp(-Double(x * x) / (2 * sigma * sigma)) / ((2 * Double.pi).squareRoot() * sigma) }
    let s = w.reduce(0, +)
    return w.map { $0 / s }
}

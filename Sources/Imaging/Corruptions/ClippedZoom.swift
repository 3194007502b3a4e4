/// imagecorruptions' `clipped_zoom`: the centre `ceil(h / z) x ceil(w / z)` of each plane enlarged by `z`
/// with scipy's `zoom(order=1)` and its top-left `height x width` kept.
///
/// scipy's zoom maps output index `o` of `m` to source `o * (k - 1) / (m - 1)` (corners aligned), with
/// `m = round(k * z)` (half to even), and interpolates linearly.
/// - Parameters:
///   - planes: `count` planes of `height x width`.
/// - Returns: `count` planes of `height x width`.
/// - Complexity: O(count * height * width); the weights are computed once per axis.
func clippedZoom(_ planes: [Double], count: Int, width: Int, height: Int, zoom z: Double) -> [Double] {
    let n = width * height
    var out = [Double](repeating: 0, count: planes.count)
    if n == 0 { return out }
    struct Axis { var i0: [Int]; var i1: [Int]; var f: [Double] }
    func axis(_ size: Int) -> Axis {
        let k = Int((Double(size) / z).rounded(.up))
        let top = (size - k) / 2
        let m = Int((Double(k) * z).rounded(.toNearestOrEven))
        let ratio = m > 1 ? Double(k - 1) / Double(m - 1) : 0
        var a = Axis(i0: [], i1: [], f: [])
        for o in 0..<size {
            let c = Double(min(o, m - 1)) * ratio
            let i = min(Int(c), k - 1)
            a.i0.append(top + i); a.i1.append(top + min(i + 1, k - 1)); a.f.append(c - Double(i))
        }
        return a
    }
    let ay = axis(height), ax = axis(width)
    planes.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for p in 0..<count {
                for y in 0..<height {
                    let r0 = p * n + ay.i0[y] * width, r1 = p * n + ay.i1[y] * width, fy = ay.f[y]
                    for x in 0..<width {
                        let a = src[r0 + ax.i0[x]] + ax.f[x] * (src[r0 + ax.i1[x]] - src[r0 + ax.i0[x]])
                        let b = src[r1 + ax.i0[x]] + ax.f[x] * (src[r1 + ax.i1[x]] - src[r1 + ax.i0[x]])
                        dst[p * n + y * width + x] = a + fy * (b - a)
                    }
                }
            }
        }
    }
    return out
}

/// A picture as three planes of doubles, the working form of every corruption (numpy's float64 arrays).
///
/// Layout: `data[c * height * width + y * width + x]`, `c` in 0 (red), 1 (green), 2 (blue).
struct CorruptionPlanes {
    var width: Int
    var height: Int
    /// 3 x height x width values.
    var data: [Double]

    init(width: Int, height: Int, data: [Double]) {
        precondition(data.count == 3 * width * height)
        self.width = width; self.height = height; self.data = data
    }

    init(width: Int, height: Int) { self.init(width: width, height: height, data: [Double](repeating: 0, count: 3 * width * height)) }

    /// The picture's bytes times `scale` (1/255 for imagecorruptions' `np.array(x) / 255.`).
    init(_ image: RGBImage, scale: Double) {
        let n = image.width * image.height
        var d = [Double](repeating: 0, count: 3 * n)
        image.pixels.withUnsafeBufferPointer { p in
            d.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    o[i] = Double(p[3 * i]) * scale
                    o[n + i] = Double(p[3 * i + 1]) * scale
                    o[2 * n + i] = Double(p[3 * i + 2]) * scale
                }
            }
        }
        self.init(width: image.width, height: image.height, data: d)
    }

    var plane: Int { width * height }

    /// Back to bytes as imagecorruptions does: `np.uint8(np.clip(v, 0, limit) * (255 / limit))`, which
    /// truncates toward zero. `limit` is 1 for pictures in 0...1 and 255 for pictures in 0...255.
    func image(limit: Double) -> RGBImage {
        let n = plane
        var px = [UInt8](repeating: 0, count: 3 * n)
        let scale = limit == 255 ? 1.0 : 255.0
        data.withUnsafeBufferPointer { d in
            px.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    for c in 0..<3 {
                        let v = d[c * n + i]
                        // NaN-safe clip: a NaN becomes 0.
                        let clipped = v > 0 ? min(v, limit) : 0
                        o[3 * i + c] = UInt8(clipped * scale)
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: px)
    }
}

/// Where a filter reads beyond the picture's edge.
enum Border {
    /// The edge pixel repeats (scipy 'nearest', OpenCV BORDER_REPLICATE).
    case nearest
    /// Mirrored about the pixel edge, d c b a | a b c d (scipy 'reflect', OpenCV BORDER_REFLECT).
    case reflect
    /// Mirrored about the edge pixel, d c b | a b c d (OpenCV's default BORDER_REFLECT_101).
    case reflect101

    /// The index in `0..<n` that index `i` reads.
    @inlinable func index(_ i: Int, _ n: Int) -> Int {
        if i >= 0 && i < n { return i }
        if n == 1 { return 0 }
        switch self {
        case .nearest: return min(max(i, 0), n - 1)
        case .reflect:
            let period = 2 * n
            var j = i % period; if j < 0 { j += period }
            return j < n ? j : period - 1 - j
        case .reflect101:
            let period = 2 * n - 2
            var j = i % period; if j < 0 { j += period }
            return j < n ? j : period - j
        }
    }
}

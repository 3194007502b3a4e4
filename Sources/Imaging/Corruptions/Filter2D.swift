/// 2-D correlation of every plane with a square kernel, as OpenCV's `filter2D` (anchor at the centre,
/// BORDER_REFLECT_101).
///
/// - Parameters:
///   - planes: `count` planes of `height x width`, `planes[p * height * width + y * width + x]`.
///   - kernel: `size x size`, `kernel[ky * size + kx]`, `size` odd; zero taps are skipped.
/// - Returns: The filtered planes, same layout.
/// - Complexity: O(count * height * width * nonzero taps); one padded plane, no per-pixel allocation.
func filter2D(_ planes: [Double], count: Int, width: Int, height: Int, kernel: [Double], size: Int) -> [Double] {
    precondition(size % 2 == 1 && kernel.count == size * size)
    let r = size / 2, pw = width + 2 * r, ph = height + 2 * r, n = width * height
    var out = [Double](repeating: 0, count: planes.count)
    if n == 0 { return out }
    // Non-zero taps in kernel order: (offset in the padded plane, weight).
    let taps: [(Int, Double)] = (0..<(size * size)).compactMap { i in kernel[i] == 0 ? nil : ((i / size) * pw + i % size, kernel[i]) }
    // padded: ph x pw, the plane with its border resolved.
    var padded = [Double](repeating: 0, count: pw * ph)
    for p in 0..<count {
        for y in 0..<ph {
            let sy = Border.reflect101.index(y - r, height)
            for x in 0..<pw { padded[y * pw + x] = planes[p * n + sy * width + Border.reflect101.index(x - r, width)] }
        }
        padded.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                taps.withUnsafeBufferPointer { taps in
                    let s0 = UnsafeRawPointer(src.baseAddress!), d0 = UnsafeMutableRawPointer(dst.baseAddress!)
                    for y in 0..<height {
                        let o = p * n + y * width, row = y * pw
                        // Eight outputs at a time held in registers over every tap; taps summed in kernel order from 0,
                        // as the naive twin does.
                        var x = 0
                        while x + 8 <= width {
                            var a = SIMD4<Double>(repeating: 0), b = SIMD4<Double>(repeating: 0)
                            for (off, w) in taps {
                                let at = (row + off + x) * 8
                                a += w * s0.loadUnaligned(fromByteOffset: at, as: SIMD4<Double>.self)
                                b += w * s0.loadUnaligned(fromByteOffset: at + 32, as: SIMD4<Double>.self)
                            }
                            d0.storeBytes(of: a, toByteOffset: (o + x) * 8, as: SIMD4<Double>.self)
                            d0.storeBytes(of: b, toByteOffset: (o + x + 4) * 8, as: SIMD4<Double>.self)
                            x += 8
                        }
                        while x < width {
                            var a = 0.0
                            for (off, w) in taps { a += w * src[row + off + x] }
                            dst[o + x] = a
                            x += 1
                        }
                    }
                }
            }
        }
    }
    return out
}

/// The naive twin of `filter2D`: each output pixel sums its window with the border resolved per read.
func filter2DNaive(_ planes: [Double], count: Int, width: Int, height: Int, kernel: [Double], size: Int) -> [Double] {
    let r = size / 2, n = width * height
    var out = planes
    for p in 0..<count {
        for y in 0..<height {
            for x in 0..<width {
                var s = 0.0
                for ky in 0..<size {
                    for kx in 0..<size {
                        s += kernel[ky * size + kx] * planes[p * n + Border.reflect101.index(y + ky - r, height) * width + Border.reflect101.index(x + kx - r, width)]
                    }
                }
                out[p * n + y * width + x] = s
            }
        }
    }
    return out
}

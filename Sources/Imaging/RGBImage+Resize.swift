extension RGBImage {
    /// A copy scaled to `width` x `height` with `filter`.
    ///
    /// Separable: a horizontal pass into a float buffer, then a vertical pass, both with precomputed
    /// weights (`AxisWeights`); results are rounded to nearest and clamped to 0...255.
    /// - Parameters:
    ///   - width: Output width in pixels, > 0.
    ///   - height: Output height in pixels, > 0.
    ///   - filter: Resampling filter; see `ResampleFilter` for the exact sampling positions.
    /// - Complexity: O(srcHeight * width * tapsX + height * width * tapsY).
    public func resized(width: Int, height: Int, filter: ResampleFilter = .bilinear) -> RGBImage {
        precondition(width > 0 && height > 0, "resized: output size \(width)x\(height) must be positive")
        precondition(self.width > 0 && self.height > 0, "resized: cannot resize an empty \(self.width)x\(self.height) picture")
        // Every filter is the identity at the same size (pixel centres coincide).
        if width == self.width && height == self.height { return self }
        let xw = AxisWeights(filter: filter, start: 0, length: Double(self.width), size: self.width, count: width)
        let yw = AxisWeights(filter: filter, start: 0, length: Double(self.height), size: self.height, count: height)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        out.withUnsafeMutableBufferPointer { dst in
            separableResample(xw: xw, yw: yw) { y, row in
                // row: width x 3 floats, interleaved
                let o = y * width * 3
                for i in 0..<(width * 3) {
                    let v = row[i].rounded()
                    dst[o + i] = v <= 0 ? 0 : (v >= 255 ? 255 : UInt8(v))
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// The rectangle `x..<x+width`, `y..<y+height` as a new picture.
    /// - Precondition: the rectangle lies inside the picture and is not empty.
    public func cropped(x: Int, y: Int, width: Int, height: Int) -> RGBImage {
        precondition(width > 0 && height > 0 && x >= 0 && y >= 0 && x + width <= self.width && y + height <= self.height,
                     "cropped: rectangle \(width)x\(height) at (\(x), \(y)) is not inside the \(self.width)x\(self.height) picture")
        var out = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0..<height {
                    let s = ((y + row) * self.width + x) * 3
                    let d = row * width * 3
                    for i in 0..<(width * 3) { dst[d + i] = src[s + i] }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// Runs the two separable passes and hands each output row (`xw.count x 3` floats, interleaved,
    /// unrounded) to `emit` with its row index.
    func separableResample(xw: AxisWeights, yw: AxisWeights, emit: (Int, UnsafeMutableBufferPointer<Float>) -> Void) {
        let ow = xw.count, oh = yw.count
        // Source rows the vertical pass reads.
        let rowLo = Int(yw.index.min()!), rowHi = Int(yw.index.max()!)
        let rows = rowHi - rowLo + 1
        let srcW = width
        // tmp: rows x ow x 3, horizontally resampled source rows rowLo...rowHi
        var tmp = [Float](repeating: 0, count: rows * ow * 3)
        // acc: ow x 3, one output row
        var acc = [Float](repeating: 0, count: ow * 3)
        pixels.withUnsafeBufferPointer { src in
            tmp.withUnsafeMutableBufferPointer { tmp in
                xw.index.withUnsafeBufferPointer { xi in
                    xw.weight.withUnsafeBufferPointer { xwt in
                        let taps = xw.taps
                        for r in 0..<rows {
                            let s = (rowLo + r) * srcW * 3
                            let t = r * ow * 3
                            for o in 0..<ow {
                                var a0: Float = 0, a1: Float = 0, a2: Float = 0
                                for k in 0..<taps {
                                    let i = s + Int(xi[o * taps + k]) * 3
                                    let w = xwt[o * taps + k]
                                    a0 += w * Float(src[i]); a1 += w * Float(src[i + 1]); a2 += w * Float(src[i + 2])
                                }
                                tmp[t + o * 3] = a0; tmp[t + o * 3 + 1] = a1; tmp[t + o * 3 + 2] = a2
                            }
                        }
                    }
                }
                acc.withUnsafeMutableBufferPointer { acc in
                    let n = ow * 3
                    let taps = yw.taps
                    for y in 0..<oh {
                        for i in 0..<n { acc[i] = 0 }
                        for k in 0..<taps {
                            let w = yw.weight[y * taps + k]
                            if w == 0 { continue }
                            let t = (Int(yw.index[y * taps + k]) - rowLo) * n
                            for i in 0..<n { acc[i] += w * tmp[t + i] }
                        }
                        emit(y, acc)
                    }
                }
            }
        }
    }

    /// Reference twin of `resized`: each output pixel computed directly in double precision from the filter's
    /// definition (`referenceWeight`), with no weight tables and no separable passes. For tests.
    public func resizedNaive(width: Int, height: Int, filter: ResampleFilter) -> RGBImage {
        var out = RGBImage(width: width, height: height)
        let sx = Double(self.width) / Double(width), sy = Double(self.height) / Double(height)
        for y in 0..<height {
            for x in 0..<width {
                let v = naiveSample(filter: filter, cx: (Double(x) + 0.5) * sx, cy: (Double(y) + 0.5) * sy, scaleX: sx, scaleY: sy)
                func q(_ d: Double) -> UInt8 { UInt8(min(max(d.rounded(), 0), 255)) }
                out[x, y] = (q(v.0), q(v.1), q(v.2))
            }
        }
        return out
    }

    /// The filtered colour at continuous position (cx, cy), edge pixels repeated, in double precision.
    func naiveSample(filter: ResampleFilter, cx: Double, cy: Double, scaleX: Double, scaleY: Double) -> (Double, Double, Double) {
        var r = 0.0, g = 0.0, b = 0.0
        for py in referenceSupport(filter, centre: cy, scale: scaleY) {
            let wy = referenceWeight(filter, centre: cy, scale: scaleY, pixel: py)
            if wy == 0 { continue }
            let yy = min(max(py, 0), height - 1)
            for px in referenceSupport(filter, centre: cx, scale: scaleX) {
                let w = wy * referenceWeight(filter, centre: cx, scale: scaleX, pixel: px)
                if w == 0 { continue }
                let p = self[min(max(px, 0), width - 1), yy]
                r += w * Double(p.0); g += w * Double(p.1); b += w * Double(p.2)
            }
        }
        return (r, g, b)
    }
}

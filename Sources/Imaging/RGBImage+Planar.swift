extension RGBImage {
    /// Resamples a window of the picture straight to normalised planar floats for a model input.
    ///
    /// Output layout: NCHW without the batch axis, `3 x toHeight x toWidth`,
    /// `out[c * toHeight * toWidth + y * toWidth + x] = (clamp(v, 0, 255) * pixelScale - mean[c]) / std[c]`,
    /// where `v` is the resampled 8-bit value (clamped as if stored in 8 bits, unrounded) of channel `c`
    /// (0 red, 1 green, 2 blue). The window may be fractional and may extend past the picture; the filter
    /// reads edge pixels beyond the picture (not beyond the window), so cropping a window of a picture equals
    /// resizing the whole picture and cropping the result, as "resize 256, centre-crop 224" does.
    /// - Parameters:
    ///   - cropX, cropY, cropW, cropH: The source window in pixels, `[cropX, cropX + cropW)` by
    ///     `[cropY, cropY + cropH)`.
    ///   - toWidth, toHeight: Output size.
    ///   - filter: Usually `.bilinear` or `.bicubic`; any `ResampleFilter` works.
    ///   - mean, std: Three values each, in the units after `pixelScale`.
    ///   - pixelScale: Multiplies the 0...255 value first; the default 1/255 gives torchvision-style 0...1
    ///     units (mean [0.485, 0.456, 0.406]); pass 1 for mean/std in 0...255 units.
    /// - Complexity: O(rows touched * toWidth * tapsX + toHeight * toWidth * tapsY); weights are computed per
    ///   call in O(toWidth + toHeight).
    public func resampledPlanar(cropX: Double, cropY: Double, cropW: Double, cropH: Double,
                                toWidth: Int, toHeight: Int, filter: ResampleFilter = .bilinear,
                                mean: [Float], std: [Float], pixelScale: Float = 1.0 / 255.0) -> [Float] {
        precondition(mean.count == 3 && std.count == 3, "resampledPlanar: mean and std need 3 values each, got \(mean.count) and \(std.count)")
        precondition(toWidth > 0 && toHeight > 0 && cropW > 0 && cropH > 0 && width > 0 && height > 0,
                     "resampledPlanar: empty window \(cropW)x\(cropH), output \(toWidth)x\(toHeight) or picture \(width)x\(height)")
        let xw = AxisWeights(filter: filter, start: cropX, length: cropW, size: width, count: toWidth)
        let yw = AxisWeights(filter: filter, start: cropY, length: cropH, size: height, count: toHeight)
        let plane = toWidth * toHeight
        // out: 3 x toHeight x toWidth
        var out = [Float](repeating: 0, count: 3 * plane)
        let scale = (0..<3).map { pixelScale / std[$0] }
        let offset = (0..<3).map { -mean[$0] / std[$0] }
        out.withUnsafeMutableBufferPointer { dst in
            separableResample(xw: xw, yw: yw) { y, row in
                for c in 0..<3 {
                    let s = scale[c], o = offset[c]
                    let base = c * plane + y * toWidth
                    for x in 0..<toWidth {
                        let v = min(max(row[x * 3 + c], 0), 255)
                        dst[base + x] = v * s + o
                    }
                }
            }
        }
        return out
    }

    /// `resampledPlanar` with an integer window.
    public func resampledPlanar(cropX: Int, cropY: Int, cropW: Int, cropH: Int,
                                toWidth: Int, toHeight: Int, filter: ResampleFilter = .bilinear,
                                mean: [Float], std: [Float], pixelScale: Float = 1.0 / 255.0) -> [Float] {
        resampledPlanar(cropX: Double(cropX), cropY: Double(cropY), cropW: Double(cropW), cropH: Double(cropH),
                        toWidth: toWidth, toHeight: toHeight, filter: filter, mean: mean, std: std, pixelScale: pixelScale)
    }

    /// Reference twin of `resampledPlanar`: every output value computed directly in double precision from the
    /// filter's definition. For tests.
    public func resampledPlanarNaive(cropX: Double, cropY: Double, cropW: Double, cropH: Double,
                                     toWidth: Int, toHeight: Int, filter: ResampleFilter,
                                     mean: [Float], std: [Float], pixelScale: Float = 1.0 / 255.0) -> [Float] {
        let plane = toWidth * toHeight
        var out = [Float](repeating: 0, count: 3 * plane)
        let sx = cropW / Double(toWidth), sy = cropH / Double(toHeight)
        for y in 0..<toHeight {
            for x in 0..<toWidth {
                let v = naiveSample(filter: filter, cx: cropX + (Double(x) + 0.5) * sx, cy: cropY + (Double(y) + 0.5) * sy,
                                    scaleX: sx, scaleY: sy)
                for (c, value) in [v.0, v.1, v.2].enumerated() {
                    let clamped = min(max(value, 0), 255)
                    out[c * plane + y * toWidth + x] =
                        Float((clamped * Double(pixelScale) - Double(mean[c])) / Double(std[c]))
                }
            }
        }
        return out
    }
}

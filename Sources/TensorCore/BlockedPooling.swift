import TensorKernelsAVX512

/// Max pooling of channel-blocked `[batch, blocks, inH, inW, 16]` into `[batch, blocks, outH, outW, 16]`: each
/// output vector is the lane-wise maximum of its window's pixel vectors, taps outside the input skipped (ONNX
/// pads MaxPool with minus infinity; a window wholly outside gives minus infinity). Split over `computeThreads`
/// by (image, block, band of rows).
public func blockedMaxPool(_ x: UnsafePointer<Float>, batch: Int, blocks: Int, inH: Int, inW: Int, window wd: Window2D,
                           outH: Int, outW: Int, y: UnsafeMutablePointer<Float>) {
    forEachBlockedOutputRow(x, y, planes: batch * blocks, inPlane: inH * inW * 16, outH: outH, outPlane: outH * outW * 16) { xp, yp, oy in
        let iy0 = oy * wd.strideH - wd.padTop
        let ky0 = max(0, (-iy0 + wd.dilationH - 1) / wd.dilationH)
        let ky1 = min(wd.kernelH, iy0 >= inH ? 0 : (inH - 1 - iy0) / wd.dilationH + 1)
        for ox in 0..<outW {
            let ix0 = ox * wd.strideW - wd.padLeft
            let kx0 = max(0, (-ix0 + wd.dilationW - 1) / wd.dilationW)
            let kx1 = min(wd.kernelW, ix0 >= inW ? 0 : (inW - 1 - ix0) / wd.dilationW + 1)
            var m = SIMD16<Float>(repeating: -.infinity)
            var ky = ky0
            while ky < ky1 {
                let row = xp + (iy0 + ky * wd.dilationH) * inW * 16
                var kx = kx0
                while kx < kx1 {
                    let v = load16(row + (ix0 + kx * wd.dilationW) * 16)
                    m = m.replacing(with: v, where: v .> m)
                    kx += 1
                }
                ky += 1
            }
            store16(m, yp + (oy * outW + ox) * 16)
        }
    }
}

/// Runs `body(input plane, output plane, output row)` for every output row of every (image, block) plane of blocked
/// pooling, split over `computeThreads` by (plane, band of 8 rows).
@inline(__always)
private func forEachBlockedOutputRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, planes: Int, inPlane: Int,
                                     outH: Int, outPlane: Int,
                                     _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
    let bands = (outH + 7) / 8
    nonisolated(unsafe) let x = x, y = y
    parallelChunks(planes * bands) { r in
        for u in r {
            let plane = u / bands, band = u % bands
            let xp = x + plane * inPlane, yp = y + plane * outPlane
            for oy in (band * 8)..<min(outH, band * 8 + 8) { body(xp, yp, oy) }
        }
    }
}

/// Naive twin of `blockedMaxPool`: unblocks, runs `pool2d`, blocks the result (padding channels zero).
public func blockedMaxPoolNaive(_ x: UnsafePointer<Float>, batch: Int, channels: Int, inH: Int, inW: Int, window wd: Window2D,
                                outH: Int, outW: Int, y: UnsafeMutablePointer<Float>) {
    var planar = [Float](repeating: 0, count: batch * channels * inH * inW)
    fromChannelBlocked(x, batch: batch, channels: channels, pixels: inH * inW, y: &planar)
    var pooled = [Float](repeating: 0, count: batch * channels * outH * outW)
    pool2d(.max, x: planar, planes: batch * channels, h: inH, w: inW, window: wd, outH: outH, outW: outW, y: &pooled)
    toChannelBlocked(pooled, batch: batch, channels: channels, pixels: outH * outW, y: y)
}

/// Average pooling of channel-blocked `[batch, blocks, inH, inW, 16]` into `[batch, blocks, outH, outW, 16]`
/// (DenseNet's transitions): the taps inside the input are summed in the window's row order, as `pool2d` does, and
/// divided by their number, or with `countIncludePad` by the window clipped to the padded extent, so the results equal
/// `pool2d`'s. Split over `computeThreads` by (image, block, band of rows).
public func blockedAveragePool(_ x: UnsafePointer<Float>, batch: Int, blocks: Int, inH: Int, inW: Int, window wd: Window2D,
                               countIncludePad: Bool, outH: Int, outW: Int, y: UnsafeMutablePointer<Float>) {
    forEachBlockedOutputRow(x, y, planes: batch * blocks, inPlane: inH * inW * 16, outH: outH, outPlane: outH * outW * 16) { xp, yp, oy in
        let iy0 = oy * wd.strideH - wd.padTop
        for ox in 0..<outW {
            let ix0 = ox * wd.strideW - wd.padLeft
            var sum = SIMD16<Float>(), n = 0
            for ky in 0..<wd.kernelH {
                let iy = iy0 + ky * wd.dilationH
                if iy < 0 || iy >= inH { continue }
                for kx in 0..<wd.kernelW {
                    let ix = ix0 + kx * wd.dilationW
                    if ix < 0 || ix >= inW { continue }
                    sum += load16(xp + (iy * inW + ix) * 16)
                    n += 1
                }
            }
            let div = countIncludePad ? averageDivisor(oy: oy, ox: ox, h: inH, w: inW, window: wd) : n
            let v = div > 0 ? sum / SIMD16<Float>(repeating: Float(div)) : SIMD16<Float>()
            store16(v, yp + (oy * outW + ox) * 16)
        }
    }
}

/// A clamp activation (`clampBounds` not nil) applied elementwise to `count` floats of blocked storage: a ReLU or
/// Clip that no convolution could take into its epilogue.
public func blockedClamp(_ x: UnsafePointer<Float>, count: Int, lo: Float, hi: Float, y: UnsafeMutablePointer<Float>) {
    let vectors = count / 16
    parallelChunks(vectors, minItemsPerChunk: 4096) { r in
        let l = SIMD16<Float>(repeating: lo), h = SIMD16<Float>(repeating: hi)
        for i in r {
            let v = load16(x + i * 16)
            store16(blendClamped(v, l, h), y + i * 16)
        }
    }
    for i in (vectors * 16)..<count { y[i] = min(max(x[i], lo), hi) }
}

/// v clamped to l...h lane by lane by compare-and-blend (NaN stays NaN): SIMD's `clamped(lowerBound:upperBound:)`
/// compiles to scalar code.
@inline(__always) func blendClamped(_ v: SIMD16<Float>, _ l: SIMD16<Float>, _ h: SIMD16<Float>) -> SIMD16<Float> {
    var v = v
    v.replace(with: l, where: v .< l)
    v.replace(with: h, where: v .> h)
    return v
}

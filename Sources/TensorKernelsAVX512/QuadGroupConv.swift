// Grouped convolutions of 4 channels per group (ResNeXt-50 32x4d's first stage) in the channel-blocked layout.
// A block's 16 channels are four whole groups, one per 128-bit lane of the vector, so output lane j sums the four
// input lanes of its own group: each input pixel vector is loaded once per tap, and an in-lane shuffle broadcasts
// its offset-o channel to the four lanes of each group before the multiply-add with the weights of offset o.

@usableFromInline @_transparent func laneBroadcast0(_ v: F16) -> F16 {
    F16(v[0], v[0], v[0], v[0], v[4], v[4], v[4], v[4], v[8], v[8], v[8], v[8], v[12], v[12], v[12], v[12])
}
@usableFromInline @_transparent func laneBroadcast1(_ v: F16) -> F16 {
    F16(v[1], v[1], v[1], v[1], v[5], v[5], v[5], v[5], v[9], v[9], v[9], v[9], v[13], v[13], v[13], v[13])
}
@usableFromInline @_transparent func laneBroadcast2(_ v: F16) -> F16 {
    F16(v[2], v[2], v[2], v[2], v[6], v[6], v[6], v[6], v[10], v[10], v[10], v[10], v[14], v[14], v[14], v[14])
}
@usableFromInline @_transparent func laneBroadcast3(_ v: F16) -> F16 {
    F16(v[3], v[3], v[3], v[3], v[7], v[7], v[7], v[7], v[11], v[11], v[11], v[11], v[15], v[15], v[15], v[15])
}

/// One tap of one pixel: `acc += Σ_o laneBroadcast_o(x) * w[o]`, offsets in order.
@usableFromInline @_transparent func quadTap(_ acc: inout F16, _ x: F16, _ w0: F16, _ w1: F16, _ w2: F16, _ w3: F16) {
    acc.addProduct(laneBroadcast0(x), w0)
    acc.addProduct(laneBroadcast1(x), w1)
    acc.addProduct(laneBroadcast2(x), w2)
    acc.addProduct(laneBroadcast3(x), w3)
}

/// Groups of 4 channels, one block of one image, output rows `rows`:
/// y[oy, ox, j] = clamp(bias[j] + Σ over ky, kx, o of w[ky·kw + kx, o, j] · x[iy, ix, (j / 4)·4 + o], lo, hi) with
/// iy = oy·strideH + ky·dilationH − padTop (ix likewise), taps outside the input reading zero. Every output sums its
/// taps in the same order (rows, columns, offsets) wherever it lies, so a window of the map gives the map's values.
///
/// - Parameters:
///   - x: the block's plane `[inH, inW, 16]`.
///   - w: the block's weights `[kernelH · kernelW, 4, 16]`.
///   - bias: the block's 16 biases.
///   - y: the block's output plane `[outH, outW, 16]`.
public func blockedQuadGroupsAVX512(x: UnsafePointer<Float>, inH: Int, inW: Int, kernelH: Int, kernelW: Int,
                                    strideH: Int, strideW: Int, dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int,
                                    w: UnsafePointer<Float>, bias: UnsafePointer<Float>, lo: Float, hi: Float,
                                    y: UnsafeMutablePointer<Float>, outH: Int, outW: Int, rows: Range<Int>) {
    blockedQuadGroupsBody(narrow: false, x: x, inH: inH, inW: inW, kernelH: kernelH, kernelW: kernelW, strideH: strideH, strideW: strideW,
                          dilationH: dilationH, dilationW: dilationW, padTop: padTop, padLeft: padLeft, w: w, bias: bias, lo: lo, hi: hi,
                          y: y, outH: outH, outW: outW, rows: rows)
}

/// `blockedQuadGroupsAVX512`'s body, inlined where it is compiled: `narrow` runs four interior pixels at a time instead
/// of eight (AVX2 has half the registers). Every output sums its taps in the same order either way.
@_transparent
public func blockedQuadGroupsBody(narrow: Bool, x: UnsafePointer<Float>, inH: Int, inW: Int, kernelH: Int, kernelW: Int,
                                  strideH: Int, strideW: Int, dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int,
                                  w: UnsafePointer<Float>, bias: UnsafePointer<Float>, lo: Float, hi: Float,
                                  y: UnsafeMutablePointer<Float>, outH: Int, outW: Int, rows: Range<Int>) {
    let runLength = narrow ? 4 : 8
    let st = BlockedStore(lo: lo, hi: hi)
    let b = load16(bias)
    // Output columns whose every tap lies inside the input's width: ox in interior.
    let firstInside = padLeft <= 0 ? 0 : (padLeft + strideW - 1) / strideW
    let lastEnd = inW - 1 - (kernelW - 1) * dilationW + padLeft   // ox * strideW <= lastEnd
    let interior = firstInside..<max(firstInside, min(outW, lastEnd < 0 ? 0 : lastEnd / strideW + 1))
    // Transparent: as `@inline(__always)` with its own clamp, the compiler kept `finish` a function taking its
    // vector through the stack, one call per output pixel.
    @_transparent func finish(_ acc: F16, _ p: UnsafeMutablePointer<Float>) { st.put(acc + b, p) }
    for oy in rows {
        let out = y + oy * outW * 16
        // One pixel with bounds checks on every tap (the edge columns).
        @_transparent func edgePixel(_ ox: Int) {
            var acc = F16()
            for ky in 0..<kernelH {
                let iy = oy * strideH + ky * dilationH - padTop
                for kx in 0..<kernelW {
                    let ix = ox * strideW + kx * dilationW - padLeft
                    let inside = iy >= 0 && iy < inH && ix >= 0 && ix < inW
                    let xv = inside ? load16(x + (iy * inW + ix) * 16) : F16()
                    let wt = w + (ky * kernelW + kx) * 64
                    quadTap(&acc, xv, load16(wt), load16(wt + 16), load16(wt + 32), load16(wt + 48))
                }
            }
            finish(acc, out + ox * 16)
        }
        for ox in 0..<min(interior.lowerBound, outW) { edgePixel(ox) }
        // Interior columns, eight at a time: each tap's four weight vectors serve eight pixels.
        var ox = interior.lowerBound
        while ox + runLength <= interior.upperBound {
            var a0 = F16(), a1 = F16(), a2 = F16(), a3 = F16(), a4 = F16(), a5 = F16(), a6 = F16(), a7 = F16()
            let step = strideW * 16
            for ky in 0..<kernelH {
                let iy = oy * strideH + ky * dilationH - padTop
                let inside = iy >= 0 && iy < inH
                for kx in 0..<kernelW {
                    let wt = w + (ky * kernelW + kx) * 64
                    let w0 = load16(wt), w1 = load16(wt + 16), w2 = load16(wt + 32), w3 = load16(wt + 48)
                    // Two copies of the eight taps rather than a select per pixel: the select made the layer 20%
                    // slower (ResNeXt-50 at batch 8, 2.1 against 1.7 ms).
                    if inside {
                        let p = x + (iy * inW + ox * strideW + kx * dilationW - padLeft) * 16
                        quadTap(&a0, load16(p), w0, w1, w2, w3)
                        quadTap(&a1, load16(p + step), w0, w1, w2, w3)
                        quadTap(&a2, load16(p + 2 * step), w0, w1, w2, w3)
                        quadTap(&a3, load16(p + 3 * step), w0, w1, w2, w3)
                        if !narrow {
                            quadTap(&a4, load16(p + 4 * step), w0, w1, w2, w3)
                            quadTap(&a5, load16(p + 5 * step), w0, w1, w2, w3)
                            quadTap(&a6, load16(p + 6 * step), w0, w1, w2, w3)
                            quadTap(&a7, load16(p + 7 * step), w0, w1, w2, w3)
                        }
                    } else {
                        // A row of padding: the same multiply-adds on zeros, so the sums match a window's.
                        let z = F16()
                        quadTap(&a0, z, w0, w1, w2, w3); quadTap(&a1, z, w0, w1, w2, w3)
                        quadTap(&a2, z, w0, w1, w2, w3); quadTap(&a3, z, w0, w1, w2, w3)
                        if !narrow {
                            quadTap(&a4, z, w0, w1, w2, w3); quadTap(&a5, z, w0, w1, w2, w3)
                            quadTap(&a6, z, w0, w1, w2, w3); quadTap(&a7, z, w0, w1, w2, w3)
                        }
                    }
                }
            }
            let o = out + ox * 16
            finish(a0, o); finish(a1, o + 16); finish(a2, o + 32); finish(a3, o + 48)
            if !narrow { finish(a4, o + 64); finish(a5, o + 80); finish(a6, o + 96); finish(a7, o + 112) }
            ox += runLength
        }
        while ox < outW { edgePixel(ox); ox += 1 }
    }
}

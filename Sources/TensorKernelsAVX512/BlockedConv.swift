// Convolutions in the channel-blocked layout: an image's [C, H, W] tensor stored as [ceil(C/16), H, W, 16],
// the sixteen channels of a block at one pixel in one vector, channels past C zero. A depthwise filter then
// works on whole vectors with no transposes, a pointwise filter broadcasts one input value against sixteen
// output channels, and every load and store is a full vector.

/// Pointwise (1x1, stride 1, no padding) convolution in the channel-blocked layout:
/// y[n, ob, p, :] = clamp(bias[16ob..<16ob+16] + sum over ic of w[ic, 16ob..<16ob+16] * x[n, ic/16, p, ic%16], lo, hi).
///
/// The pixels of all images are cut into runs of seven (an image's last run may be shorter), and a tile is
/// two output blocks by two runs (28 zmm accumulators): each input channel costs two weight loads and 14
/// broadcasts for 28 multiply-adds. Every map of EfficientNet-Lite0 (224/2^k wide) is whole runs, runs from
/// different images share tiles, and with two pairs to do an odd last run is done once for both. Input
/// channels are taken up to 2048 at a time (a chunk's partial sums pass through `y`): chunks of 256, which
/// keep a pair's weights for the chunk in L1, measured slower in a forward pass (1x1 1152 -> 192 on 7x7:
/// 380 vs 319 us; 1152 -> 320: 217 vs 175 us, one thread) and no faster in the occlusion tail.
///
/// - Parameters:
///   - x: `[items, inBlocks, pixels, 16]`, items `xItemStride` floats apart.
///   - w: `[ceil(outBlocks / 2), inBlocks * 16, 32]`: for each pair of output blocks, row `ic` holds the 32
///     output channels' weights for input channel `ic` (a contiguous panel per pair; the second half of an
///     odd last pair is unused).
///   - bias: `[outBlocks * 16]` or nil.
///   - y: `[items, outBlocks, pixels, 16]`, items `yItemStride` floats apart; only the pairs `pairs` (pair i
///     is blocks 2i and 2i+1) over runs `runs` are written (run r is item r / ceil(pixels / 7), pixels from
///     7·(r mod ceil(pixels / 7))).
///   - residual: nil, or a tensor laid out as y added to the sums before the clamp (a residual Add fused in).
/// - Complexity: 16·inBlocks·16·2|pairs|·7|runs| multiply-adds.
public func blockedPointwiseAVX512(x: UnsafePointer<Float>, xItemStride: Int, inBlocks: Int, pixels: Int,
                                   w: UnsafePointer<Float>, outBlocks: Int, bias: UnsafePointer<Float>?,
                                   lo: Float, hi: Float, y: UnsafeMutablePointer<Float>, yItemStride: Int,
                                   residual: UnsafePointer<Float>? = nil, pairs: Range<Int>, runs: Range<Int>) {
    let plane = pixels * 16, panel = inBlocks * 16 * 32
    let runsPerItem = (pixels + 6) / 7
    var k0 = 0
    while k0 < inBlocks {
        let k1 = min(inBlocks, k0 + 128)
        let last = k1 == inBlocks
        let e = PointwiseStep(k0: k0, k1: k1, first: k0 == 0,
                              store: last ? BlockedStore(lo: lo, hi: hi, residual: residual.map { UnsafeRawPointer($0) - UnsafeRawPointer(y) })
                                          : BlockedStore(lo: -.infinity, hi: .infinity))
        // Per pair of output blocks: where its weights, bias and outputs are.
        @inline(__always) func pairParts(_ pair: Int) -> (two: Bool, y1Off: Int, b0: F16, b1: F16, w: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
            let ob = 2 * pair, two = ob + 1 < outBlocks
            let b0 = bias.map { load16($0 + ob * 16) } ?? F16()
            let b1 = two ? (bias.map { load16($0 + ob * 16 + 16) } ?? F16()) : F16()
            return (two, two ? plane : 0, b0, b1, w + pair * panel, y + ob * plane)
        }
        // An odd run left over with two pairs to do: it runs once for both pairs rather than in two half-empty
        // tiles (a 7x7 map at batch 1 is seven runs).
        let leftover = runs.count % 2 == 1 && pairs.count == 2
        let end = leftover ? runs.upperBound - 1 : runs.upperBound
        for pair in pairs {
            let (two, y1Off, b0, b1, wo, yo) = pairParts(pair)
            // The current run: its item and its first pixel (advanced without divisions).
            var n = runs.lowerBound / runsPerItem, p = runs.lowerBound % runsPerItem * 7
            var r = runs.lowerBound
            while r < end {
                let la = min(7, pixels - p)
                let xa = x + n * xItemStride + p * 16, ya = yo + n * yItemStride + p * 16
                p += 7
                if p >= pixels { p = 0; n += 1 }
                var lb = 0, xb = xa, yb = ya
                if r + 1 < end {
                    lb = min(7, pixels - p)
                    xb = x + n * xItemStride + p * 16; yb = yo + n * yItemStride + p * 16
                    p += 7
                    if p >= pixels { p = 0; n += 1 }
                }
                if la == 7 && lb == 7 {
                    if two { pointwiseTile(7, 7, true, true, xa, xb, plane, wo, wo, ya, yb, y1Off, y1Off, b0, b1, b0, b1, e) }
                    else { pointwiseTile(7, 7, false, false, xa, xb, plane, wo, wo, ya, yb, y1Off, y1Off, b0, b1, b0, b1, e) }
                } else {
                    if two { pointwiseTile(la, lb, true, true, xa, xb, plane, wo, wo, ya, yb, y1Off, y1Off, b0, b1, b0, b1, e) }
                    else { pointwiseTile(la, lb, false, false, xa, xb, plane, wo, wo, ya, yb, y1Off, y1Off, b0, b1, b0, b1, e) }
                }
                r += 2
            }
        }
        if leftover {
            let r = runs.upperBound - 1
            let n = r / runsPerItem, p = r % runsPerItem * 7, len = min(7, pixels - p)
            let a = pairParts(pairs.lowerBound), b = pairParts(pairs.lowerBound + 1)
            let xr = x + n * xItemStride + p * 16, yOff = n * yItemStride + p * 16
            // Constant tile arguments on the common paths, so that the tile keeps its accumulators in registers.
            if len == 7 && b.two {
                pointwiseTile(7, 7, true, true, xr, xr, plane, a.w, b.w, a.y + yOff, b.y + yOff, a.y1Off, b.y1Off, a.b0, a.b1, b.b0, b.b1, e)
            } else if b.two {
                pointwiseTile(len, len, true, true, xr, xr, plane, a.w, b.w, a.y + yOff, b.y + yOff, a.y1Off, b.y1Off, a.b0, a.b1, b.b0, b.b1, e)
            } else {
                pointwiseTile(len, len, true, false, xr, xr, plane, a.w, b.w, a.y + yOff, b.y + yOff, a.y1Off, b.y1Off, a.b0, a.b1, b.b0, b.b1, e)
            }
        }
        k0 = k1
    }
}

/// How the blocked kernels store an accumulated vector: v = clamp(v + residual, lo, hi).
public struct BlockedStore {
    public let lo: Float, hi: Float
    /// False when lo...hi is -inf...inf (no clamp to apply).
    public let clamps: Bool
    /// Byte distance from the stored vector to a residual tensor of the output's layout to add first, or nil.
    public let residual: Int?

    @_transparent public init(lo: Float, hi: Float, residual: Int? = nil) {
        self.lo = lo; self.hi = hi; self.residual = residual
        clamps = lo > -.infinity || hi < .infinity
    }

    @_transparent public func put(_ v: F16, _ p: UnsafeMutablePointer<Float>) {
        var v = v
        if let residual { v += load16(UnsafeRawPointer(p).advanced(by: residual).assumingMemoryBound(to: Float.self)) }
        store16(clamps ? clamped(v, lo, hi) : v, p)
    }

    /// `put` of the first `count` (0...7) of seven consecutive pixels' vectors, from `p` on.
    @_transparent public func putRun(_ v0: F16, _ v1: F16, _ v2: F16, _ v3: F16, _ v4: F16, _ v5: F16, _ v6: F16,
                              count: Int, _ p: UnsafeMutablePointer<Float>) {
        if count > 0 { put(v0, p) }
        if count > 1 { put(v1, p + 16) }
        if count > 2 { put(v2, p + 32) }
        if count > 3 { put(v3, p + 48) }
        if count > 4 { put(v4, p + 64) }
        if count > 5 { put(v5, p + 80) }
        if count > 6 { put(v6, p + 96) }
    }

    /// `put` of the first `count` (1...6: a run always has its first pixel) of six pixels' vectors, pixel i at
    /// `p + offsets[i]` (pixels that need not be consecutive: a run of a band that wraps from one row, or one image, to
    /// the next).
    @_transparent public func putPixels(_ v0: F16, _ v1: F16, _ v2: F16, _ v3: F16, _ v4: F16, _ v5: F16,
                                        count: Int, _ p: UnsafeMutablePointer<Float>, offsets o: UnsafePointer<Int>) {
        put(v0, p + o[0])
        if count > 1 { put(v1, p + o[1]) }
        if count > 2 { put(v2, p + o[2]) }
        if count > 3 { put(v3, p + o[3]) }
        if count > 4 { put(v4, p + o[4]) }
        if count > 5 { put(v5, p + o[5]) }
    }

    /// `put` of the first `count` (0...8) of eight consecutive pixels' vectors, from `p` on.
    @_transparent public func putRun(_ v0: F16, _ v1: F16, _ v2: F16, _ v3: F16, _ v4: F16, _ v5: F16, _ v6: F16, _ v7: F16,
                              count: Int, _ p: UnsafeMutablePointer<Float>) {
        putRun(v0, v1, v2, v3, v4, v5, v6, count: min(count, 7), p)
        if count > 7 { put(v7, p + 112) }
    }
}

/// One chunk of input blocks of `blockedPointwiseAVX512`: where it starts and ends, whether it starts from
/// the bias (else from the partial sums in y), and the store (clamp and residual on the last chunk only).
struct PointwiseStep {
    let k0: Int, k1: Int
    let first: Bool
    let store: BlockedStore
}

/// Two runs of up to seven pixels (`la` >= 1 at `xa`, `lb` >= 0 at `xb`), each for one or two output blocks
/// (the second `y1Off` / `y1OffB` floats after the first) with its own weight panel and bias: the same pair
/// for two runs, or (the left-over run) two pairs for one run. Pixels past a run's length repeat its last
/// pixel (computed, not stored), and an empty second run repeats the first. When both halves use the same
/// panel, their weight loads are the same loads.
@_transparent
func pointwiseTile(_ la: Int, _ lb: Int, _ two: Bool, _ twoB: Bool, _ xa: UnsafePointer<Float>, _ xb: UnsafePointer<Float>, _ plane: Int,
                   _ w: UnsafePointer<Float>, _ wB: UnsafePointer<Float>,
                   _ ya: UnsafeMutablePointer<Float>, _ yb: UnsafeMutablePointer<Float>, _ y1Off: Int, _ y1OffB: Int,
                   _ b0: F16, _ b1: F16, _ c0: F16, _ c1: F16, _ e: PointwiseStep) {
    let a1 = min(1, la - 1) * 16, a2 = min(2, la - 1) * 16, a3 = min(3, la - 1) * 16
    let a4 = min(4, la - 1) * 16, a5 = min(5, la - 1) * 16, a6 = min(6, la - 1) * 16
    let lbb = max(lb, 1)
    let b1o = min(1, lbb - 1) * 16, b2o = min(2, lbb - 1) * 16, b3o = min(3, lbb - 1) * 16
    let b4o = min(4, lbb - 1) * 16, b5o = min(5, lbb - 1) * 16, b6o = min(6, lbb - 1) * 16
    var p0 = b0, p1 = b0, p2 = b0, p3 = b0, p4 = b0, p5 = b0, p6 = b0
    var q0 = c0, q1 = c0, q2 = c0, q3 = c0, q4 = c0, q5 = c0, q6 = c0
    var r0 = b1, r1 = b1, r2 = b1, r3 = b1, r4 = b1, r5 = b1, r6 = b1
    var t0 = c1, t1 = c1, t2 = c1, t3 = c1, t4 = c1, t5 = c1, t6 = c1
    if !e.first {
        p0 = load16(ya); p1 = load16(ya + a1); p2 = load16(ya + a2); p3 = load16(ya + a3)
        p4 = load16(ya + a4); p5 = load16(ya + a5); p6 = load16(ya + a6)
        q0 = load16(yb); q1 = load16(yb + b1o); q2 = load16(yb + b2o); q3 = load16(yb + b3o)
        q4 = load16(yb + b4o); q5 = load16(yb + b5o); q6 = load16(yb + b6o)
        if two {
            let za = ya + y1Off
            r0 = load16(za); r1 = load16(za + a1); r2 = load16(za + a2); r3 = load16(za + a3)
            r4 = load16(za + a4); r5 = load16(za + a5); r6 = load16(za + a6)
        }
        if twoB {
            let zb = yb + y1OffB
            t0 = load16(zb); t1 = load16(zb + b1o); t2 = load16(zb + b2o); t3 = load16(zb + b3o)
            t4 = load16(zb + b4o); t5 = load16(zb + b5o); t6 = load16(zb + b6o)
        }
    }
    var wr = w + e.k0 * 16 * 32, wrB = wB + e.k0 * 16 * 32
    for kb in e.k0..<e.k1 {
        let pa = xa + kb * plane, pb = xb + kb * plane
        for l in 0..<16 {
            let w0 = load16(wr)
            let w1 = two ? load16(wr + 16) : F16()
            let v0 = load16(wrB)
            let v1 = twoB ? load16(wrB + 16) : F16()
            var s = F16(repeating: pa[l]); p0.addProduct(w0, s); if two { r0.addProduct(w1, s) }
            s = F16(repeating: pa[l + a1]); p1.addProduct(w0, s); if two { r1.addProduct(w1, s) }
            s = F16(repeating: pa[l + a2]); p2.addProduct(w0, s); if two { r2.addProduct(w1, s) }
            s = F16(repeating: pa[l + a3]); p3.addProduct(w0, s); if two { r3.addProduct(w1, s) }
            s = F16(repeating: pa[l + a4]); p4.addProduct(w0, s); if two { r4.addProduct(w1, s) }
            s = F16(repeating: pa[l + a5]); p5.addProduct(w0, s); if two { r5.addProduct(w1, s) }
            s = F16(repeating: pa[l + a6]); p6.addProduct(w0, s); if two { r6.addProduct(w1, s) }
            s = F16(repeating: pb[l]); q0.addProduct(v0, s); if twoB { t0.addProduct(v1, s) }
            s = F16(repeating: pb[l + b1o]); q1.addProduct(v0, s); if twoB { t1.addProduct(v1, s) }
            s = F16(repeating: pb[l + b2o]); q2.addProduct(v0, s); if twoB { t2.addProduct(v1, s) }
            s = F16(repeating: pb[l + b3o]); q3.addProduct(v0, s); if twoB { t3.addProduct(v1, s) }
            s = F16(repeating: pb[l + b4o]); q4.addProduct(v0, s); if twoB { t4.addProduct(v1, s) }
            s = F16(repeating: pb[l + b5o]); q5.addProduct(v0, s); if twoB { t5.addProduct(v1, s) }
            s = F16(repeating: pb[l + b6o]); q6.addProduct(v0, s); if twoB { t6.addProduct(v1, s) }
            wr += 32
            wrB += 32
        }
    }
    let st = e.store
    st.putRun(p0, p1, p2, p3, p4, p5, p6, count: la, ya)
    st.putRun(q0, q1, q2, q3, q4, q5, q6, count: lb, yb)
    if two { st.putRun(r0, r1, r2, r3, r4, r5, r6, count: la, ya + y1Off) }
    if twoB { st.putRun(t0, t1, t2, t3, t4, t5, t6, count: lb, yb + y1OffB) }
}

/// Depthwise convolution (one input channel per output channel) of one image in the channel-blocked layout:
/// y[b, oy, ox, :] = clamp(bias + sum over taps of w[b, tap, :] * x[b, oy·sh + ky·dh - padTop, ox·sw + kx·dw - padLeft, :], lo, hi),
/// taps outside the input contributing zero.
///
/// Eight output pixels of a row at a time (8 accumulators, one weight load per tap); the columns whose taps
/// can fall outside the row, and the rows near the top and bottom, skip the missing taps.
///
/// - Parameters:
///   - x: `[blocks, inH, inW, 16]`; w: `[blocks, kernelH * kernelW, 16]`; bias: `[blocks * 16]` or nil.
///   - y: `[blocks, outH, outW, 16]`; only blocks `blocks`, rows `rows` are written.
///   - scratch: nil, or 64-byte aligned memory of `blockedDepthwiseScratchBytes` for the band copy (else the
///     kernel allocates its own).
/// - Complexity: |blocks|·|rows|·outW·kernelH·kernelW vector multiply-adds.
public func blockedDepthwiseAVX512(x: UnsafePointer<Float>, inH: Int, inW: Int,
                                   kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                                   dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int,
                                   w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, lo: Float, hi: Float,
                                   y: UnsafeMutablePointer<Float>, outH: Int, outW: Int,
                                   blocks: Range<Int>, rows: Range<Int>, scratch: UnsafeMutableRawPointer? = nil) {
    blockedDepthwiseBody(narrow: false, x: x, inH: inH, inW: inW, kernelH: kernelH, kernelW: kernelW, strideH: strideH, strideW: strideW,
                         dilationH: dilationH, dilationW: dilationW, padTop: padTop, padLeft: padLeft, w: w, bias: bias, lo: lo, hi: hi,
                         y: y, outH: outH, outW: outW, blocks: blocks, rows: rows, scratch: scratch)
}

/// `blockedDepthwiseAVX512`'s body, inlined where it is compiled: `narrow` runs six pixels at a time (12 of AVX2's 16
/// registers hold the sums) instead of eight. Each output sums its taps in the same order either way.
@_transparent
public func blockedDepthwiseBody(narrow: Bool, x: UnsafePointer<Float>, inH: Int, inW: Int,
                                 kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                                 dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int,
                                 w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, lo: Float, hi: Float,
                                 y: UnsafeMutablePointer<Float>, outH: Int, outW: Int,
                                 blocks: Range<Int>, rows: Range<Int>, scratch: UnsafeMutableRawPointer?) {
    let runLength = narrow ? 6 : 8
    let taps = kernelH * kernelW
    let inPlane = inH * inW * 16, outPlane = outH * outW * 16, inRow = inW * 16
    let e = BlockedStore(lo: lo, hi: hi)
    // Columns whose every tap lies inside the row: ox·sw - padLeft >= 0 and ox·sw + (kw-1)·dw - padLeft <= inW - 1.
    let oxLo = min(outW, ceilDiv(padLeft, strideW))
    let oxHi = max(oxLo, min(outW, floorDiv(inW - 1 + padLeft - (kernelW - 1) * dilationW, strideW) + 1))
    if ((strideW == 1 && outW <= 32) || 4 * (outW - (oxHi - oxLo)) > outW) && !rows.isEmpty {
        // Copy the rows the band reads into a zero-padded, 64-byte aligned buffer, so every pixel runs eight at
        // a time and every load is aligned (tensors' storage is not: unaligned vector loads cross cache lines).
        // Measured in a forward pass (one thread, data cold from the previous op): faster for stride-1 maps up
        // to 32 wide (5x5 on 28x28: 119-126 vs 125-133 us) and for maps whose edge columns are over a quarter
        // of the row (7x7 and 14x14 outputs); wider maps are faster read in place, where the copy is one more
        // pass over data that is not in cache (3x3 on 56x56: 160 vs 198-211 us; 3x3/2 on 112x112: 104 vs 157 us).
        let padW = (outW - 1) * strideW + (kernelW - 1) * dilationW + 1
        let padH = (rows.count - 1) * strideH + (kernelH - 1) * dilationH + 1
        let own = scratch == nil ? UnsafeMutableRawPointer.allocate(byteCount: padH * padW * 64, alignment: 64) : nil
        defer { own?.deallocate() }
        let buf = (scratch ?? own!).bindMemory(to: Float.self, capacity: padH * padW * 16)
        let iyBase = rows.lowerBound * strideH - padTop
        // Columns of the buffer that hold input columns: bx = ix + padLeft for 0 <= ix < inW.
        let bx0 = max(0, padLeft), bx1 = min(padW, inW + padLeft)
        for b in blocks {
            let xb = x + b * inPlane, wb = w + b * taps * 16, yb = y + b * outPlane
            let bq = biasVector(bias, b * 16)
            for j in 0..<padH {
                copyPaddedRow(xb, iy: iyBase + j, inH: inH, inW: inW, padW: padW, padLeft: padLeft, bx0: bx0, bx1: bx1, buf + j * padW * 16)
            }
            for oy in rows {
                let yr = yb + oy * outW * 16, iy0 = (oy - rows.lowerBound) * strideH
                var ox = 0
                while ox + runLength <= outW {
                    depthwiseRun(narrow: narrow, np: runLength, buf, iy0, 0, kernelH, ox * strideW, strideW, dilationH, dilationW, padW * 16,
                                 kernelW, wb, bq, yr + ox * 16, e)
                    ox += runLength
                }
                if ox < outW {
                    depthwiseRun(narrow: narrow, np: outW - ox, buf, iy0, 0, kernelH, ox * strideW, strideW, dilationH, dilationW, padW * 16,
                                 kernelW, wb, bq, yr + ox * 16, e)
                }
            }
        }
        return
    }
    for b in blocks {
        let xb = x + b * inPlane, wb = w + b * taps * 16, yb = y + b * outPlane
        let bq = biasVector(bias, b * 16)
        for oy in rows {
            // Taps rows inside the input: 0 <= oy·sh + ky·dh - padTop <= inH - 1.
            let iy0 = oy * strideH - padTop
            let ky0 = max(0, ceilDiv(-iy0, dilationH))
            let ky1 = min(kernelH, floorDiv(inH - 1 - iy0, dilationH) + 1)
            let yr = yb + oy * outW * 16
            @_transparent func edge(_ ox: Int) {
                var a = bq
                let ix0 = ox * strideW - padLeft
                var ky = ky0
                while ky < ky1 {
                    let row = xb + (iy0 + ky * dilationH) * inRow
                    for kx in 0..<kernelW {
                        let ix = ix0 + kx * dilationW
                        if ix >= 0 && ix < inW { a.addProduct(load16(wb + (ky * kernelW + kx) * 16), load16(row + ix * 16)) }
                    }
                    ky += 1
                }
                e.put(a, yr + ox * 16)
            }
            for ox in 0..<oxLo { edge(ox) }
            var ox = oxLo
            while ox + runLength <= oxHi {
                depthwiseRun(narrow: narrow, np: runLength, xb, iy0, ky0, ky1, ox * strideW - padLeft, strideW, dilationH, dilationW, inRow,
                             kernelW, wb, bq, yr + ox * 16, e)
                ox += runLength
            }
            if ox < oxHi {
                depthwiseRun(narrow: narrow, np: oxHi - ox, xb, iy0, ky0, ky1, ox * strideW - padLeft, strideW, dilationH, dilationW, inRow,
                             kernelW, wb, bq, yr + ox * 16, e)
            }
            for ox in oxHi..<outW { edge(ox) }
        }
    }
}

/// `np` (1...8, 1...6 when `narrow`) consecutive output pixels of a row whose taps all lie inside the input columns;
/// pixels past `np` repeat the last one (computed, not stored).
@usableFromInline @_transparent
func depthwiseRun(narrow: Bool, np: Int, _ xb: UnsafePointer<Float>, _ iy0: Int, _ ky0: Int, _ ky1: Int, _ ix0: Int,
                          _ sw: Int, _ dh: Int, _ dw: Int, _ inRow: Int, _ kw: Int,
                          _ wb: UnsafePointer<Float>, _ bq: F16, _ y: UnsafeMutablePointer<Float>, _ e: BlockedStore) {
    let step = sw * 16
    let o1 = min(1, np - 1) * step, o2 = min(2, np - 1) * step, o3 = min(3, np - 1) * step
    let o4 = min(4, np - 1) * step, o5 = min(5, np - 1) * step, o6 = min(6, np - 1) * step, o7 = min(7, np - 1) * step
    var a0 = bq, a1 = bq, a2 = bq, a3 = bq, a4 = bq, a5 = bq, a6 = bq, a7 = bq
    var ky = ky0
    while ky < ky1 {
        var p = xb + (iy0 + ky * dh) * inRow + ix0 * 16
        var wp = wb + ky * kw * 16
        for _ in 0..<kw {
            let wv = load16(wp)
            a0.addProduct(wv, load16(p)); a1.addProduct(wv, load16(p + o1))
            a2.addProduct(wv, load16(p + o2)); a3.addProduct(wv, load16(p + o3))
            a4.addProduct(wv, load16(p + o4)); a5.addProduct(wv, load16(p + o5))
            if !narrow { a6.addProduct(wv, load16(p + o6)); a7.addProduct(wv, load16(p + o7)) }
            p += dw * 16
            wp += 16
        }
        ky += 1
    }
    e.putRun(a0, a1, a2, a3, a4, a5, a6, a7, count: np, y)
}

/// Direct convolution (groups 1) from a planar input of few channels (`[inC, inH, inW]`, the RGB stem) to
/// the channel-blocked layout: each input value, broadcast, meets sixteen output channels' weights.
///
/// Eight output pixels of two output blocks at a time (16 accumulators: two weight loads and eight
/// broadcasts per tap); columns whose taps can fall outside the row, and rows near the edges, skip the
/// missing taps.
///
/// - Parameters:
///   - x: `[inC, inH, inW]`.
///   - w: `[outBlocks, inC * kernelH * kernelW, 16]` (taps in (c, ky, kx) order); bias: `[outBlocks * 16]` or nil.
///   - y: `[outBlocks, outH, outW, 16]`; only rows `rows` are written (all blocks).
/// - Complexity: outBlocks·|rows|·outW·inC·kernelH·kernelW vector multiply-adds.
public func blockedFromPlanarAVX512(x: UnsafePointer<Float>, inC: Int, inH: Int, inW: Int,
                                    kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                                    dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int,
                                    w: UnsafePointer<Float>, outBlocks: Int, bias: UnsafePointer<Float>?,
                                    lo: Float, hi: Float, y: UnsafeMutablePointer<Float>, outH: Int, outW: Int,
                                    rows: Range<Int>) {
    blockedFromPlanarBody(narrow: false, x: x, inC: inC, inH: inH, inW: inW, kernelH: kernelH, kernelW: kernelW,
                          strideH: strideH, strideW: strideW, dilationH: dilationH, dilationW: dilationW, padTop: padTop, padLeft: padLeft,
                          w: w, outBlocks: outBlocks, bias: bias, lo: lo, hi: hi, y: y, outH: outH, outW: outW, rows: rows)
}

/// `blockedFromPlanarAVX512`'s body, inlined where it is compiled: `narrow` does one output block by six pixels at a
/// time (12 of AVX2's 16 registers hold the sums) instead of two blocks by eight. Each output sums its taps in the
/// same order either way.
@_transparent
public func blockedFromPlanarBody(narrow: Bool, x: UnsafePointer<Float>, inC: Int, inH: Int, inW: Int,
                                  kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                                  dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int,
                                  w: UnsafePointer<Float>, outBlocks: Int, bias: UnsafePointer<Float>?,
                                  lo: Float, hi: Float, y: UnsafeMutablePointer<Float>, outH: Int, outW: Int,
                                  rows: Range<Int>) {
    let taps = inC * kernelH * kernelW, plane = inH * inW, outPlane = outH * outW * 16
    let e = BlockedStore(lo: lo, hi: hi)
    let oxLo = min(outW, ceilDiv(padLeft, strideW))
    let oxHi = max(oxLo, min(outW, floorDiv(inW - 1 + padLeft - (kernelW - 1) * dilationW, strideW) + 1))
    var ob = 0
    while ob < outBlocks {
        let two = !narrow && ob + 1 < outBlocks
        let w0 = w + ob * taps * 16, w1 = two ? w0 + taps * 16 : w0
        let y0 = y + ob * outPlane, y1 = two ? y0 + outPlane : y0
        let b0 = biasVector(bias, ob * 16)
        let b1 = two ? biasVector(bias, ob * 16 + 16) : F16()
        for oy in rows {
            let iy0 = oy * strideH - padTop
            let ky0 = max(0, ceilDiv(-iy0, dilationH))
            let ky1 = min(kernelH, floorDiv(inH - 1 - iy0, dilationH) + 1)
            let r0 = y0 + oy * outW * 16, r1 = y1 + oy * outW * 16
            @_transparent func edge(_ ox: Int) {
                var a = b0, c = b1
                let ix0 = ox * strideW - padLeft
                for ch in 0..<inC {
                    var ky = ky0
                    while ky < ky1 {
                        let row = x + ch * plane + (iy0 + ky * dilationH) * inW
                        for kx in 0..<kernelW {
                            let ix = ix0 + kx * dilationW
                            guard ix >= 0 && ix < inW else { continue }
                            let t = ((ch * kernelH + ky) * kernelW + kx) * 16
                            let s = F16(repeating: row[ix])
                            a.addProduct(load16(w0 + t), s)
                            if two { c.addProduct(load16(w1 + t), s) }
                        }
                        ky += 1
                    }
                }
                e.put(a, r0 + ox * 16)
                if two { e.put(c, r1 + ox * 16) }
            }
            for ox in 0..<oxLo { edge(ox) }
            var ox = oxLo
            while ox < oxHi {
                let np = min(narrow ? 6 : 8, oxHi - ox)
                let s = strideW
                let o1 = min(1, np - 1) * s, o2 = min(2, np - 1) * s, o3 = min(3, np - 1) * s
                let o4 = min(4, np - 1) * s, o5 = min(5, np - 1) * s, o6 = min(6, np - 1) * s, o7 = min(7, np - 1) * s
                var a0 = b0, a1 = b0, a2 = b0, a3 = b0, a4 = b0, a5 = b0, a6 = b0, a7 = b0
                var c0 = b1, c1 = b1, c2 = b1, c3 = b1, c4 = b1, c5 = b1, c6 = b1, c7 = b1
                let ix0 = ox * strideW - padLeft
                for ch in 0..<inC {
                    var ky = ky0
                    while ky < ky1 {
                        var p = x + ch * plane + (iy0 + ky * dilationH) * inW + ix0
                        var t = ((ch * kernelH + ky) * kernelW) * 16
                        for _ in 0..<kernelW {
                            let wa = load16(w0 + t)
                            if narrow {
                                a0.addProduct(wa, F16(repeating: p[0])); a1.addProduct(wa, F16(repeating: p[o1]))
                                a2.addProduct(wa, F16(repeating: p[o2])); a3.addProduct(wa, F16(repeating: p[o3]))
                                a4.addProduct(wa, F16(repeating: p[o4])); a5.addProduct(wa, F16(repeating: p[o5]))
                            } else {
                                let wc = load16(w1 + t)
                                var v = F16(repeating: p[0]); a0.addProduct(wa, v); c0.addProduct(wc, v)
                                v = F16(repeating: p[o1]); a1.addProduct(wa, v); c1.addProduct(wc, v)
                                v = F16(repeating: p[o2]); a2.addProduct(wa, v); c2.addProduct(wc, v)
                                v = F16(repeating: p[o3]); a3.addProduct(wa, v); c3.addProduct(wc, v)
                                v = F16(repeating: p[o4]); a4.addProduct(wa, v); c4.addProduct(wc, v)
                                v = F16(repeating: p[o5]); a5.addProduct(wa, v); c5.addProduct(wc, v)
                                v = F16(repeating: p[o6]); a6.addProduct(wa, v); c6.addProduct(wc, v)
                                v = F16(repeating: p[o7]); a7.addProduct(wa, v); c7.addProduct(wc, v)
                            }
                            p += dilationW
                            t += 16
                        }
                        ky += 1
                    }
                }
                let q0 = r0 + ox * 16, q1 = r1 + ox * 16
                e.putRun(a0, a1, a2, a3, a4, a5, a6, a7, count: np, q0)
                if two { e.putRun(c0, c1, c2, c3, c4, c5, c6, c7, count: np, q1) }
                ox += np
            }
            for ox in oxHi..<outW { edge(ox) }
        }
        ob += two ? 2 : 1
    }
}

/// Bytes of band-copy scratch `blockedDepthwiseAVX512` needs for bands of up to `rows` output rows.
@_transparent public func blockedDepthwiseScratchBytes(rows: Int, outW: Int, kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                                         dilationH: Int, dilationW: Int) -> Int {
    let padW = (outW - 1) * strideW + (kernelW - 1) * dilationW + 1
    let padH = (rows - 1) * strideH + (kernelH - 1) * dilationH + 1
    return padH * padW * 64
}

/// Sixteen biases from `offset`, or zeros when there is no bias (no closure: the transparent bodies must not leave a
/// function of this module behind).
@usableFromInline @_transparent func biasVector(_ bias: UnsafePointer<Float>?, _ offset: Int) -> F16 {
    if let bias { return load16(bias + offset) }
    return F16()
}

/// Rounds a / b towards minus infinity (b > 0).
@usableFromInline @_transparent func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
/// Rounds a / b towards plus infinity (b > 0).
@usableFromInline @_transparent func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }

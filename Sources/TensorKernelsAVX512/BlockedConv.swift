// Convolutions in the channel-blocked layout: an image's [C, H, W] tensor stored as [ceil(C/16), H, W, 16],
// the sixteen channels of a block at one pixel in one vector, channels past C zero. A depthwise filter then
// works on whole vectors with no transposes, a pointwise filter broadcasts one input value against sixteen
// output channels, and every load and store is a full vector.

/// Pointwise (1x1, stride 1, no padding) convolution of one image in the channel-blocked layout:
/// y[ob, p, :] = clamp(bias[16ob..<16ob+16] + sum over ic of w[ic, 16ob..<16ob+16] * x[ic/16, p, ic%16], lo, hi).
///
/// Tiles of two output blocks by twelve pixels (24 zmm accumulators): each input channel costs two weight
/// loads and twelve broadcasts for 24 multiply-adds. Input channels are taken 256 at a time, so a tile's
/// weights (32 KB) stay in L1 while it walks the pixels; a chunk's partial sums pass through `y`.
///
/// - Parameters:
///   - x: `[inBlocks, pixels, 16]`.
///   - w: `[ceil(outBlocks / 2), inBlocks * 16, 32]`: for each pair of output blocks, row `ic` holds the 32
///     output channels' weights for input channel `ic` (a contiguous panel per pair; the second half of an
///     odd last pair is unused).
///   - bias: `[outBlocks * 16]` or nil.
///   - blocks: must start at an even block.
///   - y: `[outBlocks, pixels, 16]`; only blocks `blocks` at pixels `pixelRange` are written.
/// - Complexity: 16·inBlocks·16·|blocks|·|pixelRange| multiply-adds.
public func blockedPointwiseAVX512(x: UnsafePointer<Float>, inBlocks: Int, pixels: Int,
                                   w: UnsafePointer<Float>, outBlocks: Int, bias: UnsafePointer<Float>?,
                                   lo: Float, hi: Float, y: UnsafeMutablePointer<Float>,
                                   blocks: Range<Int>, pixelRange: Range<Int>) {
    let ldw = 32, plane = pixels * 16, panel = inBlocks * 16 * 32
    let clamps = lo > -.infinity || hi < .infinity
    var k0 = 0
    while k0 < inBlocks {
        let k1 = min(inBlocks, k0 + 16)
        let first = k0 == 0
        let e = PointwiseStep(k0: k0, k1: k1, first: first, clamps: clamps && k1 == inBlocks, lo: lo, hi: hi)
        var ob = blocks.lowerBound
        while ob < blocks.upperBound {
            let two = ob + 1 < blocks.upperBound
            let y0 = y + ob * plane, y1 = y + (two ? ob + 1 : ob) * plane
            let b0 = bias.map { load16($0 + ob * 16) } ?? F16()
            let b1 = two ? (bias.map { load16($0 + ob * 16 + 16) } ?? F16()) : F16()
            let wo = w + ob / 2 * panel
            var p = pixelRange.lowerBound
            while p + 12 <= pixelRange.upperBound {
                if two {
                    pointwiseTile(np: 12, two: true, x + p * 16, plane, wo, ldw, y0 + p * 16, y1 + p * 16, b0, b1, e)
                } else {
                    pointwiseTile(np: 12, two: false, x + p * 16, plane, wo, ldw, y0 + p * 16, y1 + p * 16, b0, b1, e)
                }
                p += 12
            }
            if p < pixelRange.upperBound {
                let np = pixelRange.upperBound - p
                if two {
                    pointwiseTile(np: np, two: true, x + p * 16, plane, wo, ldw, y0 + p * 16, y1 + p * 16, b0, b1, e)
                } else {
                    pointwiseTile(np: np, two: false, x + p * 16, plane, wo, ldw, y0 + p * 16, y1 + p * 16, b0, b1, e)
                }
            }
            ob += two ? 2 : 1
        }
        k0 = k1
    }
}

/// One chunk of input blocks of `blockedPointwiseAVX512`: where it starts and ends, whether it starts from
/// the bias (else from the partial sums in y) and the clamp to apply before storing (the last chunk only).
struct PointwiseStep {
    let k0: Int, k1: Int
    let first: Bool
    let clamps: Bool
    let lo: Float, hi: Float

    @_transparent func put(_ v: F16, _ p: UnsafeMutablePointer<Float>) {
        if clamps {
            let l = F16(repeating: lo), h = F16(repeating: hi)
            var v = v
            v.replace(with: l, where: v .< l)
            v.replace(with: h, where: v .> h)
            store16(v, p)
        } else {
            store16(v, p)
        }
    }
}

/// `np` (1...12) pixels of one or two output blocks; pixels past `np` repeat the last one (computed, not stored).
@_transparent
func pointwiseTile(np: Int, two: Bool, _ x: UnsafePointer<Float>, _ plane: Int,
                           _ w: UnsafePointer<Float>, _ ldw: Int,
                           _ y0: UnsafeMutablePointer<Float>, _ y1: UnsafeMutablePointer<Float>,
                           _ b0: F16, _ b1: F16, _ e: PointwiseStep) {
    let o1 = min(1, np - 1) * 16, o2 = min(2, np - 1) * 16, o3 = min(3, np - 1) * 16
    let o4 = min(4, np - 1) * 16, o5 = min(5, np - 1) * 16, o6 = min(6, np - 1) * 16
    let o7 = min(7, np - 1) * 16, o8 = min(8, np - 1) * 16, o9 = min(9, np - 1) * 16
    let o10 = min(10, np - 1) * 16, o11 = min(11, np - 1) * 16
    var a0 = b0, a1 = b0, a2 = b0, a3 = b0, a4 = b0, a5 = b0, a6 = b0, a7 = b0, a8 = b0, a9 = b0, a10 = b0, a11 = b0
    var c0 = b1, c1 = b1, c2 = b1, c3 = b1, c4 = b1, c5 = b1, c6 = b1, c7 = b1, c8 = b1, c9 = b1, c10 = b1, c11 = b1
    if !e.first {
        a0 = load16(y0); a1 = load16(y0 + o1); a2 = load16(y0 + o2); a3 = load16(y0 + o3)
        a4 = load16(y0 + o4); a5 = load16(y0 + o5); a6 = load16(y0 + o6); a7 = load16(y0 + o7)
        a8 = load16(y0 + o8); a9 = load16(y0 + o9); a10 = load16(y0 + o10); a11 = load16(y0 + o11)
        if two {
            c0 = load16(y1); c1 = load16(y1 + o1); c2 = load16(y1 + o2); c3 = load16(y1 + o3)
            c4 = load16(y1 + o4); c5 = load16(y1 + o5); c6 = load16(y1 + o6); c7 = load16(y1 + o7)
            c8 = load16(y1 + o8); c9 = load16(y1 + o9); c10 = load16(y1 + o10); c11 = load16(y1 + o11)
        }
    }
    for kb in e.k0..<e.k1 {
        let xb = x + kb * plane
        var wr = w + kb * 16 * ldw
        for l in 0..<16 {
            let xp = xb + l
            let w0 = load16(wr)
            let w1 = two ? load16(wr + 16) : F16()
            var s = F16(repeating: xp[0]); a0.addProduct(w0, s); if two { c0.addProduct(w1, s) }
            s = F16(repeating: xp[o1]); a1.addProduct(w0, s); if two { c1.addProduct(w1, s) }
            s = F16(repeating: xp[o2]); a2.addProduct(w0, s); if two { c2.addProduct(w1, s) }
            s = F16(repeating: xp[o3]); a3.addProduct(w0, s); if two { c3.addProduct(w1, s) }
            s = F16(repeating: xp[o4]); a4.addProduct(w0, s); if two { c4.addProduct(w1, s) }
            s = F16(repeating: xp[o5]); a5.addProduct(w0, s); if two { c5.addProduct(w1, s) }
            s = F16(repeating: xp[o6]); a6.addProduct(w0, s); if two { c6.addProduct(w1, s) }
            s = F16(repeating: xp[o7]); a7.addProduct(w0, s); if two { c7.addProduct(w1, s) }
            s = F16(repeating: xp[o8]); a8.addProduct(w0, s); if two { c8.addProduct(w1, s) }
            s = F16(repeating: xp[o9]); a9.addProduct(w0, s); if two { c9.addProduct(w1, s) }
            s = F16(repeating: xp[o10]); a10.addProduct(w0, s); if two { c10.addProduct(w1, s) }
            s = F16(repeating: xp[o11]); a11.addProduct(w0, s); if two { c11.addProduct(w1, s) }
            wr += ldw
        }
    }
    e.put(a0, y0)
    if np > 1 { e.put(a1, y0 + o1) }
    if np > 2 { e.put(a2, y0 + o2) }
    if np > 3 { e.put(a3, y0 + o3) }
    if np > 4 { e.put(a4, y0 + o4) }
    if np > 5 { e.put(a5, y0 + o5) }
    if np > 6 { e.put(a6, y0 + o6) }
    if np > 7 { e.put(a7, y0 + o7) }
    if np > 8 { e.put(a8, y0 + o8) }
    if np > 9 { e.put(a9, y0 + o9) }
    if np > 10 { e.put(a10, y0 + o10) }
    if np > 11 { e.put(a11, y0 + o11) }
    if two {
        e.put(c0, y1)
        if np > 1 { e.put(c1, y1 + o1) }
        if np > 2 { e.put(c2, y1 + o2) }
        if np > 3 { e.put(c3, y1 + o3) }
        if np > 4 { e.put(c4, y1 + o4) }
        if np > 5 { e.put(c5, y1 + o5) }
        if np > 6 { e.put(c6, y1 + o6) }
        if np > 7 { e.put(c7, y1 + o7) }
        if np > 8 { e.put(c8, y1 + o8) }
        if np > 9 { e.put(c9, y1 + o9) }
        if np > 10 { e.put(c10, y1 + o10) }
        if np > 11 { e.put(c11, y1 + o11) }
    }
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
/// - Complexity: |blocks|·|rows|·outW·kernelH·kernelW vector multiply-adds.
public func blockedDepthwiseAVX512(x: UnsafePointer<Float>, inH: Int, inW: Int,
                                   kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                                   dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int,
                                   w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, lo: Float, hi: Float,
                                   y: UnsafeMutablePointer<Float>, outH: Int, outW: Int,
                                   blocks: Range<Int>, rows: Range<Int>) {
    let taps = kernelH * kernelW
    let inPlane = inH * inW * 16, outPlane = outH * outW * 16, inRow = inW * 16
    let e = PointwiseStep(k0: 0, k1: 0, first: true, clamps: lo > -.infinity || hi < .infinity, lo: lo, hi: hi)
    // Columns whose every tap lies inside the row: ox·sw - padLeft >= 0 and ox·sw + (kw-1)·dw - padLeft <= inW - 1.
    let oxLo = min(outW, ceilDiv(padLeft, strideW))
    let oxHi = max(oxLo, min(outW, floorDiv(inW - 1 + padLeft - (kernelW - 1) * dilationW, strideW) + 1))
    if (strideW == 1 || 4 * (outW - (oxHi - oxLo)) > outW) && !rows.isEmpty {
        // Copy the rows the band reads into a zero-padded, 64-byte aligned buffer, so every pixel runs eight at
        // a time and every load is aligned (tensors' storage is not: unaligned vector loads cross cache lines).
        // Measured faster for stride 1 at every width (5x5 on 14x14: 136 -> 85 us; 3x3 on 56x56: 133 -> 117
        // us) and at stride 2 where edge columns are over a quarter of the row (7x7 outputs); other strided
        // maps copy twice the rows they write and are faster read in place (3x3/2 on 112x112: 104 vs 157 us).
        let padW = (outW - 1) * strideW + (kernelW - 1) * dilationW + 1
        let padH = (rows.count - 1) * strideH + (kernelH - 1) * dilationH + 1
        let raw = UnsafeMutableRawPointer.allocate(byteCount: padH * padW * 64, alignment: 64)
        defer { raw.deallocate() }
        let buf = raw.bindMemory(to: Float.self, capacity: padH * padW * 16)
        let iyBase = rows.lowerBound * strideH - padTop
        // Columns of the buffer that hold input columns: bx = ix + padLeft for 0 <= ix < inW.
        let bx0 = max(0, padLeft), bx1 = min(padW, inW + padLeft)
        for b in blocks {
            let xb = x + b * inPlane, wb = w + b * taps * 16, yb = y + b * outPlane
            let bq = bias.map { load16($0 + b * 16) } ?? F16()
            for j in 0..<padH {
                let iy = iyBase + j, row = buf + j * padW * 16
                if iy < 0 || iy >= inH || bx1 <= bx0 { row.update(repeating: 0, count: padW * 16); continue }
                row.update(repeating: 0, count: bx0 * 16)
                (row + bx0 * 16).update(from: xb + (iy * inW + bx0 - padLeft) * 16, count: (bx1 - bx0) * 16)
                (row + bx1 * 16).update(repeating: 0, count: (padW - bx1) * 16)
            }
            for oy in rows {
                let yr = yb + oy * outW * 16, iy0 = (oy - rows.lowerBound) * strideH
                var ox = 0
                while ox + 8 <= outW {
                    depthwiseRun(np: 8, buf, iy0, 0, kernelH, ox * strideW, strideW, dilationH, dilationW, padW * 16,
                                 kernelW, wb, bq, yr + ox * 16, e)
                    ox += 8
                }
                if ox < outW {
                    depthwiseRun(np: outW - ox, buf, iy0, 0, kernelH, ox * strideW, strideW, dilationH, dilationW, padW * 16,
                                 kernelW, wb, bq, yr + ox * 16, e)
                }
            }
        }
        return
    }
    for b in blocks {
        let xb = x + b * inPlane, wb = w + b * taps * 16, yb = y + b * outPlane
        let bq = bias.map { load16($0 + b * 16) } ?? F16()
        for oy in rows {
            // Taps rows inside the input: 0 <= oy·sh + ky·dh - padTop <= inH - 1.
            let iy0 = oy * strideH - padTop
            let ky0 = max(0, ceilDiv(-iy0, dilationH))
            let ky1 = min(kernelH, floorDiv(inH - 1 - iy0, dilationH) + 1)
            let yr = yb + oy * outW * 16
            @inline(__always) func edge(_ ox: Int) {
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
            while ox + 8 <= oxHi {
                depthwiseRun(np: 8, xb, iy0, ky0, ky1, ox * strideW - padLeft, strideW, dilationH, dilationW, inRow,
                             kernelW, wb, bq, yr + ox * 16, e)
                ox += 8
            }
            if ox < oxHi {
                depthwiseRun(np: oxHi - ox, xb, iy0, ky0, ky1, ox * strideW - padLeft, strideW, dilationH, dilationW, inRow,
                             kernelW, wb, bq, yr + ox * 16, e)
            }
            for ox in oxHi..<outW { edge(ox) }
        }
    }
}

/// `np` (1...8) consecutive output pixels of a row whose taps all lie inside the input columns; pixels past
/// `np` repeat the last one (computed, not stored).
@_transparent
func depthwiseRun(np: Int, _ xb: UnsafePointer<Float>, _ iy0: Int, _ ky0: Int, _ ky1: Int, _ ix0: Int,
                          _ sw: Int, _ dh: Int, _ dw: Int, _ inRow: Int, _ kw: Int,
                          _ wb: UnsafePointer<Float>, _ bq: F16, _ y: UnsafeMutablePointer<Float>, _ e: PointwiseStep) {
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
            a6.addProduct(wv, load16(p + o6)); a7.addProduct(wv, load16(p + o7))
            p += dw * 16
            wp += 16
        }
        ky += 1
    }
    e.put(a0, y)
    if np > 1 { e.put(a1, y + 16) }
    if np > 2 { e.put(a2, y + 32) }
    if np > 3 { e.put(a3, y + 48) }
    if np > 4 { e.put(a4, y + 64) }
    if np > 5 { e.put(a5, y + 80) }
    if np > 6 { e.put(a6, y + 96) }
    if np > 7 { e.put(a7, y + 112) }
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
    let taps = inC * kernelH * kernelW, plane = inH * inW, outPlane = outH * outW * 16
    let e = PointwiseStep(k0: 0, k1: 0, first: true, clamps: lo > -.infinity || hi < .infinity, lo: lo, hi: hi)
    let oxLo = min(outW, ceilDiv(padLeft, strideW))
    let oxHi = max(oxLo, min(outW, floorDiv(inW - 1 + padLeft - (kernelW - 1) * dilationW, strideW) + 1))
    var ob = 0
    while ob < outBlocks {
        let two = ob + 1 < outBlocks
        let w0 = w + ob * taps * 16, w1 = two ? w0 + taps * 16 : w0
        let y0 = y + ob * outPlane, y1 = two ? y0 + outPlane : y0
        let b0 = bias.map { load16($0 + ob * 16) } ?? F16()
        let b1 = two ? (bias.map { load16($0 + ob * 16 + 16) } ?? F16()) : F16()
        for oy in rows {
            let iy0 = oy * strideH - padTop
            let ky0 = max(0, ceilDiv(-iy0, dilationH))
            let ky1 = min(kernelH, floorDiv(inH - 1 - iy0, dilationH) + 1)
            let r0 = y0 + oy * outW * 16, r1 = y1 + oy * outW * 16
            @inline(__always) func edge(_ ox: Int) {
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
                let np = min(8, oxHi - ox)
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
                            let wa = load16(w0 + t), wc = load16(w1 + t)
                            var v = F16(repeating: p[0]); a0.addProduct(wa, v); c0.addProduct(wc, v)
                            v = F16(repeating: p[o1]); a1.addProduct(wa, v); c1.addProduct(wc, v)
                            v = F16(repeating: p[o2]); a2.addProduct(wa, v); c2.addProduct(wc, v)
                            v = F16(repeating: p[o3]); a3.addProduct(wa, v); c3.addProduct(wc, v)
                            v = F16(repeating: p[o4]); a4.addProduct(wa, v); c4.addProduct(wc, v)
                            v = F16(repeating: p[o5]); a5.addProduct(wa, v); c5.addProduct(wc, v)
                            v = F16(repeating: p[o6]); a6.addProduct(wa, v); c6.addProduct(wc, v)
                            v = F16(repeating: p[o7]); a7.addProduct(wa, v); c7.addProduct(wc, v)
                            p += dilationW
                            t += 16
                        }
                        ky += 1
                    }
                }
                let q0 = r0 + ox * 16, q1 = r1 + ox * 16
                e.put(a0, q0); if two { e.put(c0, q1) }
                if np > 1 { e.put(a1, q0 + 16); if two { e.put(c1, q1 + 16) } }
                if np > 2 { e.put(a2, q0 + 32); if two { e.put(c2, q1 + 32) } }
                if np > 3 { e.put(a3, q0 + 48); if two { e.put(c3, q1 + 48) } }
                if np > 4 { e.put(a4, q0 + 64); if two { e.put(c4, q1 + 64) } }
                if np > 5 { e.put(a5, q0 + 80); if two { e.put(c5, q1 + 80) } }
                if np > 6 { e.put(a6, q0 + 96); if two { e.put(c6, q1 + 96) } }
                if np > 7 { e.put(a7, q0 + 112); if two { e.put(c7, q1 + 112) } }
                ox += np
            }
            for ox in oxHi..<outW { edge(ox) }
        }
        ob += two ? 2 : 1
    }
}

/// Rounds a / b towards minus infinity (b > 0).
@inline(__always) func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
/// Rounds a / b towards plus infinity (b > 0).
@inline(__always) func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }

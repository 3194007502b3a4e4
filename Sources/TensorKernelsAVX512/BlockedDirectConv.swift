// Dense convolutions (groups 1, any window) in the channel-blocked layout: the 3x3 and strided 1x1
// convolutions of ResNets, VGG and RegNets' stems. The same register tile as the pointwise kernel (two runs of
// seven output pixels by two output blocks, 28 accumulators), with the window's taps as one more loop around the
// input channels.

/// Direct convolution (groups 1) of one image's band of output rows in the channel-blocked layout:
/// y[ob, oy, ox, :] = clamp(bias[16ob..<16ob+16] + sum over ic, ky, kx of
///                          w[ic, ky, kx, 16ob..<16ob+16] * x[ic/16, oy·sh + ky·dh - padTop, ox·sw + kx·dw - padLeft, ic%16], lo, hi),
/// taps outside the input contributing zero.
///
/// The input rows the band reads are first copied into a zero-padded, 64-byte aligned buffer, so every output
/// pixel reads its taps at fixed offsets with no bounds tests (unless `copyBand` is false: the scratch already
/// holds this band, copied for other pairs; or the window never leaves the input, as a strided 1x1's: then the
/// input is read in place). Each output row is cut into runs of seven pixels;
/// a tile is two runs (of the band, in any rows) by two output blocks, and the whole reduction (every tap of
/// every input channel) stays in registers, so each output is stored once. With two pairs to do, an odd last
/// run is done once for both pairs.
///
/// - Parameters:
///   - x: `[inBlocks, inH, inW, 16]` (one image).
///   - w: `[ceil(outBlocks / 2), kernelH * kernelW, inBlocks * 16, 32]`: for each pair of output blocks, for
///     each tap, row `ic` holds the pair's 32 output channels' weights for input channel `ic` (the second half of
///     an odd last pair is unused).
///   - bias: `[outBlocks * 16]` or nil.
///   - y: `[outBlocks, outH, outW, 16]` (one image); only pairs `pairs` (pair i is blocks 2i and 2i+1) of rows
///     `rows` are written.
///   - scratch: 64-byte aligned memory of `blockedDirectScratchBytes(rows: rows.count, ...)` bytes.
///   - copyBand: false when `scratch` holds this image's band of these rows from an earlier call.
/// - Complexity: 16·inBlocks·kernelH·kernelW·16·2|pairs|·|rows|·outW multiply-adds.
public func blockedDirectAVX512(x: UnsafePointer<Float>, inBlocks: Int, inH: Int, inW: Int,
                                kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                                dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int,
                                w: UnsafePointer<Float>, outBlocks: Int, bias: UnsafePointer<Float>?,
                                lo: Float, hi: Float, y: UnsafeMutablePointer<Float>, outH: Int, outW: Int,
                                pairs: Range<Int>, rows: Range<Int>, scratch: UnsafeMutableRawPointer, copyBand: Bool = true) {
    guard !rows.isEmpty, !pairs.isEmpty else { return }
    var padW = (outW - 1) * strideW + (kernelW - 1) * dilationW + 1
    let padH = (rows.count - 1) * strideH + (kernelH - 1) * dilationH + 1
    var bandPlane = padH * padW * 16
    let inPlane = inH * inW * 16, outPlane = outH * outW * 16
    let iyBase = rows.lowerBound * strideH - padTop
    let inPlace = padTop == 0 && padLeft == 0 && padW <= inW && iyBase + padH <= inH
    let buf = inPlace ? UnsafeMutablePointer(mutating: x + iyBase * inW * 16) : scratch.bindMemory(to: Float.self, capacity: inBlocks * bandPlane)
    if inPlace { padW = inW; bandPlane = inPlane }
    // The band's input rows, zero outside the input: buffer column bx holds input column bx - padLeft.
    let bx0 = max(0, padLeft), bx1 = min(padW, inW + padLeft)
    for b in 0..<(inPlace || !copyBand ? 0 : inBlocks) {
        let xb = x + b * inPlane, bb = buf + b * bandPlane
        for j in 0..<padH {
            let iy = iyBase + j, row = bb + j * padW * 16
            if iy < 0 || iy >= inH || bx1 <= bx0 { row.update(repeating: 0, count: padW * 16); continue }
            row.update(repeating: 0, count: bx0 * 16)
            (row + bx0 * 16).update(from: xb + (iy * inW + bx0 - padLeft) * 16, count: (bx1 - bx0) * 16)
            (row + bx1 * 16).update(repeating: 0, count: (padW - bx1) * 16)
        }
    }
    let taps = kernelH * kernelW, panel = taps * inBlocks * 16 * 32
    let e = BlockedStore(lo: lo, hi: hi)
    let g = DirectGeometry(inBlocks: inBlocks, bandPlane: bandPlane, step: strideW * 16, kernelH: kernelH, kernelW: kernelW,
                           tapRow: dilationH * padW * 16, tapColumn: dilationW * 16)
    let runsPerRow = (outW + 6) / 7, runCount = rows.count * runsPerRow
    // Run r of the band: its input origin in the buffer, its output origin (within a block's plane), its length.
    @inline(__always) func run(_ r: Int) -> (x: UnsafePointer<Float>, y: Int, count: Int) {
        let row = r / runsPerRow, ox = r % runsPerRow * 7
        return (UnsafePointer(buf + (row * strideH * padW + ox * strideW) * 16), ((rows.lowerBound + row) * outW + ox) * 16, min(7, outW - ox))
    }
    @inline(__always) func pairParts(_ pair: Int) -> (two: Bool, b0: F16, b1: F16, w: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let ob = 2 * pair, two = ob + 1 < outBlocks
        let b0 = bias.map { load16($0 + ob * 16) } ?? F16()
        let b1 = two ? (bias.map { load16($0 + ob * 16 + 16) } ?? F16()) : F16()
        return (two, b0, b1, w + pair * panel, y + ob * outPlane)
    }
    let leftover = runCount % 2 == 1 && pairs.count == 2
    let end = leftover ? runCount - 1 : runCount
    for pair in pairs {
        let p = pairParts(pair)
        var r = 0
        while r < end {
            let a = run(r), b = r + 1 < end ? run(r + 1) : (x: a.x, y: a.y, count: 0)
            if a.count == 7 && b.count == 7 {
                if p.two { directTile(7, 7, true, true, a.x, b.x, g, p.w, p.w, p.y + a.y, p.y + b.y, outPlane, outPlane, p.b0, p.b1, p.b0, p.b1, e) }
                else { directTile(7, 7, false, false, a.x, b.x, g, p.w, p.w, p.y + a.y, p.y + b.y, 0, 0, p.b0, p.b1, p.b0, p.b1, e) }
            } else {
                if p.two { directTile(a.count, b.count, true, true, a.x, b.x, g, p.w, p.w, p.y + a.y, p.y + b.y, outPlane, outPlane, p.b0, p.b1, p.b0, p.b1, e) }
                else { directTile(a.count, b.count, false, false, a.x, b.x, g, p.w, p.w, p.y + a.y, p.y + b.y, 0, 0, p.b0, p.b1, p.b0, p.b1, e) }
            }
            r += 2
        }
    }
    if leftover {
        let a = run(runCount - 1)
        let p = pairParts(pairs.lowerBound), q = pairParts(pairs.lowerBound + 1)
        // Constant tile arguments on the common paths, so that the tile keeps its accumulators in registers.
        if a.count == 7 && q.two {
            directTile(7, 7, true, true, a.x, a.x, g, p.w, q.w, p.y + a.y, q.y + a.y, outPlane, outPlane, p.b0, p.b1, q.b0, q.b1, e)
        } else if q.two {
            directTile(a.count, a.count, true, true, a.x, a.x, g, p.w, q.w, p.y + a.y, q.y + a.y, outPlane, outPlane, p.b0, p.b1, q.b0, q.b1, e)
        } else {
            directTile(a.count, a.count, true, false, a.x, a.x, g, p.w, q.w, p.y + a.y, q.y + a.y, outPlane, 0, p.b0, p.b1, q.b0, q.b1, e)
        }
    }
}

/// Bytes of scratch `blockedDirectAVX512` needs for bands of up to `rows` output rows.
public func blockedDirectScratchBytes(inBlocks: Int, rows: Int, outW: Int, kernelH: Int, kernelW: Int,
                                     strideH: Int, strideW: Int, dilationH: Int, dilationW: Int) -> Int {
    let padW = (outW - 1) * strideW + (kernelW - 1) * dilationW + 1
    let padH = (rows - 1) * strideH + (kernelH - 1) * dilationH + 1
    return inBlocks * padH * padW * 64
}

/// min and max of two Ints, inlined: the standard library's generic ones stayed calls in the tile (twelve a tile).
@_transparent func imin(_ a: Int, _ b: Int) -> Int { a < b ? a : b }
@_transparent func imax(_ a: Int, _ b: Int) -> Int { a > b ? a : b }

/// Where a tile's taps are in the band buffer: floats between input blocks, between a run's pixels, and
/// between taps' rows and columns.
struct DirectGeometry {
    let inBlocks: Int, bandPlane: Int, step: Int
    let kernelH: Int, kernelW: Int, tapRow: Int, tapColumn: Int
}

/// Two runs of up to seven output pixels (`la` >= 1 from `xa`, `lb` >= 0 from `xb`, input origins in the band
/// buffer), each for one or two output blocks (the second `y1Off` / `y1OffB` floats after the first) with its
/// own weight panel and bias: the same pair for two runs, or (the left-over run) two pairs for one run. Pixels
/// past a run's length repeat its last pixel (computed, not stored); an empty second run repeats the first.
@_transparent
func directTile(_ la: Int, _ lb: Int, _ two: Bool, _ twoB: Bool, _ xa: UnsafePointer<Float>, _ xb: UnsafePointer<Float>,
                _ g: DirectGeometry, _ w: UnsafePointer<Float>, _ wB: UnsafePointer<Float>,
                _ ya: UnsafeMutablePointer<Float>, _ yb: UnsafeMutablePointer<Float>, _ y1Off: Int, _ y1OffB: Int,
                _ b0: F16, _ b1: F16, _ c0: F16, _ c1: F16, _ st: BlockedStore) {
    let s = g.step
    let a1 = imin(1, la - 1) * s, a2 = imin(2, la - 1) * s, a3 = imin(3, la - 1) * s
    let a4 = imin(4, la - 1) * s, a5 = imin(5, la - 1) * s, a6 = imin(6, la - 1) * s
    let lbb = imax(lb, 1)
    let xb = lb == 0 ? xa : xb
    let b1o = imin(1, lbb - 1) * s, b2o = imin(2, lbb - 1) * s, b3o = imin(3, lbb - 1) * s
    let b4o = imin(4, lbb - 1) * s, b5o = imin(5, lbb - 1) * s, b6o = imin(6, lbb - 1) * s
    var p0 = b0, p1 = b0, p2 = b0, p3 = b0, p4 = b0, p5 = b0, p6 = b0
    var q0 = c0, q1 = c0, q2 = c0, q3 = c0, q4 = c0, q5 = c0, q6 = c0
    var r0 = b1, r1 = b1, r2 = b1, r3 = b1, r4 = b1, r5 = b1, r6 = b1
    var t0 = c1, t1 = c1, t2 = c1, t3 = c1, t4 = c1, t5 = c1, t6 = c1
    var wr = w, wrB = wB
    for ky in 0..<g.kernelH {
        for kx in 0..<g.kernelW {
            let tap = ky * g.tapRow + kx * g.tapColumn
            for kb in 0..<g.inBlocks {
                let pa = xa + tap + kb * g.bandPlane, pb = xb + tap + kb * g.bandPlane
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
        }
    }
    st.putRun(p0, p1, p2, p3, p4, p5, p6, count: la, ya)
    st.putRun(q0, q1, q2, q3, q4, q5, q6, count: lb, yb)
    if two { st.putRun(r0, r1, r2, r3, r4, r5, r6, count: la, ya + y1Off) }
    if twoB { st.putRun(t0, t1, t2, t3, t4, t5, t6, count: lb, yb + y1OffB) }
}

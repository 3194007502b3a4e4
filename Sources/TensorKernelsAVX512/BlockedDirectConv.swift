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
    let (buf, padW, bandPlane) = directBand(x: x, inBlocks: inBlocks, inH: inH, inW: inW, kernelH: kernelH, kernelW: kernelW,
                                            strideH: strideH, strideW: strideW, dilationH: dilationH, dilationW: dilationW,
                                            padTop: padTop, padLeft: padLeft, outW: outW, rows: rows, scratch: scratch, copyBand: copyBand)
    let outPlane = outH * outW * 16
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

/// The input rows that output rows `rows` of a direct convolution read, with the padding around them: a zero-padded
/// copy in `scratch` (buffer column bx holds input column bx - padLeft; not rewritten when `copyBand` is false), or
/// the input itself where the window never leaves it (a strided 1x1's). Returns the band's first row, its row length
/// in pixels and the floats between its input blocks.
@_transparent
public func directBand(x: UnsafePointer<Float>, inBlocks: Int, inH: Int, inW: Int, kernelH: Int, kernelW: Int,
                       strideH: Int, strideW: Int, dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int,
                       outW: Int, rows: Range<Int>, scratch: UnsafeMutableRawPointer, copyBand: Bool)
    -> (buf: UnsafePointer<Float>, padW: Int, bandPlane: Int) {
    let padW = (outW - 1) * strideW + (kernelW - 1) * dilationW + 1
    let padH = (rows.count - 1) * strideH + (kernelH - 1) * dilationH + 1
    let inPlane = inH * inW * 16
    let iyBase = rows.lowerBound * strideH - padTop
    if padTop == 0 && padLeft == 0 && padW <= inW && iyBase + padH <= inH { return (x + iyBase * inW * 16, inW, inPlane) }
    let bandPlane = padH * padW * 16
    let buf = scratch.bindMemory(to: Float.self, capacity: inBlocks * bandPlane)
    let bx0 = max(0, padLeft), bx1 = min(padW, inW + padLeft)
    for b in 0..<(copyBand ? inBlocks : 0) {
        let xb = x + b * inPlane, bb = buf + b * bandPlane
        for j in 0..<padH {
            copyPaddedRow(xb, iy: iyBase + j, inH: inH, inW: inW, padW: padW, padLeft: padLeft, bx0: bx0, bx1: bx1, bb + j * padW * 16)
        }
    }
    return (UnsafePointer(buf), padW, bandPlane)
}

/// Input row `iy` of one block's plane `xb` (`inW` pixels) into a band row of `padW` pixels whose column bx holds input
/// column bx - padLeft: the columns `bx0..<bx1` from the input, zero elsewhere and for rows outside the input.
@usableFromInline @_transparent
func copyPaddedRow(_ xb: UnsafePointer<Float>, iy: Int, inH: Int, inW: Int, padW: Int, padLeft: Int, bx0: Int, bx1: Int,
                   _ row: UnsafeMutablePointer<Float>) {
    if iy < 0 || iy >= inH || bx1 <= bx0 { row.update(repeating: 0, count: padW * 16); return }
    row.update(repeating: 0, count: bx0 * 16)
    (row + bx0 * 16).update(from: xb + (iy * inW + bx0 - padLeft) * 16, count: (bx1 - bx0) * 16)
    (row + bx1 * 16).update(repeating: 0, count: (padW - bx1) * 16)
}

/// Bytes of scratch `blockedDirectAVX512` needs for bands of up to `rows` output rows.
@_transparent public func blockedDirectScratchBytes(inBlocks: Int, rows: Int, outW: Int, kernelH: Int, kernelW: Int,
                                     strideH: Int, strideW: Int, dilationH: Int, dilationW: Int) -> Int {
    let padW = (outW - 1) * strideW + (kernelW - 1) * dilationW + 1
    let padH = (rows - 1) * strideH + (kernelH - 1) * dilationH + 1
    return inBlocks * padH * padW * 64
}

/// min and max of two Ints, inlined: the standard library's generic ones stayed calls in the tile (twelve a tile).
@usableFromInline @_transparent func imin(_ a: Int, _ b: Int) -> Int { a < b ? a : b }
@usableFromInline @_transparent func imax(_ a: Int, _ b: Int) -> Int { a > b ? a : b }

/// Where a tile's taps are in the band buffer: floats between input blocks, between a run's pixels, and
/// between taps' rows and columns.
public struct DirectGeometry {
    public let inBlocks: Int, bandPlane: Int, step: Int
    public let kernelH: Int, kernelW: Int, tapRow: Int, tapColumn: Int

    @_transparent
    public init(inBlocks: Int, bandPlane: Int, step: Int, kernelH: Int, kernelW: Int, tapRow: Int, tapColumn: Int) {
        self.inBlocks = inBlocks; self.bandPlane = bandPlane; self.step = step
        self.kernelH = kernelH; self.kernelW = kernelW; self.tapRow = tapRow; self.tapColumn = tapColumn
    }
}

/// The narrow tile (AVX2's registers): six output pixels of one output block, whose inputs in the band buffer start at
/// `x` and `x + o1` ... `x + o5` (a run may wrap from one output row to the next; pixels past the run's end repeat its
/// last pixel) and whose weights are rows 32 floats apart from `w` (half of a pair's panel), over the groups of 16
/// weight rows `j0..<j1`: group j is tap j / inBlocks (row-major in the window), input block j % inBlocks, and the
/// groups lie one after another in the panel. The six sums `p0` ... `p5` come in and go out in registers: the caller
/// starts them from the bias and may cut the groups into chunks whose weights stay in L1 while every run of the band
/// uses them. Each output sums the taps in `directTile`'s order (rows, columns, input channels), however the groups
/// are cut.
///
/// The input pointer steps from block to block and is recomputed only where the tap changes, and a 1x1 window has a
/// loop of its own with no taps at all: the tap and block it had found per group (two divisions a call, the window's
/// geometry spilled to the stack around the loop) cost more than the products where a call has few groups.
/// `VigilBench kernels --isa avx2`, alternated run by run in one process with the loop before: 1x1 layers 0.79-0.99
/// of the time (EfficientNet's 16 -> 96 0.79-0.85, ResNet-50's 0.89-0.94), 3x3 direct layers 0.90-0.98 (one pair of
/// runs 1.10).
@_transparent
public func directTileNarrow(_ x: UnsafePointer<Float>, _ a1: Int, _ a2: Int, _ a3: Int, _ a4: Int, _ a5: Int,
                             _ g: DirectGeometry, _ w: UnsafePointer<Float>, _ j0: Int, _ j1: Int,
                             _ p0: inout F16, _ p1: inout F16, _ p2: inout F16, _ p3: inout F16, _ p4: inout F16, _ p5: inout F16) {
    var wr = w + j0 * 16 * 32
    if g.kernelH == 1 && g.kernelW == 1 {
        var pa = x + j0 * g.bandPlane
        for _ in j0..<j1 {
            blockStepsNarrow(pa, a1, a2, a3, a4, a5, wr, &p0, &p1, &p2, &p3, &p4, &p5)
            wr += 16 * 32
            pa += g.bandPlane
        }
        return
    }
    let t0 = j0 / g.inBlocks
    var ky = t0 / g.kernelW, kx = t0 % g.kernelW, kb = j0 % g.inBlocks
    var pa = x + ky * g.tapRow + kx * g.tapColumn + kb * g.bandPlane
    for _ in j0..<j1 {
        blockStepsNarrow(pa, a1, a2, a3, a4, a5, wr, &p0, &p1, &p2, &p3, &p4, &p5)
        wr += 16 * 32
        kb += 1
        pa += g.bandPlane
        if kb == g.inBlocks {
            kb = 0; kx += 1
            if kx == g.kernelW { kx = 0; ky += 1 }
            pa = x + ky * g.tapRow + kx * g.tapColumn
        }
    }
}

/// One group of `directTileNarrow`: the sixteen input channels of a block at `pa` (and `pa + a1` ... `pa + a5`)
/// against sixteen weight rows 32 floats apart from `w`.
@_transparent
public func blockStepsNarrow(_ pa: UnsafePointer<Float>, _ a1: Int, _ a2: Int, _ a3: Int, _ a4: Int, _ a5: Int,
                             _ w: UnsafePointer<Float>, _ p0: inout F16, _ p1: inout F16, _ p2: inout F16,
                             _ p3: inout F16, _ p4: inout F16, _ p5: inout F16) {
    var wr = w
    for l in 0..<16 {
        let w0 = load16(wr)
        p0.addProduct(w0, F16(repeating: pa[l])); p1.addProduct(w0, F16(repeating: pa[l + a1]))
        p2.addProduct(w0, F16(repeating: pa[l + a2])); p3.addProduct(w0, F16(repeating: pa[l + a3]))
        p4.addProduct(w0, F16(repeating: pa[l + a4])); p5.addProduct(w0, F16(repeating: pa[l + a5]))
        wr += 32
    }
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

// GEMM over B packed in 32-column panels: the kernel of transformers' MatMul and Gemm (a token matrix times a
// weight), of attention's products, and of any GEMM whose B is worth packing once.

/// Columns per packed panel of B (two zmm vectors).
public let gemmPanelWidth = 32
/// Rows of A per register tile (28 accumulators: 14 rows by two vectors).
@usableFromInline let gemmTileRows = 14
/// Rows of A per register tile on AVX2 (12 ymm accumulators: 6 rows by one 16-float vector, two 256-bit halves).
@usableFromInline let gemmNarrowTileRows = 6
/// Steps of K per block: a panel's block (32 x 256 floats, 32 KiB) stays in L1 while the row tiles sweep it.
@usableFromInline let gemmKBlock = 256
/// The same for the narrow (AVX2) tile: CPUs without AVX-512 mostly have 32 KiB of L1, which a 256-step block fills
/// alone, so every step of every row tile missed L1 on B (a cache simulation of `VigilBench gemm`: 17% of the tile's
/// reads missed, against 9% of OpenBLAS's).
@usableFromInline let gemmNarrowKBlock = 128
/// Rows of A packed at once (all of K for 224 rows; a 224 x 256 block, 224 KiB, stays in L2 while a group of panels
/// sweeps it).
@usableFromInline let gemmRowBlock = 16 * gemmTileRows
/// Panels that run through all of K before the next ones start (their part of C, 224 x 128 floats, stays in L2).
@usableFromInline let gemmPanelGroup = 4

/// C[M,N] = clamp(gelu?(A[M,K] · B[K,N] (+ C when `accumulate`) + bias[N]), lo, hi), row-major, AVX-512, for rows
/// `rows` and the columns of panels `panels` of C (the caller splits C between threads along either).
///
/// With `packA`, A is copied 224 rows at a time (all of K, in blocks of 256) into 14-row micro-panels, K-major, so the
/// register tile reads its 14 broadcasts from one pointer; 8 or fewer rows left at the end go through 4-row
/// micro-panels. Each block of rows runs four panels at a time through all of K, so the part of C they add to stays
/// in L2 (running every panel through one K block before the next read C back from memory: 69% against 80% of peak
/// on ViT-B's QKV product at batch 8). Each output is the sum, in order, of its float32 sums over the K blocks (a two-level
/// sum, as onnxruntime's blocked GEMM makes), so the result does not depend on how the work was split.
///
/// - Parameters:
///   - a: `[M, K]`, leading dimension `lda`.
///   - packed: B packed by `packGEMMPanels`: panel j (columns 32j..<32j+32) at `packed + j * k * 32`, row p of it at
///     `+ p * 32`, zero past column N.
///   - c: `[M, N]`, leading dimension `ldc`; may start uninitialised unless `accumulate`.
///   - bias: `[N]` added to every row, or nil.
///   - gelu: apply exact GELU (`vgelu`) after the bias.
///   - lo, hi: clamp bounds (pass -inf...inf for none).
///   - packA: copy A into micro-panels (else read it in place).
///   - scratch: room for `gemmPackedScratchCount(k:)` floats.
/// - Complexity: 2·|rows|·32·|panels|·K flops.
public func gemmPackedAVX512(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                             c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, panels: Range<Int>,
                             accumulate: Bool, bias: UnsafePointer<Float>?, lo: Float, hi: Float, gelu: Bool = false,
                             packA: Bool = true, scratch: UnsafeMutablePointer<Float>) {
    gemmPackedBody(wide: true, m: m, n: n, k: k, a: a, lda: lda, packed: packed, c: c, ldc: ldc, rows: rows, panels: panels,
                   accumulate: accumulate, bias: bias, lo: lo, hi: hi, gelu: gelu, packA: packA, scratch: scratch)
}

/// `gemmPackedAVX512`'s body, compiled where it is inlined. `wide` (a constant at each call) picks the register tile:
/// true, 14 x 32 on 32 zmm registers (this module's `gemmPackedAVX512`); false, 6 x 32 as two 6 x 16 halves on 16 ymm
/// registers (TensorCore's `gemmPackedAVX2`, compiled for AVX2: everything the narrow path runs is `@_transparent`).
/// Rows of the narrow tile left over at the end go through one partial 6-row tile; the narrow path always packs A
/// (`packA` true). `narrowTile` (nil when `wide`) is the caller's compiled `tile6x16`.
@_transparent public func gemmPackedBody(wide: Bool, narrowTile: NarrowGEMMTile? = nil, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                         packed: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                                         rows: Range<Int>, panels: Range<Int>, accumulate: Bool, bias: UnsafePointer<Float>?,
                                         lo: Float, hi: Float, gelu: Bool, packA: Bool, scratch: UnsafeMutablePointer<Float>) {
    let tileRows = wide ? gemmTileRows : gemmNarrowTileRows
    let kBlock = wide ? gemmKBlock : gemmNarrowKBlock
    if rows.isEmpty || panels.isEmpty || n <= 0 { return }
    if k == 0 {
        for i in rows {
            for j in panels.lowerBound * 32..<min(n, panels.upperBound * 32) {
                var v = (accumulate ? c[i * ldc + j] : 0) + (bias?[j] ?? 0)
                if gelu { var g = F16(); g[0] = v; v = vgelu(g)[0] }
                v = min(max(v, lo), hi)
                c[i * ldc + j] = v
            }
        }
        return
    }
    let clamps = lo > -.infinity || hi < .infinity
    // The narrow tile's sums (allocated here, not with a closure-taking temporary allocation: a closure in this
    // transparent body would be compiled, for AVX-512, in this module).
    let tileScratch = wide ? nil : UnsafeMutablePointer<Float>.allocate(capacity: 96)
    defer { tileScratch?.deallocate() }
    var r0 = rows.lowerBound
    while r0 < rows.upperBound {
        let mc = min(gemmRowBlock, rows.upperBound - r0)
        // Full 14-row tiles, then the rest as one more 14-row tile (9-13 rows) or 4-row tiles (1-8 rows); narrow:
        // full 6-row tiles, then one more 6-row tile.
        let full = mc / tileRows, rest = mc - full * tileRows
        let tail14 = (wide ? rest > 8 : rest > 0) ? 1 : 0
        let tail4 = tail14 == 1 ? 0 : (rest + 3) / 4
        let tailStart = r0 + full * tileRows
        // Rows of the packed block, padded: K block k0's micro-panels start at scratch + k0 * padded.
        let padded = full * tileRows + (tail14 == 1 ? tileRows : 4 * tail4)
        if packA {
            var k0 = 0
            while k0 < k {
                let kc = min(kBlock, k - k0), block = scratch + k0 * padded
                packRows(a + r0 * lda + k0, lda, rows: full * tileRows, height: tileRows, kc: kc, block)
                let tailA = block + full * tileRows * kc
                if tail14 == 1 {
                    packRows(a + tailStart * lda + k0, lda, rows: rest, height: tileRows, kc: kc, tailA)
                } else if rest > 0 {
                    packRows(a + tailStart * lda + k0, lda, rows: rest, height: 4, kc: kc, tailA)
                }
                k0 += kc
            }
        }
        // A few panels at a time run through all of K, so the part of C they add to stays in cache between K blocks.
        var g0 = panels.lowerBound
        while g0 < panels.upperBound {
            let group = g0..<min(panels.upperBound, g0 + gemmPanelGroup)
            var k0 = 0
            while k0 < k {
                let kc = min(kBlock, k - k0)
                let first = k0 == 0 && !accumulate, last = k0 + kc == k
                let block = scratch + k0 * padded, tailA = block + full * tileRows * kc
                for j in group {
                    let bp = packed + j * k * 32 + k0 * 32
                    let cols = min(32, n - j * 32)
                    // With GELU the clamp comes after it, in `geluBlock`.
                    let st = PanelStore(cols: cols, bias: last ? bias.map { $0 + j * 32 } : nil, lo: lo, hi: hi,
                                        clamps: last && clamps && !gelu, first: first)
                    if !packA {
                        precondition(wide, "gemmPackedBody: the narrow tile reads A packed")
                        var t = 0
                        while t < mc {
                            let i = r0 + t
                            tile14x32(kc, a + i * lda + k0, lda: lda, bp, c + i * ldc + j * 32, ldc, rows: min(tileRows, mc - t), st)
                            t += tileRows
                        }
                    } else if wide {
                        for t in 0..<full {
                            let i = r0 + t * tileRows
                            tile14x32(kc, block + t * tileRows * kc, bp, c + i * ldc + j * 32, ldc, rows: tileRows, st)
                        }
                        if tail14 == 1 {
                            tile14x32(kc, tailA, bp, c + tailStart * ldc + j * 32, ldc, rows: rest, st)
                        }
                        for t in 0..<tail4 {
                            let i = tailStart + 4 * t
                            tile4x32(kc, tailA + t * 4 * kc, bp, c + i * ldc + j * 32, ldc, rows: min(4, rest - 4 * t), st)
                        }
                    } else {
                        for t in 0..<(full + tail14) {
                            let i = r0 + t * tileRows
                            narrowHalves(narrowTile!, kc, block + t * tileRows * kc, bp, c + i * ldc + j * 32, ldc,
                                         min(tileRows, mc - t * tileRows), st, tileScratch!)
                        }
                    }
                    if last && gelu {
                        if wide {
                            geluBlock(c + r0 * ldc + j * 32, ldc: ldc, rows: mc, cols: cols, clamps: clamps, lo: lo, hi: hi)
                        } else {
                            geluRows(c + r0 * ldc + j * 32, ldc: ldc, rows: mc, cols: cols, clamps: clamps, lo: lo, hi: hi)
                        }
                    }
                }
                k0 += kc
            }
            g0 = group.upperBound
        }
        r0 += mc
    }
}

/// Floats of scratch `gemmPackedAVX512` needs (224 packed rows of A, tails rounded up, and two floats the packing's
/// last whole-vector store writes past them).
public func gemmPackedScratchCount(k: Int) -> Int { (gemmRowBlock + gemmTileRows) * max(k, 1) + 2 }

/// Copies `rows` rows of A (`kc` columns, `lda` apart) into micro-panels of `height` rows, K-major: panel t holds
/// `dst[t * height * kc + p * height + r] = a[(t * height + r) * lda + p]`, zero for rows past `rows`.
/// Full 14-row panels move sixteen steps of K at a time through a 16 x 16 register transpose (rows 14 and 15 zero);
/// each transposed row is stored whole, its last two floats overwritten by the next step's row, so the last store of a
/// panel writes two floats past it (the scratch has room; the next panel overwrites them). Element by element,
/// packing took a quarter of the time of a GEMM with N = 96.
@usableFromInline @_transparent
func packRows(_ a: UnsafePointer<Float>, _ lda: Int, rows: Int, height: Int, kc: Int, _ dst: UnsafeMutablePointer<Float>) {
    var t = 0
    while t * height < rows {
        let d = dst + t * height * kc
        let h = min(height, rows - t * height)
        if h == 14 && height == 14 {
            let src = a + t * 14 * lda
            withUnsafeTemporaryAllocation(of: F16.self, capacity: 16) { buf in
                let v = buf.baseAddress!
                v[14] = F16(); v[15] = F16()
                var p = 0
                while p + 16 <= kc {
                    for r in 0..<14 { v[r] = load16(src + r * lda + p) }
                    transpose16(v)
                    for q in 0..<16 { store16(v[q], d + (p + q) * 14) }
                    p += 16
                }
                while p < kc {
                    for r in 0..<14 { d[p * 14 + r] = src[r * lda + p] }
                    p += 1
                }
            }
            t += 1
            continue
        }
        for r in 0..<h {
            let src = a + (t * height + r) * lda
            for p in 0..<kc { d[p * height + r] = src[p] }
        }
        if h < height {
            for p in 0..<kc { for r in h..<height { d[p * height + r] = 0 } }
        }
        t += 1
    }
}

/// How a register tile reaches C: every K block's tile starts from zero and is added to C (the first block's, unless
/// accumulating, replaces it), so each output is a sum of per-block sums, which rounds less than one running sum
/// over all of K; the last block adds the bias and clamps (GELU follows, in `geluBlock`). A panel's last columns past N are not
/// stored.
public struct PanelStore {
    @usableFromInline let cols: Int
    @usableFromInline let bias: UnsafePointer<Float>?
    @usableFromInline let lo: Float, hi: Float
    @usableFromInline let clamps: Bool
    @usableFromInline let first: Bool

    @usableFromInline @_transparent
    init(cols: Int, bias: UnsafePointer<Float>?, lo: Float, hi: Float, clamps: Bool, first: Bool) {
        self.cols = cols; self.bias = bias; self.lo = lo; self.hi = hi; self.clamps = clamps; self.first = first
    }

    /// The C tile a later K block adds to (its first `cols` columns). Transparent, as `store` is: with
    /// `@inline(__always)` the compiler still made `store` a function, and a full tile's fourteen rows were fourteen
    /// calls passing their vectors through the stack (a sixth of the time of ConvNeXt-T's K = 96 products).
    /// The store of the panel's columns 16·h ..< 16·h + 16 alone (its `cols` may be 0 or less: nothing to store).
    @usableFromInline @_transparent func half(_ h: Int) -> PanelStore {
        h == 0 ? PanelStore(cols: min(16, cols), bias: bias, lo: lo, hi: hi, clamps: clamps, first: first)
            : PanelStore(cols: cols - 16, bias: bias.map { $0 + 16 }, lo: lo, hi: hi, clamps: clamps, first: first)
    }

    @usableFromInline @_transparent func load(_ p: UnsafeMutablePointer<Float>) -> (F16, F16) {
        if cols == 32 { return (load16(p), load16(p + 16)) }
        if cols == 16 { return (load16(p), F16()) }
        var v0 = F16(), v1 = F16()
        for q in 0..<min(16, cols) { v0[q] = p[q] }
        if cols > 16 { for q in 16..<cols { v1[q - 16] = p[q] } }
        return (v0, v1)
    }

    @usableFromInline @_transparent func store(_ v0: F16, _ v1: F16, _ p: UnsafeMutablePointer<Float>) {
        var v0 = v0, v1 = v1
        if !first {
            let (c0, c1) = load(p)
            v0 += c0; v1 += c1
        }
        if let bias {
            if cols == 32 {
                v0 += load16(bias); v1 += load16(bias + 16)
            } else if cols == 16 {
                v0 += load16(bias)
            } else {
                for q in 0..<min(16, cols) { v0[q] += bias[q] }
                if cols > 16 { for q in 16..<cols { v1[q - 16] += bias[q] } }
            }
        }
        if clamps { v0 = clamped(v0, lo, hi); v1 = clamped(v1, lo, hi) }
        if cols == 32 {
            store16(v0, p); store16(v1, p + 16)
            return
        }
        if cols == 16 {
            store16(v0, p)
            return
        }
        for q in 0..<min(16, cols) { p[q] = v0[q] }
        if cols > 16 { for q in 16..<cols { p[q] = v1[q - 16] } }
    }
}

/// GELU (then the clamp) in place over a stored block of C, `rows` x `cols` (at most 32), once its panel's last K
/// block is done, while it is in cache. Applied in each row's store, GELU's polynomials made the store too big to
/// inline into the tiles: every row's store became a call passing its vectors through the stack.
@usableFromInline @inline(never)
func geluBlock(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, clamps: Bool, lo: Float, hi: Float) {
    geluRows(c, ldc: ldc, rows: rows, cols: cols, clamps: clamps, lo: lo, hi: hi)
}

/// `geluBlock`'s body, compiled where it is inlined.
@usableFromInline @_transparent
func geluRows(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, clamps: Bool, lo: Float, hi: Float) {
    for r in 0..<rows {
        let p = c + r * ldc
        mapVector(.gelu, p, p, count: cols, clamps: clamps, lo: lo, hi: hi)
    }
}

/// C[14, 32] (+)= A micro-panel (14 rows, K-major) · B panel block: 28 accumulators, two B vectors and fourteen
/// broadcasts per step of K. Only the first `rows` rows are stored. The micro-panel is zero past `rows`, so the rows'
/// offsets are the constants 0...13, which the broadcasts take as displacements.
@usableFromInline @inline(never)
func tile14x32(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
               rows: Int, _ st: PanelStore) {
    tile14x32(kc, ap, ap + 7, (1, 2, 3, 4, 5, 6), (1, 2, 3, 4, 5, 6), stepStride: 14, bp, c, ldc, rows: rows, st)
}

/// `tile14x32` reading A in place: row r of the tile at `ap + r * lda` (rows past `rows` repeat the last one). A full
/// tile reads rows 0-6 and 7-13 from two base pointers with the same six offsets, which fit in registers beside the
/// pointers (fourteen separate offsets did not, and were reloaded from the stack every step of K).
@usableFromInline @inline(never)
func tile14x32(_ kc: Int, _ ap: UnsafePointer<Float>, lda: Int, _ bp: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
               rows: Int, _ st: PanelStore) {
    if rows == 14 {
        let o = (lda, 2 * lda, 3 * lda, 4 * lda, 5 * lda, 6 * lda)
        tile14x32(kc, ap, ap + 7 * lda, o, o, stepStride: 1, bp, c, ldc, rows: 14, st)
        return
    }
    let last = rows - 1
    func row(_ r: Int) -> Int { min(r, last) * lda }
    let h = row(7)
    tile14x32(kc, ap, ap + h, (row(1), row(2), row(3), row(4), row(5), row(6)),
              (row(8) - h, row(9) - h, row(10) - h, row(11) - h, row(12) - h, row(13) - h), stepStride: 1, bp, c, ldc, rows: rows, st)
}

/// The 14 x 32 tile's loop: rows 0-6 at `a` + (0, o), rows 7-13 at `h` + (0, q), step p of K at + p · ps.
@_transparent
func tile14x32(_ kc: Int, _ a: UnsafePointer<Float>, _ h: UnsafePointer<Float>, _ o: (Int, Int, Int, Int, Int, Int),
               _ q: (Int, Int, Int, Int, Int, Int), stepStride ps: Int, _ bp: UnsafePointer<Float>,
               _ c: UnsafeMutablePointer<Float>, _ ldc: Int, rows: Int, _ st: PanelStore) {
    var c00 = F16(), c01 = F16(), c10 = F16(), c11 = F16(), c20 = F16(), c21 = F16(), c30 = F16(), c31 = F16()
    var c40 = F16(), c41 = F16(), c50 = F16(), c51 = F16(), c60 = F16(), c61 = F16(), c70 = F16(), c71 = F16()
    var c80 = F16(), c81 = F16(), c90 = F16(), c91 = F16(), cA0 = F16(), cA1 = F16(), cB0 = F16(), cB1 = F16()
    var cC0 = F16(), cC1 = F16(), cD0 = F16(), cD1 = F16()
    var a = a, h = h, b = bp
    for _ in 0..<kc {
        let b0 = load16(b), b1 = load16(b + 16)
        var s = F16(repeating: a[0]); c00.addProduct(s, b0); c01.addProduct(s, b1)
        s = F16(repeating: a[o.0]); c10.addProduct(s, b0); c11.addProduct(s, b1)
        s = F16(repeating: a[o.1]); c20.addProduct(s, b0); c21.addProduct(s, b1)
        s = F16(repeating: a[o.2]); c30.addProduct(s, b0); c31.addProduct(s, b1)
        s = F16(repeating: a[o.3]); c40.addProduct(s, b0); c41.addProduct(s, b1)
        s = F16(repeating: a[o.4]); c50.addProduct(s, b0); c51.addProduct(s, b1)
        s = F16(repeating: a[o.5]); c60.addProduct(s, b0); c61.addProduct(s, b1)
        s = F16(repeating: h[0]); c70.addProduct(s, b0); c71.addProduct(s, b1)
        s = F16(repeating: h[q.0]); c80.addProduct(s, b0); c81.addProduct(s, b1)
        s = F16(repeating: h[q.1]); c90.addProduct(s, b0); c91.addProduct(s, b1)
        s = F16(repeating: h[q.2]); cA0.addProduct(s, b0); cA1.addProduct(s, b1)
        s = F16(repeating: h[q.3]); cB0.addProduct(s, b0); cB1.addProduct(s, b1)
        s = F16(repeating: h[q.4]); cC0.addProduct(s, b0); cC1.addProduct(s, b1)
        s = F16(repeating: h[q.5]); cD0.addProduct(s, b0); cD1.addProduct(s, b1)
        a += ps
        h += ps
        b += 32
    }
    if rows == 14 {
        // A full tile stores straight from the accumulators; going through the stack as the partial tiles below do
        // cost a sixth of the time of a GEMM with K = 96 (ConvNeXt-T's first stage).
        st.store(c00, c01, c); st.store(c10, c11, c + ldc); st.store(c20, c21, c + 2 * ldc); st.store(c30, c31, c + 3 * ldc)
        st.store(c40, c41, c + 4 * ldc); st.store(c50, c51, c + 5 * ldc); st.store(c60, c61, c + 6 * ldc)
        st.store(c70, c71, c + 7 * ldc); st.store(c80, c81, c + 8 * ldc); st.store(c90, c91, c + 9 * ldc)
        st.store(cA0, cA1, c + 10 * ldc); st.store(cB0, cB1, c + 11 * ldc); st.store(cC0, cC1, c + 12 * ldc)
        st.store(cD0, cD1, c + 13 * ldc)
        return
    }
    withUnsafeTemporaryAllocation(of: F16.self, capacity: 28) { t in
        t[0] = c00; t[1] = c01; t[2] = c10; t[3] = c11; t[4] = c20; t[5] = c21; t[6] = c30; t[7] = c31
        t[8] = c40; t[9] = c41; t[10] = c50; t[11] = c51; t[12] = c60; t[13] = c61; t[14] = c70; t[15] = c71
        t[16] = c80; t[17] = c81; t[18] = c90; t[19] = c91; t[20] = cA0; t[21] = cA1; t[22] = cB0; t[23] = cB1
        t[24] = cC0; t[25] = cC1; t[26] = cD0; t[27] = cD1
        for r in 0..<rows { st.store(t[2 * r], t[2 * r + 1], c + r * ldc) }
    }
}

/// A 6 x 32 tile of the narrow path as two 6 x 16 halves (a half wholly past N is skipped): `tile` sums each half
/// into `sums` (96 floats), then the store puts its rows into C.
@usableFromInline @_transparent
func narrowHalves(_ tile: NarrowGEMMTile, _ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
                  _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int, _ st: PanelStore, _ sums: UnsafeMutablePointer<Float>) {
    for h in 0..<(st.cols > 16 ? 2 : 1) {
        tile(kc, ap, bp + 16 * h, sums, c + 16 * h, ldc, rows, st.half(h))
    }
}

/// The signature of the narrow path's register tile: `tile6x16` into `sums` (compiled by the caller as a function of
/// its own), then `storeNarrowSums` into C.
public typealias NarrowGEMMTile = (_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
                                   _ sums: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int,
                                   _ st: PanelStore) -> Void

/// Stores the first `rows` rows of a narrow tile's sums (`[6, 16]`) into C through `st` (one half of a panel).
/// The caller inlines it into its compiled narrow tile (`NarrowGEMMTile`), not into the driver: in the driver's
/// thousands of instructions the vector loads and stores themselves had become calls passing their vectors through the
/// stack (when `load16` and `store16` were still transparent wrappers of the generic loads and stores).
@_transparent
public func storeNarrowSums(_ sums: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, rows: Int,
                            _ st: PanelStore) {
    for r in 0..<rows { st.store(load16(sums + 16 * r), F16(), c + r * ldc) }
}

/// sums[6, 16] = A micro-panel (6 rows, K-major: step p's six at `ap + 6 * p`) · half a B panel block, for AVX2: 6
/// accumulators (12 ymm registers) beside one B vector and a broadcast; B's rows 32 floats apart. The offsets are
/// constants, so the loop steps A with one add (with a row stride as a variable, the compiler stepped one pointer
/// from row to row: six dependent adds a step, as many cycles as the twelve FMAs). The caller compiles it as a
/// function of its own (`@inline(never)`), and the store into C runs after it returns: with the store inside, or
/// inlined into the driver, values kept for later pushed an accumulator onto the stack and the loop waited on it every
/// step.
@_transparent
public func tile6x16(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>, _ sums: UnsafeMutablePointer<Float>) {
    var c0 = F16(), c1 = F16(), c2 = F16(), c3 = F16(), c4 = F16(), c5 = F16()
    var a = ap, b = bp
    for _ in 0..<kc {
        let bv = load16(b)
        c0.addProduct(F16(repeating: a[0]), bv); c1.addProduct(F16(repeating: a[1]), bv)
        c2.addProduct(F16(repeating: a[2]), bv); c3.addProduct(F16(repeating: a[3]), bv)
        c4.addProduct(F16(repeating: a[4]), bv); c5.addProduct(F16(repeating: a[5]), bv)
        a += 6
        b += 32
    }
    store16(c0, sums); store16(c1, sums + 16); store16(c2, sums + 32)
    store16(c3, sums + 48); store16(c4, sums + 64); store16(c5, sums + 80)
}

/// C[4, 32] += A micro-panel (4 rows, K-major) · B panel block: the last rows of A (8 accumulators).
@usableFromInline @inline(never)
func tile4x32(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
              rows: Int, _ st: PanelStore) {
    var c00 = F16(), c01 = F16(), c10 = F16(), c11 = F16(), c20 = F16(), c21 = F16(), c30 = F16(), c31 = F16()
    var a = ap, b = bp
    for _ in 0..<kc {
        let b0 = load16(b), b1 = load16(b + 16)
        var s = F16(repeating: a[0]); c00.addProduct(s, b0); c01.addProduct(s, b1)
        s = F16(repeating: a[1]); c10.addProduct(s, b0); c11.addProduct(s, b1)
        s = F16(repeating: a[2]); c20.addProduct(s, b0); c21.addProduct(s, b1)
        s = F16(repeating: a[3]); c30.addProduct(s, b0); c31.addProduct(s, b1)
        a += 4
        b += 32
    }
    st.store(c00, c01, c)
    if rows > 1 { st.store(c10, c11, c + ldc) }
    if rows > 2 { st.store(c20, c21, c + 2 * ldc) }
    if rows > 3 { st.store(c30, c31, c + 3 * ldc) }
}

/// One row: c[N] = clamp(gelu?(a[K] · B (+ c when `accumulate`) + bias[N]), lo, hi) over panels `panels` of packed B,
/// a classifier head at batch 1 (`gemvPackedBody` on AVX-512).
public func gemvPackedAVX512(n: Int, k: Int, a: UnsafePointer<Float>, packed: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                             panels: Range<Int>, accumulate: Bool, bias: UnsafePointer<Float>?, lo: Float, hi: Float, gelu: Bool) {
    gemvPackedBody(narrow: false, n: n, k: k, a: a, packed: packed, c: c, panels: panels, accumulate: accumulate, bias: bias,
                   lo: lo, hi: hi, gelu: gelu)
}

/// `gemvPackedAVX512`'s body, inlined where it is compiled (TensorCore compiles it for AVX2 with `narrow`). Each
/// 32-column panel keeps several partial sums per column (K steps taken that many apart: eight on AVX-512, two in
/// AVX2's sixteen registers) and adds them pairwise at the end: a matrix-vector product is bound by reading B, so the
/// extra accumulators are free, and they round like a vectorised dot product rather than one running sum over K.
@_transparent
public func gemvPackedBody(narrow: Bool, n: Int, k: Int, a: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                           c: UnsafeMutablePointer<Float>, panels: Range<Int>, accumulate: Bool, bias: UnsafePointer<Float>?,
                           lo: Float, hi: Float, gelu: Bool) {
    let clamps = lo > -.infinity || hi < .infinity
    let phases = narrow ? 2 : 8
    for j in panels {
        let b = packed + j * k * 32
        var s0 = F16(), s1 = F16(), s2 = F16(), s3 = F16(), s4 = F16(), s5 = F16(), s6 = F16(), s7 = F16()
        var t0 = F16(), t1 = F16(), t2 = F16(), t3 = F16(), t4 = F16(), t5 = F16(), t6 = F16(), t7 = F16()
        var p = 0
        while p + phases <= k {
            let q = b + p * 32
            var x = F16(repeating: a[p]); s0.addProduct(x, load16(q)); t0.addProduct(x, load16(q + 16))
            x = F16(repeating: a[p + 1]); s1.addProduct(x, load16(q + 32)); t1.addProduct(x, load16(q + 48))
            if !narrow {
                x = F16(repeating: a[p + 2]); s2.addProduct(x, load16(q + 64)); t2.addProduct(x, load16(q + 80))
                x = F16(repeating: a[p + 3]); s3.addProduct(x, load16(q + 96)); t3.addProduct(x, load16(q + 112))
                x = F16(repeating: a[p + 4]); s4.addProduct(x, load16(q + 128)); t4.addProduct(x, load16(q + 144))
                x = F16(repeating: a[p + 5]); s5.addProduct(x, load16(q + 160)); t5.addProduct(x, load16(q + 176))
                x = F16(repeating: a[p + 6]); s6.addProduct(x, load16(q + 192)); t6.addProduct(x, load16(q + 208))
                x = F16(repeating: a[p + 7]); s7.addProduct(x, load16(q + 224)); t7.addProduct(x, load16(q + 240))
            }
            p += phases
        }
        while p < k {
            let x = F16(repeating: a[p]), q = b + p * 32
            s0.addProduct(x, load16(q)); t0.addProduct(x, load16(q + 16))
            p += 1
        }
        let cols = min(32, n - j * 32)
        let st = PanelStore(cols: cols, bias: bias.map { $0 + j * 32 }, lo: lo, hi: hi, clamps: clamps && !gelu, first: !accumulate)
        if narrow {
            st.store(s0 + s1, t0 + t1, c + j * 32)
            if gelu { geluRows(c + j * 32, ldc: 0, rows: 1, cols: cols, clamps: clamps, lo: lo, hi: hi) }
        } else {
            st.store(((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), ((t0 + t1) + (t2 + t3)) + ((t4 + t5) + (t6 + t7)), c + j * 32)
            if gelu { geluBlock(c + j * 32, ldc: 0, rows: 1, cols: cols, clamps: clamps, lo: lo, hi: hi) }
        }
    }
}

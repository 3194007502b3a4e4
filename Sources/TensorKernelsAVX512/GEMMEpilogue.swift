// Kernels compiled for AVX-512 (`-target-cpu skylake-avx512`: AVX512F/CD/BW/DQ/VL, as on Skylake-X, Ice Lake,
// Zen 4 and Zen 5). Only call them after `TensorCore` has checked the CPU (through `KernelTable.table(for:)`): on any
// other CPU they stop the process with an illegal instruction. The portable path is OpenBLAS and TensorCore's AVX2
// code, which inlines this module's `@_transparent` vector math (`VectorMath.swift`) and compiles it for AVX2.

public typealias F16 = SIMD16<Float>

// Vector loads and stores at any float's address. Always inlined (not `@_transparent`): their own bodies are
// optimised first, so `loadUnaligned`'s specialization is inlined into them and they reach the kernels as one vector
// move each. As `@_transparent` functions they reached the kernels as calls to the generic `loadUnaligned`, which the
// optimiser stops inlining in a function past its size limit, and which the build's per-file code generation then
// left a call into whichever file's object held it (returning the vector in four xmm registers): the AVX-512 GEMM
// tile called it twice per step of K, with its 28 sums on the stack. `scripts/check-kernel-calls` finds such calls.

@inlinable @inline(__always) public func load16(_ p: UnsafePointer<Float>) -> F16 {
    UnsafeRawPointer(p).loadUnaligned(as: F16.self)
}

@inlinable @inline(__always) public func store16(_ v: F16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: F16.self)
}

@inlinable @inline(__always) public func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inlinable @inline(__always) public func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// `Swift.min` and `Swift.max` for `Int`, always inlined: the kernels' run and window bounds call them per run, and as
/// the generic functions they stayed calls in the larger kernels (20 in AVX2 depthwise convolution's body, whose runs
/// are a few dozen multiply-adds each). This module and TensorCore pick these over the generic ones.
@inlinable @inline(__always) public func min(_ a: Int, _ b: Int) -> Int { b < a ? b : a }
@inlinable @inline(__always) public func max(_ a: Int, _ b: Int) -> Int { b > a ? b : a }

/// v clamped to lo...hi by compare-and-blend (NaN stays NaN; pointwiseMin/Max's NaN rules compile to scalar code).
@usableFromInline @_transparent func clamped(_ v: F16, _ lo: Float, _ hi: Float) -> F16 {
    let l = F16(repeating: lo), h = F16(repeating: hi)
    var v = v
    v.replace(with: l, where: v .< l)
    v.replace(with: h, where: v .> h)
    return v
}

/// What happens to an accumulated tile before it is stored: v = clamp(v + bias[row], lo, hi).
struct Epilogue {
    let bias: UnsafePointer<Float>?
    let lo: Float, hi: Float
    /// False when lo...hi is -inf...inf (no clamp to apply).
    let clamps: Bool

    init(bias: UnsafePointer<Float>?, lo: Float, hi: Float) {
        self.bias = bias; self.lo = lo; self.hi = hi
        clamps = lo > -.infinity || hi < .infinity
    }

    /// Stores the accumulators as they are.
    static var raw: Epilogue { Epilogue(bias: nil, lo: -.infinity, hi: .infinity) }

    @inline(__always) func put(_ v: F16, row: Int, _ p: UnsafeMutablePointer<Float>) {
        var v = v
        if let bias { v += F16(repeating: bias[row]) }
        if clamps { v = clamped(v, lo, hi) }
        store16(v, p)
    }

    /// Stores a tile of accumulators, `vectorsPerRow` vectors per row, through the epilogue (one loop, so
    /// the epilogue is inlined once rather than once per accumulator).
    @inline(__always) func store(_ t: UnsafePointer<F16>, rows: Int, vectorsPerRow: Int, row: Int,
                                 _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        for r in 0..<rows {
            for h in 0..<vectorsPerRow { put(t[r * vectorsPerRow + h], row: row + r, c + r * ldc + 16 * h) }
        }
    }

    /// The first `rows` of eight accumulated output rows (`ld` floats apart), `cols` (1...16) columns each,
    /// through the epilogue (one loop over a scratch tile, so `putPartial` is inlined once).
    @inline(__always) func storeRows(_ a0: F16, _ a1: F16, _ a2: F16, _ a3: F16, _ a4: F16, _ a5: F16, _ a6: F16, _ a7: F16,
                                     rows: Int, cols: Int, _ y: UnsafeMutablePointer<Float>, _ ld: Int) {
        withUnsafeTemporaryAllocation(of: F16.self, capacity: 8) { t in
            t[0] = a0; t[1] = a1; t[2] = a2; t[3] = a3; t[4] = a4; t[5] = a5; t[6] = a6; t[7] = a7
            for r in 0..<rows { putPartial(t[r], count: cols, y + r * ld) }
        }
    }

    /// `put` of the first `count` (1...16) lanes only: a 16-, 8- and 4-wide store and single floats.
    @inline(__always) func putPartial(_ v: F16, count: Int, _ p: UnsafeMutablePointer<Float>) {
        if count == 16 { put(v, row: 0, p); return }
        let v = clamps ? clamped(v, lo, hi) : v
        var i = 0
        if count >= 8 {
            store8(v.lowHalf, p)
            i = 8
        }
        if count - i >= 4 {
            let q = i == 0 ? v.lowHalf.lowHalf : v.highHalf.lowHalf
            UnsafeMutableRawPointer(p + i).storeBytes(of: q, as: SIMD4<Float>.self)
            i += 4
        }
        while i < count { p[i] = v[i]; i += 1 }
    }

    @inline(__always) func put(_ v: Float, row: Int, _ p: UnsafeMutablePointer<Float>) {
        var v = v
        if let bias { v += bias[row] }
        if clamps { v = min(max(v, lo), hi) }
        p.pointee = v
    }
}

/// C[M,N] = clamp(A[M,K] · B[K,N] + bias[M], lo, hi), row-major, AVX-512, for each of
/// `items` pairs (B, C) that share A (one 1x1 convolution over a batch of images).
///
/// The tile is 8 rows by 32 columns (16 zmm accumulators; each step broadcasts 8 values of A against two
/// vectors of B), with an 8x16 tile for a 16-column remainder. B is read in place, row `p` of a tile at
/// `b + p * ldb`: a 1x1 convolution's input plane needs no packing or im2col. The columns past each item's
/// last multiple of 16 are gathered from all items into zero-padded 16-column panels, so a 7x7 plane (49
/// columns) costs 49 columns of work rather than 64; rows past a multiple of 8 run on a zero-padded copy
/// of A. Edge tiles go through a scratch tile and store only what is inside C.
///
/// - Parameters:
///   - items: number of (B, C) pairs; item i uses `b + i * bItemStride` and `c + i * cItemStride`.
///   - a: `[M, K]`, leading dimension `lda` (weights).
///   - b: `[K, N]` per item, leading dimension `ldb` (input channels by pixels).
///   - c: `[M, N]` per item, leading dimension `ldc`; may start uninitialised.
///   - bias: `[M]` or nil.
///   - lo, hi: clamp bounds (ReLU is 0...inf, ReLU6 0...6); pass -inf...inf for none.
/// - Complexity: 2·items·M·N·K flops.
public func gemmEpilogueAVX512(items: Int = 1, m: Int, n: Int, k: Int,
                               a: UnsafePointer<Float>, lda: Int,
                               b: UnsafePointer<Float>, bItemStride: Int = 0, ldb: Int,
                               c: UnsafeMutablePointer<Float>, cItemStride: Int = 0, ldc: Int,
                               bias: UnsafePointer<Float>?, lo: Float, hi: Float) {
    if m <= 0 || n <= 0 || items <= 0 { return }
    let e = Epilogue(bias: bias, lo: lo, hi: hi)
    let mFull = m / 8 * 8
    let n32 = n / 32 * 32
    let n16 = n / 16 * 16
    // A's last m % 8 rows as 8 zero-padded rows.
    let rowTail = m - mFull, colTail = n - n16
    let padA: UnsafeMutablePointer<Float>? = rowTail > 0 ? .allocate(capacity: 8 * k) : nil
    defer { padA?.deallocate() }
    if let padA {
        padA.initialize(repeating: 0, count: 8 * k)
        for r in 0..<rowTail { (padA + r * k).update(from: a + (mFull + r) * lda, count: k) }
    }
    for item in 0..<items {
        let b = b + item * bItemStride, c = c + item * cItemStride
        var j = 0
        while j < n32 {
            var i = 0
            while i < mFull {
                tile8x32(k, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, row: i, e)
                i += 8
            }
            if let padA {
                edge(k, padA, k, rows: rowTail, b + j, ldb, cols: 16, c + mFull * ldc + j, ldc, row: mFull, e)
                edge(k, padA, k, rows: rowTail, b + j + 16, ldb, cols: 16, c + mFull * ldc + j + 16, ldc, row: mFull, e)
            }
            j += 32
        }
        if n16 > n32 {
            var i = 0
            while i < mFull {
                tile8x16(k, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, row: i, e)
                i += 8
            }
            if let padA { edge(k, padA, k, rows: rowTail, b + j, ldb, cols: 16, c + mFull * ldc + j, ldc, row: mFull, e) }
        }
    }
    if colTail == 0 { return }
    let total = items * colTail
    if total <= 4 && k >= 32 {
        // A few remainder columns in all: one dot product per element costs K/16 vector steps, where a
        // 16-column panel tile costs K for any number of columns.
        let col = UnsafeMutablePointer<Float>.allocate(capacity: k)
        defer { col.deallocate() }
        for q in 0..<total {
            let item = q / colTail, j = n16 + q % colTail
            let src = b + item * bItemStride + j
            for p in 0..<k { col[p] = src[p * ldb] }
            gemvColumn(m: m, k: k, a: a, lda: lda, x: col, c: c + item * cItemStride + j, ldc: ldc, e)
        }
        return
    }
    // Remainder columns of every item, 16 at a time: panel[p, q] = B_item(q)[p, n16 + j(q)].
    let panel = UnsafeMutablePointer<Float>.allocate(capacity: 16 * k)
    defer { panel.deallocate() }
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 32) { offsets in
        let bOff = offsets.baseAddress!, cOff = offsets.baseAddress! + 16
        var g0 = 0
        while g0 < total {
            let cols = min(16, total - g0)
            for q in 0..<cols {
                let item = (g0 + q) / colTail, j = n16 + (g0 + q) % colTail
                bOff[q] = item * bItemStride + j
                cOff[q] = item * cItemStride + j
            }
            if cols < 16 { panel.initialize(repeating: 0, count: 16 * k) }
            for p in 0..<k {
                let src = b + p * ldb, dst = panel + p * 16
                for q in 0..<cols { dst[q] = src[bOff[q]] }
            }
            var i = 0
            while i < m {
                let rows = min(8, m - i)
                let ai = rows == 8 ? a + i * lda : UnsafePointer(padA!)
                edgeScatter(k, ai, rows == 8 ? lda : k, rows: rows, panel, cols: cols, cOff, c + i * ldc, ldc, row: i, e)
                i += 8
            }
            g0 += 16
        }
    }
}

/// One column of C: c[i * ldc] = epilogue(dot(A[i, :], x)), four rows at a time with the dot products
/// vectorised along K (a scalar loop for the last K % 16).
@inline(never)
func gemvColumn(m: Int, k: Int, a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
                c: UnsafeMutablePointer<Float>, ldc: Int, _ e: Epilogue) {
    let k16 = k / 16 * 16
    var i = 0
    while i < m {
        let rows = min(4, m - i)
        let a0 = a + i * lda, a1 = a + (i + min(1, rows - 1)) * lda
        let a2 = a + (i + min(2, rows - 1)) * lda, a3 = a + (i + min(3, rows - 1)) * lda
        var s0 = F16(), s1 = F16(), s2 = F16(), s3 = F16()
        var p = 0
        while p < k16 {
            let xv = load16(x + p)
            s0.addProduct(load16(a0 + p), xv); s1.addProduct(load16(a1 + p), xv)
            s2.addProduct(load16(a2 + p), xv); s3.addProduct(load16(a3 + p), xv)
            p += 16
        }
        var d0 = s0.sum(), d1 = s1.sum(), d2 = s2.sum(), d3 = s3.sum()
        while p < k {
            d0 += a0[p] * x[p]; d1 += a1[p] * x[p]; d2 += a2[p] * x[p]; d3 += a3[p] * x[p]
            p += 1
        }
        e.put(d0, row: i, c + i * ldc)
        if rows > 1 { e.put(d1, row: i + 1, c + (i + 1) * ldc) }
        if rows > 2 { e.put(d2, row: i + 2, c + (i + 2) * ldc) }
        if rows > 3 { e.put(d3, row: i + 3, c + (i + 3) * ldc) }
        i += 4
    }
}

/// An 8x16 tile of A times a packed 16-column panel into a scratch tile, then the epilogue on its first
/// `rows` x `cols`, column q stored at `c[r * ldc + cOffsets[q]]`.
@inline(never)
func edgeScatter(_ k: Int, _ a: UnsafePointer<Float>, _ lda: Int, rows: Int, _ panel: UnsafePointer<Float>, cols: Int,
                 _ cOffsets: UnsafePointer<Int>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, row: Int, _ e: Epilogue) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * 16) { t in
        let tile = t.baseAddress!
        tile8x16(k, a, lda, panel, 16, tile, 16, row: 0, .raw)
        for r in 0..<rows {
            for q in 0..<cols { e.put(tile[r * 16 + q], row: row + r, c + r * ldc + cOffsets[q]) }
        }
    }
}

/// An 8x16 tile into a scratch tile, then the epilogue on its first `rows` x `cols` only.
@inline(never)
func edge(_ k: Int, _ a: UnsafePointer<Float>, _ lda: Int, rows: Int, _ b: UnsafePointer<Float>, _ ldb: Int, cols: Int,
          _ c: UnsafeMutablePointer<Float>, _ ldc: Int, row: Int, _ e: Epilogue) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * 16) { t in
        let tile = t.baseAddress!
        tile8x16(k, a, lda, b, ldb, tile, 16, row: 0, .raw)
        for r in 0..<rows {
            for q in 0..<cols { e.put(tile[r * 16 + q], row: row + r, c + r * ldc + q) }
        }
    }
}

/// C[8, 32] tile: 16 accumulators, two B vectors and eight broadcasts of A per step of k.
@inline(never)
func tile8x32(_ k: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
              _ c: UnsafeMutablePointer<Float>, _ ldc: Int, row: Int, _ e: Epilogue) {
    var c00 = F16(), c01 = F16(), c10 = F16(), c11 = F16(), c20 = F16(), c21 = F16(), c30 = F16(), c31 = F16()
    var c40 = F16(), c41 = F16(), c50 = F16(), c51 = F16(), c60 = F16(), c61 = F16(), c70 = F16(), c71 = F16()
    let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda
    let a4 = a + 4 * lda, a5 = a + 5 * lda, a6 = a + 6 * lda, a7 = a + 7 * lda
    var bp = b
    for p in 0..<k {
        let b0 = load16(bp), b1 = load16(bp + 16)
        var s = F16(repeating: a0[p]); c00.addProduct(s, b0); c01.addProduct(s, b1)
        s = F16(repeating: a1[p]); c10.addProduct(s, b0); c11.addProduct(s, b1)
        s = F16(repeating: a2[p]); c20.addProduct(s, b0); c21.addProduct(s, b1)
        s = F16(repeating: a3[p]); c30.addProduct(s, b0); c31.addProduct(s, b1)
        s = F16(repeating: a4[p]); c40.addProduct(s, b0); c41.addProduct(s, b1)
        s = F16(repeating: a5[p]); c50.addProduct(s, b0); c51.addProduct(s, b1)
        s = F16(repeating: a6[p]); c60.addProduct(s, b0); c61.addProduct(s, b1)
        s = F16(repeating: a7[p]); c70.addProduct(s, b0); c71.addProduct(s, b1)
        bp += ldb
    }
    withUnsafeTemporaryAllocation(of: F16.self, capacity: 16) { t in
        t[0] = c00; t[1] = c01; t[2] = c10; t[3] = c11; t[4] = c20; t[5] = c21; t[6] = c30; t[7] = c31
        t[8] = c40; t[9] = c41; t[10] = c50; t[11] = c51; t[12] = c60; t[13] = c61; t[14] = c70; t[15] = c71
        e.store(t.baseAddress!, rows: 8, vectorsPerRow: 2, row: row, c, ldc)
    }
}

/// C[8, 16] tile: 8 accumulators (enough to cover the FMA latency on two pipes).
@inline(never)
func tile8x16(_ k: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
              _ c: UnsafeMutablePointer<Float>, _ ldc: Int, row: Int, _ e: Epilogue) {
    var c0 = F16(), c1 = F16(), c2 = F16(), c3 = F16(), c4 = F16(), c5 = F16(), c6 = F16(), c7 = F16()
    let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda
    let a4 = a + 4 * lda, a5 = a + 5 * lda, a6 = a + 6 * lda, a7 = a + 7 * lda
    var bp = b
    for p in 0..<k {
        let b0 = load16(bp)
        c0.addProduct(F16(repeating: a0[p]), b0); c1.addProduct(F16(repeating: a1[p]), b0)
        c2.addProduct(F16(repeating: a2[p]), b0); c3.addProduct(F16(repeating: a3[p]), b0)
        c4.addProduct(F16(repeating: a4[p]), b0); c5.addProduct(F16(repeating: a5[p]), b0)
        c6.addProduct(F16(repeating: a6[p]), b0); c7.addProduct(F16(repeating: a7[p]), b0)
        bp += ldb
    }
    withUnsafeTemporaryAllocation(of: F16.self, capacity: 8) { t in
        t[0] = c0; t[1] = c1; t[2] = c2; t[3] = c3; t[4] = c4; t[5] = c5; t[6] = c6; t[7] = c7
        e.store(t.baseAddress!, rows: 8, vectorsPerRow: 1, row: row, c, ldc)
    }
}

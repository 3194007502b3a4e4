import TensorKernelsAVX512

/// B of a GEMM packed for `gemmPacked`: 32-column panels, K-major, zero past the last column.
///
/// Layout, from `alignedWeights(data)` on: `[ceil(N/32), K, 32]`; panel j holds columns 32j..<32j+32, row p of it at
/// `j * K * 32 + p * 32`.
public struct PackedPanels: Sendable {
    /// The packed floats, laid out by `makeAlignedWeights`: the panels from `alignedWeights(data)` on, 64-byte
    /// aligned, so that a row of a panel is two whole cache lines.
    public let data: [Float]
    public let k: Int
    public let n: Int
    /// Number of 32-column panels.
    public var panels: Int { (n + 31) / 32 }

    /// Where B's element (p, j) sits among the panels of a B with `k` rows: panel j / 32, row p of it, column j % 32.
    @inlinable public static func offset(row p: Int, column j: Int, k: Int) -> Int { (j / 32) * k * 32 + p * 32 + j % 32 }

    /// Packs B `[K, N]` (or `[N, K]` when `transposed`), leading dimension `ldb`.
    /// - Complexity: K·N copies.
    public init(_ b: UnsafePointer<Float>, ldb: Int, k: Int, n: Int, transposed: Bool = false) {
        self.k = k; self.n = n
        let panels = (n + 31) / 32
        data = makeAlignedWeights(count: panels * k * 32) { dst in
            packGEMMPanels(b, ldb: ldb, k: k, n: n, transposed: transposed, into: dst, panels: 0..<panels)
        }
    }
}

/// Writes panels `panels` of B `[K, N]` (or `[N, K]` when `transposed`) into `dst` in `PackedPanels`' layout.
public func packGEMMPanels(_ b: UnsafePointer<Float>, ldb: Int, k: Int, n: Int, transposed: Bool,
                           into dst: UnsafeMutablePointer<Float>, panels: Range<Int>) {
    for j in panels {
        let d = dst + j * k * 32, j0 = j * 32, cols = min(32, n - j0)
        if transposed {
            // Row q of the panel's columns is B's row j0 + q: read it along K, write every 32nd float.
            for q in 0..<cols {
                let src = b + (j0 + q) * ldb
                for p in 0..<k { d[p * 32 + q] = src[p] }
            }
            if cols < 32 { for p in 0..<k { for q in cols..<32 { d[p * 32 + q] = 0 } } }
        } else {
            for p in 0..<k {
                let src = b + p * ldb + j0, row = d + p * 32
                for q in 0..<cols { row[q] = src[q] }
                for q in cols..<32 { row[q] = 0 }
            }
        }
    }
}

/// C[M,N] = act(A[M,K] · B (+ C when `accumulate`) + bias[N]) with B packed (`PackedPanels`), split over
/// `computeThreads`.
public func gemmPacked(m: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedPanels,
                       c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false,
                       bias: UnsafePointer<Float>?, activation: Activation = .identity) {
    packed.data.withUnsafeBufferPointer { pb in
        gemmPacked(m: m, n: packed.n, k: packed.k, a: a, lda: lda, packed: alignedWeights(pb.baseAddress!), c: c, ldc: ldc, accumulate: accumulate,
                   bias: bias, activation: activation)
    }
}

/// C[M,N] = act(A[M,K] · B (+ C when `accumulate`) + bias[N]), B packed in `PackedPanels`' layout at `packed`.
///
/// `gemmPackedAVX512` on AVX-512, `gemmPackedAVX2` on AVX2 (bias, GELU and clamps in the tile's epilogue; other
/// activations over the rows afterwards), split over `computeThreads`.
/// - Parameters:
///   - a: `[M, K]`, leading dimension `lda`.
///   - packed: `[ceil(N/32), K, 32]`, the panels themselves (`alignedWeights` of `PackedPanels.data`).
///   - c: `[M, N]`, leading dimension `ldc`; read only when `accumulate`.
///   - bias: `[N]` or nil.
/// - Complexity: 2·M·N·K flops.
public func gemmPacked(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                       c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false,
                       bias: UnsafePointer<Float>?, activation: Activation = .identity) {
    if m == 0 || n == 0 { return }
    kernels.packedGEMM(m, n, k, a, lda, packed, c, ldc, accumulate, bias, activation)
}

/// `gemmPacked` on AVX-512 (`KernelTable.avx512`).
func gemmPackedTiled(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                     c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?, activation: Activation) {
    gemmPackedActivation(wide: true, m: m, n: n, k: k, a: a, lda: lda, packed: packed, c: c, ldc: ldc, accumulate: accumulate,
                         bias: bias, activation: activation)
}

/// `gemmPacked` on AVX2 (`KernelTable.portable`): the same driver on 6 x 32 register tiles (`gemmPackedAVX2`).
func gemmPackedTiledAVX2(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                         c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?, activation: Activation) {
    gemmPackedActivation(wide: false, m: m, n: n, k: k, a: a, lda: lda, packed: packed, c: c, ldc: ldc, accumulate: accumulate,
                         bias: bias, activation: activation)
}

/// `gemmPackedBody` compiled for AVX2 (its narrow 6 x 32 tiles, A always packed).
func gemmPackedAVX2(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                    c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, panels: Range<Int>,
                    accumulate: Bool, bias: UnsafePointer<Float>?, lo: Float, hi: Float, gelu: Bool,
                    scratch: UnsafeMutablePointer<Float>) {
    gemmPackedBody(wide: false, narrowTile: tile6x16AVX2, m: m, n: n, k: k, a: a, lda: lda, packed: packed, c: c, ldc: ldc, rows: rows, panels: panels,
                   accumulate: accumulate, bias: bias, lo: lo, hi: hi, gelu: gelu, packA: true, scratch: scratch)
}

/// The narrow tile for AVX2: `tile6x16`'s loop as a function of its own, then `storeNarrowSums` (inlined here, out of
/// the driver; a separate function for the store measured the same, `VigilBench gemm --threads 1`).
func tile6x16AVX2(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>, _ sums: UnsafeMutablePointer<Float>,
                  _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int, _ st: PanelStore) {
    tile6x16LoopAVX2(kc, ap, bp, sums)
    storeNarrowSums(sums, c, ldc, rows: rows, st)
}

@inline(never)
func tile6x16LoopAVX2(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>, _ sums: UnsafeMutablePointer<Float>) {
    tile6x16(kc, ap, bp, sums)
}

/// `gemvPackedBody` compiled for AVX2.
@inline(never)
func gemvPackedAVX2(n: Int, k: Int, a: UnsafePointer<Float>, packed: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                    panels: Range<Int>, accumulate: Bool, bias: UnsafePointer<Float>?, lo: Float, hi: Float, gelu: Bool) {
    gemvPackedBody(narrow: true, n: n, k: k, a: a, packed: packed, c: c, panels: panels, accumulate: accumulate, bias: bias,
                   lo: lo, hi: hi, gelu: gelu)
}

/// `gemm` (and `gemmParallel`, on `threads` threads) through the packed-panel driver, for AVX-512's `KernelTable`: B
/// packed into 32-column panels for this one call with alpha folded in, A copied transposed first when `transA`, and
/// C scaled by beta first unless beta is 0 (C not read) or 1. Packing costs K·N copies against M·N·K multiply-adds,
/// and the products of two activations (attention's scores and context, per head) then run on the same register
/// tile as the linear maps. OpenBLAS 0.3.21 falls back to its SSE3 "Prescott" kernels on CPUs it does not know
/// (Sapphire and Emerald Rapids among them) unless `OPENBLAS_CORETYPE` is set: ViT-B/16's attention products ran at
/// 43 GFLOP/s there. Each output is the same float32 sum however the work is split (see `gemmPackedAVX512`).
func gemmRepackedAVX512(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
    if m == 0 || n == 0 { return }
    let panels = (n + 31) / 32
    let packed = UnsafeMutableRawPointer.allocate(byteCount: max(1, panels * k * 32) * MemoryLayout<Float>.stride, alignment: 64)
        .bindMemory(to: Float.self, capacity: max(1, panels * k * 32))
    defer { packed.deallocate() }
    packGEMMPanels(b, ldb: ldb, k: k, n: n, transposed: transB, into: packed, panels: 0..<panels)
    if alpha != 1 {
        for e in 0..<(panels * k * 32) { packed[e] *= alpha }
    }
    var aT: UnsafeMutablePointer<Float>? = nil
    defer { aT?.deallocate() }
    if transA {
        // A is [K, M] with leading dimension lda: its columns become rows, in 16 x 16 tiles.
        let t = UnsafeMutablePointer<Float>.allocate(capacity: max(1, m * k))
        withComputeThreads(threads) { transposeMerged(a, shape: [m, k], strides: [1, lda], y: t) }
        aT = t
    }
    if beta != 0 && beta != 1 {
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
    }
    runPackedTiles(wide: true, m: m, n: n, k: k, a: aT.map { UnsafePointer($0) } ?? a, lda: transA ? k : lda, packed: packed,
                   c: c, ldc: ldc, accumulate: beta != 0, bias: nil, lo: -.infinity, hi: .infinity, gelu: false, threads: threads)
}

private func gemmPackedActivation(wide: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                                  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?,
                                  activation: Activation) {
    let bounds = activation.clampBounds
    let lo = bounds?.lo ?? -.infinity, hi = bounds?.hi ?? .infinity
    runPackedTiles(wide: wide, m: m, n: n, k: k, a: a, lda: lda, packed: packed, c: c, ldc: ldc, accumulate: accumulate,
                   bias: bias, lo: lo, hi: hi, gelu: activation == .gelu, threads: computeThreads)
    if bounds == nil && activation != .gelu {
        for r in 0..<m { activation.apply(c + r * ldc, count: n) }
    }
}

/// Splits `gemmPackedAVX512` (`wide`) or `gemmPackedAVX2` over the threads: by panels of C's columns when C is at
/// least as wide as it is tall, else by row tiles (each thread packs its own blocks of A). Splitting a tall C by rows gives each thread whole
/// rows of C to write and its own part of A to read: ConvNeXt-T's 3136 x 96 -> 384 went from 1.59 to 1.30 ms.
func runPackedTiles(wide: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?, lo: Float, hi: Float,
                    gelu: Bool, threads: Int) {
    // A packed into micro-panels pays where K is long (rows 4 KiB apart and more share L1 sets when read in place:
    // ViT-B's fc2, K = 3072, ran at 70% against 87% of peak) and where C is narrow (read in place, A's rows came
    // from L2 for every one of the few panels: ConvNeXt-T's 3136 x 384 -> 96 ran at 46% against 85%). On AVX-512,
    // elsewhere, reading A in place is as fast and skips the copy. On AVX2 it pays everywhere: the narrow tile reads
    // its six rows of A in place as six streams from L2, packed as one (`VigilBench gemm`, the two alternated run by
    // run in one process, one thread: packed took 0.87-0.98 of the in-place time on ViT-B's and Swin-T's shapes and
    // attention's; at two threads 0.84-0.96, but for one round of ViT-B's QKV product at 1.08).
    let packA = !wide || k > 1024 || n < 128
    nonisolated(unsafe) let a = a, packed = packed, c = c, bias = bias
    let panels = (n + 31) / 32
    if m == 1 {
        // A classifier head at batch 1: a matrix-vector product, split over the panels. (Through the tiles, AVX2 spent
        // six rows' products on one and ran ResNet-50's 2048 -> 1000 head at a third of onnxruntime's speed.)
        func row(_ r: Range<Int>) {
            if wide {
                gemvPackedAVX512(n: n, k: k, a: a, packed: packed, c: c, panels: r, accumulate: accumulate, bias: bias, lo: lo, hi: hi, gelu: gelu)
            } else {
                gemvPackedAVX2(n: n, k: k, a: a, packed: packed, c: c, panels: r, accumulate: accumulate, bias: bias, lo: lo, hi: hi, gelu: gelu)
            }
        }
        if threads == 1 || k * n < 65_536 { row(0..<panels) } else { parallelChunks(panels) { row($0) } }
        return
    }
    let flops = 2 * m * n * k
    let scratchCount = gemmPackedScratchCount(k: k)
    func run(rows: Range<Int>, panels: Range<Int>) {
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
        defer { scratch.deallocate() }
        if wide {
            gemmPackedAVX512(m: m, n: n, k: k, a: a, lda: lda, packed: packed, c: c, ldc: ldc, rows: rows, panels: panels,
                             accumulate: accumulate, bias: bias, lo: lo, hi: hi, gelu: gelu, packA: packA, scratch: scratch)
        } else {
            gemmPackedAVX2(m: m, n: n, k: k, a: a, lda: lda, packed: packed, c: c, ldc: ldc, rows: rows, panels: panels,
                           accumulate: accumulate, bias: bias, lo: lo, hi: hi, gelu: gelu, scratch: scratch)
        }
    }
    if threads == 1 || flops < 400_000 {
        run(rows: 0..<m, panels: 0..<panels)
    } else if n >= m && panels >= threads {
        // One range of panels per thread when A is packed: every range packs all of A again. (At least panels / threads
        // a range, not that rounded up: 7 panels at 4 a range made one range, and attention's 197 x 64 -> 197 products
        // ran on one thread.)
        parallelChunks(panels, minItemsPerChunk: packA ? panels / threads : 1) { r in run(rows: 0..<m, panels: r) }
    } else {
        let h = wide ? 14 : 6, tiles = (m + h - 1) / h
        parallelChunks(tiles) { r in run(rows: r.lowerBound * h..<min(m, r.upperBound * h), panels: 0..<panels) }
    }
}

/// Naive twin of `gemmPacked` on the unpacked B `[K, N]`: double accumulation, then C·beta, bias and activation.
public func gemmPackedNaive(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?,
                            activation: Activation) {
    for i in 0..<m {
        for j in 0..<n {
            var acc = 0.0
            for p in 0..<k { acc += Double(a[i * lda + p]) * Double(b[p * ldb + j]) }
            var v = Float(acc) + (accumulate ? c[i * ldc + j] : 0) + (bias?[j] ?? 0)
            v = activation.apply(v)
            c[i * ldc + j] = v
        }
    }
}

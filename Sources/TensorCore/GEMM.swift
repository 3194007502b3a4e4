import COpenBLAS
import TensorKernelsAVX512

// OpenBLAS itself always runs single-threaded: the kernels split GEMMs (and everything else) into per-thread
// panels themselves (as many as the caller's `EngineConfiguration.threads`), which removes OpenBLAS's spin/yield
// storm and composes with several executors running at once.

/// OpenBLAS's build configuration string (for report provenance), e.g. "OpenBLAS 0.3.21 ...".
public var blasConfiguration: String {
    guard let p = openblas_get_config() else { return "OpenBLAS" }
    return String(cString: p)
}

/// C[M,N] = alpha * op(A) * op(B) + beta * C, row-major, on the calling thread: a single row against B's rows through
/// the kernel table's `rowDots`, else its `generalGEMM` (on AVX-512, B packed for the call and Vigil's register tile),
/// else `cblas_sgemv` / `cblas_sgemm`.
///
/// - Parameters:
///   - a: `[M,K]` (or `[K,M]` when `transA`), leading dimension `lda`.
///   - b: `[K,N]` (or `[N,K]` when `transB`), leading dimension `ldb`.
///   - c: `[M,N]`, leading dimension `ldc`.
/// - Complexity: 2·M·N·K flops.
public func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                 alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                 b: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    _ = blasSingleThreaded
    if k == 0 {
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
        return
    }
    if let rowDots = singleRowDots(m: m, transA: transA, transB: transB) {
        // One row of C (a classifier head per batch item) against B's rows: one dot product per output.
        rowDots(b, ldb, k, a, alpha, beta, c, n)
        return
    }
    if let general = kernels.generalGEMM {
        general(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1)
        return
    }
    if m == 1 {
        // One row of C: sgemv streams B once without sgemm's packing.
        // c[1,N] = alpha * a[1,K] op(B) + beta * c; a's K values are lda apart when transA. C may start
        // uninitialised when beta is 0, and some OpenBLAS versions keep NaN through a scaling by 0.
        if beta == 0 { c.update(repeating: 0, count: n) }
        if transB {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), alpha, b, Int32(ldb), a, Int32(transA ? lda : 1), beta, c, 1)
        } else {
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), alpha, b, Int32(ldb), a, Int32(transA ? lda : 1), beta, c, 1)
        }
        return
    }
    // One call per tile of `blasRowBand` x `blasColumnBand`: OpenBLAS rounds an output differently depending on
    // the size of the call and where the output falls in it (its edge and small-matrix kernels). Tiles anchored at
    // (0, 0), and callers that split only at tile boundaries, give every output the same value however many threads
    // share the work (a fleet task on one CPU and a desktop run on two write the same report).
    var i0 = 0
    while i0 < m {
        let mb = min(blasRowBand, m - i0)
        var j0 = 0
        while j0 < n {
            let nb = min(blasColumnBand, n - j0)
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(mb), Int32(nb), Int32(k), alpha, a + (transA ? i0 : i0 * lda), Int32(lda), b + (transB ? j0 * ldb : j0),
                        Int32(ldb), beta, c + i0 * ldc + j0, Int32(ldc))
            j0 += nb
        }
        i0 += mb
    }
}

/// The table's row-dot kernel where `gemm` takes it (one row of C against B's rows), else nil.
private func singleRowDots(m: Int, transA: Bool, transB: Bool)
    -> (@Sendable (UnsafePointer<Float>, Int, Int, UnsafePointer<Float>, Float, Float, UnsafeMutablePointer<Float>, Int) -> Void)? {
    m == 1 && transB && !transA ? kernels.rowDots : nil
}

/// Rows and columns of C per OpenBLAS call (see `gemm`); parallel callers split at multiples of them.
let blasRowBand = 64, blasColumnBand = 128

/// Naive twin of `gemm`, accumulating in double: the reference tests compare against.
public func gemmNaive(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                      alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var acc = 0.0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                acc += Double(av) * Double(bv)
            }
            let prior = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
            c[i * ldc + j] = Float(Double(alpha) * acc + prior)
        }
    }
}

/// `gemm` split over `computeThreads`: the table's `generalGEMM` on that many threads (but for a single row against B's
/// rows, which `gemm`'s row dots take a column range at a time), else C's rows (M) or columns (N) cut into panels,
/// one single-threaded `gemm` each, whichever side is longer (so each thread re-reads the smaller operand).
///
/// - Parameters: as `gemm`.
/// - Complexity: 2·M·N·K flops; OpenBLAS's panels are multiples of `blasRowBand` rows or `blasColumnBand` columns.
public func gemmParallel(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                         alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                         b: UnsafePointer<Float>, ldb: Int,
                         beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let flops = 2 * m * n * k
    if computeThreads == 1 || flops < 200_000 {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    if k > 0, let general = kernels.generalGEMM, singleRowDots(m: m, transA: transA, transB: transB) == nil {
        general(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, computeThreads)
        return
    }
    let splitRows = m >= n
    let unit = splitRows ? blasRowBand : blasColumnBand
    let blocks = ((splitRows ? m : n) + unit - 1) / unit
    parallelChunks(blocks) { r in
        if splitRows {
            let i0 = r.lowerBound * unit, i1 = min(m, r.upperBound * unit)
            gemm(transA: transA, transB: transB, m: i1 - i0, n: n, k: k, alpha: alpha, a: a + (transA ? i0 : i0 * lda), lda: lda,
                 b: b, ldb: ldb, beta: beta, c: c + i0 * ldc, ldc: ldc)
        } else {
            let j0 = r.lowerBound * unit, j1 = min(n, r.upperBound * unit)
            gemm(transA: transA, transB: transB, m: m, n: j1 - j0, k: k, alpha: alpha, a: a, lda: lda,
                 b: b + (transB ? j0 * ldb : j0), ldb: ldb, beta: beta, c: c + j0, ldc: ldc)
        }
    }
}

/// C[M,N] = act(A[M,K] · B[K,N] + bias[M]), row-major, for `items` pairs (B, C) sharing A: a convolution's
/// GEMM with its epilogue, over a batch of images, through this thread's `kernels`.
///
/// On AVX-512 this is one pass of `gemmEpilogueAVX512` (bias and ReLU/clip applied to each tile in registers
/// before it is stored); other activations run over the tile's rows afterwards. On the portable table the bias is
/// written first, `cblas_sgemm` accumulates onto it and the activation runs after.
///
/// - Parameters:
///   - items: (B, C) pairs; item i reads `b + i * bItemStride` and writes `c + i * cItemStride`.
///   - a: `[M, K]`, leading dimension `lda`.
///   - b: `[K, N]` per item, leading dimension `ldb`.
///   - c: `[M, N]` per item, leading dimension `ldc`; may start uninitialised.
///   - bias: `[M]` or nil.
/// - Complexity: 2·items·M·N·K flops.
public func gemmBiasActivation(items: Int = 1, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                               b: UnsafePointer<Float>, bItemStride: Int = 0, ldb: Int,
                               c: UnsafeMutablePointer<Float>, cItemStride: Int = 0, ldc: Int,
                               bias: UnsafePointer<Float>?, activation: Activation) {
    if m == 0 || n == 0 || items == 0 { return }
    kernels.gemmEpilogue(items, m, n, k, a, lda, b, bItemStride, ldb, c, cItemStride, ldc, bias, activation)
}

/// `gemmBiasActivation` on AVX-512 (`KernelTable.avx512`).
func gemmBiasActivationAVX512(items: Int, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                              b: UnsafePointer<Float>, bItemStride: Int, ldb: Int,
                              c: UnsafeMutablePointer<Float>, cItemStride: Int, ldc: Int,
                              bias: UnsafePointer<Float>?, activation: Activation) {
    let bounds = activation.clampBounds
    let lo = bounds?.lo ?? -.infinity, hi = bounds?.hi ?? .infinity
    gemmEpilogueAVX512(items: items, m: m, n: n, k: k, a: a, lda: lda, b: b, bItemStride: bItemStride, ldb: ldb,
                       c: c, cItemStride: cItemStride, ldc: ldc, bias: bias, lo: lo, hi: hi)
    if bounds == nil {
        for i in 0..<items { for r in 0..<m { activation.apply(c + i * cItemStride + r * ldc, count: n) } }
    }
}

/// `gemmBiasActivation` on OpenBLAS (`KernelTable.portable`).
func gemmBiasActivationBLAS(items: Int, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, bItemStride: Int, ldb: Int,
                            c: UnsafeMutablePointer<Float>, cItemStride: Int, ldc: Int,
                            bias: UnsafePointer<Float>?, activation: Activation) {
    for i in 0..<items {
        let ci = c + i * cItemStride
        let beta = prefillBias(ci, rows: m, cols: n, ld: ldc, bias: bias)
        gemm(m: m, n: n, k: k, a: a, lda: lda, b: b + i * bItemStride, ldb: ldb, beta: beta, c: ci, ldc: ldc)
        biasActivation(ci, rows: m, cols: n, ld: ldc, bias: nil, activation: activation)
    }
}

/// Naive twin of `gemmBiasActivation` (double accumulation, then bias and activation per element).
public func gemmBiasActivationNaive(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                    b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                                    bias: UnsafePointer<Float>?, activation: Activation) {
    gemmNaive(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
    for i in 0..<m {
        for j in 0..<n { c[i * ldc + j] = activation.apply(c[i * ldc + j] + (bias?[i] ?? 0)) }
    }
}

/// `gemmBiasActivation` split over `computeThreads`: C's rows or columns are cut into panels of multiples
/// of 16 (on OpenBLAS: of `gemm`'s tiles, so that the result does not depend on the threads), each with its own
/// epilogue.
///
/// - Parameters: as `gemmBiasActivation`; `splitRows` chooses the side to cut (nil: the longer one).
/// - Complexity: 2·M·N·K flops.
public func gemmBiasActivationParallel(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                       b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                                       bias: UnsafePointer<Float>?, activation: Activation, splitRows: Bool? = nil) {
    if computeThreads == 1 || 2 * m * n * k < 200_000 {
        gemmBiasActivation(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, bias: bias, activation: activation)
        return
    }
    let splitRows = splitRows ?? (m >= n)
    // On OpenBLAS, split at `gemm`'s tile boundaries.
    let unit = kernels.isa == .avx512 ? 16 : splitRows ? blasRowBand : blasColumnBand
    let blocks = ((splitRows ? m : n) + unit - 1) / unit
    parallelChunks(blocks) { r in
        let lo = r.lowerBound * unit, hi = min(splitRows ? m : n, r.upperBound * unit)
        if splitRows {
            gemmBiasActivation(m: hi - lo, n: n, k: k, a: a + lo * lda, lda: lda, b: b, ldb: ldb, c: c + lo * ldc, ldc: ldc,
                               bias: bias.map { $0 + lo }, activation: activation)
        } else {
            gemmBiasActivation(m: m, n: hi - lo, k: k, a: a, lda: lda, b: b + lo, ldb: ldb, c: c + lo, ldc: ldc,
                               bias: bias, activation: activation)
        }
    }
}

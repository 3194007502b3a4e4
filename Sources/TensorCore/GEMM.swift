import COpenBLAS

/// Sets how many threads OpenBLAS may use for one GEMM.
public func setBLASThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

/// OpenBLAS's build configuration string (for report provenance), e.g. "OpenBLAS 0.3.21 ...".
public var blasConfiguration: String {
    guard let p = openblas_get_config() else { return "OpenBLAS" }
    return String(cString: p)
}

/// C[M,N] = alpha * op(A) * op(B) + beta * C, row-major, through `cblas_sgemm`.
///
/// - Parameters:
///   - a: `[M,K]` (or `[K,M]` when `transA`), leading dimension `lda`.
///   - b: `[K,N]` (or `[N,K]` when `transB`), leading dimension `ldb`.
///   - c: `[M,N]`, leading dimension `ldc`.
/// - Complexity: 2·M·N·K flops.
@inlinable
public func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                 alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                 b: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

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

import COpenBLAS
import Foundation

/// Projects the rows of a matrix, centred per column, on its first principal direction.
///
/// `x` is `[rows, cols]` row-major (for EigenCAM: one row per position, one column per channel). Each column's
/// mean is subtracted, the centred matrix A is decomposed A = U S Vᵀ by LAPACK's `sgesdd` (jobz "A", as
/// `numpy.linalg.svd(full_matrices=True)` calls it), and the result is A v₁, `[rows]`. The sign of v₁ is LAPACK's:
/// the same routine on the same matrix gives numpy's sign.
/// - Returns: nil when LAPACK reports failure (it does not converge).
/// - Complexity: O(rows · cols · min(rows, cols) + cols³) for the full Vᵀ numpy computes.
public func firstPrincipalProjection(_ x: [Float], rows m: Int, cols n: Int) -> [Float]? {
    precondition(x.count == m * n)
    let centred = centredColumns(x, rows: m, cols: n)
    // Column-major copy: a[i + j*m] = centred[i][j].
    var a = [Float](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n { a[i + j * m] = centred[i * n + j] } }
    var mm = Int32(m), nn = Int32(n), lda = Int32(m), ldu = Int32(m), ldvt = Int32(n), info: Int32 = 0
    var s = [Float](repeating: 0, count: min(m, n)), u = [Float](repeating: 0, count: m * m), vt = [Float](repeating: 0, count: n * n)
    var iwork = [Int32](repeating: 0, count: 8 * min(m, n))
    var query: Float = 0, lwork: Int32 = -1
    var job = Int8(UInt8(ascii: "A"))
    sgesdd_(&job, &mm, &nn, &a, &lda, &s, &u, &ldu, &vt, &ldvt, &query, &lwork, &iwork, &info)
    guard info == 0 else { return nil }
    lwork = Int32(query)
    var work = [Float](repeating: 0, count: Int(lwork))
    sgesdd_(&job, &mm, &nn, &a, &lda, &s, &u, &ldu, &vt, &ldvt, &work, &lwork, &iwork, &info)
    guard info == 0 else { return nil }
    // First row of Vᵀ (column-major n x n): vt[0 + j*n].
    var out = [Float](repeating: 0, count: m)
    for i in 0..<m {
        var d: Float = 0
        for j in 0..<n { d += centred[i * n + j] * vt[j * n] }
        out[i] = d
    }
    return out
}

/// Naive twin of `firstPrincipalProjection`: v₁ by power iteration on AᵀA in double precision, signed so that its
/// largest-magnitude entry is positive (LAPACK's sign is its own; compare the two up to sign).
public func firstPrincipalProjectionNaive(_ x: [Float], rows m: Int, cols n: Int, iterations: Int = 500) -> [Float] {
    let a = centredColumns(x, rows: m, cols: n).map(Double.init)
    var v = [Double](repeating: 1 / Double(n).squareRoot(), count: n)
    for _ in 0..<iterations {
        var av = [Double](repeating: 0, count: m)
        for i in 0..<m { for j in 0..<n { av[i] += a[i * n + j] * v[j] } }
        var w = [Double](repeating: 0, count: n)
        for i in 0..<m { for j in 0..<n { w[j] += a[i * n + j] * av[i] } }
        let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { break }
        v = w.map { $0 / norm }
    }
    if let big = v.indices.max(by: { abs(v[$0]) < abs(v[$1]) }), v[big] < 0 { v = v.map { -$0 } }
    return (0..<m).map { i in Float((0..<n).reduce(0.0) { $0 + a[i * n + $1] * v[$1] }) }
}

/// `x` `[rows, cols]` with each column's mean subtracted.
func centredColumns(_ x: [Float], rows m: Int, cols n: Int) -> [Float] {
    var mean = [Float](repeating: 0, count: n)
    for i in 0..<m { for j in 0..<n { mean[j] += x[i * n + j] } }
    for j in 0..<n { mean[j] /= Float(max(m, 1)) }
    var out = x
    for i in 0..<m { for j in 0..<n { out[i * n + j] -= mean[j] } }
    return out
}

import Testing
import TensorCore
import TestSupport

struct GEMMCase: CustomTestStringConvertible, Sendable {
    var m: Int, n: Int, k: Int, transA: Bool, transB: Bool
    /// Extra columns in each leading dimension (exercises lda/ldb/ldc larger than the row).
    var padLD: Int
    var alpha: Float, beta: Float
    var testDescription: String {
        "\(m)x\(n)x\(k) \(transA ? "T" : "N")\(transB ? "T" : "N") ld+\(padLD) alpha \(alpha) beta \(beta)"
    }
}

/// Every transpose combination over odd, unit and larger sizes.
let gemmCases: [GEMMCase] = {
    let sizes = [(1, 1, 1), (3, 5, 7), (17, 13, 11), (64, 1, 33), (1, 70, 9), (33, 65, 129), (8, 8, 0)]
    var out: [GEMMCase] = []
    for (i, s) in sizes.enumerated() {
        for ta in [false, true] {
            for tb in [false, true] {
                out.append(GEMMCase(m: s.0, n: s.1, k: s.2, transA: ta, transB: tb, padLD: i % 3,
                                    alpha: i % 2 == 0 ? 1 : 0.75, beta: i % 3 == 1 ? 0.5 : 0))
            }
        }
    }
    return out
}()

@Suite("GEMM")
struct GEMMTests {
    @Test("cblas gemm matches gemmNaive", arguments: gemmCases)
    func matchesNaive(_ c: GEMMCase) {
        var rng = SeededRandom(seed: UInt64(c.m * 10_007 + c.n * 101 + c.k))
        // Stored shapes (rows x cols) before the leading-dimension padding.
        let aRows = c.transA ? c.k : c.m, aCols = c.transA ? c.m : c.k
        let bRows = c.transB ? c.n : c.k, bCols = c.transB ? c.k : c.n
        let lda = aCols + c.padLD, ldb = bCols + c.padLD, ldc = c.n + c.padLD
        let a = rng.tensor([max(aRows, 1), max(lda, 1)]).data   // [aRows, lda]
        let b = rng.tensor([max(bRows, 1), max(ldb, 1)]).data   // [bRows, ldb]
        let c0 = rng.tensor([c.m, max(ldc, 1)]).data             // [M, ldc]
        var fast = c0, naive = c0
        gemm(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, alpha: c.alpha, a: a, lda: max(lda, 1),
             b: b, ldb: max(ldb, 1), beta: c.beta, c: &fast, ldc: max(ldc, 1))
        gemmNaive(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, alpha: c.alpha, a: a, lda: max(lda, 1),
                  b: b, ldb: max(ldb, 1), beta: c.beta, c: &naive, ldc: max(ldc, 1))
        let mismatch = compare(fast, naive, rtol: 1e-4, atol: 1e-5 * Float(max(c.k, 1)))
        #expect(mismatch == nil, "\(describe(mismatch))")
        // The padding columns of C are untouched.
        for i in 0..<c.m { for j in c.n..<max(ldc, 1) { #expect(fast[i * ldc + j] == c0[i * ldc + j]) } }
    }
}

import Foundation
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
    // One-row products with k around the 16-float steps of the AVX-512 row-dot kernel and n around its 8 rows.
    let sizes = [(1, 1, 1), (3, 5, 7), (17, 13, 11), (64, 1, 33), (1, 70, 9), (33, 65, 129), (8, 8, 0),
                 (1, 13, 61), (1, 17, 49), (1, 9, 80), (1, 6, 32), (1, 1000, 1280),
                 // Past the AVX-512 driver's 224-row block, 256-step K block and 1024-long K (A packed).
                 (230, 70, 300), (20, 40, 1100)]
    var out: [GEMMCase] = []
    for (i, s) in sizes.enumerated() {
        for ta in [false, true] {
            for tb in [false, true] {
                out.append(GEMMCase(m: s.0, n: s.1, k: s.2, transA: ta, transB: tb, padLD: (i + (ta ? 1 : 0)) % 3,
                                    alpha: i % 2 == 0 ? 1 : 0.75, beta: [0, 0.5, 1][(i + (tb ? 1 : 0)) % 3]))
            }
        }
    }
    return out
}()

@Suite("GEMM")
struct GEMMTests {
    @Test("gemm matches gemmNaive on both kernel paths", arguments: gemmCases)
    func matchesNaive(_ c: GEMMCase) {
        for isa in [KernelISA.avx512, .avx2] where isa != .avx512 || cpuKernelISA == .avx512 {
            withKernelISA(isa) { check(c, "\(isa)") }
        }
    }

    func check(_ c: GEMMCase, _ isa: String) {
        var rng = SeededRandom(seed: UInt64(c.m * 10_007 + c.n * 101 + c.k))
        // Stored shapes (rows x cols) before the leading-dimension padding.
        let aRows = c.transA ? c.k : c.m, aCols = c.transA ? c.m : c.k
        let bRows = c.transB ? c.n : c.k, bCols = c.transB ? c.k : c.n
        let lda = aCols + c.padLD, ldb = bCols + c.padLD, ldc = c.n + c.padLD
        let a = rng.tensor([max(aRows, 1), max(lda, 1)]).data   // [aRows, lda]
        let b = rng.tensor([max(bRows, 1), max(ldb, 1)]).data   // [bRows, ldb]
        // With beta 0, C is not to be read: NaN there must not reach the result.
        let c0 = c.beta == 0 ? [Float](repeating: .nan, count: c.m * max(ldc, 1)) : rng.tensor([c.m, max(ldc, 1)]).data   // [M, ldc]
        var fast = c0, naive = c0
        gemm(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, alpha: c.alpha, a: a, lda: max(lda, 1),
             b: b, ldb: max(ldb, 1), beta: c.beta, c: &fast, ldc: max(ldc, 1))
        gemmNaive(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, alpha: c.alpha, a: a, lda: max(lda, 1),
                  b: b, ldb: max(ldb, 1), beta: c.beta, c: &naive, ldc: max(ldc, 1))
        let mismatch = compare(fast, naive, rtol: 1e-4, atol: 1e-5 * Float(max(c.k, 1)))
        #expect(mismatch == nil, "\(isa): \(describe(mismatch))")
        // The padding columns of C are untouched.
        for i in 0..<c.m { for j in c.n..<max(ldc, 1) { #expect(fast[i * ldc + j].bitPattern == c0[i * ldc + j].bitPattern, "\(isa)") } }
    }
}

struct EpilogueCase: CustomTestStringConvertible, Sendable {
    var items: Int
    var m: Int, n: Int, k: Int
    var activation: Activation
    var bias: Bool
    var testDescription: String { "\(items) x \(m)x\(n)x\(k) \(activation)\(bias ? " bias" : "")" }
}

/// Shapes around the AVX-512 tiles (8 rows; 32 and 16 columns), their zero-padded edges, and batches whose
/// remainder columns share packed panels across items.
let epilogueCases: [EpilogueCase] = {
    let sizes = [(1, 1, 1, 1), (1, 8, 32, 16), (1, 7, 15, 3), (1, 9, 17, 5), (1, 16, 49, 192), (1, 19, 33, 37), (1, 24, 48, 0),
                 (1, 40, 100, 24), (1, 3, 64, 130), (16, 24, 49, 40), (3, 13, 20, 7), (5, 8, 7, 9), (2, 16, 64, 8),
                 (1, 21, 49, 70), (2, 9, 34, 33), (1, 8, 3, 40), (2, 11, 20, 0)]
    let acts: [Activation] = [.identity, .relu, .clip(0, 6), .clip(-0.5, 0.25), .sigmoid]
    return sizes.enumerated().map { i, s in
        EpilogueCase(items: s.0, m: s.1, n: s.2, k: s.3, activation: acts[i % acts.count], bias: i % 3 != 2)
    }
}()

@Suite("GEMM with bias and activation")
struct GEMMEpilogueTests {
    @Test("gemmBiasActivation matches gemmBiasActivationNaive on both kernel paths",
          arguments: epilogueCases, [KernelISA.avx2, .avx512])
    func matchesNaive(_ c: EpilogueCase, _ isa: KernelISA) {
        var rng = SeededRandom(seed: UInt64(c.m * 131 + c.n * 7 + c.k + c.items))
        let lda = c.k + 3, ldb = c.n + 5, ldc = c.n + 2
        let bStride = max(c.k, 1) * ldb + 11, cStride = c.m * ldc + 6     // items apart, with gaps
        let a = rng.tensor([c.m, lda]).data                                // [M, lda]
        let b = rng.tensor([c.items * bStride]).data                       // items x [K, ldb], gaps
        let bias = rng.tensor([c.m]).data                                  // [M]
        let sentinel: Float = -12345
        var fast = [Float](repeating: sentinel, count: c.items * cStride)  // items x [M, ldc], gaps
        var naive = fast
        func run(_ bp: UnsafePointer<Float>?) {
            withKernelISA(isa) {
                gemmBiasActivation(items: c.items, m: c.m, n: c.n, k: c.k, a: a, lda: lda, b: b, bItemStride: bStride, ldb: ldb,
                                   c: &fast, cItemStride: cStride, ldc: ldc, bias: bp, activation: c.activation)
            }
            b.withUnsafeBufferPointer { bb in
                naive.withUnsafeMutableBufferPointer { nb in
                    for i in 0..<c.items {
                        gemmBiasActivationNaive(m: c.m, n: c.n, k: c.k, a: a, lda: lda, b: bb.baseAddress! + i * bStride, ldb: ldb,
                                                c: nb.baseAddress! + i * cStride, ldc: ldc, bias: bp, activation: c.activation)
                    }
                }
            }
        }
        if c.bias { bias.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
        let mismatch = compare(fast, naive, rtol: 1e-4, atol: 1e-5 * Float(max(c.k, 1)))
        #expect(mismatch == nil, "\(describe(mismatch))")
        // Nothing outside each item's [M, N] block is written.
        for i in 0..<c.items {
            for r in 0..<c.m { for j in c.n..<ldc { #expect(fast[i * cStride + r * ldc + j] == sentinel) } }
            for j in (c.m * ldc)..<cStride { #expect(fast[i * cStride + j] == sentinel) }
        }
    }
}

@Suite("Kernel ISA")
struct KernelISATests {
    @Test("AVX-512 kernels are chosen exactly when /proc/cpuinfo lists avx512f, bw, dq and vl")
    func detectionAgreesWithProcCPUInfo() throws {
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        guard let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let expected = ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
        #expect((cpuKernelISA == .avx512) == expected)
    }
}

struct PackedCase: CustomTestStringConvertible, Sendable {
    var m: Int, n: Int, k: Int
    var transposed: Bool
    var activation: Activation
    var bias: Bool, accumulate: Bool
    var testDescription: String {
        "\(m)x\(n)x\(k)\(transposed ? " B^T" : "") \(activation)\(bias ? " bias" : "")\(accumulate ? " +C" : "")"
    }
}

/// Shapes around the packed kernel's tiles (14 and 4 rows on AVX-512, 6 on AVX2; 32-column panels), its K blocks (256), row blocks (224)
/// and groups of four panels, both ways of reading A (packed when K > 1024 or N < 128, sixteen steps of K at a time
/// and the rest one by one), single rows (the matrix-vector kernel), and empty K.
let packedCases: [PackedCase] = {
    let sizes = [(1, 1, 1), (1, 70, 403), (1, 33, 8), (1, 1000, 1280), (2, 32, 16), (14, 32, 7), (15, 33, 9), (13, 31, 300), (9, 17, 257), (4, 64, 5), (8, 48, 1),
                 (197, 70, 64), (169, 40, 40), (30, 2050, 3), (20, 20, 1100), (5, 7, 0), (183, 95, 512), (3, 100, 33),
                 (25, 40, 1030), (40, 2049, 5), (450, 200, 600), (240, 100, 300), (229, 60, 1100), (238, 170, 1030)]
    let acts: [Activation] = [.identity, .gelu, .relu, .clip(-0.5, 0.25), .sigmoid]
    return sizes.enumerated().map { i, s in
        PackedCase(m: s.0, n: s.1, k: s.2, transposed: i % 2 == 1, activation: acts[i % acts.count], bias: i % 3 != 2,
                   accumulate: i % 4 == 3)
    }
}()

@Suite("GEMM on packed panels")
struct PackedGEMMTests {
    @Test("gemmPacked matches gemmPackedNaive on both kernel paths, with one or two threads",
          arguments: packedCases, [KernelISA.avx2, .avx512])
    func matchesNaive(_ c: PackedCase, _ isa: KernelISA) {
        var rng = SeededRandom(seed: UInt64(c.m * 131 + c.n * 7 + c.k))
        let lda = c.k + 3, ldc = c.n + 2
        let a = rng.tensor([c.m, max(lda, 1)]).data                        // [M, lda]
        let b = rng.tensor([max(c.k, 1), max(c.n, 1)]).data                // [K, N]
        var bt = [Float](repeating: 0, count: b.count)                     // [N, K]
        for p in 0..<c.k { for j in 0..<c.n { bt[j * c.k + p] = b[p * c.n + j] } }
        let bias = rng.tensor([c.n]).data                                  // [N]
        let c0 = rng.tensor([c.m, ldc]).data                               // [M, ldc]
        let packed = (c.transposed ? bt : b).withUnsafeBufferPointer {
            PackedPanels($0.baseAddress!, ldb: c.transposed ? max(c.k, 1) : c.n, k: c.k, n: c.n, transposed: c.transposed)
        }
        var naive = c0
        b.withUnsafeBufferPointer { bb in
            bias.withUnsafeBufferPointer { bp in
                gemmPackedNaive(m: c.m, n: c.n, k: c.k, a: a, lda: lda, b: bb.baseAddress!, ldb: c.n, c: &naive, ldc: ldc,
                                accumulate: c.accumulate, bias: c.bias ? bp.baseAddress! : nil, activation: c.activation)
            }
        }
        for threads in [1, 2] {
            var fast = c0
            withKernelISA(isa) {
                withComputeThreads(threads) {
                    bias.withUnsafeBufferPointer { bp in
                        gemmPacked(m: c.m, a: a, lda: lda, packed: packed, c: &fast, ldc: ldc, accumulate: c.accumulate,
                                   bias: c.bias ? bp.baseAddress! : nil, activation: c.activation)
                    }
                }
            }
            let mismatch = compare(fast, naive, rtol: 1e-4, atol: 1e-5 * Float(max(c.k, 1)))
            #expect(mismatch == nil, "\(isa), \(threads) thread(s): \(describe(mismatch))")
            // The padding columns of C are untouched.
            for i in 0..<c.m { for j in c.n..<ldc { #expect(fast[i * ldc + j] == c0[i * ldc + j]) } }
        }
    }

    @Test("PackedPanels.offset finds every element of B where the packing put it, and the panels are zero past N",
          arguments: [(5, 1), (7, 32), (3, 33), (40, 70)])
    func offsetMatchesPacking(_ shape: (Int, Int)) {
        let (k, n) = shape
        let b = (0..<(k * n)).map { Float($0 + 1) }                           // [K, N]
        let packed = b.withUnsafeBufferPointer { PackedPanels($0.baseAddress!, ldb: n, k: k, n: n) }
        packed.data.withUnsafeBufferPointer { d in
            let panels = alignedWeights(d.baseAddress!)
            for p in 0..<k {
                for j in 0..<n { #expect(panels[PackedPanels.offset(row: p, column: j, k: k)] == b[p * n + j], "(\(p), \(j))") }
                for j in n..<(packed.panels * 32) { #expect(panels[PackedPanels.offset(row: p, column: j, k: k)] == 0) }
            }
        }
    }

    /// Shapes that split over two threads by row tiles (more rows than columns) and by column panels.
    @Test("The packed kernel's result does not depend on the number of threads (per-block sums over K, added in order)",
          arguments: [(197, 300, 600), (60, 300, 600), (600, 96, 96)], [KernelISA.avx2, .avx512])
    func threadInvariant(_ shape: (Int, Int, Int), _ isa: KernelISA) {
        var rng = SeededRandom(seed: 7)
        let (m, n, k) = shape
        let a = rng.tensor([m, k]).data, b = rng.tensor([k, n]).data
        let packed = b.withUnsafeBufferPointer { PackedPanels($0.baseAddress!, ldb: n, k: k, n: n) }
        var one = [Float](repeating: 0, count: m * n), two = one
        withKernelISA(isa) {
            withComputeThreads(1) { gemmPacked(m: m, a: a, lda: k, packed: packed, c: &one, ldc: n, bias: nil) }
            withComputeThreads(2) { gemmPacked(m: m, a: a, lda: k, packed: packed, c: &two, ldc: n, bias: nil) }
        }
        #expect(one == two)
    }
}

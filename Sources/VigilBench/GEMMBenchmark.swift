import ArgumentParser
import COpenBLAS
import Foundation
import TensorCore

/// Times single GEMMs of transformer shapes (ViT-B/16 at batch 1 by default) on Vigil's packed-panel kernel and on
/// OpenBLAS, single items hot in cache, and prints GFLOP/s, the ratio and the share of the measured peak.
struct GEMMBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Time GEMMs of ViT-B/16's shapes on Vigil's packed-panel kernel (AVX-512 or AVX2, weights packed once) and on OpenBLAS, and print GFLOP/s and the ratio."
    )

    @Option(help: "Threads per GEMM.")
    var threads = 2

    @Option(help: "Timed runs per shape (the median is reported).")
    var runs = 30

    @Option(help: "Rows of A (tokens times batch).")
    var rows = 197

    @Option(help: "Comma-separated KxN shapes instead of ViT-B/16's (e.g. 96x384,384x96 for ConvNeXt-T's first stage).")
    var shapes: String?

    @Flag(help: "Weights cold, as a model's layers find them: each run uses the next of enough copies of B (both engines' forms) to fill 96 MiB, more than the last-level cache, so B comes from memory.")
    var cold = false

    @Option(help: "CPU fp32 peak in GFLOP/s, to print the share achieved (default: measured with a register-only multiply-add loop on --threads threads).")
    var peakGflops: Double?

    func run() throws {
        let vit: [(String, Int, Int)] = [("qkv 768->2304", 768, 2304), ("proj 768->768", 768, 768), ("fc1 768->3072", 768, 3072),
                                            ("fc2 3072->768", 3072, 768), ("scores 64->197", 64, 197), ("context 197->64", 197, 64)]
        let given: [(String, Int, Int)]? = try shapes.map { list in
            try list.split(separator: ",").map { item in
                let parts = item.split(separator: "x").compactMap { Int($0) }
                guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else { throw ValidationError("--shapes takes KxN pairs such as 96x384, not '\(item)'") }
                return ("\(parts[0])->\(parts[1])", parts[0], parts[1])
            }
        }
        let shapes = given ?? vit
        let peak = peakGflops ?? measuredPeakGFLOPS(threads: threads)
        print(String(format: "%d rows, %d thread(s), median of %d runs, weights %@; peak %.0f GFLOP/s (multiply-add loop)", rows, threads, runs,
                     cold ? "cold (from memory)" : "hot (in cache)", peak))
        print("| GEMM | K | N | packed GFLOP/s | OpenBLAS GFLOP/s | packed vs OpenBLAS | share of peak |")
        print("|---|---|---|---|---|---|---|")
        var rng = SystemRandomNumberGenerator()
        for (name, k, n) in shapes {
            let m = rows
            let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
            var c = [Float](repeating: 0, count: m * n)
            let copies = cold ? max(2, (96 << 20) / (8 * k * n)) : 1
            let bs = (0..<copies).map { _ in b.map { $0 } }   // distinct storage, not copies on write of one array
            let packed = bs.map { b in b.withUnsafeBufferPointer { PackedPanels($0.baseAddress!, ldb: n, k: k, n: n) } }
            var next = 0, nextBLAS = 0
            // The two alternate run by run, so a slow spell of this machine slows both alike.
            let (once, blas) = withComputeThreads(threads) {
                medianSecondsInterleaved(runs: runs, warmup: 3,
                                         { gemmPacked(m: m, a: a, lda: k, packed: packed[next], c: &c, ldc: n, bias: nil); next = (next + 1) % copies },
                                         { openBLAS(m: m, n: n, k: k, a: a, b: bs[nextBLAS], c: &c, threads: threads); nextBLAS = (nextBLAS + 1) % copies })
            }
            let f = 2 * Double(m * n * k) / 1e9
            print(String(format: "| %@ | %d | %d | %.1f | %.1f | %.2fx | %.0f%% |", name, k, n, f / once, f / blas,
                         blas / once, 100 * f / once / peak))
        }
    }
}

/// C[M,N] = A[M,K] · B[K,N] through OpenBLAS's sgemm, single-threaded calls on `threads` threads over bands of C's rows
/// (how Vigil called it before it had a GEMM of its own on AVX2).
private func openBLAS(m: Int, n: Int, k: Int, a: [Float], b: [Float], c: inout [Float], threads: Int) {
    openblas_set_num_threads(1)
    let band = (m + threads - 1) / threads
    a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
                nonisolated(unsafe) let a = ap.baseAddress!, b = bp.baseAddress!, c = cp.baseAddress!
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    let i0 = t * band, rows = min(m, i0 + band) - i0
                    if rows <= 0 { return }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(n), Int32(k), 1, a + i0 * k, Int32(k),
                                b, Int32(n), 0, c + i0 * n, Int32(n))
                }
            }
        }
    }
}

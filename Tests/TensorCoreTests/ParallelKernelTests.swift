import Dispatch
import Testing
import TensorCore
import TestSupport

/// Cases big enough that conv2d takes its threaded paths (panel-split GEMMs at batch 1, per-image tasks at
/// batch > 1) and the vectorised depthwise kernel runs full vectors, tails and every stride phase.
let parallelConvCases: [ConvCase] = [
    ConvCase(label: "1x1 batch 1 split rows (M > HW)", inC: 40, h: 5, w: 7, outC: 120, window: Window2D(kernelH: 1, kernelW: 1)),
    ConvCase(label: "1x1 batch 1 split columns (HW > M)", inC: 24, h: 23, w: 29, outC: 40, window: Window2D(kernelH: 1, kernelW: 1),
             activation: .clip(0, 6)),
    ConvCase(label: "1x1 batch 5 per-image tasks relu", batch: 5, inC: 33, h: 13, w: 11, outC: 47, window: Window2D(kernelH: 1, kernelW: 1),
             activation: .relu),
    ConvCase(label: "3x3/2 batch 1 im2col split columns", inC: 3, h: 57, w: 61, outC: 32,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "3x3 batch 3 im2col per-image tasks", batch: 3, inC: 8, h: 21, w: 19, outC: 24,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "groups 3 batch 1 3x3 split", inC: 12, h: 30, w: 30, outC: 48, groups: 3,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "depthwise 5x5/1 pad 2 width 29 (3 vectors + tail)", batch: 2, inC: 24, h: 17, w: 29, outC: 24, groups: 24,
             window: Window2D(kernelH: 5, kernelW: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2), activation: .clip(0, 6)),
    ConvCase(label: "depthwise 3x3/2 pad 0/0/1/1 width 56", inC: 16, h: 56, w: 56, outC: 16, groups: 16,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "depthwise 5x5/2 odd pads width 15", batch: 3, inC: 10, h: 15, w: 15, outC: 10, groups: 10,
             window: Window2D(kernelH: 5, kernelW: 5, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 2, padRight: 2)),
    ConvCase(label: "depthwise 3x3/1 width 7 (one partial vector) sigmoid", batch: 4, inC: 32, h: 7, w: 7, outC: 32, groups: 32,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .sigmoid),
    ConvCase(label: "depthwise 3x3/3 dilation 2 multiplier 2 width 40", inC: 6, h: 31, w: 40, outC: 12, groups: 6,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 3, strideW: 3, dilationH: 2, dilationW: 2, padTop: 2, padLeft: 3, padBottom: 2, padRight: 1)),
    ConvCase(label: "depthwise 7x7 pad 3 no bias width 9", batch: 2, inC: 5, h: 12, w: 9, outC: 5, groups: 5,
             window: Window2D(kernelH: 7, kernelW: 7, padTop: 3, padLeft: 3, padBottom: 3, padRight: 3), bias: false),
]

@Suite("Threaded kernels")
struct ParallelKernelTests {
    @Test("threaded conv2d matches conv2dNaive", arguments: parallelConvCases)
    func convMatchesNaive(_ c: ConvCase) {
        let (x, w, b) = convOperands(c, seed: UInt64(c.label.utf8.count * 31 + c.outC))
        let fast = runConv(c, x, w, b, naive: false)
        let naive = runConv(c, x, w, b, naive: true)
        let m = compare(fast, naive, rtol: 1e-4, atol: 1e-5 * Float(c.shape.colRows))
        #expect(m == nil, "\(describe(m))")
        #expect(!fast.contains { $0.isNaN }, "an output element was left unwritten")
    }

    @Test("gemmParallel matches gemmNaive on both kernel paths, and its outputs do not depend on the thread count",
          arguments: [(200, 30, 64, false, false), (30, 300, 50, false, true), (130, 70, 40, true, false), (17, 500, 33, true, true),
                      (197, 197, 64, false, true), (240, 64, 300, false, false), (1, 1000, 1280, false, false),
                      (1, 1000, 1280, true, false), (1, 600, 700, false, true), (60, 100, 64, false, false),
                      (40, 300, 1100, true, false)])
    func gemmParallelMatchesNaive(_ c: (Int, Int, Int, Bool, Bool)) {
        let (m, n, k, ta, tb) = c
        var rng = SeededRandom(seed: UInt64(m * 31 + n))
        let a = rng.tensor([m * k]).data, b = rng.tensor([k * n]).data   // op(A) [M,K], op(B) [K,N]
        let c0 = rng.tensor([m * n]).data                                // [M, N]
        var naive = c0
        gemmNaive(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n,
                  beta: 0.25, c: &naive, ldc: n)
        for isa in [KernelISA.avx512, .avx2] where isa != .avx512 || cpuKernelISA == .avx512 {
            let outputs = [1, 2, 3].map { threads in
                var fast = c0
                withKernelISA(isa) {
                    withComputeThreads(threads) {
                        gemmParallel(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: ta ? m : k, b: b,
                                     ldb: tb ? k : n, beta: 0.25, c: &fast, ldc: n)
                    }
                }
                return fast
            }
            let mm = compare(outputs[0], naive, rtol: 1e-4, atol: 1e-5 * Float(k))
            #expect(mm == nil, "\(isa): \(describe(mm))")
            #expect(outputs[1] == outputs[0] && outputs[2] == outputs[0], "\(isa): the thread count changed an output")
        }
    }

    @Test("parallelChunks covers every item exactly once")
    func chunksCover() {
        for count in [0, 1, 2, 3, 7, 64, 1001] {
            var hits = [Int](repeating: 0, count: count)
            hits.withUnsafeMutableBufferPointer { h in
                let p = h.baseAddress
                parallelChunks(count) { r in for i in r { p![i] += 1 } }
            }
            #expect(hits.allSatisfy { $0 == 1 }, "count \(count)")
        }
    }

    @Test("parallelChunks from several threads at once (pool busy -> Dispatch fallback) covers every item once")
    func concurrentCallers() {
        let callers = 4, rounds = 300, count = 97
        var hits = [Int32](repeating: 0, count: callers * count)
        hits.withUnsafeMutableBufferPointer { h in
            nonisolated(unsafe) let p = h.baseAddress!
            DispatchQueue.concurrentPerform(iterations: callers) { caller in
                for _ in 0..<rounds {
                    parallelChunks(count) { r in for i in r { p[caller * count + i] += 1 } }
                }
            }
        }
        #expect(hits.allSatisfy { $0 == Int32(rounds) })
    }

    @Test("threaded conv2d from two executors' threads at once matches conv2dNaive")
    func concurrentConvs() {
        let cases = [parallelConvCases[0], parallelConvCases[6]]
        let expected = cases.map { c -> [Float] in
            let (x, w, b) = convOperands(c, seed: 3)
            return runConv(c, x, w, b, naive: true)
        }
        var ok = [Bool](repeating: false, count: 8)
        ok.withUnsafeMutableBufferPointer { okp in
        nonisolated(unsafe) let okp = okp
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let c = cases[i % 2]
            let (x, w, b) = convOperands(c, seed: 3)
            var good = true
            for _ in 0..<10 {
                if compare(runConv(c, x, w, b, naive: false), expected[i % 2], rtol: 1e-4, atol: 1e-5 * Float(c.shape.colRows)) != nil { good = false }
            }
            okp[i] = good
        }
        }
        #expect(ok.allSatisfy { $0 })
    }
}

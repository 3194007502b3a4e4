import ArgumentParser
import Foundation
import TensorCore

/// Times single convolutions (EfficientNet-Lite0's shapes by default) on both kernel paths, hot in cache.
struct KernelBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Time single convolutions of EfficientNet-Lite0's and ResNet-50's shapes on the channel-blocked kernels models run (this CPU's best, or the portable AVX2 ones with --isa avx2) and on the NCHW AVX-512 and portable (AVX2/OpenBLAS) kernels, and print GFLOP/s and the ratio."
    )

    @Option(help: "Threads per kernel call.")
    var threads = 1

    @Option(help: "Timed runs per shape (the median is reported).")
    var runs = 50

    @Option(help: "Only the shapes whose name contains this text.")
    var only: String?

    @Option(help: "Only this kernel path (avx512 or avx2) for the NCHW kernels, and the blocked kernels of that path; default both NCHW paths and this CPU's best blocked kernels.")
    var isa: String?

    @Option(help: "Images per call (incremental occlusion's tail runs its K occluded copies as one batch).")
    var batch = 1

    @Flag(help: "Report each shape's fastest run instead of the median (on a shared, noisy machine the fastest is the least disturbed).")
    var fastest = false

    func run() throws {
        guard batch >= 1 && batch <= 256 else { throw ValidationError("--batch must be 1...256, not \(batch).") }
        try withComputeThreads(threads) { try measure() }
    }

    func measure() throws {
        let pw = Window2D(kernelH: 1, kernelW: 1)
        func dw(_ k: Int, _ st: Int) -> Window2D {
            let p = k / 2
            return Window2D(kernelH: k, kernelW: k, strideH: st, strideW: st, padTop: st == 2 ? p - 1 + (k == 3 ? 1 : 0) : p, padLeft: st == 2 ? p - 1 + (k == 3 ? 1 : 0) : p, padBottom: p, padRight: p)
        }
        let shapes: [(String, ConvShape)] = [
            ("stem 3x3/2 3->32 224", ConvShape(batch: 1, inC: 3, inH: 224, inW: 224, outC: 32, groups: 1,
                                              window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padBottom: 1, padRight: 1))),
            ("dw 3x3 32 112", ConvShape(batch: 1, inC: 32, inH: 112, inW: 112, outC: 32, groups: 32, window: dw(3, 1))),
            ("dw 3x3/2 96 112", ConvShape(batch: 1, inC: 96, inH: 112, inW: 112, outC: 96, groups: 96, window: dw(3, 2))),
            ("dw 3x3 144 56", ConvShape(batch: 1, inC: 144, inH: 56, inW: 56, outC: 144, groups: 144, window: dw(3, 1))),
            ("dw 5x5 240 28", ConvShape(batch: 1, inC: 240, inH: 28, inW: 28, outC: 240, groups: 240, window: dw(5, 1))),
            ("dw 3x3/2 240 28", ConvShape(batch: 1, inC: 240, inH: 28, inW: 28, outC: 240, groups: 240, window: dw(3, 2))),
            ("dw 3x3 480 14", ConvShape(batch: 1, inC: 480, inH: 14, inW: 14, outC: 480, groups: 480, window: dw(3, 1))),
            ("dw 5x5/2 144 56", ConvShape(batch: 1, inC: 144, inH: 56, inW: 56, outC: 144, groups: 144, window: dw(5, 2))),
            ("dw 5x5 672 14", ConvShape(batch: 1, inC: 672, inH: 14, inW: 14, outC: 672, groups: 672, window: dw(5, 1))),
            ("dw 5x5 1152 7", ConvShape(batch: 1, inC: 1152, inH: 7, inW: 7, outC: 1152, groups: 1152, window: dw(5, 1))),
            ("1x1 16->96 112", ConvShape(batch: 1, inC: 16, inH: 112, inW: 112, outC: 96, groups: 1, window: pw)),
            ("1x1 24->144 56", ConvShape(batch: 1, inC: 24, inH: 56, inW: 56, outC: 144, groups: 1, window: pw)),
            ("1x1 112->672 14", ConvShape(batch: 1, inC: 112, inH: 14, inW: 14, outC: 672, groups: 1, window: pw)),
            ("1x1 192->1152 7", ConvShape(batch: 1, inC: 192, inH: 7, inW: 7, outC: 1152, groups: 1, window: pw)),
            ("1x1 32->16 112", ConvShape(batch: 1, inC: 32, inH: 112, inW: 112, outC: 16, groups: 1, window: pw)),
            ("1x1 144->24 56", ConvShape(batch: 1, inC: 144, inH: 56, inW: 56, outC: 24, groups: 1, window: pw)),
            ("1x1 240->40 28", ConvShape(batch: 1, inC: 240, inH: 28, inW: 28, outC: 40, groups: 1, window: pw)),
            ("1x1 672->112 14", ConvShape(batch: 1, inC: 672, inH: 14, inW: 14, outC: 112, groups: 1, window: pw)),
            ("1x1 1152->192 7", ConvShape(batch: 1, inC: 1152, inH: 7, inW: 7, outC: 192, groups: 1, window: pw)),
            // ResNet-50's.
            ("r50 3x3 64 56", ConvShape(batch: 1, inC: 64, inH: 56, inW: 56, outC: 64, groups: 1, window: dw(3, 1))),
            ("r50 3x3 256 14", ConvShape(batch: 1, inC: 256, inH: 14, inW: 14, outC: 256, groups: 1, window: dw(3, 1))),
            ("r50 3x3 512 7", ConvShape(batch: 1, inC: 512, inH: 7, inW: 7, outC: 512, groups: 1, window: dw(3, 1))),
            ("r50 3x3/2 256 28", ConvShape(batch: 1, inC: 256, inH: 28, inW: 28, outC: 256, groups: 1, window: dw(3, 2))),
            ("r50 1x1 256->1024 14", ConvShape(batch: 1, inC: 256, inH: 14, inW: 14, outC: 1024, groups: 1, window: pw)),
            ("r50 1x1 512->2048 7", ConvShape(batch: 1, inC: 512, inH: 7, inW: 7, outC: 2048, groups: 1, window: pw)),
            ("r50 1x1 64->256 56", ConvShape(batch: 1, inC: 64, inH: 56, inW: 56, outC: 256, groups: 1, window: pw)),
        ]
        print(String(format: "%d thread(s), batch %d, %@ of %d runs; detected kernels: %@", threads, batch, fastest ? "fastest" : "median", runs, cpuKernelISA.rawValue))
        let blockedISA = KernelTable.table(for: isa == "avx2" ? .avx2 : .avx512).isa.rawValue
        print("| convolution | MMAC | blocked \(blockedISA) us | NCHW avx512 us | NCHW avx2 us | blocked GFLOP/s | NCHW avx512 GFLOP/s | NCHW avx2 GFLOP/s | blocked vs NCHW \(blockedISA) | NCHW avx512 vs avx2 |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        var rng = SystemRandomNumberGenerator()
        for (name, one) in shapes where only.map({ name.contains($0) }) ?? true {
            var s = one
            s.batch = batch
            let x = (0..<(s.batch * s.inC * s.inH * s.inW)).map { _ in Float.random(in: -1...1, using: &rng) }
            let w = (0..<(s.outC * s.inCPerGroup * s.window.kernelH * s.window.kernelW)).map { _ in Float.random(in: -1...1, using: &rng) }
            let b = (0..<s.outC).map { _ in Float.random(in: -1...1, using: &rng) }
            var y = [Float](repeating: 0, count: s.batch * s.outC * s.outH * s.outW)
            var scratch = [Float](repeating: 0, count: max(1, s.scratchCount))
            func time(_ isa: KernelISA) -> Double {
                withKernelISA(isa) {
                    1e6 * medianSeconds(runs: runs, warmup: 5, fastest: fastest) {
                        conv2d(x, weight: w, bias: b, shape: s, activation: .clip(0, 6), y: &y, scratch: &scratch)
                    }
                }
            }
            // The channel-blocked kernel on the same values (blocked input, packed weights).
            func timeBlocked(_ isa: KernelISA) -> Double {
                guard let kind = BlockedConvKind.choose(s, blockedInput: s.inC > 4) else { return .nan }
                let pixels = s.inH * s.inW
                var xb = [Float](repeating: 0, count: kind == .planarInput ? x.count : s.batch * ChannelBlocks.count(s.inC) * 16 * pixels)
                if kind == .planarInput { xb = x } else { toChannelBlocked(x, batch: s.batch, channels: s.inC, pixels: pixels, y: &xb) }
                let pw = w.withUnsafeBufferPointer { kind.packWeights($0.baseAddress!, shape: s) }
                let pb = packBlockedBias(b, channels: s.outC)
                // 64-byte aligned operands, as the executor's arena gives them.
                let yCount = s.batch * ChannelBlocks.count(s.outC) * 16 * s.outH * s.outW
                let xa = UnsafeMutableRawPointer.allocate(byteCount: xb.count * 4, alignment: 64).bindMemory(to: Float.self, capacity: xb.count)
                let ya = UnsafeMutableRawPointer.allocate(byteCount: yCount * 4, alignment: 64).bindMemory(to: Float.self, capacity: yCount)
                defer { xa.deallocate(); ya.deallocate() }
                xa.update(from: xb, count: xb.count)
                return withKernelISA(isa) {
                    1e6 * medianSeconds(runs: runs, warmup: 5, fastest: fastest) {
                        blockedConv2d(kind, xa, packedWeights: pw, bias: pb, shape: s, activation: .clip(0, 6), y: ya)
                    }
                }
            }
            // The blocked kernels of the path asked for (--isa avx2: the portable table's, which a CPU without AVX-512
            // runs in models; else this CPU's best).
            let blocked = timeBlocked(isa == "avx2" ? .avx2 : .avx512)
            let fast = isa == "avx2" ? .nan : time(.avx512), port = isa == "avx512" ? .nan : time(.avx2)
            let macs = Double(s.macs)
            print(String(format: "| %@ | %.2f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2fx |", name, macs / 1e6, blocked, fast, port,
                         2 * macs / blocked / 1e3, 2 * macs / fast / 1e3, 2 * macs / port / 1e3, (isa == "avx2" ? port : fast) / blocked, port / fast))
        }
    }
}

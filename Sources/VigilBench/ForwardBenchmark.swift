import ArgumentParser
import Foundation
import Graph
import ONNXImport
import Synchronization
import TensorCore
import TensorKernelsAVX512

/// `vigil-bench forward`: model forward passes, Vigil vs onnxruntime in the same run.
struct ForwardBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Time forward passes of a model at several batch sizes next to onnxruntime on the same file, and print the ratios and GFLOP/s.")

    @Option(help: "ONNX model.")
    var model = "Fixtures/models/efficientnet_lite0.onnx"

    @Option(help: "Preprocessed float32 input of one item, e.g. [1,3,224,224] (repeated to fill a batch).")
    var input = "Fixtures/models/golden/efficientnet_lite0__skimage_chelsea.input.f32"

    @Option(help: "Comma-separated batch sizes.")
    var batches = "1,16"

    @Option(help: "Timed runs per batch size and engine, in total over the rounds (the median is reported).")
    var runs = 60

    @Option(help: "Rounds: each round times every batch size on Vigil, then on onnxruntime (runs/rounds each), so that both engines see the same drift in the machine's speed.")
    var rounds = 6

    @Option(help: "Pause before each block of runs, in milliseconds, so that the other engine's worker threads have stopped spinning (onnxruntime's keep spinning for a while after a run and would take a core from the next block).")
    var pauseMs = 100

    @Option(help: "Threads for both engines.")
    var threads = 2

    @Option(help: "Python with onnxruntime (default: scripts/benchmarks/setup-peers creates .venv-peers).")
    var python: String?

    @Option(help: "CPU fp32 peak in GFLOP/s, to print the share achieved (default: measured with a register-only multiply-add loop on --threads threads).")
    var peakGflops: Double?

    func run() throws {
        let bs = batches.split(separator: ",").compactMap { Int($0) }
        guard !bs.isEmpty, rounds >= 1, runs >= rounds else { throw ValidationError("--batches needs sizes, and --runs at least --rounds (\(rounds))") }
        let m = try ONNXModel.load(path: model)
        let graph = m.graph.fused()
        let engine = EngineConfiguration.fromEnvironment(ProcessInfo.processInfo.environment, threads: threads)
        let exec = Executor(graph: graph, configuration: engine)
        let x1 = try Data(contentsOf: URL(fileURLWithPath: input)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let inName = m.graph.inputs[0].name
        let gflopPerItem = 2 * Double(m.multiplyAddsPerItem) / 1e9
        let ort = try PeerPython.Server(python ?? PeerPython.locate(), ["scripts/benchmarks/ort_forward.py", "--model", model, "--input", input,
                                                                        "--threads", "\(threads)", "--serve"])
        defer { ort.close() }
        var vigil: [Int: [Double]] = [:], onnx: [Int: [Double]] = [:]
        var roundRatios: [Int: [Double]] = [:]
        var sink: Float = 0
        // One item has the model input's shape after its batch axis (a 3x224x224 image for the usual classifier).
        let itemShape = m.graph.inputs[0].shape.dropFirst().map { $0 ?? 0 }
        guard itemShape.reduce(1, *) == x1.count else {
            throw ValidationError("\(input) holds \(x1.count) floats, but one item of \(inName) is \(itemShape): give an input of that size")
        }
        let inputs = Dictionary(uniqueKeysWithValues: bs.map { b in
            (b, Tensor(shape: [b] + itemShape, data: Array([[Float]](repeating: x1, count: b).joined())))
        })
        for b in bs {   // warm-up: plans, packed weights, pools; the peer's session
            for _ in 0..<3 { sink += try exec.run([inName: inputs[b]!]).outputs.values.first!.data[0] }
            _ = try ort.timings(batch: b, runs: 2)
        }
        for r in 0..<rounds {
            let n = runs / rounds + (r < runs % rounds ? 1 : 0)
            for b in bs {
                var times: [Double] = []
                Thread.sleep(forTimeInterval: Double(pauseMs) / 1000)
                for _ in 0..<n {
                    let s = DispatchTime.now().uptimeNanoseconds
                    sink += try exec.run([inName: inputs[b]!]).outputs.values.first!.data[0]
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e6)
                }
                Thread.sleep(forTimeInterval: Double(pauseMs) / 1000)
                let o = try ort.timings(batch: b, runs: n)
                vigil[b, default: []] += times
                onnx[b, default: []] += o
                roundRatios[b, default: []].append(median(times) / median(o))
            }
        }
        blackHole(sink)
        if let profile = engine.profile { print(profile.report()) }
        let peak = peakGflops ?? measuredPeakGFLOPS(threads: threads)
        print(String(format: "model %@: %.3f GFLOP per item, %d threads, median of %d runs per engine in %d interleaved rounds; peak %.0f GFLOP/s%@",
                     model, gflopPerItem, threads, runs, rounds, peak, peakGflops == nil ? " (measured: multiply-add loop)" : ""))
        print("| batch | Vigil ms | onnxruntime ms | Vigil / ort time | rounds' ratios | Vigil GFLOP/s | share of peak |")
        print("|---|---|---|---|---|---|---|")
        for b in bs {
            let v = median(vigil[b]!), o = median(onnx[b]!)
            let rr = roundRatios[b]!
            let gf = gflopPerItem * Double(b) / (v / 1000)
            print(String(format: "| %d | %.2f | %.2f | %.2fx | %.2fx-%.2fx | %.1f | %.0f%% |", b, v, o, v / o, rr.min()!, rr.max()!, gf, 100 * gf / peak))
        }
    }
}

/// The middle value (the mean of the middle two for an even count).
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Seconds one call of `body` takes: the upper median of `runs` timed calls, after `warmup` untimed ones.
func medianSeconds(runs: Int, warmup: Int, fastest: Bool = false, _ body: () -> Void) -> Double {
    var t: [Double] = []
    for i in 0..<(runs + warmup) {
        let s = secondsTaken(body)
        if i >= warmup { t.append(s) }
    }
    return fastest ? t.min()! : t.sorted()[t.count / 2]
}

/// Medians of `runs` timed runs each of `first` and `second`, taken in alternation after `warmup` runs of each.
func medianSecondsInterleaved(runs: Int, warmup: Int, _ first: () -> Void, _ second: () -> Void) -> (Double, Double) {
    var t1: [Double] = [], t2: [Double] = []
    for i in 0..<(runs + warmup) {
        let a = secondsTaken(first), b = secondsTaken(second)
        if i >= warmup { t1.append(a); t2.append(b) }
    }
    return (t1.sorted()[t1.count / 2], t2.sorted()[t2.count / 2])
}

/// Wall-clock seconds `body` takes.
private func secondsTaken(_ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

/// fp32 GFLOP/s of `threads` threads each running a register-only multiply-add loop (about 60 ms, best of three): the
/// most this machine's cores do at the clock they hold under load, on the widest vectors the CPU has.
func measuredPeakGFLOPS(threads: Int) -> Double {
    let avx512 = cpuKernelISA == .avx512
    let iterations = avx512 ? 20_000_000 : 40_000_000, flopsPerIteration = avx512 ? 384.0 : 192.0
    var best = 0.0
    for _ in 0..<3 {
        let sinks = Mutex<Float>(0)
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let v = avx512 ? fmaPeakLoopAVX512(iterations: iterations) : fmaPeakLoopAVX2(iterations: iterations)
            sinks.withLock { $0 += v }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        blackHole(sinks.withLock { $0 })
        best = max(best, flopsPerIteration * Double(iterations) * Double(threads) / seconds / 1e9)
    }
    return best
}

/// Keeps a value alive so the optimiser cannot drop the work that made it.
@inline(never) func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }

/// Runs the Python peers.
enum PeerPython {
    /// The peers' Python: .venv-peers when present, else scripts/benchmarks/setup-peers creates it.
    static func locate() -> String {
        let venv = ".venv-peers/bin/python"
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        if let out = try? runLines("/bin/bash", ["scripts/benchmarks/setup-peers"]), let last = out.last, !last.isEmpty { return last }
        return "python3"
    }

    /// Runs a command and returns its standard output lines; stderr passes through.
    static func runLines(_ exe: String, _ args: [String]) throws -> [String] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe.hasPrefix("/") || exe.contains("/") ? exe : "/usr/bin/env")
        p.arguments = exe.hasPrefix("/") || exe.contains("/") ? args : [exe] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ValidationError("peer \(exe) \(args.first ?? "") exited with status \(p.terminationStatus)") }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// A peer process that answers `BATCH RUNS` lines with `... times_ms=t1,t2,...` (ort_forward.py --serve).
    final class Server {
        let process = Process()
        let input = Pipe(), output = Pipe()
        var buffered = Data()

        init(_ exe: String, _ args: [String]) throws {
            process.executableURL = URL(fileURLWithPath: exe.contains("/") ? exe : "/usr/bin/env")
            process.arguments = exe.contains("/") ? args : [exe] + args
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            guard try readLine() == "ready" else { throw ValidationError("peer \(exe) \(args.first ?? "") did not start (see its messages above)") }
        }

        func readLine() throws -> String? {
            while true {
                if let nl = buffered.firstIndex(of: 10) {
                    let line = String(decoding: buffered[..<nl], as: UTF8.self)
                    buffered.removeSubrange(...nl)
                    return line
                }
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { return nil }
                buffered += chunk
            }
        }

        /// Times `runs` forward passes at `batch` in the peer, in milliseconds.
        func timings(batch: Int, runs: Int) throws -> [Double] {
            input.fileHandleForWriting.write(Data("\(batch) \(runs)\n".utf8))
            guard let line = try readLine(), let t = PeerPython.fields(line)["times_ms"] else {
                throw ValidationError("the onnxruntime peer stopped answering (see its messages above)")
            }
            return t.split(separator: ",").compactMap { Double($0) }
        }

        func close() {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    /// key=value fields of a line.
    static func fields(_ line: String) -> [String: String] {
        var d: [String: String] = [:]
        for part in line.split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { d[String(kv[0])] = String(kv[1]) }
        }
        return d
    }
}

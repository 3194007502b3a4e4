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

    @Option(help: "Preprocessed float32 input [1,3,224,224] (repeated to fill a batch).")
    var input = "Fixtures/models/golden/efficientnet_lite0__skimage_chelsea.input.f32"

    @Option(help: "Comma-separated batch sizes.")
    var batches = "1,16"

    @Option(help: "Timed runs per batch size (the median is reported).")
    var runs = 20

    @Option(help: "Threads for both engines.")
    var threads = 2

    @Option(help: "Python with onnxruntime (default: scripts/benchmarks/setup-peers creates .venv-peers).")
    var python: String?

    @Option(help: "CPU fp32 peak in GFLOP/s, to print the share achieved (default: measured with a register-only multiply-add loop on --threads threads; needs AVX-512).")
    var peakGflops: Double?

    func run() throws {
        let bs = batches.split(separator: ",").compactMap { Int($0) }
        let m = try ONNXModel.load(path: model)
        let graph = m.graph.fused()
        let exec = Executor(graph: graph)
        setComputeThreads(threads)
        let x1 = try Data(contentsOf: URL(fileURLWithPath: input)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let inName = m.graph.inputs[0].name
        let gflopPerItem = 2 * Double(m.multiplyAddsPerItem) / 1e9
        var vigil: [Int: Double] = [:]
        var sink: Float = 0
        for b in bs {
            var data: [Float] = []
            for _ in 0..<b { data += x1 }
            let t = Tensor(shape: [b, 3, 224, 224], data: data)
            for _ in 0..<3 { sink += try exec.run([inName: t]).outputs.values.first!.data[0] }
            var times: [Double] = []
            for _ in 0..<runs {
                let s = DispatchTime.now().uptimeNanoseconds
                sink += try exec.run([inName: t]).outputs.values.first!.data[0]
                times.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e6)
            }
            vigil[b] = times.sorted()[times.count / 2]
        }
        blackHole(sink)
        if ProcessInfo.processInfo.environment["VIGIL_PROFILE"] != nil { print(Executor.profileReport()) }
        let py = python ?? PeerPython.locate()
        let ort = try PeerPython.runLines(py, ["scripts/benchmarks/ort_forward.py", "--model", model, "--input", input, "--batches", batches,
                                               "--runs", "\(runs)", "--threads", "\(threads)"])
        var ortMs: [Int: Double] = [:]
        for line in ort {
            let f = PeerPython.fields(line)
            if let b = f["batch"].flatMap(Int.init), let ms = f["median_ms"].flatMap(Double.init) { ortMs[b] = ms }
        }
        let peak = peakGflops ?? measuredPeakGFLOPS(threads: threads)
        print(String(format: "model %@: %.3f GFLOP per item, %d threads, median of %d runs; peak %.0f GFLOP/s%@", model, gflopPerItem, threads, runs,
                     peak, peakGflops == nil ? " (measured: multiply-add loop)" : ""))
        print("| batch | Vigil ms | onnxruntime ms | Vigil / ort time | Vigil GFLOP/s | share of peak |")
        print("|---|---|---|---|---|---|")
        for b in bs {
            let v = vigil[b]!, o = ortMs[b] ?? .nan
            let gf = gflopPerItem * Double(b) / (v / 1000)
            print(String(format: "| %d | %.1f | %.1f | %.2fx | %.1f | %.0f%% |", b, v, o, v / o, gf, 100 * gf / peak))
        }
    }
}

/// fp32 GFLOP/s of `threads` threads each running a register-only multiply-add loop (about 60 ms, best of three): the
/// most this machine's cores do at the clock they hold under load (NaN without AVX-512).
func measuredPeakGFLOPS(threads: Int) -> Double {
    guard detectedKernelISA == .avx512 else { return .nan }
    let iterations = 20_000_000
    var best = 0.0
    for _ in 0..<3 {
        let sinks = Mutex<Float>(0)
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let v = fmaPeakLoopAVX512(iterations: iterations)
            sinks.withLock { $0 += v }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        blackHole(sinks.withLock { $0 })
        best = max(best, 768 * Double(iterations) * Double(threads) / seconds / 1e9)
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

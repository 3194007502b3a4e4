import ArgumentParser
import Foundation
import Graph
import ONNXImport
import Robustness
import TensorCore

/// `vigil-bench occlusion`: incremental occlusion inference against batched full recomputation, same patches.
struct OcclusionBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "occlusion",
        abstract: "Time incremental occlusion against batched full recomputation of the same occluded copies, and check they agree.")

    @Option(help: "ONNX model.")
    var model = "Fixtures/models/efficientnet_lite0.onnx"

    @Option(help: "Preprocessed float32 input [1,3,224,224].")
    var input = "Fixtures/models/golden/efficientnet_lite0__skimage_chelsea.input.f32"

    @Option(help: "Comma-separated patch counts.")
    var patches = "16,64"

    @Option(help: "Comma-separated patch sizes (fraction of the input side).")
    var sizes = "0.125,0.25"

    @Option(help: "Timed runs per setting (median reported).")
    var runs = 5

    @Option(help: "Compute threads.")
    var threads = 2

    @Option(help: "Copies per forward pass for the full recomputation.")
    var batch = 16

    func run() throws {
        // VIGIL_PROFILE=1: time only the incremental runs and print their time per op kind (no full runs).
        let profiling = ProcessInfo.processInfo.environment["VIGIL_PROFILE"] != nil
        let engine = EngineConfiguration.fromEnvironment(ProcessInfo.processInfo.environment, threads: threads)
        let m = try ONNXModel.load(path: model)
        let g = m.graph.fused()
        let inName = m.graph.inputs[0].name, outName = m.graph.outputs[0]
        let x = try Data(contentsOf: URL(fileURLWithPath: input)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let clean = Tensor(shape: [1, 3, 224, 224], data: x)
        let packing = PackedWeights()
        let inc = IncrementalOcclusion(graph: g, input: inName, output: outName, configuration: engine, packing: packing)
        let exec = Executor(graph: g, configuration: engine, packing: packing)
        print("model \(model), \(threads) threads, median of \(runs) runs, grey patches, full recomputation in batches of \(batch)")
        print("| patches | size | incremental ms | full ms | speed-up | MACs incremental / full | max abs logit diff |")
        print("|---|---|---|---|---|---|---|")
        for k in patches.split(separator: ",").compactMap({ Int($0) }) {
            for size in sizes.split(separator: ",").compactMap({ Double($0) }) {
                let ps = PatchSampler(count: k, low: size, high: size, seed: 7).patches(frame: 0, width: 224, height: 224)
                let tiles = ps.map { OcclusionPatchInput(y: $0.y, x: $0.x, height: $0.side, width: $0.side, values: [Float](repeating: 0, count: 3 * $0.side * $0.side)) }
                var incOut = Tensor(shape: [0]), fullOut: [Float] = []
                var incTimes: [Double] = [], fullTimes: [Double] = []
                for _ in 0..<runs {
                    var t = DispatchTime.now().uptimeNanoseconds
                    incOut = try inc.run(cleanInput: clean, patches: tiles)
                    incTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
                    if profiling { continue }
                    t = DispatchTime.now().uptimeNanoseconds
                    fullOut = []
                    // The baseline also runs the clean frame once, as the analysis does.
                    _ = try exec.run([inName: clean])
                    var start = 0
                    while start < k {
                        let n = min(batch, k - start)
                        var data = [Float](repeating: 0, count: n * x.count)
                        for b in 0..<n {
                            let p = ps[start + b]
                            for i in 0..<x.count { data[b * x.count + i] = x[i] }
                            for c in 0..<3 { for yy in p.y..<(p.y + p.side) { for xx in p.x..<(p.x + p.side) { data[b * x.count + (c * 224 + yy) * 224 + xx] = 0 } } }
                        }
                        fullOut += try exec.run([inName: Tensor(shape: [n, 3, 224, 224], data: data)]).outputs[outName]!.data
                        start += n
                    }
                    fullTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
                }
                var worst: Float = 0
                for i in 0..<fullOut.count { worst = max(worst, abs(fullOut[i] - incOut.data[i])) }
                if profiling {
                    print("time per op kind of the incremental runs' clean pass and tail:\n" + (engine.profile?.report() ?? ""))
                    fullTimes = incTimes
                }
                let mi = incTimes.sorted()[runs / 2], mf = fullTimes.sorted()[runs / 2]
                let macs = inc.lastMACs
                print(String(format: "| %d | %.3f | %.1f | %.1f | %.2fx | %.2f | %.1e |", k, size, mi, mf, mf / mi,
                             Double(macs.incremental + macs.full) / Double(macs.reference), worst))
            }
        }
    }
}

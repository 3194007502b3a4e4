import Foundation
import Graph
import ONNXImport
import TensorCore
import Testing
import TestSupport

/// The real model against onnxruntime's logits, and the reference cases made with onnxruntime.
@Suite struct ModelFidelityTests {
    static let model = try! ONNXModel.load(path: FixturePaths.defaultModel)

    @Test(arguments: ["skimage_chelsea", "skimage_coffee", "opencv_squirrel_cls"])
    func goldenLogits(image: String) throws {
        let input = try FixturePaths.floats("Fixtures/models/golden/efficientnet_lite0__\(image).input.f32")
        let expected = try FixturePaths.floats("Fixtures/models/golden/efficientnet_lite0__\(image).logits.f32")
        let exec = Executor(graph: Self.model.graph.fused(), configuration: .test)
        let out = try exec.run(["input": Tensor(shape: [1, 3, 224, 224], data: input)]).outputs["logits"]!
        let m = compare(out.data, expected, rtol: 0, atol: 1e-4)
        #expect(m == nil, "\(image): \(m.map { "\($0)" } ?? "")")
    }

    /// Every reference case under Fixtures/models/cases passes at rtol 1e-4, atol 1e-5.
    @Test func referenceCases() throws {
        let root = FixturePaths.path("Fixtures/models/cases")
        var dirs: [String] = []
        // arch/ (small architectures, QDQ ones at one quantisation step) and qdq/ (integer kernels, exact) and cam/ (CAM reference maps) have tests
        // of their own (RobustnessTests, QDQCaseTests).
        for d in try FileManager.default.contentsOfDirectory(atPath: root).sorted() where !["ops", "arch", "qdq", "cam"].contains(d) { dirs.append(root + "/" + d) }
        for d in try FileManager.default.contentsOfDirectory(atPath: root + "/ops").sorted() { dirs.append(root + "/ops/" + d) }
        #expect(dirs.count > 50)
        for d in dirs {
            for r in try BackendTestCase(directory: d).run(configuration: .test) {
                #expect(r.passed, "\(d)/\(r.dataSet): max abs \(r.maxAbsDiff) at \(r.worstOutput)[\(r.worstIndex)] got \(r.actual) expected \(r.expected) \(r.message ?? "")")
            }
        }
    }

    /// Batches of 1 to 32 give the same per-item logits as batch 1.
    @Test func batchConsistency() throws {
        let a = try FixturePaths.floats("Fixtures/models/golden/efficientnet_lite0__skimage_chelsea.input.f32")
        let b = try FixturePaths.floats("Fixtures/models/golden/efficientnet_lite0__skimage_coffee.input.f32")
        let exec = Executor(graph: Self.model.graph.fused(), configuration: .test)
        let la = try exec.run(["input": Tensor(shape: [1, 3, 224, 224], data: a)]).outputs["logits"]!.data
        let lb = try exec.run(["input": Tensor(shape: [1, 3, 224, 224], data: b)]).outputs["logits"]!.data
        for n in [2, 5, 32] {
            var data: [Float] = []
            for i in 0..<n { data += i % 2 == 0 ? a : b }
            let out = try exec.run(["input": Tensor(shape: [n, 3, 224, 224], data: data)]).outputs["logits"]!
            #expect(out.shape == [n, 1000])
            for i in 0..<n {
                let row = Array(out.data[(i * 1000)..<((i + 1) * 1000)])
                let m = compare(row, i % 2 == 0 ? la : lb, rtol: 1e-5, atol: 1e-5)
                #expect(m == nil, "batch \(n) item \(i): \(m.map { "\($0)" } ?? "")")
            }
        }
    }

    /// The gradient at the Grad-CAM layer matches finite differences of the class logit on the real model.
    @Test func gradientOnRealModel() throws {
        let input = try FixturePaths.floats("Fixtures/models/golden/efficientnet_lite0__skimage_chelsea.input.f32")
        let layer = "/_swish_1/Clip_output_0"
        let exec = Executor(graph: Self.model.graph.fused(preserving: [layer]), configuration: .test)
        let eval = try exec.run(["input": Tensor(shape: [1, 3, 224, 224], data: input)], capture: [layer], retainForGradientOf: layer)
        let logits = eval.outputs["logits"]!
        let cls = logits.data.indices.max { logits.data[$0] < logits.data[$1] }!
        var seed = Tensor(shape: [1, 1000]); seed.data[cls] = 1
        let g = try exec.gradient(eval, seeds: ["logits": seed])
        let act = eval.captured[layer]!
        #expect(g.shape == act.shape)
        // Downstream of the layer: GlobalAveragePool -> Flatten -> Gemm, so d logit / d A[k,i,j] = W[cls,k] / 49.
        // Check a perturbation of the activation through the tail of the graph numerically.
        let tail = try Graph(nodes: exec.graph.nodes.filter { n in
            let order = exec.graph.nodes.map(\.name)
            let start = exec.graph.nodes.firstIndex { $0.outputs.contains(layer) }!
            return order.firstIndex(of: n.name)! > start
        }, inputs: [GraphInput(name: layer, shape: act.shape.map { $0 })], outputs: ["logits"], constants: exec.graph.constants.filter { _ in true })
        let tailExec = Executor(graph: tail, configuration: .test)
        var rng = SeededRandom(seed: 7)
        for _ in 0..<20 {
            let i = Int(rng.next() % UInt64(act.count))
            var p = act, m = act
            let eps: Float = 1e-2
            p.data[i] += eps; m.data[i] -= eps
            let lp = try tailExec.run([layer: p]).outputs["logits"]!.data[cls]
            let lm = try tailExec.run([layer: m]).outputs["logits"]!.data[cls]
            let fd = (Double(lp) - Double(lm)) / Double(2 * eps)
            #expect(abs(fd - Double(g.data[i])) <= 1e-3 + 1e-2 * abs(fd), "index \(i): finite difference \(fd), gradient \(g.data[i])")
        }
    }
}

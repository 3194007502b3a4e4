import Foundation
import Imaging
@testable import Robustness
import TensorCore
import Testing
import TestSupport

/// A model with pytorch-grad-cam reference maps (made by `scripts/make-cam-references`).
struct CAMReferenceCase: CustomTestStringConvertible, Sendable {
    let name: String
    var testDescription: String { name }
    var dir: String { FixturePaths.path("Fixtures/models/cases/cam/" + name) }
    var modelPath: String {
        if let rel = try? String(contentsOfFile: dir + "/model.txt", encoding: .utf8) {
            return ((dir + "/" + rel.trimmingCharacters(in: .whitespacesAndNewlines)) as NSString).standardizingPath
        }
        return dir + "/model.onnx"
    }
    struct Map: Decodable { let height: Int; let width: Int; let cam: [Float]; let camMultChange: Double? }
    struct References: Decodable { let target: Int; let camLayer: String; let fusionLayers: [String]; let inputFile: String; let methods: [String: Map] }
    var references: References { get throws { try JSONDecoder().decode(References.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/references.json"))) } }
    var input: [Float] { get throws { try FixturePaths.floats("Fixtures/models/cases/cam/\(name)/" + references.inputFile) } }

    static let all = ["mobilenet_v2", "efficientnet_lite0"].map(CAMReferenceCase.init)
}

struct MethodCase: CustomTestStringConvertible, Sendable {
    let model: CAMReferenceCase, method: String
    var testDescription: String { "\(model.name) \(method)" }
    /// Score-CAM makes one pass per channel (1,280 on both models): on the real model only with the kernels this
    /// run uses.
    static let all: [MethodCase] = CAMReferenceCase.all.flatMap { m in CAMMethods.names.map { MethodCase(model: m, method: $0) } }
}

@Suite struct ExplainerTests {
    /// Every method's map agrees with pytorch-grad-cam's on the same model and input: Pearson >= 0.999 at the layer's
    /// grid (the fused LayerCAM at its finest layer's grid), and the automatic layers are the ones the script hooked.
    @Test(arguments: MethodCase.all)
    func matchesPytorchGradCAM(_ c: MethodCase) throws {
        let refs = try c.model.references
        let ref = try #require(refs.methods[c.method])
        let classifier = try Classifier(modelPath: c.model.modelPath)
        #expect(classifier.camLayer == refs.camLayer)
        #expect(classifier.fusionLayers == refs.fusionLayers)
        let method = try #require(CAMMethods.named(c.method))
        let r = try classifier.makeSession(configuration: .test).explain(try c.model.input, target: refs.target, methods: [method])
        let map = r.maps[0]
        #expect(r.target == refs.target)
        #expect(map.height == ref.height && map.width == ref.width)
        let rho = try #require(Statistics.pearson(map.values, ref.cam))
        #expect(rho >= 0.999, "\(c.testDescription): Pearson \(rho)")
    }

    /// pytorch-grad-cam's CAM multiplication confidence change (ClassifierOutputSoftmaxTarget) on each single-layer
    /// method's map, within 1e-4 of a probability (Score-CAM on MobileNetV2 only: on the real model it costs 1,280
    /// passes more).
    @Test(arguments: CAMReferenceCase.all)
    func camMultiplicationMatchesPytorchGradCAM(_ c: CAMReferenceCase) throws {
        let refs = try c.references
        let classifier = try Classifier(modelPath: c.modelPath)
        let session = classifier.makeSession(configuration: .test)
        let input = try c.input
        let methods = CAMMethods.all.filter { !$0.needsFusionLayers && ($0.name != "scorecam" || c.name == "mobilenet_v2") }
        let r = try session.explain(input, target: refs.target, methods: methods)
        let clean = r.probs[refs.target]
        let probe = FaithfulnessProbe(steps: 2, batchSize: 8) { x, n in try session.probabilities(x, batch: n).map { $0[refs.target] } }
        for (method, map) in zip(methods, r.maps) {
            let f = try probe.measure(map, input: input, channels: 3, height: classifier.inputHeight, width: classifier.inputWidth, clean: clean, baseline: 0)
            let expected = try #require(refs.methods[method.name]?.camMultChange)
            #expect(abs((f.camMultChange ?? .nan) - expected) < 1e-4, "\(c.name) \(method.name): \(f.camMultChange ?? .nan) vs pytorch-grad-cam \(expected)")
        }
    }

    /// Several methods from one pass give what each gives alone.
    @Test func methodsTogetherMatchAlone() throws {
        let c = CAMReferenceCase.all[0]
        let classifier = try Classifier(modelPath: c.modelPath)
        let s = classifier.makeSession(configuration: .test)
        let input = try c.input
        let methods: [any Explainer] = [HiResCAM(), EigenCAM(), LayerCAM(fused: true), GradCAMPlusPlus()]
        let together = try s.explain(input, target: nil, methods: methods)
        for (k, m) in methods.enumerated() {
            let alone = try s.explain(input, target: nil, methods: [m]).maps[0]
            let d = compare(together.maps[k].values, alone.values, rtol: 1e-3, atol: 1e-5 * (alone.values.max() ?? 1))
            #expect(d == nil, "\(m.name): \(describe(d))")
        }
    }

    @Test func parsesMethodLists() throws {
        #expect(try CAMMethods.parse("gradcam, ScoreCAM,gradcam").map(\.name) == ["gradcam", "scorecam"])
        #expect(throws: RobustnessError.self) { try CAMMethods.parse("gradcam,smoothgrad") }
        #expect("\(RobustnessError.explainer(method: "x", detail: "d"))" == "CAM method 'x': d")
    }

    /// LAPACK's projection equals the power-iteration twin up to sign, on a low-rank-plus-noise matrix.
    @Test func principalProjectionMatchesNaive() {
        var g = SplitMix64(state: 9)
        func r() -> Float { Float(g.next() % 10_000) / 10_000 - 0.5 }
        let m = 49, n = 96
        let u = (0..<m).map { _ in r() }, v = (0..<n).map { _ in r() }
        let x = (0..<(m * n)).map { 4 * u[$0 / n] * v[$0 % n] + 0.05 * r() }
        let fast = firstPrincipalProjection(x, rows: m, cols: n)!, naive = firstPrincipalProjectionNaive(x, rows: m, cols: n)
        let rho = Statistics.pearson(fast, naive)!
        #expect(abs(rho) > 0.99999, "Pearson \(rho)")
        let sign: Float = rho < 0 ? -1 : 1
        let d = compare(fast.map { $0 * sign }, naive, rtol: 1e-3, atol: 1e-4)
        #expect(d == nil, "\(describe(d))")
    }

    /// The weighted-channel methods against their formulas written out naively on a small random layer.
    @Test func channelWeightsMatchFormulas() throws {
        var g = SplitMix64(state: 3)
        func r() -> Float { Float(g.next() % 10_000) / 5_000 - 1 }
        let ch = 5, h = 3, w = 4, area = h * w
        let a = (0..<(ch * area)).map { _ in max(r(), 0) }, gr = (0..<(ch * area)).map { _ in r() }
        let x = ExplanationInputs(layers: [LayerMaps(name: "l", channels: ch, height: h, width: w, activations: a, gradients: gr)],
                                  input: [], inputChannels: 3, inputHeight: 1, inputWidth: 1, target: 0, batchSize: 1) { _, _ in [] }
        func naive(_ weight: (Int) -> Float) -> [Float] {
            (0..<area).map { i in max(0, (0..<ch).reduce(Float(0)) { $0 + weight($1) * a[$1 * area + i] }) }
        }
        let gradcam = naive { k in (0..<area).reduce(Float(0)) { $0 + gr[k * area + $1] } / Float(area) }
        let xgrad = naive { k in
            let s = (0..<area).reduce(Float(0)) { $0 + a[k * area + $1] }
            return (0..<area).reduce(Float(0)) { $0 + gr[k * area + $1] * a[k * area + $1] / (s + 1e-7) }
        }
        let hires = (0..<area).map { i in max(0, (0..<ch).reduce(Float(0)) { $0 + gr[$1 * area + i] * a[$1 * area + i] }) }
        let layer = (0..<area).map { i in max(0, (0..<ch).reduce(Float(0)) { $0 + max(gr[$1 * area + i], 0) * a[$1 * area + i] }) }
        for (m, expected) in [(GradCAM() as any Explainer, gradcam), (XGradCAM(), xgrad), (HiResCAM(), hires), (LayerCAM(), layer)] {
            let d = compare(try m.explain(x).values, expected, rtol: 1e-5, atol: 1e-6)
            #expect(d == nil, "\(m.name): \(describe(d))")
        }
        // Without gradients, the gradient methods say which layer lacked them.
        var noGrad = x
        noGrad.layers[0].gradients = nil
        #expect(throws: RobustnessError.self) { try GradCAM().explain(noGrad) }
    }
}

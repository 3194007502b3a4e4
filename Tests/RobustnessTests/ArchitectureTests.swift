import Foundation
import Graph
import Imaging
@testable import ONNXImport
@testable import Robustness
import SwiftProtobuf
import TensorCore
import Testing
import TestSupport

/// Small random-weight configurations of the architectures users bring (made by
/// `scripts/make-architecture-fixtures` with torch, onnxruntime and pytorch-grad-cam): ViT and Swin, ConvNeXt, a
/// squeeze-and-excitation net, a ShuffleNet exported with its batch fixed at 1, a 1-channel net and QDQ int8 nets.
struct ArchitectureCase: CustomTestStringConvertible, Sendable {
    let name: String
    var testDescription: String { name }
    var dir: String { FixturePaths.path("Fixtures/models/cases/arch/" + name) }
    var modelPath: String { dir + "/model.onnx" }

    struct Meta: Decodable {
        let expected_cam_layer: String
        let cam_layout: String
        let quant_step: Double?
        let channels: Int
        let input_shape: [Int]
    }
    var meta: Meta { get throws { try JSONDecoder().decode(Meta.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/meta.json"))) } }

    struct CAMReference: Decodable { let target: Int; let height: Int; let width: Int; let cam: [Float] }
    var camReference: CAMReference? {
        (try? Data(contentsOf: URL(fileURLWithPath: dir + "/gradcam_grid.json"))).flatMap { try? JSONDecoder().decode(CAMReference.self, from: $0) }
    }

    /// The input and onnxruntime's output of data set 0.
    var data: (input: Tensor, output: Tensor) {
        get throws {
            let set = dir + "/test_data_set_0"
            return (try BackendTestCase.readTensors(set, prefix: "input_")[0].1.tensor, try BackendTestCase.readTensors(set, prefix: "output_")[0].1.tensor)
        }
    }

    static let all: [ArchitectureCase] = ((try? FileManager.default.contentsOfDirectory(atPath: FixturePaths.path("Fixtures/models/cases/arch"))) ?? [])
        .sorted().map { ArchitectureCase(name: $0) }
}

@Suite struct ArchitectureTests {
    @Test func fixturesArePresent() { #expect(ArchitectureCase.all.count >= 9) }

    /// Outputs within 5e-6 of the output's largest magnitude of onnxruntime's (QDQ models: within one quantisation
    /// step of onnxruntime's integer kernels), on the kernels this run uses.
    @Test(arguments: ArchitectureCase.all)
    func matchesOnnxruntime(_ c: ArchitectureCase) throws {
        let (_, expected) = try c.data
        let largest = expected.data.map(abs).max() ?? 1
        let atol = try c.meta.quant_step.map { Float($0) * 1.001 } ?? 5e-6 * largest
        for r in try BackendTestCase(directory: c.dir).run(rtol: 0, atol: atol, configuration: .test) {
            #expect(r.passed, "\(c.name): max abs \(r.maxAbsDiff) (bound \(atol)) at [\(r.worstIndex)] got \(r.actual) expected \(r.expected) \(r.message ?? "")")
        }
    }

    /// The automatic Grad-CAM layer is pytorch-grad-cam's documented choice for the family, with the right layout.
    @Test(arguments: ArchitectureCase.all)
    func camLayerIsTheDocumentedChoice(_ c: ArchitectureCase) throws {
        let model = try ONNXModel.load(path: c.modelPath)
        let pick = try #require(Classifier.suggestCAMLayer(model))
        let meta = try c.meta
        #expect(pick.layer == meta.expected_cam_layer)
        switch (meta.cam_layout, pick.layout) {
        case ("nchw", .nchw), ("channels_last", .channelsLast), ("tokens", .tokens): break
        default: Issue.record("\(c.name): layout \(pick.layout), expected \(meta.cam_layout)")
        }
    }

    /// Grad-CAM at the layer's grid agrees with pytorch-grad-cam's on the same model and input (Pearson >= 0.999),
    /// token models reshaped by its documented recipe.
    @Test(arguments: ArchitectureCase.all.filter { $0.camReference != nil })
    func gradCAMMatchesPytorchGradCAM(_ c: ArchitectureCase) throws {
        let ref = try #require(c.camReference)
        let (input, _) = try c.data
        let classifier = try Classifier(modelPath: c.modelPath)
        for isa in [KernelISA.avx512, .avx2] where isa != .avx512 || cpuKernelISA == .avx512 {
            try withKernelISA(isa) {
                let r = try classifier.makeSession(configuration: .test).explain(input.data, target: ref.target).maps[0]
                #expect(r.height == ref.height && r.width == ref.width)
                let rho = try #require(Statistics.pearson(r.values, ref.cam))
                #expect(rho >= 0.999, "\(c.name) on \(isa): Pearson \(rho)")
            }
        }
    }

    /// A batch gives each item's batch-1 result, whether the fixed batch was freed at load or runs item by item.
    @Test(arguments: ArchitectureCase.all)
    func batchesMatchSingleItems(_ c: ArchitectureCase) throws {
        let model = try ONNXModel.load(path: c.modelPath)
        let (x, _) = try c.data
        let exec = Executor(graph: model.graph.fused(), configuration: .test)
        let name = model.graph.inputs[0].name, out = model.graph.outputs[0]
        var items: [[Float]] = []
        for k in 0..<3 { items.append(x.data.map { $0 * (1 + 0.1 * Float(k)) }) }
        let singles = try items.map { try exec.run([name: Tensor(shape: x.shape, data: $0)]).outputs[out]!.data }
        var shape = x.shape; shape[0] = 3
        let batched = try exec.run([name: Tensor(shape: shape, data: items.flatMap { $0 })]).outputs[out]!
        #expect(batched.shape.first == 3)
        let per = batched.count / 3
        for k in 0..<3 {
            let m = compare(Array(batched.data[(k * per)..<((k + 1) * per)]), singles[k], rtol: 1e-4, atol: 1e-5)
            #expect(m == nil, "\(c.name) item \(k): \(describe(m))")
        }
    }

    @Test func batchHandling() throws {
        func load(_ n: String) throws -> ONNXModel { try ONNXModel.load(path: FixturePaths.path("Fixtures/models/cases/arch/\(n)/model.onnx")) }
        // The channel shuffle's Reshape baked batch 1 in: freed at load (the target follows the batch).
        #expect(try load("shufflenet_fixed_batch_op13").batch == .freedFromFixed)
        // nn.MultiheadAttention puts the sequence first and folds the batch into the heads: items run one at a time.
        let vit = try load("vit_tiny_op17")
        #expect(vit.batch == .fixed)
        #expect(vit.batchNote != nil)
        #expect(try ONNXModel.load(path: FixturePaths.defaultModel).batch == .free)
    }

    /// A QDQ model reports what is quantised, and which of it runs as onnxruntime's integer kernels.
    @Test func quantisedOpsAreListed() throws {
        let m = try ONNXModel.load(path: FixturePaths.path("Fixtures/models/cases/arch/qdq_convnet_int8/model.onnx"))
        #expect(m.integerOpCounts == ["QLinearConv": 3, "QLinearAdd": 1, "QLinearGlobalAveragePool": 1, "QGemm": 1])
        #expect(m.quantizedOpCounts["QLinearConv"] == 3)
        #expect(m.quantizedOpCounts["Flatten"] == 1)
        let float = try ONNXModel.load(path: FixturePaths.defaultModel)
        #expect(float.quantizedOpCounts.isEmpty && float.integerOpCounts.isEmpty)
    }

    /// A 1-channel model reads the frame's luma; a model whose input is neither 1 nor 3 channels is refused in one
    /// sentence naming the file.
    @Test func channels() throws {
        let gray = try Classifier(modelPath: FixturePaths.path("Fixtures/models/cases/arch/gray_convnet_op13/model.onnx"))
        #expect(gray.inputChannels == 1)
        let frame = RGBImage(width: 40, height: 30, fill: (200, 100, 50))
        let (x601, _) = gray.preprocess(frame, luma: .bt601)
        let (x709, _) = gray.preprocess(frame, luma: .bt709)
        #expect(x601.count == gray.inputWidth * gray.inputHeight)
        let y601: Float = 0.299 * 200 + 0.587 * 100 + 0.114 * 50, y709: Float = 0.2126 * 200 + 0.7152 * 100 + 0.0722 * 50
        #expect(abs(x601[0] - (y601 - 114.495) / 57.63) < 1e-3)
        #expect(abs(x709[0] - (y709 - 114.495) / 57.63) < 1e-3)

        var g = Onnx_GraphProto()
        g.name = "two_channels"
        var n = Onnx_NodeProto(); n.opType = "Relu"; n.name = "relu"; n.input = ["x"]; n.output = ["y"]
        g.node = [n]
        func info(_ name: String, _ dims: [Int64]) -> Onnx_ValueInfoProto {
            var v = Onnx_ValueInfoProto(); v.name = name
            var tt = Onnx_TypeProto.Tensor(); tt.elemType = 1
            tt.shape.dim = dims.map { d in var x = Onnx_TensorShapeProto.Dimension(); x.dimValue = d; return x }
            v.type.tensorType = tt
            return v
        }
        g.input = [info("x", [1, 2, 8, 8])]; g.output = [info("y", [1, 2, 8, 8])]
        var m = Onnx_ModelProto(); m.irVersion = 8; m.graph = g
        var o = Onnx_OperatorSetIdProto(); o.version = 13; m.opsetImport = [o]
        let path = NSTemporaryDirectory() + "vigil-two-channels-\(getpid()).onnx"
        try m.serializedData().write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect { try Classifier(modelPath: path) } throws: { e in
            "\(e)".contains(path) && "\(e)".contains("[N,1,H,W]")
        }
    }
}

import Foundation
import Graph
@testable import ONNXImport
import SwiftProtobuf
import TensorCore
import Testing
import TestSupport

/// Bad model files: each gives a `ModelError` or `GraphError` naming the file, tensor or node, never a crash.
@Suite struct BadModelTests {
    static let casesDir = FixturePaths.path("Fixtures/models/cases/ops")
    static let regressionsDir = FixturePaths.path("Fixtures/models/fuzz-regressions")

    static var smallModels: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: casesDir)) ?? []).sorted()
            .map { casesDir + "/" + $0 + "/model.onnx" }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    // MARK: - Building models in Swift

    static func valueInfo(_ name: String, _ dims: [Int64]) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var tt = Onnx_TypeProto.Tensor()
        tt.elemType = 1
        tt.shape.dim = dims.map { d in var x = Onnx_TensorShapeProto.Dimension(); x.dimValue = d; return x }
        v.type.tensorType = tt
        return v
    }

    static func floats(_ name: String, _ dims: [Int64], _ values: [Float], raw: Bool = true) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims
        t.dataType = 1
        if raw { t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) } } else { t.floatData = values }
        return t
    }

    static func ints(_ name: String, _ values: [Int64]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = [Int64(values.count)]
        t.dataType = 7
        t.int64Data = values
        return t
    }

    static func attr(_ name: String, ints: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = ints; return a
    }

    static func node(_ op: String, _ name: String, _ inputs: [String], _ outputs: [String], _ attrs: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op; n.name = name; n.input = inputs; n.output = outputs; n.attribute = attrs
        return n
    }

    static func model(_ nodes: [Onnx_NodeProto], inputs: [Onnx_ValueInfoProto], outputs: [String],
                      initializers: [Onnx_TensorProto] = [], opset: Int64 = 13, irVersion: Int64 = 8) throws -> Data {
        var m = Onnx_ModelProto()
        m.irVersion = irVersion
        var o = Onnx_OperatorSetIdProto(); o.version = opset
        m.opsetImport = [o]
        m.producerName = "BadModelTests"
        m.graph.name = "g"
        m.graph.node = nodes
        m.graph.input = inputs
        m.graph.output = outputs.map { valueInfo($0, []) }
        m.graph.initializer = initializers
        return try m.serializedData()
    }

    /// Loads `data`, expecting a `ModelError`; returns its message.
    static func loadError(_ data: Data, path: String = "bad.onnx", sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            _ = try ONNXModel.load(data: data, path: path)
            Issue.record("the model loaded; an error was expected", sourceLocation: sourceLocation)
            return ""
        } catch let e as ModelError {
            return e.description
        } catch {
            Issue.record("expected a ModelError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
            return ""
        }
    }

    /// A Relu over `x [1,3,4,4]` with a Conv weight or whatever `extra` adds.
    static func reluModel() throws -> Data {
        try model([node("Relu", "relu0", ["x"], ["y"])], inputs: [valueInfo("x", [1, 3, 4, 4])], outputs: ["y"])
    }

    // MARK: - Files that are not models

    @Test(arguments: [0.0001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, 0.99999])
    func truncatedEfficientNet(fraction: Double) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.defaultModel))
        let cut = Int(Double(data.count) * fraction)
        let msg = Self.loadError(data.prefix(cut), path: "efficientnet_lite0.onnx")
        #expect(msg.contains("efficientnet_lite0.onnx"), "\(msg)")
        #expect(msg.contains("truncated") || msg.contains("not a readable ONNX model"), "\(msg)")
    }

    /// Every small model cut at every 97th byte: an error naming the file, or (cut exactly between top-level
    /// fields, so still valid protobuf) a clean load. Never a crash.
    @Test func smallModelsCutEvery97thByte() throws {
        var errors = 0, loads = 0
        for path in Self.smallModels {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            for cut in stride(from: 0, to: data.count, by: 97) {
                do { _ = try ONNXModel.load(data: data.prefix(cut), path: path); loads += 1 }
                catch let e as ModelError {
                    errors += 1
                    #expect(e.description.contains(path), "\(e)")
                }
            }
        }
        print("cut models: \(errors) errors, \(loads) loaded")
        #expect(errors > 100)
    }

    @Test func pngIsNotAModel() throws {
        let png = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.path("Fixtures/images/skimage_chelsea.png")))
        let msg = Self.loadError(png, path: "cat.png")
        #expect(msg.contains("cat.png is not a readable ONNX model"), "\(msg)")
    }

    @Test func textIsNotAModel() {
        let msg = Self.loadError(Data("This is a README, not a model.\nSecond line.\n".utf8), path: "notes.txt")
        #expect(msg.contains("notes.txt is not a readable ONNX model"), "\(msg)")
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func randomBytesAreNotAModel(seed: UInt64) {
        var s = seed &* 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<4096).map { _ -> UInt8 in s = s &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: s >> 33) }
        let msg = Self.loadError(Data(bytes), path: "random.bin")
        #expect(msg.contains("random.bin"), "\(msg)")
    }

    @Test func emptyFile() throws {
        let dir = try TempDir()
        let p = dir.path + "/empty.onnx"
        _ = FileManager.default.createFile(atPath: p, contents: Data())
        #expect(throws: ModelError.self) { try ONNXModel.load(path: p) }
        do { _ = try ONNXModel.load(path: p) } catch { #expect("\(error)".contains("empty.onnx is not a readable ONNX model (the file is empty)"), "\(error)") }
    }

    @Test func missingPath() {
        do { _ = try ONNXModel.load(path: "/nonexistent/dir/model.onnx"); Issue.record("loaded") } catch {
            #expect("\(error)" == "cannot read model /nonexistent/dir/model.onnx: no such file; check the path and permissions")
        }
    }

    @Test func directory() throws {
        let dir = try TempDir()
        do { _ = try ONNXModel.load(path: dir.path); Issue.record("loaded") } catch {
            #expect("\(error)".contains("cannot read model \(dir.path): it is a folder, not a file"), "\(error)")
        }
    }

    // MARK: - Graphs that are wrong

    @Test func cycle() throws {
        let data = try Self.model([
            Self.node("Add", "add_a", ["x", "b"], ["a"]),
            Self.node("Relu", "relu_b", ["a"], ["b"]),
        ], inputs: [Self.valueInfo("x", [1, 3])], outputs: ["b"])
        let msg = Self.loadError(data, path: "cycle.onnx")
        #expect(msg.contains("cycle.onnx") && msg.contains("cycle") && msg.contains("add_a") && msg.contains("relu_b"), "\(msg)")
    }

    @Test func rawDataDisagreesWithDims() throws {
        var w = Self.floats("conv.weight", [4, 3, 3, 3], [Float](repeating: 0.5, count: 4 * 3 * 3 * 3))
        w.rawData = w.rawData.prefix(100)
        let data = try Self.model([Self.node("Conv", "conv0", ["x", "conv.weight"], ["y"])],
                                  inputs: [Self.valueInfo("x", [1, 3, 8, 8])], outputs: ["y"], initializers: [w])
        let msg = Self.loadError(data, path: "short.onnx")
        #expect(msg == "model short.onnx, tensor 'conv.weight': has 100 bytes of data but shape [4, 3, 3, 3] of float needs 432; the file is damaged or was written incorrectly, re-export it", "\(msg)")
    }

    @Test func floatDataCountDisagreesWithDims() throws {
        let b = Self.floats("bias", [4], [1, 2, 3], raw: false)
        let data = try Self.model([Self.node("Add", "add0", ["x", "bias"], ["y"])],
                                  inputs: [Self.valueInfo("x", [1, 4])], outputs: ["y"], initializers: [b])
        let msg = Self.loadError(data, path: "m.onnx")
        #expect(msg.contains("tensor 'bias': holds 3 float values but its shape [4] needs 4"), "\(msg)")
    }

    @Test func implausibleDims() throws {
        var t = Self.floats("huge", [1 << 40, 1 << 40, 0], [])
        t.rawData = Data()
        let data = try Self.model([Self.node("Add", "add0", ["x", "huge"], ["y"])],
                                  inputs: [Self.valueInfo("x", [1, 4])], outputs: ["y"], initializers: [t])
        let msg = Self.loadError(data)
        #expect(msg.contains("tensor 'huge'") && msg.contains("implausibly large"), "\(msg)")
        let neg = Self.floats("neg", [2, -3], [])
        let msg2 = Self.loadError(try Self.model([Self.node("Add", "add0", ["x", "neg"], ["y"])],
                                                 inputs: [Self.valueInfo("x", [1, 4])], outputs: ["y"], initializers: [neg]))
        #expect(msg2.contains("tensor 'neg': has negative dimensions [2, -3]"), "\(msg2)")
    }

    @Test func convWeightChannelsDisagreeWithInput() throws {
        let w = Self.floats("w", [4, 5, 3, 3], [Float](repeating: 0.1, count: 4 * 5 * 9))
        let data = try Self.model([Self.node("Conv", "conv_stem", ["x", "w"], ["y"], [Self.attr("kernel_shape", ints: [3, 3])])],
                                  inputs: [Self.valueInfo("x", [1, 3, 8, 8])], outputs: ["y"], initializers: [w])
        let msg = Self.loadError(data, path: "conv.onnx")
        #expect(msg.contains("conv.onnx") && msg.contains("Conv node 'conv_stem'") && msg.contains("[4, 5, 3, 3]") && msg.contains("[1, 3, 8, 8]"), "\(msg)")
    }

    @Test func addOfIncompatibleShapes() throws {
        let data = try Self.model([Self.node("Add", "add_skip", ["a", "b"], ["y"])],
                                  inputs: [Self.valueInfo("a", [1, 3, 4, 4]), Self.valueInfo("b", [1, 5, 4, 4])], outputs: ["y"])
        let msg = Self.loadError(data)
        #expect(msg.contains("Add node 'add_skip'") && msg.contains("[1, 3, 4, 4]") && msg.contains("[1, 5, 4, 4]"), "\(msg)")
    }

    @Test func nodeReadsUndefinedTensor() throws {
        let data = try Self.model([Self.node("Add", "add0", ["x", "ghost"], ["y"])],
                                  inputs: [Self.valueInfo("x", [1, 3])], outputs: ["y"])
        let msg = Self.loadError(data)
        #expect(msg.contains("node 'add0'") && msg.contains("'ghost'") && msg.contains("no node, input or initializer"), "\(msg)")
    }

    @Test func graphOutputUndefined() throws {
        let data = try Self.model([Self.node("Relu", "relu0", ["x"], ["y"])], inputs: [Self.valueInfo("x", [1, 3])], outputs: ["nowhere"])
        let msg = Self.loadError(data)
        #expect(msg.contains("'nowhere'"), "\(msg)")
    }

    /// Attributes that used to crash shape arithmetic (found by `vigil-bench fuzz-loader`).
    @Test(arguments: [
        ("strides", [0, 1] as [Int64], "must be 1 or more"),
        ("dilations", [1, -2], "must be 1 or more"),
        ("pads", [0, 0, -1, 0], "0 or more"),
        ("kernel_shape", [3, 1 << 40], "must be 1 or more"),
    ])
    func damagedConvWindow(attribute: String, values: [Int64], expected: String) throws {
        let w = Self.floats("w", [4, 3, 3, 3], [Float](repeating: 0.1, count: 4 * 27))
        var attrs = [Self.attr("kernel_shape", ints: [3, 3])]
        if attribute == "kernel_shape" { attrs = [] }
        attrs.append(Self.attr(attribute, ints: values))
        let data = try Self.model([Self.node("Conv", "conv0", ["x", "w"], ["y"], attrs)],
                                  inputs: [Self.valueInfo("x", [1, 3, 8, 8])], outputs: ["y"], initializers: [w])
        let msg = Self.loadError(data)
        #expect(msg.contains("conv0") && msg.contains(expected), "\(msg)")
    }

    @Test func reshapeToNegativeOrHugeShape() throws {
        for target: [Int64] in [[-5, 12], [1 << 40, 1 << 40], [Int64.max, 2]] {
            let data = try Self.model([Self.node("Reshape", "reshape0", ["x", "shape"], ["y"])],
                                      inputs: [Self.valueInfo("x", [1, 12])], outputs: ["y"], initializers: [Self.ints("shape", target)])
            let msg = Self.loadError(data)
            #expect(msg.contains("Reshape node 'reshape0'"), "\(msg)")
        }
    }

    @Test func constantOfShapeTooLarge() throws {
        var v = Onnx_AttributeProto(); v.name = "value"; v.type = .tensor; v.t = Self.floats("v", [1], [1])
        let data = try Self.model([
            Self.node("ConstantOfShape", "fill0", ["shape"], ["c"], [v]),
            Self.node("Add", "add0", ["x", "c"], ["y"]),
        ], inputs: [Self.valueInfo("x", [1])], outputs: ["y"], initializers: [Self.ints("shape", [1 << 20, 1 << 20])])
        let msg = Self.loadError(data)
        #expect(msg.contains("fill0") && msg.contains("larger than"), "\(msg)")
    }

    // MARK: - Run time

    @Test func missingInputAtRunTime() throws {
        let m = try ONNXModel.load(data: try Self.reluModel(), path: "relu.onnx")
        #expect(throws: GraphError.badInput(name: "x", detail: "missing; the model needs inputs [\"x\"]")) {
            try Executor(graph: m.graph, configuration: .test).run([:])
        }
    }

    @Test func wrongRankAndSizeAtRunTime() throws {
        let m = try ONNXModel.load(data: try Self.reluModel(), path: "relu.onnx")
        let exec = Executor(graph: m.graph, configuration: .test)
        do { _ = try exec.run(["x": Tensor(shape: [3, 4, 4], repeating: 1)]); Issue.record("ran") } catch {
            #expect("\(error)".hasPrefix("input 'x': has rank 3 [3, 4, 4] but the model expects rank 4"), "\(error)")
        }
        do { _ = try exec.run(["x": Tensor(shape: [1, 3, 5, 4], repeating: 1)]); Issue.record("ran") } catch {
            #expect("\(error)".hasPrefix("input 'x': has extent 5 at axis 2 (shape [1, 3, 5, 4]) but the model expects 4"), "\(error)")
        }
        #expect(try exec.run(["x": Tensor(shape: [1, 3, 4, 4], repeating: -1)]).outputs["y"]?.data.allSatisfy { $0 == 0 } == true)
    }

    // MARK: - Unsupported and version checks

    @Test func unsupportedOp() throws {
        let data = try Self.model([Self.node("NonMaxSuppression", "nms_7", ["x"], ["y"])], inputs: [Self.valueInfo("x", [1, 3])], outputs: ["y"], opset: 13)
        let msg = Self.loadError(data, path: "det.onnx")
        #expect(msg.hasPrefix("model det.onnx: op 'NonMaxSuppression' (node 'nms_7', opset 13) is not supported; supported ops: "), "\(msg)")
        #expect(msg.contains("Conv") && msg.contains("Relu") && msg.contains("Resize"), "\(msg)")
    }

    @Test(arguments: [1 as Int64, 5, 19, 99])
    func opsetOutOfRange(opset: Int64) throws {
        let data = try Self.model([Self.node("Relu", "relu0", ["x"], ["y"])], inputs: [Self.valueInfo("x", [1, 3])], outputs: ["y"], opset: opset)
        let msg = Self.loadError(data, path: "old.onnx")
        #expect(msg == "model old.onnx: opset \(opset) is not supported (6 to 18 are); re-export with opset_version in that range", "\(msg)")
    }

    @Test func nanAndInfWeightsWarn() throws {
        let b = Self.floats("bias.nan", [3], [1, .nan, .infinity])
        let data = try Self.model([Self.node("Add", "add0", ["x", "bias.nan"], ["y"])],
                                  inputs: [Self.valueInfo("x", [1, 3])], outputs: ["y"], initializers: [b])
        let m = try ONNXModel.load(data: data, path: "nan.onnx")
        #expect(m.warnings.count == 1)
        #expect(m.warnings.first?.contains("'bias.nan'") == true && m.warnings.first?.contains("NaN or infinite") == true, "\(m.warnings)")
    }

    // MARK: - External data

    /// A model whose only initializer lives in an external file at `location`.
    static func externalModel(location: String, length: Int? = nil) throws -> Data {
        var w = Onnx_TensorProto()
        w.name = "bias"; w.dims = [3]; w.dataType = 1; w.dataLocation = .external
        var loc = Onnx_StringStringEntryProto(); loc.key = "location"; loc.value = location
        w.externalData = [loc]
        if let length { var l = Onnx_StringStringEntryProto(); l.key = "length"; l.value = "\(length)"; w.externalData.append(l) }
        return try model([node("Add", "add0", ["x", "bias"], ["y"])], inputs: [valueInfo("x", [1, 3])], outputs: ["y"], initializers: [w])
    }

    @Test func externalDataBesideTheModelLoads() throws {
        let dir = try TempDir()
        try [Float(1), 2, 3].withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: dir.path + "/weights.bin"))
        let m = try ONNXModel.load(data: try Self.externalModel(location: "weights.bin"), path: dir.path + "/m.onnx")
        #expect(m.graph.constants["bias"]?.data == [1, 2, 3])
    }

    @Test(arguments: ["../x.bin", "sub/../../x.bin", "/etc/passwd", "link.bin"])
    func externalDataEscapingTheFolderIsRefused(location: String) throws {
        let outer = try TempDir()
        let dir = outer.path + "/model"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(count: 12).write(to: URL(fileURLWithPath: outer.path + "/x.bin"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.bin", withDestinationPath: outer.path + "/x.bin")
        let msg = Self.loadError(try Self.externalModel(location: location), path: dir + "/m.onnx")
        #expect(msg.contains("tensor 'bias': external data location '\(location)'") && msg.contains("Vigil only reads external data stored beside the model"), "\(msg)")
    }

    @Test func externalDataLengthBeyondTheFile() throws {
        let dir = try TempDir()
        try Data(count: 12).write(to: URL(fileURLWithPath: dir.path + "/w.bin"))
        let msg = Self.loadError(try Self.externalModel(location: "w.bin", length: 1 << 40), path: dir.path + "/m.onnx")
        #expect(msg.contains("tensor 'bias': external data file 'w.bin' holds 12 bytes"), "\(msg)")
        let msg2 = Self.loadError(try Self.externalModel(location: "w.bin", length: -4), path: dir.path + "/m.onnx")
        #expect(msg2.contains("tensor 'bias'"), "\(msg2)")
    }

    // MARK: - Fuzz regressions

    /// Every input that once crashed `vigil-bench fuzz-loader` now loads cleanly or fails with a ModelError, and
    /// one that loads runs or fails with a GraphError.
    @Test func fuzzRegressions() throws {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: Self.regressionsDir)) ?? []).filter { $0.hasSuffix(".onnx") }.sorted()
        #expect(!files.isEmpty, "no files in \(Self.regressionsDir)")
        for f in files {
            let path = Self.regressionsDir + "/" + f
            let m: ONNXModel
            do { m = try ONNXModel.load(path: path) } catch let e as ModelError {
                #expect(e.description.contains(f), "\(f): \(e)")
                continue
            }
            var feeds: [String: Tensor] = [:]
            for gi in m.graph.inputs {
                let shape = gi.shape.map { $0 ?? 1 }
                guard let n = checkedCount(shape), n <= 1 << 22 else { continue }
                feeds[gi.name] = Tensor(shape: shape, repeating: 0.5)
            }
            do { _ = try Executor(graph: m.graph, configuration: .test).run(feeds) } catch is GraphError {}
        }
    }
}

/// A temporary folder removed when the value goes away.
final class TempDir {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "vigil-bad-models-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

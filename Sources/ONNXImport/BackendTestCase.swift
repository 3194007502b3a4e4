import Foundation
import Graph
import TensorCore

/// A test case in ONNX's backend-test layout: `model.onnx` (or `model.txt` naming the model file relative to the
/// case folder) plus `test_data_set_*/input_*.pb` and `output_*.pb` TensorProto files.
public struct BackendTestCase: Sendable {
    /// The case folder.
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The model file of the case.
    public var modelPath: String {
        let txt = (directory as NSString).appendingPathComponent("model.txt")
        if let s = try? String(contentsOfFile: txt, encoding: .utf8) {
            let rel = s.trimmingCharacters(in: .whitespacesAndNewlines)
            return ((directory as NSString).appendingPathComponent(rel) as NSString).standardizingPath
        }
        return (directory as NSString).appendingPathComponent("model.onnx")
    }

    /// Outcome of one data set.
    public struct Result: Sendable {
        public var dataSet: String
        public var passed: Bool
        /// Worst absolute difference, its output and flat index, and the worst relative difference.
        public var maxAbsDiff: Float, maxRelDiff: Float
        public var worstOutput: String, worstIndex: Int
        public var expected: Float, actual: Float
        public var message: String?
    }

    /// Runs every data set and compares every output at `|a - e| <= atol + rtol * |e|`.
    /// - Throws: `ModelError` when the model cannot be loaded (unsupported ops surface here), `GraphError` at run time.
    public func run(rtol: Float = 1e-4, atol: Float = 1e-5, configuration: EngineConfiguration = .standard) throws -> [Result] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelError.unreadable(path: directory, reason: "no such folder; pass a test case folder holding model.onnx and test_data_set_*")
        }
        guard let entries = try? fm.contentsOfDirectory(atPath: directory) else {
            throw ModelError.unreadable(path: directory, reason: "the folder cannot be listed; check its permissions")
        }
        let sets = entries.filter { $0.hasPrefix("test_data_set_") }.sorted()
        guard !sets.isEmpty else { throw ModelError.unreadable(path: directory, reason: "no test_data_set_* folder in the case") }
        var results: [Result] = []
        for set in sets {
            let dir = (directory as NSString).appendingPathComponent(set)
            let inputs = try Self.readTensors(dir, prefix: "input_")
            let expected = try Self.readTensors(dir, prefix: "output_")
            // Integer inputs are shape arguments: bind them as constants at load.
            var bindings: [String: ConstValue] = [:]
            let probe = try ONNXModel.load(path: modelPath, bindings: [:], inputNamesOnly: true)
            var feeds: [String: Tensor] = [:]
            for (i, (name0, v)) in inputs.enumerated() {
                let name = name0.isEmpty && i < probe.count ? probe[i] : name0
                if v.ints != nil { bindings[name] = v } else { feeds[name] = v.tensor }
            }
            // Parameters passed as graph inputs (Clip bounds, BatchNormalization statistics) are bound too.
            var model: ONNXModel
            while true {
                do { model = try ONNXModel.load(path: modelPath, bindings: bindings); break }
                catch let ModelError.needsConstant(_, _, input, _) where feeds[input] != nil && bindings[input] == nil {
                    bindings[input] = ConstValue(shape: feeds[input]!.shape, floats: feeds[input]!.data)
                    feeds[input] = nil
                }
            }
            let exec = Executor(graph: model.graph.fused(), configuration: configuration)
            let eval = try exec.run(feeds)
            var r = Result(dataSet: set, passed: true, maxAbsDiff: 0, maxRelDiff: 0, worstOutput: "", worstIndex: -1, expected: 0, actual: 0, message: nil)
            var worstExcess: Float = -.infinity
            for (j, (name0, e)) in expected.enumerated() {
                let name = name0.isEmpty ? model.graph.outputs[j] : name0
                guard let got = eval.outputs[name] else { r.passed = false; r.message = "output '\(name)' was not produced"; continue }
                let ef = e.asFloats
                guard got.count == ef.count, got.shape == e.shape || shapeCount(got.shape) == shapeCount(e.shape) else {
                    r.passed = false; r.message = "output '\(name)' has shape \(got.shape), expected \(e.shape)"; continue
                }
                for i in 0..<ef.count {
                    let a = got.data[i], x = ef[i]
                    if a.isNaN && x.isNaN { continue }
                    if a == x { continue }
                    let d = abs(a - x)
                    r.maxAbsDiff = max(r.maxAbsDiff, d.isNaN ? .infinity : d)
                    r.maxRelDiff = max(r.maxRelDiff, d / max(abs(x), 1e-12))
                    let excess = d.isNaN ? .infinity : d - (atol + rtol * abs(x))
                    if excess > worstExcess { worstExcess = excess; r.worstOutput = name; r.worstIndex = i; r.expected = x; r.actual = a }
                    if excess > 0 { r.passed = false }
                }
            }
            results.append(r)
        }
        return results
    }

    /// Why the case cannot run (a non-float32 output or input other than an integer shape input), or nil.
    public func unrunnableReason() throws -> String? {
        let fm = FileManager.default
        if let data = fm.contents(atPath: modelPath), let proto = try? Onnx_ModelProto(serializedBytes: data) {
            for v in proto.graph.input + proto.graph.output {
                guard case .tensorType? = v.type.value else { return "'\(v.name)' is not a tensor (sequence, map or optional)" }
            }
        }
        for set in (try fm.contentsOfDirectory(atPath: directory)).filter({ $0.hasPrefix("test_data_set_") }) {
            let dir = (directory as NSString).appendingPathComponent(set)
            for f in try fm.contentsOfDirectory(atPath: dir) where f.hasSuffix(".pb") {
                guard let data = fm.contents(atPath: (dir as NSString).appendingPathComponent(f)),
                      let t = try? Onnx_TensorProto(serializedBytes: data) else { return "\(f) is not a TensorProto" }
                let isOutput = f.hasPrefix("output_")
                if t.dataType == 1 { continue }
                if !isOutput && (t.dataType == 7 || t.dataType == 6) { continue }
                let type = Onnx_TensorProto.DataType(rawValue: Int(t.dataType)).map { "\($0)" } ?? "\(t.dataType)"
                return "\(isOutput ? "output" : "input") '\(t.name)' is \(type)"
            }
        }
        return nil
    }

    /// Reads `prefix*.pb` files of a data set, in index order, as (tensor name, value).
    static func readTensors(_ dir: String, prefix: String) throws -> [(String, ConstValue)] {
        let files = (try FileManager.default.contentsOfDirectory(atPath: dir)).filter { $0.hasPrefix(prefix) && $0.hasSuffix(".pb") }
            .sorted { Int($0.dropFirst(prefix.count).dropLast(3)) ?? 0 < Int($1.dropFirst(prefix.count).dropLast(3)) ?? 0 }
        return try files.map { f in
            let p = (dir as NSString).appendingPathComponent(f)
            guard let data = FileManager.default.contents(atPath: p) else { throw ModelError.unreadable(path: p, reason: "cannot open") }
            let t: Onnx_TensorProto
            do { t = try Onnx_TensorProto(serializedBytes: data) } catch { throw ModelError.notONNX(path: p, reason: "not a TensorProto: \(error)") }
            return (t.name, try decodeTensor(t, modelPath: p, modelDir: dir))
        }
    }
}

extension ONNXModel {
    /// The names of the model's run-time inputs, without lowering the graph.
    static func load(path: String, bindings: [String: ConstValue], inputNamesOnly: Bool) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError.unreadable(path: path, reason: "the file cannot be opened") }
        let proto: Onnx_ModelProto
        do { proto = try Onnx_ModelProto(serializedBytes: data) } catch { throw ModelError.notONNX(path: path, reason: "protobuf decoding failed: \(error)") }
        let inits = Set(proto.graph.initializer.map(\.name))
        return proto.graph.input.map(\.name).filter { !inits.contains($0) }
    }
}

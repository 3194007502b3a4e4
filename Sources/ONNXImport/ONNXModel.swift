import Foundation
import Graph
import SwiftProtobuf
import TensorCore

/// A loaded ONNX model: the graph Vigil runs, with what the file said about itself.
public struct ONNXModel: Sendable {
    /// The file it came from.
    public let path: String
    /// The lowered graph, with QDQ patterns rewritten into onnxruntime's integer ops (`Graph.integerQDQ`) and no
    /// other fusion applied.
    public let graph: Graph
    public let irVersion: Int
    /// Default-domain opset.
    public let opset: Int
    public let producer: String
    /// How the batch axis is handled.
    public let batch: BatchHandling
    /// Why a fixed batch could not be freed (for `vigil inspect`).
    public let batchNote: String?
    /// Constants that were integer tensors dequantised at load (the weights and biases of a QDQ model).
    public let dequantizedConstants: Set<String>
    /// Warnings found while loading (NaN/Inf weights, ignored metadata).
    public let warnings: [String]
    /// ONNX op types of the file's nodes with their counts (before lowering).
    public let onnxOpCounts: [String: Int]
    /// Static shapes of every run-time tensor at batch 1, where known.
    public let shapes: [String: [Int]]

    /// Reads and lowers the model at `path`.
    ///
    /// - Parameters:
    ///   - path: an `.onnx` file; external data is read only from its folder.
    ///   - bindings: graph inputs to treat as constants (integer shape inputs of test cases).
    /// - Throws: `ModelError` naming the file and the node or tensor at fault.
    public static func load(path: String, bindings: [String: ConstValue] = [:]) throws -> ONNXModel {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ModelError.unreadable(path: path, reason: "no such file")
        }
        guard !isDir.boolValue else { throw ModelError.unreadable(path: path, reason: "it is a folder, not a file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.unreadable(path: path, reason: "the file cannot be opened")
        }
        return try load(data: data, path: path, bindings: bindings)
    }

    /// Lowers a model from its serialized bytes; `path` names it in messages and anchors external data.
    public static func load(data: Data, path: String, bindings: [String: ConstValue] = [:]) throws -> ONNXModel {
        guard !data.isEmpty else { throw ModelError.notONNX(path: path, reason: "the file is empty") }
        let proto: Onnx_ModelProto
        do {
            var opts = BinaryDecodingOptions()
            opts.messageDepthLimit = 64
            proto = try Onnx_ModelProto(serializedBytes: data, options: opts)
        } catch {
            throw ModelError.notONNX(path: path, reason: "protobuf decoding failed: \(error)")
        }
        guard proto.hasGraph, !proto.graph.node.isEmpty else {
            throw ModelError.notONNX(path: path, reason: "it holds no graph")
        }
        let ir = Int(proto.irVersion)
        guard (3...10).contains(ir) else {
            throw ModelError.unsupportedVersion(path: path, detail: "IR version \(ir) is not supported (3 to 10 are); re-export with a supported exporter version")
        }
        var opset = 0
        for o in proto.opsetImport where o.domain.isEmpty || o.domain == "ai.onnx" { opset = Int(o.version) }
        guard opset > 0 else { throw ModelError.unsupportedVersion(path: path, detail: "no default-domain opset is declared") }
        guard (6...18).contains(opset) else {
            throw ModelError.unsupportedVersion(path: path, detail: "opset \(opset) is not supported (6 to 18 are); re-export with opset_version in that range")
        }
        let dir = (path as NSString).deletingLastPathComponent
        var state = ImportState(path: path, modelDir: dir, opset: opset, freeFixedBatch: false)
        var graph: Graph
        var batch = BatchHandling.free
        let fixedOne = proto.graph.input.contains { vi in
            let d = vi.type.tensorType.shape.dim
            if d.count >= 2, case let .dimValue(v)? = d[0].value { return v == 1 && bindings[vi.name] == nil }
            return false
        }
        var batchNote: String? = nil
        freeing: if fixedOne {
            // Exported with the batch fixed at 1: import again with the batch axis free (constant reshape targets
            // that start with the batch follow it), and keep that only when the graph provably treats items
            // independently; else run batches one item at a time.
            var free = ImportState(path: path, modelDir: dir, opset: opset, freeFixedBatch: true)
            do {
                let g = try free.lower(proto.graph, bindings: bindings)
                guard let why = g.batchMixing else { graph = g; state = free; batch = .freedFromFixed; break freeing }
                batchNote = why
            } catch {
                batchNote = "\(error)"
            }
            graph = try state.lower(proto.graph, bindings: bindings)
            batch = .fixed
        } else {
            graph = try state.lower(proto.graph, bindings: bindings)
        }
        // QDQ patterns onnxruntime fuses into integer kernels run as those kernels do.
        graph = graph.integerQDQ(weights: state.dequantizedBy).graph
        var counts: [String: Int] = [:]
        for n in proto.graph.node { counts[n.opType, default: 0] += 1 }
        return ONNXModel(path: path, graph: graph, irVersion: ir, opset: opset, producer: proto.producerName + (proto.producerVersion.isEmpty ? "" : " " + proto.producerVersion),
                         batch: batch, batchNote: batchNote, dequantizedConstants: state.dequantized, warnings: state.warnings, onnxOpCounts: counts, shapes: state.shapes.mapValues { $0.map { $0 == ImportState.symbolicBatch ? 1 : $0 } })
    }

    /// Op types of the file that Vigil cannot run, with one node name each (for `vigil inspect`).
    public static func unsupportedOps(path: String) throws -> [(opType: String, node: String)] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError.unreadable(path: path, reason: "the file cannot be opened") }
        let proto: Onnx_ModelProto
        do { proto = try Onnx_ModelProto(serializedBytes: data) } catch { throw ModelError.notONNX(path: path, reason: "protobuf decoding failed: \(error)") }
        var seen = Set<String>(), out: [(String, String)] = []
        for n in proto.graph.node where opTable[n.opType] == nil && !foldOnlyOps.contains(n.opType) && !seen.contains(n.opType) {
            seen.insert(n.opType); out.append((n.opType, n.name))
        }
        return out
    }
}

/// How a model's batch axis is handled.
public enum BatchHandling: String, Sendable, Codable {
    /// The file leaves the batch free (or has no image input with a fixed batch).
    case free
    /// The file fixes the batch at 1; Vigil freed it at load (reshape targets follow the batch), having checked
    /// that items never interact.
    case freedFromFixed = "freed-from-fixed"
    /// The file fixes the batch at 1 and the graph could not be freed: batches run one item at a time.
    case fixed
}

/// Working state of one import.
struct ImportState {
    /// Stand-in extent for a free batch axis while shapes are tracked at load.
    static let symbolicBatch = 1_000_003
    /// Largest constant folded at load (shape sub-graphs are small; more means a damaged file).
    static let maxFoldedCount = 1 << 26

    let path: String
    let modelDir: String
    let opset: Int
    /// Treat a leading extent of 1 on the graph inputs as the free batch axis, rewriting constant reshape targets
    /// and broadcasting batch-1 constants that are concatenated with batched values.
    let freeFixedBatch: Bool
    var consts: [String: ConstValue] = [:]
    var shapes: [String: [Int]] = [:]
    var nodes: [Node] = []
    var graphConstants: [String: Tensor] = [:]
    var warnings: [String] = []
    var unnamed = 0
    /// Outputs of DequantizeLinear nodes folded at load.
    var dequantized: Set<String> = []
    /// The quantisation each of those was dequantised with (what `Graph.integerQDQ` recovers the integers by).
    var dequantizedBy: [String: Quantization] = [:]
    /// Tensors read by some node or named as graph outputs.
    var read: Set<String> = []

    init(path: String, modelDir: String, opset: Int, freeFixedBatch: Bool = false) {
        self.path = path; self.modelDir = modelDir; self.opset = opset; self.freeFixedBatch = freeFixedBatch
    }

    mutating func lower(_ g: Onnx_GraphProto, bindings: [String: ConstValue]) throws -> Graph {
        for t in g.initializer {
            let v = try decodeTensor(t, modelPath: path, modelDir: modelDir)
            if let f = v.floats, f.contains(where: { !$0.isFinite }) {
                warnings.append("initializer '\(t.name)' holds NaN or infinite values; the model's outputs may be meaningless")
            }
            consts[t.name] = v
        }
        for (k, v) in bindings { consts[k] = v }
        for n in g.node { read.formUnion(n.input) }
        read.formUnion(g.output.map(\.name))
        var inputs: [GraphInput] = []
        for vi in g.input where consts[vi.name] == nil {
            let tt = vi.type.tensorType
            if tt.hasElemType && tt.elemType != 1 {
                throw ModelError.unsupportedFeature(path: path, node: "input '\(vi.name)'", detail: "input type \(Onnx_TensorProto.DataType(rawValue: Int(tt.elemType)).map { "\($0)" } ?? "\(tt.elemType)") is not supported; Vigil runs float32 models")
            }
            var dims: [Int?] = tt.shape.dim.map { d in
                if case let .dimValue(v)? = d.value, v >= 0 { return Int(v) }
                return nil
            }
            if freeFixedBatch && dims.count >= 2 && dims[0] == 1 { dims[0] = nil }
            inputs.append(GraphInput(name: vi.name, shape: dims))
            if dims.dropFirst().allSatisfy({ $0 != nil }) && !dims.isEmpty {
                shapes[vi.name] = dims.enumerated().map { $0.offset == 0 && $0.element == nil ? ImportState.symbolicBatch : $0.element! }
            }
        }
        for n in try orderedNodes(g) { try lowerNode(n) }
        var outputs: [String] = []
        for o in g.output {
            if consts[o.name] != nil && graphConstants[o.name] == nil {
                // A constant output: materialise it through an Identity over a graph constant.
                let cname = o.name + "::constant"
                graphConstants[cname] = consts[o.name]!.tensor
                nodes.append(Node(name: o.name + "::identity", op: .identity, inputs: [cname], outputs: [o.name]))
            }
            outputs.append(o.name)
        }
        do {
            return try Graph(nodes: nodes, inputs: inputs, outputs: outputs, constants: graphConstants)
        } catch let e as GraphError {
            throw ModelError.badGraph(path: path, detail: e.description)
        }
    }

    /// The nodes in dependency order; a cycle or a dangling input is an error naming the node.
    func orderedNodes(_ g: Onnx_GraphProto) throws -> [Onnx_NodeProto] {
        var producer: [String: Int] = [:]
        for (i, n) in g.node.enumerated() { for o in n.output where !o.isEmpty { producer[o] = i } }
        let available = Set(consts.keys).union(g.input.map(\.name))
        var state = [UInt8](repeating: 0, count: g.node.count)
        var order: [Onnx_NodeProto] = []
        for start in 0..<g.node.count where state[start] == 0 {
            var stack: [(Int, Int)] = [(start, 0)]
            state[start] = 1
            while let (i, k) = stack.last {
                let ins = g.node[i].input
                if k < ins.count {
                    stack[stack.count - 1].1 += 1
                    let name = ins[k]
                    if name.isEmpty { continue }
                    guard let p = producer[name] else {
                        if !available.contains(name) {
                            throw ModelError.badGraph(path: path, detail: "node '\(g.node[i].name)' (\(g.node[i].opType)) reads '\(name)', which no node, input or initializer provides; the model is incomplete, re-export it")
                        }
                        continue
                    }
                    if state[p] == 1 {
                        throw ModelError.badGraph(path: path, detail: "the graph has a cycle through node '\(g.node[p].name)' (\(g.node[p].opType)) and '\(g.node[i].name)'; a valid ONNX graph is acyclic, re-export it")
                    }
                    if state[p] == 0 { state[p] = 1; stack.append((p, 0)) }
                } else {
                    state[i] = 2; order.append(g.node[i]); stack.removeLast()
                }
            }
        }
        return order
    }

    mutating func lowerNode(_ n0: Onnx_NodeProto) throws {
        var n = n0
        if n.name.isEmpty { unnamed += 1; n.name = "\(n.opType)_\(unnamed)" }
        guard n.domain.isEmpty || n.domain == "ai.onnx" else {
            throw ModelError.unsupportedOp(path: path, opType: "\(n.domain).\(n.opType)", node: n.name, opset: opset, supported: supportedOpTypes)
        }
        let attrs = Attributes(n, path: path)
        let allConst = n.input.allSatisfy { $0.isEmpty || consts[$0] != nil }
        if foldOnlyOps.contains(n.opType) || (allConst && opTable[n.opType] != nil) {
            if try fold(n, attrs: attrs) { return }
        }
        guard let rule = opTable[n.opType] else {
            throw ModelError.unsupportedOp(path: path, opType: n.opType, node: n.name, opset: opset, supported: supportedOpTypes)
        }
        guard opset >= rule.since && opset <= rule.until else {
            throw ModelError.unsupportedOp(path: path, opType: n.opType, node: n.name, opset: opset, supported: supportedOpTypes)
        }
        let ctx = makeContext(n, attrs: attrs)
        var low = try rule.lower(ctx)
        var inputs: [String] = []
        for i in low.dataInputs where i < n.input.count && !n.input[i].isEmpty {
            let name = n.input[i]
            if let c = consts[name], graphConstants[name] == nil {
                graphConstants[name] = c.tensor
            }
            inputs.append(name)
        }
        for (cname, t) in low.extraConstants { graphConstants[cname] = t; inputs.append(cname) }
        if case let .split(axis, nil, _) = low.op, let s = ctx.shape(0) {
            let a = axis < 0 ? axis + s.count : axis
            if a >= 0 && a < s.count && s[a] != ImportState.symbolicBatch && opset < 18 {
                low.op = .split(axis: axis, sizes: [Int](repeating: s[a] / max(n.output.count, 1), count: n.output.count), count: n.output.count)
            }
        }
        if freeFixedBatch { batchFollowing(&low.op, inputs: &inputs, node: n.name) }
        // Dropout's unread mask output is dropped (the lowering checked that nothing reads it).
        let outputs = n.opType == "Dropout" ? Array(n.output.prefix(1)) : Array(n.output)
        let node = Node(name: n.name, op: low.op, inputs: inputs, outputs: outputs)
        // Track static shapes where the inputs' shapes are known.
        let inShapes = inputs.map { shapes[$0] ?? graphConstants[$0]?.shape }
        if inShapes.allSatisfy({ $0 != nil }) {
            do {
                let outs = try node.op.outputShapes(inShapes.map { $0! }, batch: ImportState.symbolicBatch, node: n.name)
                for (o, s) in zip(n.output, outs) { shapes[o] = s }
            } catch let e as GraphError {
                throw ModelError.badGraph(path: path, detail: e.description)
            }
        }
        nodes.append(node)
    }

    /// With the batch freed from a fixed 1: a constant reshape target that starts with 1 where its input starts with
    /// the batch takes the batch instead, and a batch-1 constant concatenated (along another axis) with batched values
    /// is broadcast to the batch first (ViT's class token). `Graph.isBatchSeparable` checks the result.
    mutating func batchFollowing(_ op: inout Op, inputs: inout [String], node: String) {
        let known = shapes
        func startsWithBatch(_ name: String) -> Bool { known[name]?.first == ImportState.symbolicBatch }
        switch op {
        case let .reshape(target, allowZero):
            if let first = inputs.first, startsWithBatch(first), target.first == 1 {
                op = .reshape(shape: [Op.batchExtent] + target.dropFirst(), allowZero: allowZero)
            }
        case let .concat(axis):
            guard inputs.contains(where: startsWithBatch), let rank = inputs.lazy.compactMap({ known[$0]?.count }).first,
                  (axis < 0 ? axis + rank : axis) != 0 else { return }
            for (j, name) in inputs.enumerated() {
                guard let t = graphConstants[name], t.shape.count == rank, t.shape.first == 1 else { continue }
                let expanded = name + "::batch"
                if shapes[expanded] == nil {
                    nodes.append(Node(name: node + "::batch_" + String(j), op: .expand(shape: [Op.batchExtent] + t.shape.dropFirst()),
                                      inputs: [name], outputs: [expanded]))
                    shapes[expanded] = [ImportState.symbolicBatch] + t.shape.dropFirst()
                }
                inputs[j] = expanded
            }
        default: break
        }
    }

    func makeContext(_ n: Onnx_NodeProto, attrs: Attributes) -> NodeContext {
        let c = consts, s = shapes, r = read
        return NodeContext(proto: n, attrs: attrs, opset: opset, path: path,
                           constant: { i in i < n.input.count && !n.input[i].isEmpty ? c[n.input[i]] : nil },
                           shape: { i in i < n.input.count ? (s[n.input[i]] ?? c[n.input[i]]?.shape) : nil },
                           isRead: { r.contains($0) })
    }
}

extension ONNXModel {
    /// The nodes that compute on quantised values: those reading a run-time DequantizeLinear's output or weights
    /// dequantised at load, by op name with counts (empty for a float model).
    public var quantizedOpCounts: [String: Int] {
        var fromDequantize = dequantizedConstants
        for n in graph.nodes { if case .dequantize = n.op { fromDequantize.formUnion(n.outputs) } }
        var counts: [String: Int] = [:]
        for n in graph.nodes where n.inputs.contains(where: fromDequantize.contains) {
            switch n.op {
            case .quantize, .dequantize: continue
            default: counts[n.op.name, default: 0] += 1
            }
        }
        return counts
    }

    /// The nodes that run with onnxruntime's integer kernels (QLinearConv, QLinearAdd, QLinearGlobalAveragePool,
    /// QGemm), by op name with counts (empty for a float model).
    public var integerOpCounts: [String: Int] {
        var counts: [String: Int] = [:]
        for n in graph.nodes { if case let .integer(i) = n.op { counts[i.name, default: 0] += 1 } }
        return counts
    }

    /// Multiply-accumulates of one item's forward pass, summed over the nodes whose shapes are known at load (a
    /// model exported with a fixed batch of B has its shapes at B: the sum is divided by B).
    public var multiplyAddsPerItem: Int {
        var macs = 0
        for n in graph.nodes {
            let ins = n.inputs.map { shapes[$0] ?? graph.constants[$0]?.shape }
            let outs = n.outputs.map { shapes[$0] }
            if ins.allSatisfy({ $0 != nil }) && outs.allSatisfy({ $0 != nil }) {
                macs += n.op.macs(inputs: ins.map { $0! }, outputs: outs.map { $0! })
            }
        }
        if let batch = graph.inputs.first?.shape.first ?? nil, batch > 1 { return macs / batch }
        return macs
    }
}

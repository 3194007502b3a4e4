import Foundation
import TensorCore

/// Runs a graph: a schedule computed once, values freed after their last reader, optional captures.
///
/// One `Executor` per thread: the `Graph` is shared and immutable, the executor owns its workspace.
public final class Executor {
    public let graph: Graph
    /// Dense id of every tensor name.
    let ids: [String: Int]
    let nodeInputs: [[Int]]
    let nodeOutputs: [[Int]]
    /// Index of the last node reading each value (-1: never read).
    let lastUse: [Int]
    let outputIds: [Int]
    let workspace = Workspace()

    /// Plans the schedule of `graph`.
    public init(graph: Graph) {
        self.graph = graph
        var ids: [String: Int] = [:]
        func id(_ n: String) -> Int { if let i = ids[n] { return i }; let i = ids.count; ids[n] = i; return i }
        for i in graph.inputs { _ = id(i.name) }
        for c in graph.constants.keys.sorted() { _ = id(c) }
        var ins: [[Int]] = [], outs: [[Int]] = []
        for n in graph.nodes {
            ins.append(n.inputs.filter { !$0.isEmpty }.map(id))
            outs.append(n.outputs.map(id))
        }
        var last = [Int](repeating: -1, count: ids.count)
        for (k, i) in ins.enumerated() { for v in i { last[v] = k } }
        self.ids = ids; nodeInputs = ins; nodeOutputs = outs; lastUse = last
        outputIds = graph.outputs.map { ids[$0]! }
    }

    /// True when a tensor of this name exists in the graph.
    public func hasTensor(_ name: String) -> Bool { ids[name] != nil }

    /// Values downstream of `name` (including it) and the nodes reading them, for back-propagation.
    func downstream(of root: Int) -> (values: Set<Int>, nodes: [Int]) {
        var vals: Set<Int> = [root]
        var nodes: [Int] = []
        for k in 0..<graph.nodes.count where nodeInputs[k].contains(where: vals.contains) {
            nodes.append(k)
            vals.formUnion(nodeOutputs[k])
        }
        return (vals, nodes)
    }

    /// Runs the graph forward.
    ///
    /// - Parameters:
    ///   - inputs: one tensor per graph input, by name; the first axis is the batch.
    ///   - capture: names of intermediate tensors to return.
    ///   - retainForGradientOf: keep what back-propagating to this tensor needs.
    /// - Returns: outputs, captures and (when asked) what `gradient` needs.
    /// - Throws: `GraphError` for a missing input, a wrong rank or extent, or incompatible shapes at a node.
    public func run(_ inputs: [String: Tensor], capture: [String] = [], retainForGradientOf root: String? = nil) throws -> Evaluation {
        var values = [Tensor?](repeating: nil, count: ids.count)
        var batch = 1
        for gi in graph.inputs {
            guard let t = inputs[gi.name] else {
                throw GraphError.badInput(name: gi.name, detail: "missing; the model needs inputs \(graph.inputs.map(\.name))")
            }
            guard t.rank == gi.shape.count else {
                throw GraphError.badInput(name: gi.name, detail: "has rank \(t.rank) \(t.shape) but the model expects rank \(gi.shape.count) \(gi.shape.map { $0.map(String.init) ?? "N" })")
            }
            for (a, d) in gi.shape.enumerated() where d != nil && d != t.shape[a] {
                throw GraphError.badInput(name: gi.name, detail: "has extent \(t.shape[a]) at axis \(a) (shape \(t.shape)) but the model expects \(d!) (shape \(gi.shape.map { $0.map(String.init) ?? "N" }))")
            }
            if let b = t.shape.first { batch = b }
            values[ids[gi.name]!] = t
        }
        for (name, t) in graph.constants { values[ids[name]!] = t }
        var keep = Set(outputIds)
        var capIds: [(String, Int)] = []
        for c in capture {
            guard let i = ids[c] else { throw GraphError.unknownTensor(name: c) }
            keep.insert(i); capIds.append((c, i))
        }
        var rootId: Int? = nil
        var gradNodes: [Int] = []
        if let root {
            guard let r = ids[root] else { throw GraphError.unknownTensor(name: root) }
            rootId = r
            let d = downstream(of: r)
            gradNodes = d.nodes
            keep.insert(r)
            for k in d.nodes { keep.formUnion(nodeInputs[k]); keep.formUnion(nodeOutputs[k]) }
        }
        let constIds = Set(graph.constants.keys.compactMap { ids[$0] })
        let profile = Executor.profiling
        let inputIds = Set(graph.inputs.compactMap { ids[$0.name] })
        for (k, node) in graph.nodes.enumerated() {
            let x = nodeInputs[k].map { values[$0]! }
            let shapes = try node.op.outputShapes(x.map(\.shape), batch: batch, node: node.name)
            let t0 = profile ? DispatchTime.now().uptimeNanoseconds : 0
            let y = node.op.evaluate(x, outShapes: shapes, ws: workspace)
            if profile { Executor.record(node, x.map(\.shape), Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
            for (j, v) in nodeOutputs[k].enumerated() { values[v] = y[j] }
            for v in nodeInputs[k] where lastUse[v] == k && !keep.contains(v) && !constIds.contains(v) {
                // Graph inputs belong to the caller; everything else the executor made can be reused.
                if !inputIds.contains(v), let t = values[v] { workspace.recycle(t.data) }
                values[v] = nil
            }
        }
        var outs: [String: Tensor] = [:]
        for (n, i) in zip(graph.outputs, outputIds) { outs[n] = values[i]! }
        var caps: [String: Tensor] = [:]
        for (n, i) in capIds { caps[n] = values[i]! }
        var retained: [Int: Tensor] = [:]
        if rootId != nil {
            for k in gradNodes { for v in nodeInputs[k] + nodeOutputs[k] { retained[v] = values[v] } }
            retained[rootId!] = values[rootId!]
        }
        return Evaluation(outputs: outs, captured: caps, retained: retained, root: rootId, gradientNodes: gradNodes, batch: batch)
    }
}

extension Executor {
    /// Set VIGIL_PROFILE=1 to accumulate time per op kind (printed by `profileReport`).
    static let profiling = ProcessInfo.processInfo.environment["VIGIL_PROFILE"] != nil
    nonisolated(unsafe) static var profileTotals: [String: (Double, Int)] = [:]
    static let profileLock = NSLock()
    static func record(_ n: Node, _ shapes: [[Int]], _ ms: Double) {
        var key = n.op.name
        if case let .conv(wd, groups, _) = n.op {
            key += groups > 1 ? " depthwise \(wd.kernelH)x\(wd.kernelW)/\(wd.strideH)" : " \(wd.kernelH)x\(wd.kernelW)/\(wd.strideH)"
        }
        profileLock.lock(); let v = profileTotals[key] ?? (0, 0); profileTotals[key] = (v.0 + ms, v.1 + 1); profileLock.unlock()
    }
    /// Time per op kind so far, largest first.
    public static func profileReport() -> String {
        profileLock.lock(); defer { profileLock.unlock() }
        return profileTotals.sorted { $0.value.0 > $1.value.0 }.map { String(format: "%8.1f ms %6d x  %@", $0.value.0, $0.value.1, $0.key) }.joined(separator: "\n")
    }
}

/// What a forward pass produced.
public struct Evaluation: Sendable {
    /// The graph outputs by name.
    public var outputs: [String: Tensor]
    /// The captured intermediate tensors by name.
    public var captured: [String: Tensor]
    var retained: [Int: Tensor]
    var root: Int?
    var gradientNodes: [Int]
    var batch: Int
}

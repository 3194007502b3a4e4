import Foundation
import Synchronization
import TensorCore

/// Runs a graph: a schedule computed once, values freed after their last reader, optional captures.
///
/// One `Executor` per thread: the `Graph` is shared and immutable, the executor owns its workspace, its packed
/// weights and its `EngineConfiguration` (kernels, layout, threads, profiling), which the engines it makes inherit.
public final class Executor {
    public let graph: Graph
    /// How this executor runs (passed in; nothing process-wide).
    public let configuration: EngineConfiguration
    /// Weights packed for the blocked graphs this executor and the executors it makes use.
    public let packing: PackedWeights
    /// Dense id of every tensor name.
    let ids: [String: Int]
    let nodeInputs: [[Int]]
    let nodeOutputs: [[Int]]
    /// Index of the last node reading each value (-1: never read).
    let lastUse: [Int]
    /// Ids of the constants (never freed).
    let constIds: Set<Int>
    let outputIds: [Int]
    let workspace = Workspace()
    /// True when the items of a batch never interact (see `Graph.isBatchSeparable`); computed on first use.
    lazy var batchSeparable: Bool = graph.isBatchSeparable
    /// Per-thread executors for `runItemsInParallel`, made on first use.
    var itemExecutors: [Executor] = []
    /// Runs plain forward passes (no captures, no gradient) on AVX-512: the graph in the channel-blocked
    /// layout (`Graph.channelBlocked`), nil when no op converts; made on first use.
    lazy var blockedExecutor: Executor? = graph.channelBlocked(packing: packing).map { Executor(graph: $0, configuration: configuration, packing: packing) }
    /// Shapes of this graph's values at batch 1 (their channel counts, for captures made on the blocked executor).
    lazy var capturedShapes: [String: [Int]]? = graph.inferShapes(batch: 1)
    /// For a channel-blocked graph: which values live in the arena (`BlockedArenaPlan`), by id.
    let arenaValues: [Bool]
    let usesArena: Bool
    var arenaPlans: [ArenaPlanKey: BlockedArenaPlan] = [:]
    /// The plan of the last run that kept values in the arena, and those values (see `arenaValue`).
    var lastArenaPlan: (BlockedArenaPlan, Set<Int>)? = nil
    let arena = AlignedFloats()

    /// Plans the schedule of `graph`.
    /// - Parameters:
    ///   - configuration: kernels, layout, threads per kernel call and profiling.
    ///   - packing: packed weights to share with other engines of the same owner.
    public init(graph: Graph, configuration: EngineConfiguration = .standard, packing: PackedWeights = PackedWeights()) {
        self.graph = graph
        self.configuration = configuration
        self.packing = packing
        let schedule = Graph.Schedule(graph)
        ids = schedule.ids; nodeInputs = schedule.nodeInputs; nodeOutputs = schedule.nodeOutputs; lastUse = schedule.lastUse
        constIds = schedule.constIds
        outputIds = graph.outputs.map { schedule.ids[$0]! }
        arenaValues = Executor.arenaValues(of: graph, ids: ids, nodeOutputs: nodeOutputs)
        usesArena = arenaValues.contains(true)
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
    ///   - wholeBatch: run op by op over the whole batch with threaded kernels, never item by item.
    /// - Returns: outputs, captures and (when asked) what `gradient` needs.
    /// - Throws: `GraphError` for a missing input, a wrong rank or extent, or incompatible shapes at a node.
    public func run(_ inputs: [String: Tensor], capture: [String] = [], retainForGradientOf root: String? = nil,
                    wholeBatch: Bool = false) throws -> Evaluation {
        try run(inputs, capture: capture, retainForGradientOf: root, wholeBatch: wholeBatch, keepInArena: [])
    }

    /// True when plain forward passes take the channel-blocked graph on this thread.
    var blockedPasses: Bool { configuration.usesBlockedLayout }

    /// `run`, and for a blocked graph without a gradient root the arena values `keepInArena` (ids) stay readable
    /// through `arenaValue` until the next run; captures of arena values are then left to `arenaValue`.
    func run(_ inputs: [String: Tensor], capture: [String], retainForGradientOf root: String?, wholeBatch: Bool,
             keepInArena: Set<Int>) throws -> Evaluation {
        try configuration.apply { try runConfigured(inputs, capture: capture, retainForGradientOf: root, wholeBatch: wholeBatch, keepInArena: keepInArena) }
    }

    private func runConfigured(_ inputs: [String: Tensor], capture: [String], retainForGradientOf root: String?, wholeBatch: Bool,
                               keepInArena: Set<Int>) throws -> Evaluation {
        let keepArena = !keepInArena.isEmpty
        lastArenaPlan = nil
        // The blocked executor validates the same inputs (its graph has this graph's inputs).
        if root == nil && !keepArena && blockedPasses, let blocked = blockedExecutor {
            if capture.isEmpty { return try blocked.run(inputs, wholeBatch: wholeBatch) }
            if let e = try runBlockedCapturing(blocked, inputs, capture: capture, wholeBatch: wholeBatch) { return e }
        }
        var values = [Tensor?](repeating: nil, count: ids.count)
        var batch = 1
        // A graph whose inputs fix the batch at 1 runs a larger plain batch one item at a time.
        if capture.isEmpty && root == nil && !keepArena, let b = inputs[graph.inputs.first?.name ?? ""]?.shape.first, b > 1,
           graph.inputs.allSatisfy({ $0.shape.first == 1 && inputs[$0.name]?.shape.first == b }) {
            return try runItemsInParallel(inputs, batch: b)
        }
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
        if capture.isEmpty && root == nil && batch > 1 && !wholeBatch && !keepArena && batchSeparable {
            return try runItemsInParallel(inputs, batch: batch)
        }
        // Blocked values of a blocked graph live in the arena (plain passes only, or with `keepArena`).
        let plan = root == nil && (capture.isEmpty || keepArena) ? arenaPlan(batch: batch, keeping: keepInArena) : nil
        if keepArena, let plan { lastArenaPlan = (plan, keepInArena) }
        var keep = Set(outputIds)
        var capIds: [(String, Int)] = []
        for c in capture {
            guard let i = ids[c] else { throw GraphError.unknownTensor(name: c) }
            if plan != nil && arenaValues[i] { continue }   // read through `arenaValue`
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
        let profile = configuration.profile != nil
        let inputIds = Set(graph.inputs.compactMap { ids[$0.name] })
        let arenaBase = plan.map { arena.reserve($0.floats) }
        // Values that share one array (a Reshape's output is its input's storage): an array goes back to the
        // workspace only when the last value holding it is freed. Recycled earlier, the next op writing into it
        // would copy it first (copy on write), and the copy costs more than the op.
        var sharers = StorageSharers()
        for i in inputIds { if let t = values[i] { sharers.addForeign(t) } }
        for i in constIds { if let t = values[i] { sharers.addForeign(t) } }
        for (k, node) in graph.nodes.enumerated() {
            if let plan, let arenaBase, nodeInputs[k].contains(where: { arenaValues[$0] }) || nodeOutputs[k].contains(where: { arenaValues[$0] }) {
                let t0 = profile ? DispatchTime.now().uptimeNanoseconds : 0
                try runArenaNode(k, plan, arenaBase, values: &values)
                if profile { record(node, nodeInputs[k].map { plan.shapes[$0]! }, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
            } else {
                let x = nodeInputs[k].map { values[$0]! }
                let shapes = try node.op.outputShapes(x.map(\.shape), batch: batch, node: node.name)
                guard shapes.count >= nodeOutputs[k].count else {
                    throw GraphError.shapeMismatch(node: node.name, op: node.op.name,
                                                   detail: "the node names \(nodeOutputs[k].count) outputs but the op makes \(shapes.count)")
                }
                let t0 = profile ? DispatchTime.now().uptimeNanoseconds : 0
                let y = node.op.evaluate(x, outShapes: shapes, ws: workspace)
                if profile { record(node, x.map(\.shape), Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
                for (j, v) in nodeOutputs[k].enumerated() { values[v] = y[j] }
            }
            for v in nodeOutputs[k] { if let t = values[v] { sharers.add(t) } }
            for v in nodeInputs[k] where lastUse[v] == k && !keep.contains(v) && !constIds.contains(v) {
                // Graph inputs belong to the caller; everything else the executor made can be reused.
                if !inputIds.contains(v), let t = values[v], sharers.release(t) { workspace.recycle(t.data) }
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
    /// A plain forward pass with captures on the blocked executor, or nil when a captured value has no form
    /// there (a convolution output that a fused residual Add took over). Captures of blocked values are kept in
    /// its arena through the run and copied back to NCHW after it.
    func runBlockedCapturing(_ blocked: Executor, _ inputs: [String: Tensor], capture: [String], wholeBatch: Bool) throws -> Evaluation? {
        var direct: [String] = [], converted: [(name: String, id: Int)] = []
        for c in capture {
            if let i = blocked.ids[c], !blocked.arenaValues[i] { direct.append(c) }
            else if let i = blocked.ids[c + "::blocked"], blocked.arenaValues[i] { converted.append((c, i)) }
            else { return nil }
        }
        guard let shapes = capturedShapes else { return nil }
        var e = try blocked.run(inputs, capture: direct, retainForGradientOf: nil, wholeBatch: wholeBatch,
                                keepInArena: Set(converted.map(\.id)))
        for (name, _) in converted {
            guard let c = shapes[name]?[1], let t = blocked.keptArenaValueInNCHW(name, channels: c) else { return nil }
            e.captured[name] = t
        }
        return e
    }

    /// An NCHW copy of `name`'s blocked form ("name::blocked") kept in the arena by the last run, or nil.
    func keptArenaValueInNCHW(_ name: String, channels c: Int) -> Tensor? {
        guard let (p, s) = arenaValue(name + "::blocked") else { return nil }
        var y = [Float](unsafeUninitializedCapacity: s[0] * c * s[2] * s[3]) { _, n in n = s[0] * c * s[2] * s[3] }
        y.withUnsafeMutableBufferPointer { fromChannelBlocked(p, batch: s[0], channels: c, pixels: s[2] * s[3], y: $0.baseAddress!) }
        return Tensor(shape: [s[0], c, s[2], s[3]], data: y)
    }

    /// Plain forward of a batch as independent items: each thread takes the next item and runs the whole
    /// graph on it at batch 1 with single-threaded kernels, into its own executor and workspace.
    ///
    /// Why: layer by layer over the whole batch, every expanded activation of EfficientNet-Lite0 at batch 16
    /// is up to 77 MB and streams through DRAM between ops; one item at a time keeps each op's operands
    /// (at most 4.8 MB) in cache, and the threads need no synchronisation inside the graph. Items are
    /// handed out dynamically, so a thread slowed by other load takes fewer. On one thread too (batch 16 of
    /// EfficientNet-Lite0: 162 ms layer by layer, 106 ms item by item).
    /// - Precondition: `batchSeparable` or a graph whose inputs fix the batch at 1; no captures and no gradient root.
    func runItemsInParallel(_ inputs: [String: Tensor], batch: Int) throws -> Evaluation {
        let per = Executor.splitItems
        let tasks = (batch + per - 1) / per
        let threads = min(computeThreads, tasks)
        while itemExecutors.count < threads { itemExecutors.append(Executor(graph: graph, configuration: configuration.with(threads: 1), packing: packing)) }
        // Split every graph input into its items: [B, ...] -> B x [1, ...].
        var itemInputs = [[String: Tensor]](repeating: [:], count: tasks)
        for gi in graph.inputs {
            let t = inputs[gi.name]!
            let itemCount = t.count / batch
            for i in 0..<tasks {
                let lo = i * per, hi = min(batch, lo + per)
                var shape = t.shape; shape[0] = hi - lo
                itemInputs[i][gi.name] = Tensor(shape: shape, data: Array(t.data[(lo * itemCount)..<(hi * itemCount)]))
            }
        }
        nonisolated(unsafe) var results = [[String: Tensor]?](repeating: nil, count: tasks)
        nonisolated(unsafe) var failure: Error? = nil
        let next = Atomic<Int>(0)
        let failed = Atomic<Bool>(false)
        nonisolated(unsafe) let executors = itemExecutors
        let items = itemInputs
        let table = kernels
        results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                // The caller's kernel table (a per-thread setting) goes with the work to the worker threads.
                withKernels(table) { withComputeThreads(1) {
                    while !failed.load(ordering: .relaxed) {
                        let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        if i >= tasks { break }
                        do { slots[i] = try executors[t].run(items[i]).outputs } catch {
                            if !failed.exchange(true, ordering: .acquiringAndReleasing) { failure = error }
                        }
                    }
                } }
            }
        }
        if let failure { throw failure }
        // Stack the items' outputs back along axis 0.
        var outs: [String: Tensor] = [:]
        for name in graph.outputs {
            let first = results[0]![name]!
            var shape = first.shape; shape[0] = batch
            var data = [Float](); data.reserveCapacity(first.count * batch)
            for i in 0..<tasks { data += results[i]![name]!.data }
            outs[name] = Tensor(shape: shape, data: data)
        }
        return Evaluation(outputs: outs, captured: [:], retained: [:], root: nil, gradientNodes: [], batch: batch)
    }

    /// Items per task in `runItemsInParallel` (1 measured best at batch 16: 2 and 4 were no faster).
    static let splitItems = 1

    /// Adds a node's time to the configuration's profile, by op kind (and by shape when it asks).
    func record(_ n: Node, _ shapes: [[Int]], _ ms: Double) {
        guard let profile = configuration.profile else { return }
        let profilingShapes = profile.byShape
        var key = n.op.name
        if case let .conv(wd, groups, _) = n.op {
            key += groups > 1 ? " depthwise \(wd.kernelH)x\(wd.kernelW)/\(wd.strideH)" : " \(wd.kernelH)x\(wd.kernelW)/\(wd.strideH)"
            if profilingShapes { key += " \(shapes[0]) w\(shapes.count > 1 ? shapes[1] : [])" }
        }
        if case let .blocked(b) = n.op {
            if case let .conv(_, wd, m, _, _) = b {
                key += " \(wd.kernelH)x\(wd.kernelW)/\(wd.strideH)"
                if profilingShapes { key += " \(shapes[0]) -> \(m)" }
            } else if profilingShapes {
                key += " \(shapes[0])"
            }
        }
        profile.record(key, ms: ms)
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

/// How many live values hold each array the executor made, by the array's base address; arrays of graph inputs
/// and constants are foreign (never recycled).
struct StorageSharers {
    private var counts: [UnsafeRawPointer: Int] = [:]
    private var foreign: Set<UnsafeRawPointer> = []

    private static func key(_ t: Tensor) -> UnsafeRawPointer? {
        t.data.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
    }
    mutating func addForeign(_ t: Tensor) { if let k = Self.key(t) { foreign.insert(k) } }
    /// Counts one more live value holding `t`'s array.
    mutating func add(_ t: Tensor) {
        if let k = Self.key(t), !foreign.contains(k) { counts[k, default: 0] += 1 }
    }
    /// Counts one value fewer; true when no live value holds the array any more (it may be recycled).
    mutating func release(_ t: Tensor) -> Bool {
        guard let k = Self.key(t), !foreign.contains(k), let n = counts[k] else { return false }
        if n > 1 { counts[k] = n - 1; return false }
        counts[k] = nil
        return true
    }
}

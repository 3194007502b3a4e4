import TensorCore

/// Storage of the channel-blocked values of a blocked graph (`Graph.channelBlocked`) for runs at one batch
/// size: every value at a fixed, 64-byte aligned offset of one arena, values whose lifetimes do not overlap
/// sharing space.
///
/// Why not the workspace's arrays: a blocked kernel loads the 16 channels of a pixel as one 64-byte vector,
/// and Swift array storage starts 48 bytes past a 64-byte boundary (large arrays), so every such load
/// straddled two cache lines (depthwise convolutions on 112x112 and 56x56 maps ran 20-35% slower hot in
/// cache); and the buffer pool missed mid-sized outputs, so a batch-1 forward pass of EfficientNet-Lite0
/// mapped about 4 MB of fresh pages (900 page faults). The arena is planned once per batch size and reused.
struct BlockedArenaPlan {
    /// Float offset of each value id in the arena, -1 for values that are not in it.
    let offsets: [Int]
    /// Shape of every value id at this batch size (nil: unused).
    let shapes: [[Int]?]
    /// Floats the arena needs.
    let floats: Int

    /// Plans the arena for `executor`'s graph at `batch`, or nil when shapes cannot be inferred up front.
    ///
    /// Greedy first fit in order of definition: a value takes the lowest gap, among the values still live
    /// when its node runs, that fits it. A value read by node k stays live through node k, so no node's
    /// output overlaps one of its inputs. The values in `keeping` stay live to the end, so they can be read
    /// after the run (`Executor.arenaValue`).
    init?(_ e: Executor, batch: Int, keeping: Set<Int> = []) {
        guard let byName = e.graph.inferShapes(batch: batch) else { return nil }
        var shapes = [[Int]?](repeating: nil, count: e.ids.count)
        for (name, i) in e.ids { shapes[i] = byName[name] }
        var offsets = [Int](repeating: -1, count: e.ids.count)
        var live: [(offset: Int, end: Int, lastUse: Int)] = []
        var total = 0
        for k in e.graph.nodes.indices {
            live.removeAll { $0.lastUse < k }
            for v in e.nodeOutputs[k] where e.arenaValues[v] {
                guard let s = shapes[v] else { return nil }
                let size = (shapeCount(s) + 15) / 16 * 16
                live.sort { $0.offset < $1.offset }
                var at = 0
                for l in live {
                    if l.offset - at >= size { break }
                    at = max(at, l.end)
                }
                offsets[v] = at
                live.append((at, at + size, keeping.contains(v) ? Int.max : max(e.lastUse[v], k)))
                total = max(total, at + size)
            }
        }
        self.offsets = offsets; self.shapes = shapes; floats = total
    }
}

struct ArenaPlanKey: Hashable { var batch: Int; var keeping: Set<Int> }

/// 64-byte aligned floats owned by one executor, grown on demand (contents do not survive growing).
final class AlignedFloats {
    private(set) var base: UnsafeMutablePointer<Float>
    private(set) var count: Int

    init() {
        count = 0
        base = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64).bindMemory(to: Float.self, capacity: 16)
    }
    deinit { base.deallocate() }

    /// At least `n` floats.
    func reserve(_ n: Int) -> UnsafeMutablePointer<Float> {
        if n > count {
            base.deallocate()
            base = UnsafeMutableRawPointer.allocate(byteCount: max(n, 16) * 4, alignment: 64).bindMemory(to: Float.self, capacity: n)
            count = n
        }
        return base
    }
}

extension Executor {
    /// Values a blocked graph keeps in the arena: the outputs of blocked convolutions and reorders to the
    /// blocked layout, and of Adds reading such values. The rewrite gives every other reader an NCHW copy and
    /// never makes a graph output blocked.
    static func arenaValues(of graph: Graph, ids: [String: Int], nodeOutputs: [[Int]]) -> [Bool] {
        var arena = [Bool](repeating: false, count: ids.count)
        guard graph.isChannelBlocked else { return arena }
        for (k, n) in graph.nodes.enumerated() {
            switch n.op {
            case .blocked(.toBlocked), .blocked(.channelsLastToBlocked), .blocked(.conv), .blocked(.maxPool), .blocked(.averagePool), .blocked(.clamp), .blocked(.affine),
                 .blocked(.concat), .blocked(.channelScale):
                for v in nodeOutputs[k] { arena[v] = true }
            // (An Add of an arena value reads a blocked operand; in a tail graph, one fed blocked inputs, the other
            // operand may be such an input.)
            case .binary(.add) where n.inputs.contains(where: { ids[$0].map { arena[$0] } ?? false }):
                for v in nodeOutputs[k] { arena[v] = true }
            default: break
            }
        }
        // Safety: only blocked ops and those Adds may read arena values, and no output may be one.
        for (k, n) in graph.nodes.enumerated() {
            let reads = n.inputs.contains { ids[$0].map { arena[$0] } ?? false }
            switch n.op {
            case .blocked: break
            case .binary(.add) where nodeOutputs[k].allSatisfy({ arena[$0] }): break
            default: if reads { return [Bool](repeating: false, count: ids.count) }
            }
        }
        if graph.outputs.contains(where: { ids[$0].map { arena[$0] } ?? false }) { return [Bool](repeating: false, count: ids.count) }
        return arena
    }

    /// The arena plan for `batch` keeping the values `keeping` to the end, made on first use (nil: this graph
    /// runs without an arena).
    func arenaPlan(batch: Int, keeping: Set<Int> = []) -> BlockedArenaPlan? {
        guard usesArena else { return nil }
        let key = ArenaPlanKey(batch: batch, keeping: keeping)
        if let p = arenaPlans[key] { return p }
        guard let p = BlockedArenaPlan(self, batch: batch, keeping: keeping) else { return nil }
        arenaPlans[key] = p
        return p
    }

    /// Ids of every value this executor keeps in the arena.
    var allArenaValues: Set<Int> { Set(arenaValues.indices.filter { arenaValues[$0] }) }

    /// Where arena value `name` of the last run that kept it (`run(keepInArena:)`) is, and its shape; valid
    /// until the executor runs again. nil when the value is not kept in the arena.
    func arenaValue(_ name: String) -> (UnsafePointer<Float>, [Int])? {
        guard let (plan, kept) = lastArenaPlan, let v = ids[name], kept.contains(v), plan.offsets[v] >= 0, let s = plan.shapes[v] else { return nil }
        return (UnsafePointer(arena.base + plan.offsets[v]), s)
    }

    /// Runs node `k`, which reads or writes arena values, on arena storage (tensors for its other operands
    /// and for an NCHW output).
    func runArenaNode(_ k: Int, _ plan: BlockedArenaPlan, _ base: UnsafeMutablePointer<Float>, values: inout [Tensor?]) throws {
        let node = graph.nodes[k]
        let ins = nodeInputs[k]
        let inShapes = ins.map { plan.shapes[$0]! }
        for v in ins where !arenaValues[v] && values[v]!.shape != plan.shapes[v]! {
            throw GraphError.shapeMismatch(node: node.name, op: node.op.name,
                                           detail: "input shape \(values[v]!.shape) differs from the planned \(plan.shapes[v]!)")
        }
        let outShape = try node.op.outputShapes(inShapes, batch: inShapes[0][0], node: node.name)[0]
        if node.op == .binary(.add) && inShapes.contains(where: { $0 != outShape }) {
            throw GraphError.shapeMismatch(node: node.name, op: node.op.name, detail: "a blocked Add needs equal shapes, got \(inShapes)")
        }
        let out = nodeOutputs[k][0]
        let tensors = ins.filter { !arenaValues[$0] }.map { values[$0]! }
        func run(_ y: UnsafeMutablePointer<Float>) {
            withFloatPointers(tensors[...]) { tp in
                var next = 0
                let x: [UnsafePointer<Float>] = ins.map { v in
                    if arenaValues[v] { return UnsafePointer(base + plan.offsets[v]) }
                    defer { next += 1 }
                    return tp[next]
                }
                switch node.op {
                case let .blocked(b): Op.runBlocked(b, x, inShapes: inShapes, y: y)
                case .binary(.add): addVectors(x[0], x[1], y: y, count: shapeCount(outShape))   // operands checked above
                default: preconditionFailure("runArenaNode: \(node.op.name) does not run on the arena")
                }
            }
        }
        if arenaValues[out] {
            run(base + plan.offsets[out])
        } else {
            var y = workspace.takeBuffer(shapeCount(outShape))
            y.withUnsafeMutableBufferPointer { run($0.baseAddress!) }
            values[out] = Tensor(shape: outShape, data: y)
        }
    }
}

/// y = a + b elementwise (`y` may be `a` or `b`): blocked Adds, and the residual Adds of incremental occlusion.
func addVectors(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { y[i] = a[i] + b[i] }
}

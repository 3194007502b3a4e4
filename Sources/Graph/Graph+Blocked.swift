import Foundation
import TensorCore

extension Graph {
    /// True when the graph holds channel-blocked ops (it came from `channelBlocked`).
    public var isChannelBlocked: Bool { nodes.contains { if case .blocked = $0.op { return true } else { return false } } }

    /// The graph with its convolutions moved to the channel-blocked layout where a blocked kernel runs them, or
    /// nil when none does (or shape inference at batch 1 fails).
    ///
    /// Pointwise and depthwise convolutions with a fused clamp (none, ReLU, Clip) read and write blocked
    /// tensors, and a stem convolution on a planar input of up to 4 channels writes one. An Add of two equally
    /// shaped tensors, at least one of them blocked, stays blocked (padding channels add up to padding) and is
    /// fused into the pointwise convolution without activation that makes an operand, when nothing else reads
    /// that operand. GlobalAveragePool of a blocked tensor returns to NCHW. Any other reader of a blocked value
    /// gets an NCHW copy made just before it, and so do the graph outputs. The same values come out as from the
    /// original graph; intermediate tensors are not observable (run captures and gradients on the original).
    /// - Parameter packing: where packed weights are kept (shared by the engines of one owner, so each weight is
    ///   packed once for them).
    public func channelBlocked(packing: PackedWeights = PackedWeights()) -> Graph? {
        if isChannelBlocked { return nil }
        // Shapes at batch 1, and at batch 2 to tell a broadcast over the batch from equal shapes (a graph that only
        // runs at batch 1, one exported with its batch fixed, has no such broadcast).
        guard let shapes = inferShapes(batch: 1) else { return nil }
        let shapes2 = inferShapes(batch: 2) ?? shapes
        var out: [Node] = []
        var consts = constants
        var blockedForm: [String: String] = [:]
        var planar = Set(inputs.map(\.name)).union(constants.keys)
        var converted = 0
        var readers: [String: Int] = [:]
        for n in nodes { for i in n.inputs { readers[i, default: 0] += 1 } }
        func planarName(_ v: String) -> String {
            if planar.contains(v) || v.isEmpty { return v }
            guard let b = blockedForm[v], let c = shapes[v]?[1] else { return v }
            out.append(Node(name: v + "::to_nchw", op: .blocked(.fromBlocked(channels: c)), inputs: [b], outputs: [v]))
            planar.insert(v)
            return v
        }
        func blockedName(_ v: String) -> String {
            if let b = blockedForm[v] { return b }
            let b = v + "::blocked"
            out.append(Node(name: v + "::to_blocked", op: .blocked(.toBlocked), inputs: [v], outputs: [b]))
            blockedForm[v] = b
            return b
        }
        /// The node of `out` that made `v` when it is a packed linear map whose output nothing else reads.
        func soleLinear(_ v: String) -> Int? {
            guard readers[v] == 1, !outputs.contains(v), let k = out.lastIndex(where: { $0.outputs == [v] }),
                  case .blocked(.linear) = out[k].op else { return nil }
            return k
        }
        /// Whether `op` can read a blocked operand as it is (an Add, a convolution).
        func takesBlocked(_ op: Op) -> Bool {
            switch op {
            case .binary(.add), .conv: return true
            default: return false
            }
        }
        /// A constant holding one value per output feature ([N], or [1, ..., 1, N]).
        func featureVector(_ name: String, _ n: Int) -> Tensor? {
            guard let t = consts[name], t.count == n, t.shape.last == n, t.shape.dropLast().allSatisfy({ $0 == 1 }) else { return nil }
            return t
        }
        /// Folds a bias Add or a per-feature scale (ConvNeXt's layer scale) after a packed linear map without
        /// activation into its bias (and, for the scale, its packed weight's columns); false when `n` is not one.
        func foldIntoLinear(_ n: Node) -> Bool {
            guard n.op == .binary(.add) || n.op == .binary(.mul), n.inputs.count == 2, n.outputs.count == 1 else { return false }
            for (v, other) in [(n.inputs[0], n.inputs[1]), (n.inputs[1], n.inputs[0])] {
                guard let k = soleLinear(v), case let .blocked(.linear(features, .identity)) = out[k].op,
                      let vec = featureVector(other, features), var b = consts[out[k].inputs[2]] else { continue }
                if n.op == .binary(.add) {
                    for j in 0..<features { b.data[j] += vec.data[j] }
                } else {
                    guard let w = consts[out[k].inputs[1]] else { continue }
                    for j in 0..<features { b.data[j] *= vec.data[j] }
                    // Panels of 32 columns, each `kk` rows; a new aligned array, built in one pass.
                    let count = w.count - alignedWeightsSlack, kk = count / ((features + 31) / 32 * 32)
                    let scaled = w.data.withUnsafeBufferPointer { old in
                        makeAlignedWeights(count: count) { dst in
                            dst.update(from: alignedWeights(old.baseAddress!), count: count)
                            for j in 0..<features {
                                for p in 0..<kk { dst[PackedPanels.offset(row: p, column: j, k: kk)] *= vec.data[j] }
                            }
                        }
                    }
                    let wName = n.outputs[0] + "::packed_weight"
                    consts[wName] = Tensor(shape: w.shape, data: scaled)
                    out[k].inputs[1] = wName
                }
                let bName = n.outputs[0] + "::linear_bias"
                consts[bName] = b
                out[k].inputs[2] = bName
                out[k].outputs = n.outputs
                planar.formUnion(n.outputs)
                return true
            }
            return false
        }
        for n in nodes {
            if foldIntoLinear(n) { continue }
            switch n.op {
            case .matmul, .gemm:
                guard n.outputs.count == 1, let xs = shapes[n.inputs[0]], xs.count >= 2, let w = consts[n.inputs[1]], w.rank == 2 else { break }
                var transposed = false, bias: Tensor? = nil
                if case let .gemm(alpha, beta, ta, tb) = n.op {
                    guard alpha == 1, !ta, xs.count == 2 else { break }
                    transposed = tb
                    if n.inputs.count > 2 && !n.inputs[2].isEmpty {
                        guard beta == 1, let c = featureVector(n.inputs[2], tb ? w.shape[0] : w.shape[1]) else { break }
                        bias = c
                    }
                }
                let k = transposed ? w.shape[1] : w.shape[0], features = transposed ? w.shape[0] : w.shape[1]
                guard xs.last == k, k > 0, features > 0 else { break }
                let wName = n.outputs[0] + "::packed_weight", bName = n.outputs[0] + "::linear_bias"
                let packed = packing.panels(w.data, k: k, n: features, transposed: transposed)
                consts[wName] = Tensor(shape: [packed.count], data: packed)
                consts[bName] = Tensor(shape: [features], data: bias?.data ?? [Float](repeating: 0, count: features))
                out.append(Node(name: n.name, op: .blocked(.linear(outFeatures: features, activation: .identity)),
                                inputs: [planarName(n.inputs[0]), wName, bName], outputs: n.outputs))
                planar.formUnion(n.outputs)
                converted += 1
                continue
            case let .conv(wd, groups, act):
                guard act.clampBounds != nil, n.outputs.count == 1, let w = consts[n.inputs[1]], w.rank == 4,
                      let xs = shapes[n.inputs[0]], xs.count == 4 else { break }
                var s = ConvShape(batch: 1, inC: xs[1], inH: xs[2], inW: xs[3], outC: w.shape[0], groups: groups, window: wd)
                var weights = w.data
                // Groups narrower than a block run as groups of whole blocks with zero weights between them.
                if BlockedConvKind.choose(s, blockedInput: true) == nil, let wide = widenedToBlockGroups(w.data, shape: s) {
                    (weights, s) = wide
                }
                let hasBlocked = blockedForm[n.inputs[0]] != nil
                // A planar input becomes blocked for a pointwise or depthwise convolution only when it has
                // channels enough to fill blocks; a stem reads it as it is.
                guard let kind = BlockedConvKind.choose(s, blockedInput: hasBlocked)
                        ?? (s.inC >= 16 ? BlockedConvKind.choose(s, blockedInput: true) : nil) else { break }
                let bias = n.inputs.count > 2 ? consts[n.inputs[2]] : nil
                if n.inputs.count > 2 && bias == nil { break }
                // Named after the output, which is unique (node names need not be).
                let wName = n.outputs[0] + "::blocked_weight", bName = n.outputs[0] + "::blocked_bias"
                let packed = packing.packed(weights, kind: kind, shape: s)
                let packedBias = bias.map { b in b.data.withUnsafeBufferPointer { packBlockedBias($0.baseAddress!, channels: s.outC) } }
                    ?? packBlockedBias(nil, channels: s.outC)
                consts[wName] = Tensor(shape: [packed.count], data: packed)
                consts[bName] = Tensor(shape: [packedBias.count], data: packedBias)
                let x = kind == .planarInput ? planarName(n.inputs[0]) : blockedName(n.inputs[0])
                let y = n.outputs[0] + "::blocked"
                out.append(Node(name: n.name, op: .blocked(.conv(kind: kind, window: wd, outChannels: s.outC, groups: s.groups, activation: act)),
                                inputs: [x, wName, bName], outputs: [y]))
                blockedForm[n.outputs[0]] = y
                converted += 1
                continue
            case .binary(.add):
                // Both operands blocked; one planar operand (a graph input, say) is blocked for the Add rather
                // than unblocking the other.
                guard n.inputs.count == 2, let sa = shapes[n.inputs[0]], sa.count == 4, sa == shapes[n.inputs[1]],
                      let sb = shapes2[n.inputs[0]], sb == shapes2[n.inputs[1]],
                      blockedForm[n.inputs[0]] != nil || blockedForm[n.inputs[1]] != nil else { break }
                let a = blockedName(n.inputs[0]), b = blockedName(n.inputs[1])
                let y = n.outputs[0] + "::blocked"
                blockedForm[n.outputs[0]] = y
                // Fused into the pointwise convolution (no activation) that made one operand, when nothing else
                // reads that operand: the sum is formed in the convolution's epilogue.
                var fused = false
                for (operand, other) in [(a, b), (b, a)] {
                    guard let k = out.lastIndex(where: { $0.outputs == [operand] }),
                          case let .blocked(.conv(.pointwise, _, _, _, act)) = out[k].op, act == .identity, out[k].inputs.count == 3,
                          let original = n.inputs.first(where: { blockedForm[$0] == operand }),
                          readers[original] == 1, !outputs.contains(original) else { continue }
                    out[k].inputs.append(other)
                    out[k].outputs = [y]
                    fused = true
                    break
                }
                if !fused { out.append(Node(name: n.name, op: n.op, inputs: [a, b], outputs: [y])) }
                continue
            case let .activation(a) where blockedForm[n.inputs[0]] == nil:
                // GELU or a clamp after a packed linear map: into its epilogue.
                guard a == .gelu || a.clampBounds != nil, let k = soleLinear(n.inputs[0]),
                      case let .blocked(.linear(features, .identity)) = out[k].op else { break }
                out[k].op = .blocked(.linear(outFeatures: features, activation: a))
                out[k].outputs = n.outputs
                planar.formUnion(n.outputs)
                continue
            case .channelAffine:
                // A BatchNormalization of a blocked value that no convolution took (DenseNet's pre-activation).
                guard let b = blockedForm[n.inputs[0]], let xs = shapes[n.inputs[0]], xs.count == 4, n.inputs.count == 3,
                      let sc = consts[n.inputs[1]], let sh = consts[n.inputs[2]], sc.count == xs[1], sh.count == xs[1] else { break }
                let pName = n.outputs[0] + "::blocked_affine"
                consts[pName] = Tensor(shape: [2 * ChannelBlocks.count(xs[1]) * 16], data: packBlockedAffine(scale: sc.data, shift: sh.data, channels: xs[1]))
                let y = n.outputs[0] + "::blocked"
                blockedForm[n.outputs[0]] = y
                out.append(Node(name: n.name, op: .blocked(.affine(activation: .identity)), inputs: [b, pName], outputs: [y]))
                continue
            case .binary(.mul):
                // A blocked map times a per-channel gate ([N or 1, C, 1, 1], a squeeze-and-excitation block's).
                guard n.inputs.count == 2, n.outputs.count == 1 else { break }
                var scaled = false
                for (v, g) in [(n.inputs[0], n.inputs[1]), (n.inputs[1], n.inputs[0])] {
                    guard let b = blockedForm[v], blockedForm[g] == nil, let xs = shapes[v], xs.count == 4, let gs = shapes[g],
                          gs == [1, xs[1], 1, 1] || gs == [xs[0], xs[1], 1, 1],   // one gate, or one per item (a fixed batch)
                          let gs2 = shapes2[g], let xs2 = shapes2[v], gs2[0] == 1 || gs2[0] == xs2[0] else { continue }
                    let y = n.outputs[0] + "::blocked"
                    blockedForm[n.outputs[0]] = y
                    out.append(Node(name: n.name, op: .blocked(.channelScale(channels: xs[1])), inputs: [b, planarName(g)], outputs: [y]))
                    scaled = true
                    break
                }
                if scaled { continue }
            case .concat where n.inputs.count == 1 && n.outputs.count == 1:
                // A concatenation of one map is that map (the first layer of each DenseNet block concatenates its
                // one input feature).
                guard let b = blockedForm[n.inputs[0]] else { break }
                blockedForm[n.outputs[0]] = b
                continue
            case let .concat(axis) where axis == 1 || axis == -3:
                // Channel concatenation of maps whose channels are whole blocks, at least one of them blocked.
                guard n.inputs.count > 1, n.outputs.count == 1, n.inputs.contains(where: { blockedForm[$0] != nil }),
                      n.inputs.allSatisfy({ shapes[$0].map { $0.count == 4 && $0[1] % 16 == 0 } ?? false }) else { break }
                let y = n.outputs[0] + "::blocked"
                out.append(Node(name: n.name, op: .blocked(.concat), inputs: n.inputs.map(blockedName), outputs: [y]))
                blockedForm[n.outputs[0]] = y
                continue
            case let .activation(a):
                // A clamp of a blocked value: into the epilogue of the convolution that made it when nothing else
                // reads that value (a ResNet's ReLU after its fused residual Add), else a blocked clamp.
                guard a.clampBounds != nil, let b = blockedForm[n.inputs[0]] else { break }
                let y = n.outputs[0] + "::blocked"
                blockedForm[n.outputs[0]] = y
                let sole = readers[n.inputs[0]] == 1 && !outputs.contains(n.inputs[0])
                if sole, let k = out.lastIndex(where: { $0.outputs == [b] }), case let .blocked(.conv(kind, wd, m, g, .identity)) = out[k].op {
                    out[k].op = .blocked(.conv(kind: kind, window: wd, outChannels: m, groups: g, activation: a))
                    out[k].outputs = [y]
                } else if sole, let (lo, hi) = a.clampBounds, lo <= 0, hi >= 0, let k = out.lastIndex(where: { $0.outputs == [b] }),
                          case .blocked(.affine(.identity)) = out[k].op {
                    out[k].op = .blocked(.affine(activation: a))
                    out[k].outputs = [y]
                } else {
                    out.append(Node(name: n.name, op: .blocked(.clamp(a)), inputs: [b], outputs: [y]))
                }
                continue
            case let .pool(.max, wd, ceilMode):
                guard let b = blockedForm[n.inputs[0]], n.outputs.count == 1 else { break }
                let y = n.outputs[0] + "::blocked"
                blockedForm[n.outputs[0]] = y
                out.append(Node(name: n.name, op: .blocked(.maxPool(window: wd, ceilMode: ceilMode)), inputs: [b], outputs: [y]))
                continue
            case let .pool(.average(includePad), wd, ceilMode):
                guard let b = blockedForm[n.inputs[0]], n.outputs.count == 1 else { break }
                let y = n.outputs[0] + "::blocked"
                blockedForm[n.outputs[0]] = y
                out.append(Node(name: n.name, op: .blocked(.averagePool(window: wd, ceilMode: ceilMode, countIncludePad: includePad)),
                                inputs: [b], outputs: [y]))
                continue
            case let .transpose(perm) where perm == [0, 2, 3, 1] && n.outputs.count == 1:
                // A blocked map to channels-last (a ConvNeXt block's LayerNorm and linear layers): one copy.
                guard let b = blockedForm[n.inputs[0]], let xs = shapes[n.inputs[0]], xs.count == 4 else { break }
                out.append(Node(name: n.name, op: .blocked(.blockedToChannelsLast(channels: xs[1])), inputs: [b], outputs: n.outputs))
                planar.formUnion(n.outputs)
                continue
            case let .transpose(perm) where perm == [0, 3, 1, 2] && n.outputs.count == 1:
                // Channels-last back to a map that blocked ops read (a ConvNeXt block's residual Add): straight to
                // blocked, when every reader takes a blocked operand. A reader wanting NCHW later gets its own copy.
                let v = n.outputs[0]
                guard blockedForm[n.inputs[0]] == nil, let xs = shapes[n.inputs[0]], xs.count == 4, xs[3] >= 16, !outputs.contains(v),
                      readers[v] ?? 0 > 0, nodes.allSatisfy({ !$0.inputs.contains(v) || takesBlocked($0.op) }) else { break }
                let y = v + "::blocked"
                out.append(Node(name: n.name, op: .blocked(.channelsLastToBlocked), inputs: [planarName(n.inputs[0])], outputs: [y]))
                blockedForm[v] = y
                continue
            case .identity:
                // (DenseNet's all-zero Pad before its transition pooling.)
                guard let b = blockedForm[n.inputs[0]], n.outputs.count == 1 else { break }
                blockedForm[n.outputs[0]] = b
                continue
            case .globalPool(max: false):
                guard let b = blockedForm[n.inputs[0]], let xs = shapes[n.inputs[0]], xs.count == 4 else { break }
                out.append(Node(name: n.name, op: .blocked(.globalAveragePool(channels: xs[1])), inputs: [b], outputs: n.outputs))
                planar.formUnion(n.outputs)
                continue
            default: break
            }
            var m = n
            m.inputs = n.inputs.map(planarName)
            out.append(m)
            planar.formUnion(n.outputs)
        }
        guard converted > 0 else { return nil }
        for o in outputs { _ = planarName(o) }
        var used = Set<String>()
        for n in out { used.formUnion(n.inputs) }
        consts = consts.filter { used.contains($0.key) }
        return try? Graph(nodes: out, inputs: inputs, outputs: outputs, constants: consts)
    }

    /// The shape of every value at the given batch size (axis 0 of each graph input that leaves it free or
    /// sets it to 1), or nil when an input has another free extent, or an op rejects its inputs or makes a
    /// different number of outputs than its node names.
    func inferShapes(batch: Int) -> [String: [Int]]? { try? shapes(atBatch: batch) }

    /// `inferShapes`, throwing a `GraphError` that names the input or node at fault instead of returning nil.
    func shapes(atBatch batch: Int) throws -> [String: [Int]] {
        var sh: [String: [Int]] = [:]
        for gi in inputs {
            guard let first = gi.shape.first, gi.shape.dropFirst().allSatisfy({ $0 != nil }) else {
                throw GraphError.badInput(name: gi.name, detail: "has a free extent other than the batch axis")
            }
            sh[gi.name] = [first == nil || first == 1 ? batch : first!] + gi.shape.dropFirst().map { $0! }
        }
        for (name, t) in constants { sh[name] = t.shape }
        for n in nodes {
            var xs: [[Int]] = []
            for i in n.inputs where !i.isEmpty {
                guard let s = sh[i] else { throw GraphError.undefinedTensor(name: i, node: n.name) }
                xs.append(s)
            }
            let ys = try n.op.outputShapes(xs, batch: batch, node: n.name)
            guard ys.count == n.outputs.count else {
                throw GraphError.shapeMismatch(node: n.name, op: n.op.name, detail: "makes \(ys.count) outputs but the node names \(n.outputs.count)")
            }
            for (j, o) in n.outputs.enumerated() { sh[o] = ys[j] }
        }
        return sh
    }
}

/// Packed weights shared by the blocked graphs one owner makes from the same weight storage: an executor, its
/// per-item executors and occlusion tails, and an analyser's occlusion engine each make a blocked graph, and
/// EfficientNet-Lite0's weights are 19 MB a copy. Owned by whoever makes the engines (an `Executor`, a frame
/// analyser), never process-wide.
public final class PackedWeights: @unchecked Sendable {
    public init() {}
    private struct Key: Hashable { let address: UnsafeRawPointer; let count: Int; let kind: BlockedConvKind; let shape: ConvShape }
    /// Each entry keeps its source array alive, so its address cannot be reused by another array.
    private var entries: [Key: (source: [Float], packed: [Float])] = [:]
    /// Floats held (sources and packed copies); past `limit` the cache starts over, so a process that
    /// loads model after model (each fused afresh, with new weight arrays) stays bounded.
    private var held = 0
    private let limit = 64 << 20
    private let lock = NSLock()

    private struct PanelKey: Hashable { let address: UnsafeRawPointer; let count: Int; let n: Int; let transposed: Bool }
    private var panelEntries: [PanelKey: (source: [Float], packed: [Float])] = [:]

    /// `w` (`[K, N]`, or `[N, K]` when `transposed`) packed in `PackedPanels`' layout, packed once per weight array.
    func panels(_ w: [Float], k: Int, n: Int, transposed: Bool) -> [Float] {
        w.withUnsafeBufferPointer { p in
            let key = PanelKey(address: UnsafeRawPointer(p.baseAddress!), count: p.count, n: n, transposed: transposed)
            lock.lock(); defer { lock.unlock() }
            if let e = panelEntries[key] { return e.packed }
            let packed = PackedPanels(p.baseAddress!, ldb: transposed ? k : n, k: k, n: n, transposed: transposed).data
            if held + w.count + packed.count > limit { entries.removeAll(); panelEntries.removeAll(); held = 0 }
            panelEntries[key] = (w, packed)
            held += w.count + packed.count
            return packed
        }
    }

    func packed(_ w: [Float], kind: BlockedConvKind, shape s: ConvShape) -> [Float] {
        var s0 = s
        s0.batch = 1; s0.inH = 1; s0.inW = 1; s0.outH = 1; s0.outW = 1   // packing depends on channels and window only
        return w.withUnsafeBufferPointer { p in
            let key = Key(address: UnsafeRawPointer(p.baseAddress!), count: p.count, kind: kind, shape: s0)
            lock.lock(); defer { lock.unlock() }
            if let e = entries[key] { return e.packed }
            let packed = kind.packWeights(p.baseAddress!, shape: s)
            if held + w.count + packed.count > limit { entries.removeAll(); panelEntries.removeAll(); held = 0 }
            entries[key] = (w, packed)
            held += w.count + packed.count
            return packed
        }
    }
}

extension Op {
    /// Runs a channel-blocked op (see `BlockedOp`) into workspace storage.
    func evaluateBlocked(_ b: BlockedOp, _ x: [Tensor], _ outShape: [Int], ws: Workspace) -> Tensor {
        var y = ws.takeBuffer(shapeCount(outShape))
        withFloatPointers(x[...]) { xp in
            y.withUnsafeMutableBufferPointer { Op.runBlocked(b, xp, inShapes: x.map(\.shape), y: $0.baseAddress!) }
        }
        return Tensor(shape: outShape, data: y)
    }

    /// Runs a channel-blocked op on raw storage: `x` holds the node's inputs in order, `inShapes` their shapes, `y`
    /// has room for the output.
    static func runBlocked(_ b: BlockedOp, _ x: [UnsafePointer<Float>], inShapes: [[Int]], y: UnsafeMutablePointer<Float>) {
        let s = inShapes[0]
        switch b {
        case .toBlocked:
            toChannelBlocked(x[0], batch: s[0], channels: s[1], pixels: s[2] * s[3], y: y)
        case let .fromBlocked(c):
            fromChannelBlocked(x[0], batch: s[0], channels: c, pixels: s[2] * s[3], y: y)
        case .channelsLastToBlocked:
            channelsLastToBlocked(x[0], batch: s[0], channels: s[3], pixels: s[1] * s[2], y: y)
        case let .blockedToChannelsLast(c):
            blockedToChannelsLast(x[0], batch: s[0], channels: c, pixels: s[2] * s[3], y: y)
        case let .globalAveragePool(c):
            blockedGlobalAveragePool(x[0], batch: s[0], channels: c, pixels: s[2] * s[3], y: y)
        case let .maxPool(wd, ceilMode):
            blockedMaxPool(x[0], batch: s[0], blocks: s[1], inH: s[2], inW: s[3], window: wd,
                           outH: wd.outH(s[2], ceil: ceilMode), outW: wd.outW(s[3], ceil: ceilMode), y: y)
        case let .averagePool(wd, ceilMode, includePad):
            blockedAveragePool(x[0], batch: s[0], blocks: s[1], inH: s[2], inW: s[3], window: wd, countIncludePad: includePad,
                               outH: wd.outH(s[2], ceil: ceilMode), outW: wd.outW(s[3], ceil: ceilMode), y: y)
        case let .clamp(a):
            let (lo, hi) = a.clampBounds!
            blockedClamp(x[0], count: shapeCount(s), lo: lo, hi: hi, y: y)
        case let .linear(n, act):
            let k = s[s.count - 1], m = k == 0 ? 0 : shapeCount(s) / k
            gemmPacked(m: m, n: n, k: k, a: x[0], lda: k, packed: alignedWeights(x[1]), c: y, ldc: n, bias: x[2], activation: act)
        case let .affine(act):
            let (lo, hi) = act.clampBounds!
            blockedAffine(x[0], packed: x[1], batch: s[0], blocks: s[1], pixels: s[2] * s[3], lo: lo, hi: hi, y: y)
        case let .channelScale(c):
            let gate = inShapes[1]
            blockedChannelScale(x[0], scale: x[1], sItemStride: gate[0] == 1 ? 0 : c, batch: s[0], channels: c, pixels: s[2] * s[3], y: y)
        case .concat:
            blockedConcat(x, blocks: inShapes.map { $0[1] }, batch: s[0], pixels: s[2] * s[3], y: y)
        case let .conv(kind, wd, m, g, act):
            // Blocked inputs count their padding channels (zero weights); a depthwise convolution's outputs too. A
            // grouped direct kind's groups are whole blocks, so its channels have no padding.
            let inC = kind == .planarInput ? s[1] : s[1] * 16
            let cs = ConvShape(batch: s[0], inC: inC, inH: s[2], inW: s[3], outC: kind == .depthwise ? inC : m,
                               groups: kind == .depthwise ? inC : (kind == .direct || kind == .quadGroups ? g : 1), window: wd)
            blockedConv2d(kind, x[0], packedWeights: x[1], bias: x[2], shape: cs, activation: act,
                          residual: x.count > 3 ? x[3] : nil, y: y)
        }
    }
}

/// Calls `body` with the storage of every tensor (a tensor without elements gives a dangling non-nil pointer).
func withFloatPointers<R>(_ ts: ArraySlice<Tensor>, _ done: [UnsafePointer<Float>] = [],
                          _ body: ([UnsafePointer<Float>]) -> R) -> R {
    guard let t = ts.first else { return body(done) }
    return t.data.withUnsafeBufferPointer { p in
        withFloatPointers(ts.dropFirst(), done + [p.baseAddress ?? UnsafePointer(bitPattern: 64)!], body)
    }
}

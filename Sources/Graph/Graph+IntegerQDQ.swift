import TensorCore

extension Graph {
    /// The graph with onnxruntime's QDQ fusions applied, so that it computes what onnxruntime computes with its
    /// graph optimisations on (what deploys): DequantizeLinear -> Conv -> QuantizeLinear becomes QLinearConv,
    /// -> Add -> QLinearAdd, -> GlobalAveragePool -> QLinearGlobalAveragePool and -> Gemm -> QGemm, each an
    /// `IntegerOp` with int32 accumulation and MLAS's requantisation. Everything else keeps the float QDQ
    /// semantics (onnxruntime's MaxPool, Flatten and Reshape on 8-bit values give the same integers).
    ///
    /// A pattern is fused when the float op's output is read only by the QuantizeLinear, the activations come from
    /// per-tensor 8-bit DequantizeLinear nodes of one integer type, the weights (and the int32 bias) are constants
    /// dequantised at load, per tensor or per output channel with one zero point, whose integers round-trip
    /// exactly, and (for Gemm) alpha = beta = 1, A is not transposed and the bias is `[N]`.
    /// A Relu or Clip read only by a QuantizeLinear whose range it does not change (Relu: the zero point is the
    /// type's lowest value; Clip: its bounds contain the dequantised range, to float epsilon) is dropped first, as
    /// onnxruntime's ReluQuantFusion and ClipQuantFusion do, so the op before it fuses.
    /// - Parameter weights: the quantisation each constant dequantised at load was dequantised with, by name.
    /// - Returns: the rewritten graph, and the names of the fused nodes (the float op's name).
    public func integerQDQ(weights: [String: Quantization]) -> (graph: Graph, fused: [String]) {
        withoutRedundantActivations().fusingIntegerPatterns(weights: weights)
    }

    /// The graph without Relu and Clip nodes that the QuantizeLinear reading them makes redundant (see `integerQDQ`).
    func withoutRedundantActivations() -> Graph {
        var readers: [String: Int] = [:], producer: [String: Int] = [:]
        for (i, n) in nodes.enumerated() {
            for o in n.outputs { producer[o] = i }
            for v in n.inputs { readers[v, default: 0] += 1 }
        }
        var out = nodes, dropped: Set<Int> = []
        for (qi, qn) in nodes.enumerated() {
            guard case let .quantize(q) = qn.op, q.isPerTensor, let t = qn.inputs.first, readers[t] == 1, !outputs.contains(t),
                  let ai = producer[t], case let .activation(a) = nodes[ai].op, let input = nodes[ai].inputs.first else { continue }
            // onnxruntime's test (ClipQuantFusion): the Clip's bounds within float epsilon of the dequantised range.
            let lowest = q.scales[0] * Float(q.low - q.zeroPoints[0]), highest = q.scales[0] * Float(q.high - q.zeroPoints[0])
            switch a {
            case .relu where q.zeroPoints[0] == q.low: break
            case let .clip(lo, hi) where lo - lowest <= Float.ulpOfOne && highest - hi <= Float.ulpOfOne: break
            default: continue
            }
            out[qi].inputs[0] = input
            dropped.insert(ai)
        }
        guard !dropped.isEmpty else { return self }
        return try! Graph(nodes: out.enumerated().filter { !dropped.contains($0.offset) }.map(\.element), inputs: inputs, outputs: outputs, constants: constants)
    }

    func fusingIntegerPatterns(weights: [String: Quantization]) -> (graph: Graph, fused: [String]) {
        var producer: [String: Int] = [:], readers: [String: Int] = [:]
        for (i, n) in nodes.enumerated() {
            for o in n.outputs { producer[o] = i }
            for v in n.inputs { readers[v, default: 0] += 1 }
        }
        let graphOutputs = Set(outputs)
        guard nodes.contains(where: { if case .quantize = $0.op { return true } else { return false } }) else { return (self, []) }
        let shapes = inferShapes(batch: 1) ?? [:]
        var consts = constants
        var replacement: [Int: Node] = [:], removed: Set<Int> = [], fusedNames: [String] = []

        /// The per-tensor 8-bit quantisation of the DequantizeLinear that makes `name`.
        func activation(_ name: String) -> Quantization? {
            guard let i = producer[name], case let .dequantize(q) = nodes[i].op, q.isPerTensor, q.isEightBit else { return nil }
            return q
        }
        /// Stores the centred integers of weight constant `name` (quantised along `axis` of `rank` or per tensor)
        /// and returns the new constant's name and the scales.
        func integerWeights(_ name: String, axis: Int, bias: Bool, for node: String) -> (String, [Float])? {
            guard let q = weights[name], let t = constants[name], q.isEightBit != bias,
                  let centred = q.centredConstant(t, axis: axis) else { return nil }
            let cname = node + (bias ? "::bias_integers" : "::weight_integers")
            consts[cname] = centred
            return (cname, q.scales)
        }

        for (qi, qn) in nodes.enumerated() {
            guard case let .quantize(qy) = qn.op, qy.isPerTensor, qy.isEightBit, let t = qn.inputs.first,
                  readers[t] == 1, !graphOutputs.contains(t), let pi = producer[t], !removed.contains(pi) else { continue }
            let p = nodes[pi]
            var op: IntegerOp? = nil, inputs: [String] = []
            switch p.op {
            case let .conv(wd, groups, .identity):
                guard p.inputs.count >= 2, let qx = activation(p.inputs[0]), qx.sameType(qy),
                      let (w, sw) = integerWeights(p.inputs[1], axis: 0, bias: false, for: p.outputs[0]) else { break }
                inputs = [p.inputs[0], w]
                if p.inputs.count > 2 {
                    guard let (b, _) = integerWeights(p.inputs[2], axis: 0, bias: true, for: p.outputs[0]) else { break }
                    inputs.append(b)
                }
                op = .conv(window: wd, groups: groups, input: qx, weightScales: sw, output: qy)
            case let .gemm(alpha, beta, false, tb) where alpha == 1 && beta == 1:
                guard p.inputs.count >= 2, let qx = activation(p.inputs[0]), qx.sameType(qy),
                      let (w, sw) = integerWeights(p.inputs[1], axis: tb ? 0 : 1, bias: false, for: p.outputs[0]) else { break }
                inputs = [p.inputs[0], w]
                if p.inputs.count > 2 {
                    guard let c = constants[p.inputs[2]], c.rank == 1, let bs = constants[p.inputs[1]]?.shape, c.shape[0] == (tb ? bs[0] : bs[1]),
                          let (b, _) = integerWeights(p.inputs[2], axis: 0, bias: true, for: p.outputs[0]) else { break }
                    inputs.append(b)
                }
                op = .gemm(transB: tb, input: qx, weightScales: sw, output: qy)
            case .binary(.add):
                guard p.inputs.count == 2, let qa = activation(p.inputs[0]), let qb = activation(p.inputs[1]),
                      qa.sameType(qy), qb.sameType(qy), let sa = shapes[p.inputs[0]], sa == shapes[p.inputs[1]] else { break }
                inputs = p.inputs
                op = .add(a: qa, b: qb, output: qy)
            case .globalPool(max: false):
                guard let qx = activation(p.inputs[0]), qx.sameType(qy), shapes[p.inputs[0]]?.count == 4 else { break }
                inputs = p.inputs
                op = .globalAveragePool(input: qx, output: qy)
            default: break
            }
            guard let op else { continue }
            replacement[qi] = Node(name: p.name, op: .integer(op), inputs: inputs, outputs: qn.outputs)
            removed.insert(pi)
            fusedNames.append(p.name)
        }
        guard !replacement.isEmpty else { return (self, []) }
        var out: [Node] = []
        for (i, n) in nodes.enumerated() where !removed.contains(i) { out.append(replacement[i] ?? n) }
        var used = Set(outputs)
        for n in out { used.formUnion(n.inputs) }
        consts = consts.filter { used.contains($0.key) }
        return (try! Graph(nodes: out, inputs: inputs, outputs: outputs, constants: consts), fusedNames)
    }
}

extension Quantization {
    var isPerTensor: Bool { scales.count == 1 && zeroPoints.count == 1 }
    /// uint8 or int8.
    var isEightBit: Bool { low >= -128 && high <= 255 }
    /// Same integer type.
    func sameType(_ o: Quantization) -> Bool { low == o.low && high == o.high }

    /// The integers less the zero point of constant `t` that this quantisation dequantised, as exact floats; nil
    /// unless it is per tensor or along `axis` with one zero point, and every value round-trips exactly (an
    /// integer below 2^24 whose dequantisation gives back the stored float).
    func centredConstant(_ t: Tensor, axis: Int) -> Tensor? {
        guard Set(zeroPoints).count == 1 else { return nil }
        if scales.count > 1 {
            let a = self.axis < 0 ? self.axis + t.rank : self.axis
            guard a == axis, axis < t.rank, t.shape[axis] == scales.count else { return nil }
        }
        var out = t
        var exact = true
        forEachRun(t.shape) { run, s, _ in
            for i in run {
                let c = (t.data[i] / s).rounded(.toNearestOrEven)
                if abs(c) >= 16_777_216 || c * s != t.data[i] { exact = false }
                out.data[i] = c
            }
        }
        return exact ? out : nil
    }
}

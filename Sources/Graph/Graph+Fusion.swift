import TensorCore

extension Graph {
    /// The graph with BatchNormalization folded into the preceding convolution, ReLU/Clip fused into
    /// convolution epilogues, exact GELUs spelt out in elementwise ops made one op (`geluFusedNodes`), and
    /// per-channel scales after a permutation moved before it (`scaleBeforeTransposeNodes`), and Transposes around
    /// a MatMul of two activations read and written in place by it (`permutedMatmulNodes`), where the intermediate
    /// tensors are read by nothing else.
    ///
    /// - Parameter preserving: tensors that must stay observable (captures, gradient roots); they are never fused away.
    /// - Returns: an equivalent graph with fewer nodes.
    public func fused(preserving: Set<String> = []) -> Graph {
        let keep = preserving.union(outputs)
        var consts = constants
        let nodes = permutedMatmulNodes(scaleBeforeTransposeNodes(geluFusedNodes(keep: keep), constants: &consts, keep: keep), keep: keep)
        var readers: [String: Int] = [:]
        for n in nodes { for i in n.inputs { readers[i, default: 0] += 1 } }
        var out: [Node] = []
        var producerIndex: [String: Int] = [:]
        for n in nodes {
            if let src = n.inputs.first, let pi = producerIndex[src], readers[src] == 1, !keep.contains(src),
               case let .conv(wd, groups, act) = out[pi].op, act == .identity {
                var conv = out[pi]
                switch n.op {
                case .channelAffine:
                    if let w = consts[conv.inputs[1]], let sc = consts[n.inputs[1]], let sh = consts[n.inputs[2]] {
                        let m = w.shape[0], per = w.count / m
                        var nw = w
                        for o in 0..<m { for i in 0..<per { nw.data[o * per + i] *= sc.data[o] } }
                        var nb = Tensor(shape: [m])
                        let oldB = conv.inputs.count > 2 ? consts[conv.inputs[2]] : nil
                        for o in 0..<m { nb.data[o] = (oldB?.data[o] ?? 0) * sc.data[o] + sh.data[o] }
                        // Named after the convolution's output, which is unique (node names need not be).
                        let wName = conv.outputs[0] + "::folded_weight", bName = conv.outputs[0] + "::folded_bias"
                        consts[wName] = nw; consts[bName] = nb
                        conv.inputs = [conv.inputs[0], wName, bName]
                        conv.outputs = n.outputs
                        out[pi] = conv
                        producerIndex[n.outputs[0]] = pi
                        continue
                    }
                case let .activation(a):
                    switch a {
                    case .relu, .clip:
                        conv.op = .conv(window: wd, groups: groups, activation: a)
                        conv.outputs = n.outputs
                        out[pi] = conv
                        producerIndex[n.outputs[0]] = pi
                        continue
                    default: break
                    }
                default: break
                }
            }
            for o in n.outputs { producerIndex[o] = out.count }
            out.append(n)
        }
        // Drop constants no node reads any more.
        var used = Set<String>()
        for n in out { used.formUnion(n.inputs) }
        consts = consts.filter { used.contains($0.key) }
        return try! Graph(nodes: out, inputs: inputs, outputs: outputs, constants: consts)
    }
}

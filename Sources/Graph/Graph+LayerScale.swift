import TensorCore

extension Graph {
    /// The nodes with every per-channel scale that follows a permutation moved before it (ConvNeXt's layer scale:
    /// `Mul(Transpose(y, [0,3,1,2]), γ[C,1,1])` becomes `Transpose(Mul(y, γ[C]), [0,3,1,2])`), so that the packed linear
    /// map that makes `y` folds the scale into its weights (`channelBlocked`). Exact: every value is multiplied by the
    /// same factor either way.
    ///
    /// Applies when the Transpose's output is read only by the Mul and is not in `keep`, and the Mul's other operand
    /// is a constant that varies only along the output axis that was the Transpose input's last; the moved scale is a
    /// new constant of that axis's length, named after the Mul's output.
    /// - Complexity: one pass over the nodes.
    func scaleBeforeTransposeNodes(_ nodes: [Node], constants consts: inout [String: Tensor], keep: Set<String>) -> [Node] {
        var readers: [String: Int] = [:]
        for n in nodes { for i in n.inputs { readers[i, default: 0] += 1 } }
        var producer: [String: Int] = [:]
        for (k, n) in nodes.enumerated() { for o in n.outputs { producer[o] = k } }
        var moved: [Int: (mul: Node, transpose: Node)] = [:]
        var dropped = Set<Int>()
        for (k, n) in nodes.enumerated() {
            guard case .binary(.mul) = n.op, n.inputs.count == 2, n.outputs.count == 1 else { continue }
            for (t, c) in [(n.inputs[0], n.inputs[1]), (n.inputs[1], n.inputs[0])] {
                guard readers[t] == 1, !keep.contains(t), let tk = producer[t], moved[tk] == nil,
                      case let .transpose(perm?) = nodes[tk].op, nodes[tk].inputs.count == 1, let scale = consts[c],
                      scale.rank <= perm.count else { continue }
                // The scale right-aligned to the output's rank: one axis longer than 1, the one the input's last became.
                let aligned = [Int](repeating: 1, count: perm.count - scale.rank) + scale.shape
                let long = aligned.indices.filter { aligned[$0] != 1 }
                guard long.count == 1, perm[long[0]] == perm.count - 1 else { continue }
                let scaled = n.outputs[0] + "::scaled", name = n.outputs[0] + "::channel_scale"
                consts[name] = Tensor(shape: [scale.count], data: scale.data)
                moved[tk] = (Node(name: n.name, op: .binary(.mul), inputs: [nodes[tk].inputs[0], name], outputs: [scaled]),
                             Node(name: nodes[tk].name, op: nodes[tk].op, inputs: [scaled], outputs: n.outputs))
                dropped.insert(k)
                break
            }
        }
        if moved.isEmpty { return nodes }
        var result: [Node] = []
        for (k, n) in nodes.enumerated() where !dropped.contains(k) {
            if let m = moved[k] { result.append(m.mul); result.append(m.transpose) } else { result.append(n) }
        }
        return result
    }
}

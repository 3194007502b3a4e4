import TensorCore

extension Graph {
    /// The nodes with every exact GELU that an exporter spelt out in five elementwise ops, one pass over the tensor
    /// each (torch's `nn.GELU()`: `Div(x, √2)`, `Erf`, `Add(·, 1)`, `Mul(x, ·)`, `Mul(·, 0.5)`; `Mul(x, 1/√2)` for the
    /// Div), replaced by one `Activation.gelu` node writing the last op's output.
    ///
    /// The four intermediate values must be read only by the next op of the pattern and must not be in `keep`.
    /// - Complexity: one pass over the nodes.
    func geluFusedNodes(keep: Set<String>) -> [Node] {
        var readers: [String: Int] = [:]
        for n in nodes { for i in n.inputs { readers[i, default: 0] += 1 } }
        var producer: [String: Int] = [:]
        for (k, n) in nodes.enumerated() { for o in n.outputs { producer[o] = k } }
        func scalar(_ name: String) -> Float? {
            guard let t = constants[name], t.count == 1 else { return nil }
            return t.data[0]
        }
        func near(_ v: Float?, _ target: Double) -> Bool { v.map { abs(Double($0) - target) <= 1e-6 * target } ?? false }
        /// The node making `value` when it is a binary `op` with one scalar-constant operand near `c`; returns the
        /// other operand.
        func binaryWithConstant(_ value: String, _ op: BinaryOp, _ c: Double, constantFirstAllowed: Bool = true) -> (node: Int, other: String)? {
            guard let k = producer[value], case .binary(op) = nodes[k].op, nodes[k].inputs.count == 2 else { return nil }
            let a = nodes[k].inputs[0], b = nodes[k].inputs[1]
            if near(scalar(b), c) { return (k, a) }
            if constantFirstAllowed && near(scalar(a), c) { return (k, b) }
            return nil
        }
        func onlyNext(_ v: String) -> Bool { readers[v] == 1 && !keep.contains(v) }
        var replaced: [Int: Node] = [:]
        var dropped = Set<Int>()
        for (k, n) in nodes.enumerated() {
            // Mul(g, 0.5) with g = Mul(x, f), f = Add(e, 1), e = Erf(d), d = Div(x, √2) or Mul(x, 1/√2).
            guard case .binary(.mul) = n.op, n.outputs.count == 1, let (_, g) = binaryWithConstant(n.outputs[0], .mul, 0.5),
                  onlyNext(g), let gk = producer[g], case .binary(.mul) = nodes[gk].op, nodes[gk].inputs.count == 2 else { continue }
            for (x, f) in [(nodes[gk].inputs[0], nodes[gk].inputs[1]), (nodes[gk].inputs[1], nodes[gk].inputs[0])] {
                guard onlyNext(f), let (fk, e) = binaryWithConstant(f, .add, 1), onlyNext(e), let ek = producer[e],
                      case .activation(.erf) = nodes[ek].op, let d = nodes[ek].inputs.first, onlyNext(d) else { continue }
                let div = binaryWithConstant(d, .div, 2.0.squareRoot(), constantFirstAllowed: false)
                    ?? binaryWithConstant(d, .mul, 0.5.squareRoot())
                guard let (dk, x0) = div, x0 == x else { continue }
                dropped.formUnion([dk, ek, fk, gk])
                replaced[k] = Node(name: n.name, op: .activation(.gelu), inputs: [x], outputs: n.outputs)
                break
            }
        }
        if replaced.isEmpty { return nodes }
        return nodes.enumerated().compactMap { k, n in dropped.contains(k) ? nil : (replaced[k] ?? n) }
    }
}

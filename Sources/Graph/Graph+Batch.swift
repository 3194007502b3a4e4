import TensorCore

extension Graph {
    /// True when the graph treats batch items independently, so a batch may run as separate items and an
    /// input's leading extent may be any size.
    ///
    /// Shape inference at batch 1 and 2: every value computed from a graph input must have the batch as its
    /// leading extent (1 and 2) and equal extents elsewhere, graph inputs may have no other dynamic axis, and the
    /// outputs must be such values. Ops that mix along axis 0 without changing its extent (Softmax or
    /// LayerNormalization over axis 0, a Transpose that moves axis 0, or a MatMul that reads or writes through
    /// one, an Einsum whose first letters differ) rule it out.
    public var isBatchSeparable: Bool { batchMixing == nil }

    /// Why the graph is not batch-separable (see `isBatchSeparable`), or nil when it is.
    public var batchMixing: String? {
        guard inputs.allSatisfy({ $0.shape.count >= 1 && ($0.shape[0] == nil || $0.shape[0] == 1) }) else { return "an input has a batch other than 1 or free" }
        let s1: [String: [Int]], s2: [String: [Int]]
        do { s1 = try shapes(atBatch: 1) } catch { return "shapes cannot be inferred at batch 1 (\(error))" }
        do { s2 = try shapes(atBatch: 2) } catch { return "shapes cannot be inferred at batch 2 (\(error))" }
        var dependent = Set(inputs.map(\.name))
        for node in nodes where node.inputs.contains(where: { dependent.contains($0) }) {
            let rank = node.inputs.first.flatMap { s1[$0]?.count } ?? 0
            func isBatchAxis(_ a: Int) -> Bool { (a < 0 ? a + rank : a) == 0 }
            switch node.op {
            case let .softmax(ax, legacy):
                if isBatchAxis(ax) || (legacy && ax == 0) { return "Softmax node '\(node.name)' runs over the batch axis" }
            case let .layerNorm(ax, _):
                if isBatchAxis(ax) { return "LayerNormalization node '\(node.name)' normalises over the batch axis" }
            case let .transpose(perm):
                guard let perm, perm.first == 0 else { return "Transpose node '\(node.name)' moves the batch axis" }
            case let .permutedMatmul(pa, pb, po, _, _):
                guard pa.first == 0, pb.first == 0, po.first == 0 else { return "MatMul node '\(node.name)' moves the batch axis" }
            case let .einsum(spec):
                guard let first = spec.out.first, spec.a.first == first, spec.b.first == first || !dependent.contains(node.inputs[1]) else {
                    return "Einsum node '\(node.name)' mixes the batch axis"
                }
            default: break
            }
            dependent.formUnion(node.outputs)
        }
        for v in dependent {
            guard let a = s1[v], let b = s2[v], a.count >= 1, a.count == b.count, a[0] == 1, b[0] == 2,
                  a.dropFirst() == b.dropFirst() else { return "'\(v)' does not keep the batch as its leading axis (\(s1[v] ?? []) at batch 1, \(s2[v] ?? []) at batch 2)" }
        }
        return outputs.allSatisfy { dependent.contains($0) } ? nil : "an output does not depend on the input"
    }
}

import TensorCore

extension Graph {
    /// The nodes with the Transposes around a MatMul of two activations folded into it as a `permutedMatmul`: a
    /// Transpose read only by the MatMul whose permutation keeps the source's contiguous axis among the operand's last
    /// two (attention's Kᵀ, or heads split out of `[tokens, batch·heads, dim]`), and a Transpose that is the only
    /// reader of the product and keeps its last axis last (heads merged back). The product reads and writes those
    /// layouts in place, so the copies go. A Mul or Div of an operand by a scalar constant becomes the product's alpha.
    ///
    /// Operands of different ranks, constants (weights, which `channelBlocked` packs), batch axes that broadcast (at
    /// batch 1 or 2) and values in `keep` are left alone.
    /// - Complexity: one pass over the nodes, after shape inference at batch 1 and 2.
    func permutedMatmulNodes(_ nodes: [Node], keep: Set<String>) -> [Node] {
        guard nodes.contains(where: { $0.op == .matmul }), let shapes = inferShapes(batch: 1) else { return nodes }
        let shapes2 = inferShapes(batch: 2) ?? shapes
        var readers: [String: [Int]] = [:]
        for (k, n) in nodes.enumerated() { for i in Set(n.inputs) { readers[i, default: []].append(k) } }
        var producer: [String: Int] = [:]
        for (k, n) in nodes.enumerated() { for o in n.outputs { producer[o] = k } }
        func onlyReader(_ v: String, _ k: Int) -> Bool { readers[v] == [k] && !keep.contains(v) && !outputs.contains(v) }
        /// The Transpose of rank `r` making `v` for node `k` alone (the MatMul, or the scale of its operand), when the
        /// operand can be read in place: its rows or its columns are the source's contiguous axis.
        func transposeInto(_ v: String, _ k: Int, rank r: Int) -> (node: Int, source: String, perm: [Int])? {
            guard onlyReader(v, k), let p = producer[v], case let .transpose(perm) = nodes[p].op, let source = nodes[p].inputs.first,
                  constants[source] == nil else { return nil }
            let q = perm ?? Array((0..<r).reversed())
            return q.count == r && (q[r - 1] == r - 1 || q[r - 2] == r - 1) ? (p, source, q) : nil
        }
        /// The Mul or Div by a scalar constant making operand `v` for node `k` alone (attention's 1/√d): the other
        /// input, of `v`'s shape, and the factor.
        func scaleInto(_ v: String, _ k: Int) -> (node: Int, source: String, factor: Float)? {
            guard onlyReader(v, k), let p = producer[v], nodes[p].inputs.count == 2, let shape = shapes[v] else { return nil }
            let x = nodes[p].inputs[0], y = nodes[p].inputs[1]
            func scalar(_ c: String) -> Float? {
                guard let t = constants[c], t.count == 1, t.rank <= shape.count, t.data[0].isFinite else { return nil }
                return t.data[0]
            }
            switch nodes[p].op {
            case .binary(.div):
                if let c = scalar(y), c != 0, constants[x] == nil, shapes[x] == shape { return (p, x, 1 / c) }
            case .binary(.mul):
                if let c = scalar(y), constants[x] == nil, shapes[x] == shape { return (p, x, c) }
                if let c = scalar(x), constants[y] == nil, shapes[y] == shape { return (p, y, c) }
            default: break
            }
            return nil
        }
        var replaced: [Int: Node] = [:]
        var dropped = Set<Int>()
        for (k, n) in nodes.enumerated() {
            guard n.op == .matmul, n.inputs.count == 2, n.outputs.count == 1, n.inputs.allSatisfy({ constants[$0] == nil }),
                  let sa = shapes[n.inputs[0]], let sb = shapes[n.inputs[1]], sa.count == sb.count, sa.count >= 3 else { continue }
            let r = sa.count, identity = Array(0..<r)
            var gone: [Int] = []
            // A scalar factor on an operand moves into the product's alpha; the Transpose under it can then fold too.
            var alpha: Float = 1
            var operands = n.inputs, operandReaders = [k, k]
            for i in 0..<2 {
                if let s = scaleInto(operands[i], k) { alpha *= s.factor; operands[i] = s.source; operandReaders[i] = s.node; gone.append(s.node) }
            }
            var a = (source: operands[0], perm: identity), b = (source: operands[1], perm: identity), out = (value: n.outputs[0], perm: identity)
            if let t = transposeInto(operands[0], operandReaders[0], rank: r) { a = (t.source, t.perm); gone.append(t.node) }
            if let t = transposeInto(operands[1], operandReaders[1], rank: r) { b = (t.source, t.perm); gone.append(t.node) }
            // The product is written in place when its rows stay contiguous in the Transpose's result.
            let c = n.outputs[0]
            if let rs = readers[c], rs.count == 1, !keep.contains(c), !outputs.contains(c), case let .transpose(perm) = nodes[rs[0]].op,
               nodes[rs[0]].outputs.count == 1 {
                let q = perm ?? Array((0..<r).reversed())
                if q.count == r && q[r - 1] == r - 1 { out = (nodes[rs[0]].outputs[0], q); gone.append(rs[0]) }
            }
            guard !gone.isEmpty else { continue }
            // Equal batch axes at batch 1 and 2 (the op does not broadcast).
            let batchesAgree = [shapes, shapes2].allSatisfy { s in
                guard let x = s[a.source], let y = s[b.source], x.count == r, y.count == r else { return false }
                return a.perm.map { x[$0] }.dropLast(2) == b.perm.map { y[$0] }.dropLast(2)
            }
            guard batchesAgree else { continue }
            dropped.formUnion(gone)
            replaced[k] = Node(name: n.name, op: .permutedMatmul(a: a.perm, b: b.perm, out: out.perm, alpha: alpha), inputs: [a.source, b.source],
                               outputs: [out.value])
        }
        if replaced.isEmpty { return nodes }
        return nodes.enumerated().compactMap { k, n in dropped.contains(k) ? nil : (replaced[k] ?? n) }
    }
}

/// `transpose(alpha · transpose(a0, a) · transpose(b0, b), out)` (equal batch axes), each product reading its operands and
/// writing its result in place with leading dimensions: an operand needs a unit stride along one of its last two
/// axes and the result along its last, else (or where BLAS would refuse the leading dimension) the transposes are
/// made. The products run through `batchedGemm`, as `matmulTensor`'s do.
func permutedMatmulTensor(_ a0: Tensor, _ b0: Tensor, a pa: [Int], b pb: [Int], out po: [Int], alpha: Float = 1, outShape: [Int],
                          ws: Workspace? = nil) -> Tensor {
    let r = pa.count
    let aShape = pa.map { a0.shape[$0] }, bShape = pb.map { b0.shape[$0] }
    let m = aShape[r - 2], k = aShape[r - 1], n = bShape[r - 1]
    let a0Strides = contiguousStrides(a0.shape), b0Strides = contiguousStrides(b0.shape)
    let sa = pa.map { a0Strides[$0] }, sb = pb.map { b0Strides[$0] }
    let inv = inversePermutation(po), sy = contiguousStrides(outShape)
    let sc = (0..<r).map { sy[inv[$0]] }
    /// Row-major with leading dimension `ld`, or transposed (columns contiguous), as BLAS takes it.
    func layout(_ st: [Int], rows: Int, cols: Int) -> (trans: Bool, ld: Int)? {
        if st[r - 1] == 1 && st[r - 2] >= max(1, cols) { return (false, st[r - 2]) }
        if st[r - 2] == 1 && st[r - 1] >= max(1, rows) { return (true, st[r - 1]) }
        return nil
    }
    guard let la = layout(sa, rows: m, cols: k), let lb = layout(sb, rows: k, cols: n), sc[r - 1] == 1, sc[r - 2] >= max(1, n) else {
        let c = matmulTensor(TensorCore.transpose(a0, perm: pa), TensorCore.transpose(b0, perm: pb), outShape: Array(aShape.dropLast()) + [n],
                             alpha: alpha, ws: ws)
        return TensorCore.transpose(c, perm: po)
    }
    var y = ws?.takeBuffer(shapeCount(outShape)) ?? [Float](repeating: 0, count: shapeCount(outShape))
    a0.data.withUnsafeBufferPointer { ap in
        b0.data.withUnsafeBufferPointer { bp in
            y.withUnsafeMutableBufferPointer { yp in
                batchedGemm(batchShape: Array(aShape.dropLast(2)), aStrides: sa, bStrides: sb, cStrides: sc, transA: la.trans, transB: lb.trans,
                            m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: la.ld, b: bp.baseAddress!, ldb: lb.ld, c: yp.baseAddress!, ldc: sc[r - 2])
            }
        }
    }
    return Tensor(shape: outShape, data: y)
}

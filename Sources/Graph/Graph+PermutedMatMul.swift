import TensorCore

extension Graph {
    /// The nodes with the Transposes around a MatMul of two activations folded into it as a `permutedMatmul`: a
    /// Transpose read only by the MatMul whose permutation keeps the source's contiguous axis among the operand's last
    /// two (attention's Kᵀ, or heads split out of `[tokens, batch·heads, dim]`), and a Transpose that is the only
    /// reader of the product and keeps its last axis last (heads merged back). The product reads and writes those
    /// layouts in place, so the copies go. A Mul or Div of an operand by a scalar constant becomes the product's alpha,
    /// and an Add of a constant to the product and a Softmax of its rows become its epilogue.
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
            // The product's epilogue (result not permuted): a constant added to it, then the softmax of its rows
            // (attention's scores, with Swin's relative-position bias), each read only by the next. Only for rows of
            // 128 and more: ViT-B's 197 x 197 scores lost 15 ms a pass at batch 8 (the scores' round trip through
            // memory), while for Swin-T's 1536 products of 49 x 49 a block it was no faster than the separate Add
            // and Softmax (64 against 62 ms a pass).
            var addend: String? = nil, softmax = false
            if out.perm == identity, let cs = shapes[out.value], cs.count == r, cs[r - 1] >= 128 {
                var v = out.value
                if let rs = readers[v], rs.count == 1, onlyReader(v, rs[0]), case .binary(.add) = nodes[rs[0]].op,
                   nodes[rs[0]].inputs.count == 2, nodes[rs[0]].outputs.count == 1 {
                    let add = nodes[rs[0]], other = add.inputs[0] == v ? add.inputs[1] : add.inputs[0]
                    let fits = [shapes, shapes2].allSatisfy { s in
                        guard let c = constants[other], let cs = s[v], c.rank >= 2, c.rank <= r, Array(c.shape.suffix(2)) == Array(cs.suffix(2)) else { return false }
                        return s[add.outputs[0]] == cs && (try? broadcastShapes(cs, c.shape)) == cs
                    }
                    if other != v && fits { addend = other; gone.append(rs[0]); v = add.outputs[0] }
                }
                if let rs = readers[v], rs.count == 1, onlyReader(v, rs[0]), case let .softmax(ax, _) = nodes[rs[0]].op, ax == -1 || ax == r - 1,
                   nodes[rs[0]].outputs.count == 1 {
                    softmax = true; gone.append(rs[0]); v = nodes[rs[0]].outputs[0]
                }
                out.value = v
            }
            guard !gone.isEmpty else { continue }
            // Equal batch axes at batch 1 and 2 (the op does not broadcast).
            let batchesAgree = [shapes, shapes2].allSatisfy { s in
                guard let x = s[a.source], let y = s[b.source], x.count == r, y.count == r else { return false }
                return a.perm.map { x[$0] }.dropLast(2) == b.perm.map { y[$0] }.dropLast(2)
            }
            guard batchesAgree else { continue }
            dropped.formUnion(gone)
            replaced[k] = Node(name: n.name, op: .permutedMatmul(a: a.perm, b: b.perm, out: out.perm, alpha: alpha, softmax: softmax),
                               inputs: [a.source, b.source] + (addend.map { [$0] } ?? []), outputs: [out.value])
        }
        if replaced.isEmpty { return nodes }
        return nodes.enumerated().compactMap { k, n in dropped.contains(k) ? nil : (replaced[k] ?? n) }
    }
}

/// `transpose(alpha · transpose(a0, a) · transpose(b0, b), out)` (equal batch axes), each product reading its operands and
/// writing its result in place with leading dimensions: an operand needs a unit stride along one of its last two
/// axes and the result along its last, else (or where BLAS would refuse the leading dimension) the transposes are
/// made. The products run through `batchedGemm`, as `matmulTensor`'s do.
///
/// With `addend` (a constant ending in the product's two axes, broadcast over the others) each product adds its block,
/// and with `softmax` each product's rows then go through a softmax, right after the product, while they are in cache
/// (both need `out` to be the identity).
func permutedMatmulTensor(_ a0: Tensor, _ b0: Tensor, a pa: [Int], b pb: [Int], out po: [Int], alpha: Float = 1, addend: Tensor? = nil,
                          softmax: Bool = false, outShape: [Int], ws: Workspace? = nil) -> Tensor {
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
    let batchShape = Array(aShape.dropLast(2))
    guard let la = layout(sa, rows: m, cols: k), let lb = layout(sb, rows: k, cols: n), sc[r - 1] == 1, sc[r - 2] >= max(1, n) else {
        var c = matmulTensor(TensorCore.transpose(a0, perm: pa), TensorCore.transpose(b0, perm: pb), outShape: batchShape + [m, n],
                             alpha: alpha, ws: ws)
        if let addend { c = binaryTensor(.add, c, addend, c.shape) }
        if softmax {
            var y = [Float](repeating: 0, count: c.count)
            TensorCore.softmax(c.data, outer: c.count / max(1, n), axisLen: n, rest: 1, y: &y)
            c = Tensor(shape: c.shape, data: y)
        }
        return TensorCore.transpose(c, perm: po)
    }
    // Product i's block of the addend: its batch axes broadcast to the products'.
    let addendShape = addend.map { [Int](repeating: 1, count: r - $0.rank) + $0.shape }
    let addendStrides = addendShape.map { broadcastStrides(Array($0.dropLast(2)), to: batchShape).map { $0 * m * n } } ?? []
    let batchStrides = contiguousStrides(batchShape)
    var y = ws?.takeBuffer(shapeCount(outShape)) ?? [Float](repeating: 0, count: shapeCount(outShape))
    let addendData = addend?.data ?? []
    a0.data.withUnsafeBufferPointer { ap in
        b0.data.withUnsafeBufferPointer { bp in
            addendData.withUnsafeBufferPointer { dp in
                nonisolated(unsafe) let dp = dp
                // Only with `out` the identity (the fusion's rule, checked by `outputShapes`): each C is m rows of n.
                let epilogue: ((Int, UnsafeMutablePointer<Float>) -> Void)? = addend == nil && !softmax ? nil : { i, c in
                    if addend != nil {
                        var rem = i, o = 0
                        for ax in 0..<batchShape.count { o += rem / batchStrides[ax] * addendStrides[ax]; rem %= batchStrides[ax] }
                        let d = dp.baseAddress! + o
                        for e in 0..<(m * n) { c[e] += d[e] }
                    }
                    if softmax { TensorCore.softmax(c, outer: m, axisLen: n, rest: 1, y: c) }
                }
                y.withUnsafeMutableBufferPointer { yp in
                    batchedGemm(batchShape: batchShape, aStrides: sa, bStrides: sb, cStrides: sc, transA: la.trans, transB: lb.trans,
                                m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: la.ld, b: bp.baseAddress!, ldb: lb.ld, c: yp.baseAddress!,
                                ldc: sc[r - 2], epilogue: epilogue)
                }
            }
        }
    }
    return Tensor(shape: outShape, data: y)
}

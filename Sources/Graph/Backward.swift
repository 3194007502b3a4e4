import Foundation
import TensorCore

extension Executor {
    /// Back-propagates a scalar objective to the tensor named in `run(retainForGradientOf:)`.
    ///
    /// The objective is `sum over outputs o of <seeds[o], o>`: a one-hot seed on the logits asks for the gradient
    /// of one class score, a weighted seed for a weighted sum of logits.
    /// - Parameters:
    ///   - eval: a forward pass that retained what back-propagation needs.
    ///   - seeds: d objective / d output, by output name, each shaped like its output.
    /// - Returns: d objective / d root, shaped like the root tensor.
    /// - Throws: `GraphError.noGradient` when the path crosses an op without a defined gradient.
    public func gradient(_ eval: Evaluation, seeds: [String: Tensor]) throws -> Tensor {
        guard let root = eval.root else {
            throw GraphError.badInput(name: "gradient", detail: "the forward pass did not retain a tensor to differentiate; pass retainForGradientOf:")
        }
        return try gradients(eval, seeds: seeds, ids: [root])[root]!
    }

    /// Back-propagates as `gradient` does, returning the gradients of the root and of any tensors downstream of it
    /// that are named in `of` (zeros for one the objective does not reach).
    /// - Throws: `GraphError.unknownTensor` for a name not in the graph; as `gradient` otherwise.
    public func gradients(_ eval: Evaluation, seeds: [String: Tensor], of names: [String]) throws -> [String: Tensor] {
        var wanted: [Int] = []
        for n in names {
            guard let i = ids[n] else { throw GraphError.unknownTensor(name: n) }
            wanted.append(i)
        }
        let g = try gradients(eval, seeds: seeds, ids: wanted)
        return Dictionary(uniqueKeysWithValues: zip(names, wanted).compactMap { n, i in g[i].map { (n, $0) } })
    }

    func gradients(_ eval: Evaluation, seeds: [String: Tensor], ids wantedIds: [Int]) throws -> [Int: Tensor] {
        guard let root = eval.root else {
            throw GraphError.badInput(name: "gradient", detail: "the forward pass did not retain a tensor to differentiate; pass retainForGradientOf:")
        }
        var grads: [Int: Tensor] = [:]
        for (name, s) in seeds {
            guard let i = ids[name] else { throw GraphError.unknownTensor(name: name) }
            grads[i] = s
        }
        let reach = downstream(of: root).values
        for k in eval.gradientNodes.reversed() {
            let node = graph.nodes[k]
            let outs = nodeOutputs[k]
            guard outs.contains(where: { grads[$0] != nil }) else { continue }
            let x = nodeInputs[k].map { eval.retained[$0]! }
            let y = outs.map { eval.retained[$0]! }
            let dy = zip(outs, y).map { grads[$0.0] ?? Tensor(shape: $0.1.shape) }
            let wanted = nodeInputs[k].map { reach.contains($0) }
            let dx = try node.op.vjp(x: x, y: y, dy: dy, wanted: wanted, node: node.name, ws: workspace)
            for (j, v) in nodeInputs[k].enumerated() where wanted[j] {
                guard let g = dx[j] else { continue }
                if let prior = grads[v] { grads[v] = binaryTensor(.add, prior, g, prior.shape) } else { grads[v] = g }
            }
        }
        var out: [Int: Tensor] = [:]
        for i in wantedIds + [root] {
            if let t = grads[i] { out[i] = t } else if let v = eval.retained[i] { out[i] = Tensor(shape: v.shape) }
        }
        return out
    }
}

extension Op {
    /// Vector-Jacobian product: given the op's inputs `x`, outputs `y` and output gradients `dy`, the gradients of
    /// the inputs flagged in `wanted` (nil for the others).
    func vjp(x: [Tensor], y: [Tensor], dy: [Tensor], wanted: [Bool], node: String, ws: Workspace) throws -> [Tensor?] {
        var out = [Tensor?](repeating: nil, count: x.count)
        func noGrad() -> GraphError { .noGradient(node: node, op: name) }
        switch self {
        case let .conv(wd, groups, act):
            if wanted.count > 1 && (wanted[1] || (wanted.count > 2 && wanted[2])) { throw noGrad() }
            var dpre = dy[0].data
            if act != .identity {
                // ReLU and Clip (the epilogues fusion makes) have derivatives that the output alone decides; any other
                // activation needs the pre-activation, recomputed here.
                let pre: Tensor
                switch act {
                case .relu, .clip: pre = y[0]
                default: pre = Op.conv(window: wd, groups: groups, activation: .identity).evaluate(x, outShapes: [y[0].shape], ws: ws)[0]
                }
                for i in 0..<dpre.count { dpre[i] *= act.derivative(x: pre.data[i], y: y[0].data[i]) }
            }
            let xs = x[0].shape
            let cs = ConvShape(batch: xs[0], inC: xs[1], inH: xs[2], inW: xs[3], outC: x[1].shape[0], groups: groups, window: wd)
            var dx = [Float](repeating: 0, count: x[0].count)
            ws.withScratch(cs.colRows * cs.outH * cs.outW) { sc in
                conv2dBackwardInput(dpre, weight: x[1].data, shape: cs, dx: &dx, scratch: sc)
            }
            out[0] = Tensor(shape: xs, data: dx)
        case .channelAffine:
            if wanted[1] || wanted[2] { throw noGrad() }
            let s = x[0].shape
            var dx = [Float](repeating: 0, count: x[0].count)
            let zero = [Float](repeating: 0, count: s[1])
            TensorCore.channelAffine(dy[0].data, batch: s[0], channels: s[1], area: shapeCount(Array(s[2...])), scale: x[1].data, shift: zero, y: &dx)
            out[0] = Tensor(shape: s, data: dx)
        case let .activation(a):
            var dx = [Float](repeating: 0, count: x[0].count)
            activationBackward(a, x: x[0].data, y: y[0].data, dy: dy[0].data, dx: &dx, count: dx.count)
            out[0] = Tensor(shape: x[0].shape, data: dx)
        case .identity, .flatten, .reshape, .squeeze, .unsqueeze:
            out[0] = dy[0].reshaped(x[0].shape)
        case let .binary(op):
            var da = [Float](repeating: 0, count: x[0].count), db = [Float](repeating: 0, count: x[1].count)
            binaryBackward(op, a: x[0].data, aShape: x[0].shape, b: x[1].data, bShape: x[1].shape,
                           dy: dy[0].data, outShape: y[0].shape, da: &da, db: &db)
            if wanted[0] { out[0] = Tensor(shape: x[0].shape, data: da) }
            if wanted[1] { out[1] = Tensor(shape: x[1].shape, data: db) }
        case let .variadic(op, mean):
            for (j, t) in x.enumerated() where wanted[j] {
                let full = binaryTensor(.add, Tensor(shape: y[0].shape), t, y[0].shape)
                var g = dy[0]
                switch op {
                case .add: if mean { for i in 0..<g.count { g.data[i] /= Float(x.count) } }
                case .max, .min: for i in 0..<g.count where full.data[i] != y[0].data[i] { g.data[i] = 0 }
                default: throw noGrad()
                }
                out[j] = sumToShape(g, t.shape)
            }
        case let .pool(kind, wd, _):
            let s = x[0].shape, o = y[0].shape
            let planes = s[0] * s[1]
            var dx = [Float](repeating: 0, count: x[0].count)
            if kind == .max {
                var arg = [Int32](repeating: -1, count: y[0].count)
                var tmp = [Float](repeating: 0, count: y[0].count)
                TensorCore.pool2d(.max, x: x[0].data, planes: planes, h: s[2], w: s[3], window: wd, outH: o[2], outW: o[3], y: &tmp, argmax: &arg)
                pool2dBackward(.max, dy: dy[0].data, planes: planes, h: s[2], w: s[3], window: wd, outH: o[2], outW: o[3], argmax: arg, dx: &dx)
            } else {
                pool2dBackward(kind, dy: dy[0].data, planes: planes, h: s[2], w: s[3], window: wd, outH: o[2], outW: o[3], argmax: nil, dx: &dx)
            }
            out[0] = Tensor(shape: s, data: dx)
        case let .globalPool(useMax):
            let s = x[0].shape
            let planes = s[0] * s[1], area = shapeCount(Array(s[2...]))
            var dx = [Float](repeating: 0, count: x[0].count)
            for p in 0..<planes {
                let g = dy[0].data[p]
                if useMax {
                    var bi = 0
                    for i in 0..<area where x[0].data[p * area + i] > x[0].data[p * area + bi] { bi = i }
                    dx[p * area + bi] = g
                } else {
                    let share = g / Float(area)
                    for i in 0..<area { dx[p * area + i] = share }
                }
            }
            out[0] = Tensor(shape: s, data: dx)
        case let .lrn(size, alpha, beta, bias):
            out[0] = lrnBackward(x[0], dy: dy[0], size: size, alpha: alpha, beta: beta, bias: bias)
        case let .gemm(alpha, beta, ta, tb):
            let a = x[0], b = x[1], g = dy[0]
            let m = g.shape[0], n = g.shape[1], k = ta ? a.shape[0] : a.shape[1]
            if wanted[0] {
                var da = [Float](repeating: 0, count: a.count)
                if !ta { TensorCore.gemm(transB: !tb, m: m, n: k, k: n, alpha: alpha, a: g.data, lda: n, b: b.data, ldb: b.shape[1], c: &da, ldc: k) }
                else { TensorCore.gemm(transA: tb, transB: true, m: k, n: m, k: n, alpha: alpha, a: b.data, lda: b.shape[1], b: g.data, ldb: n, c: &da, ldc: m) }
                out[0] = Tensor(shape: a.shape, data: da)
            }
            if wanted[1] {
                var db = [Float](repeating: 0, count: b.count)
                if !tb { TensorCore.gemm(transA: !ta, m: k, n: n, k: m, alpha: alpha, a: a.data, lda: a.shape[1], b: g.data, ldb: n, c: &db, ldc: n) }
                else { TensorCore.gemm(transA: true, transB: ta, m: n, n: k, k: m, alpha: alpha, a: g.data, lda: n, b: a.data, ldb: a.shape[1], c: &db, ldc: k) }
                out[1] = Tensor(shape: b.shape, data: db)
            }
            if wanted.count > 2 && wanted[2] {
                var s = sumToShape(g, x[2].shape)
                for i in 0..<s.count { s.data[i] *= beta }
                out[2] = s
            }
        case .matmul:
            var a = x[0], b = x[1]
            if a.rank == 1 { a = a.reshaped([1] + a.shape) }
            if b.rank == 1 { b = b.reshaped(b.shape + [1]) }
            let batchShape = try broadcastShapes(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)))
            let m = a.shape[a.rank - 2], n = b.shape[b.rank - 1], k = a.shape[a.rank - 1]
            let g = dy[0].reshaped(batchShape + [m, n])
            if wanted[0] {
                let full = matmulTensor(g, b, outShape: batchShape + [m, k], transB: true)
                out[0] = sumToShape(full, a.shape).reshaped(x[0].shape)
            }
            if wanted[1] {
                let full = matmulTensor(a, g, outShape: batchShape + [k, n], transA: true)
                out[1] = sumToShape(full, b.shape).reshaped(x[1].shape)
            }
        case let .permutedMatmul(pa, pb, po, alpha, softmax):
            // The MatMul's gradients of the permuted operands (times alpha), permuted back; through the softmax first
            // when it has one (the addend passes the gradient on unchanged).
            let a = TensorCore.transpose(x[0], perm: pa), b = TensorCore.transpose(x[1], perm: pb)
            var dz = dy[0]
            if softmax {
                // The Softmax op's own gradient (its input has the output's shape).
                dz = try Op.softmax(axis: -1, legacy: false).vjp(x: [y[0]], y: [y[0]], dy: [dz], wanted: [true], node: node, ws: ws)[0]!
            }
            if x.count > 2 && wanted[2] { out[2] = sumToShape(dz, x[2].shape) }
            let g = TensorCore.transpose(dz, perm: inversePermutation(po))
            let r = pa.count
            let m = a.shape[r - 2], n = b.shape[r - 1], k = a.shape[r - 1], batch = Array(a.shape.dropLast(2))
            if wanted[0] {
                out[0] = TensorCore.transpose(matmulTensor(g, b, outShape: batch + [m, k], transB: true, alpha: alpha), perm: inversePermutation(pa))
            }
            if wanted[1] {
                out[1] = TensorCore.transpose(matmulTensor(a, g, outShape: batch + [k, n], transA: true, alpha: alpha), perm: inversePermutation(pb))
            }
        case let .transpose(perm):
            let p = perm ?? Array((0..<x[0].rank).reversed())
            out[0] = TensorCore.transpose(dy[0], perm: inversePermutation(p))
        case let .concat(ax0):
            let ax = ax0 < 0 ? ax0 + x[0].rank : ax0
            let parts = TensorCore.split(dy[0], axis: ax, sizes: x.map { $0.shape[ax] })
            for j in 0..<x.count where wanted[j] { out[j] = parts[j] }
        case let .split(ax0, _, _):
            let ax = ax0 < 0 ? ax0 + x[0].rank : ax0
            out[0] = TensorCore.concat(dy, axis: ax)
        case let .slice(starts, ends, axes, steps):
            let spec = try SliceSpec.resolve(shape: x[0].shape, starts: starts, ends: ends, axes: axes, steps: steps)
            out[0] = sliceBackward(dy[0], inputShape: x[0].shape, spec)
        case let .pad(mode, pads, _):
            out[0] = padBackward(dy[0], inputShape: x[0].shape, before: Array(pads[..<x[0].rank]), mode: mode)
        case let .reduce(kind, axes, _, noop):
            guard let ax = reduceAxes(axes, rank: x[0].rank, noop: noop) else { out[0] = dy[0]; break }
            let keptShape = x[0].shape.enumerated().map { ax.contains($0.offset) ? 1 : $0.element }
            out[0] = reduceBackward(kind, x: x[0], y: y[0].reshaped(keptShape), dy: dy[0].reshaped(keptShape), axes: ax)
        case let .softmax(ax, legacy):
            let (outer, len, rest) = softmaxSplit(x[0].shape, axis: ax, legacy: legacy)
            var dx = [Float](repeating: 0, count: x[0].count)
            softmaxBackward(y: y[0].data, dy: dy[0].data, outer: outer, axisLen: len, rest: rest, dx: &dx)
            out[0] = Tensor(shape: x[0].shape, data: dx)
        case let .resize(mode, transform, _, _):
            let s = x[0].shape, o = y[0].shape
            let (ty, tx) = resizeTaps(inShape: s, outShape: o, mode: mode, transform: transform)
            var dx = [Float](repeating: 0, count: x[0].count)
            resize2dBackward(dy[0].data, planes: s[0] * s[1], inH: s[2], inW: s[3], ty: ty, tx: tx, dx: &dx)
            out[0] = Tensor(shape: s, data: dx)
        case let .layerNorm(ax, eps):
            if wanted.count > 1 && wanted[1...].contains(true) { throw noGrad() }
            let s = x[0].shape, a = ax < 0 ? ax + s.count : ax
            let cols = shapeCount(Array(s[a...])), rows = cols == 0 ? 0 : x[0].count / cols
            var dx = [Float](repeating: 0, count: x[0].count)
            x[0].data.withUnsafeBufferPointer { xp in
                dy[0].data.withUnsafeBufferPointer { gp in
                    x[1].data.withUnsafeBufferPointer { sp in
                        dx.withUnsafeMutableBufferPointer { dp in
                            guard let xb = xp.baseAddress else { return }
                            layerNormBackward(xb, dy: gp.baseAddress!, rows: rows, cols: cols, scale: sp.baseAddress, epsilon: eps, dx: dp.baseAddress!)
                        }
                    }
                }
            }
            out[0] = Tensor(shape: s, data: dx)
        case let .einsum(spec):
            for (j, forA) in [(0, true), (1, false)] where wanted[j] {
                guard let g = spec.gradientSpec(forA: forA) else { throw noGrad() }
                out[j] = try g.evaluate(dy[0], x[1 - j])
            }
        case let .gather(ax, indices, _):
            let s = x[0].shape, a = ax < 0 ? ax + s.count : ax
            let outer = shapeCount(Array(s[..<a])), dim = s[a], inner = shapeCount(Array(s[(a + 1)...]))
            var dx = [Float](repeating: 0, count: x[0].count)
            var o = 0
            for b in 0..<outer { for i in indices {
                let dst = (b * dim + (i < 0 ? i + dim : i)) * inner
                for k in 0..<inner { dx[dst + k] += dy[0].data[o + k] }
                o += inner
            } }
            out[0] = Tensor(shape: s, data: dx)
        case .expand:
            out[0] = sumToShape(dy[0], x[0].shape)
        case let .quantize(q), let .dequantize(q):
            var isQuantize = false
            if case .quantize = self { isQuantize = true }
            out[0] = Tensor(shape: x[0].shape, data: q.backward(x: x[0].data, dy: dy[0].data, shape: x[0].shape, quantize: isQuantize))
        case let .integer(i):
            return try i.vjp(x: x, dy: dy[0], wanted: wanted, node: node, ws: ws)
        case .blocked:
            // Gradients run on the original graph; blocked graphs serve plain forward passes only.
            throw noGrad()
        }
        return out
    }
}

/// Gradient of LRN: y_i = x_i * S_i^-beta with S_i = bias + alpha/size * sum over the channel window of x^2.
func lrnBackward(_ x: Tensor, dy: Tensor, size: Int, alpha: Float, beta: Float, bias: Float) -> Tensor {
    let n = x.shape[0], c = x.shape[1], area = shapeCount(Array(x.shape[2...]))
    let lo = (size - 1) / 2, hi = size / 2
    var sums = [Float](repeating: 0, count: x.count)
    for b in 0..<n { for ch in 0..<c { for i in 0..<area {
        var sq: Float = 0
        for k in max(0, ch - lo)...min(c - 1, ch + hi) { let v = x.data[(b * c + k) * area + i]; sq += v * v }
        sums[(b * c + ch) * area + i] = bias + alpha / Float(size) * sq
    } } }
    var dx = [Float](repeating: 0, count: x.count)
    for b in 0..<n { for ch in 0..<c { for i in 0..<area {
        let j = (b * c + ch) * area + i
        var g = dy.data[j] * pow(sums[j], -beta)
        // channels whose window contains ch: cc - lo <= ch <= cc + hi
        for cc in max(0, ch - hi)...min(c - 1, ch + lo) {
            let q = (b * c + cc) * area + i
            g += dy.data[q] * x.data[q] * (-beta) * pow(sums[q], -beta - 1) * (alpha / Float(size)) * 2 * x.data[j]
        }
        dx[j] = g
    } } }
    return Tensor(shape: x.shape, data: dx)
}

import TensorCore

extension Op {
    /// Output shapes for the given input shapes, validating them first.
    ///
    /// - Parameters:
    ///   - s: one shape per input (empty inputs omitted by the importer).
    ///   - batch: the run-time batch size (substituted for `Op.batchExtent`).
    ///   - node: the node name, for messages.
    /// - Throws: `GraphError.shapeMismatch` naming the node, the axis and both shapes.
    public func outputShapes(_ s: [[Int]], batch: Int, node: String) throws -> [[Int]] {
        func fail(_ d: String) -> GraphError { .shapeMismatch(node: node, op: name, detail: d) }
        // Extents come from files: bound them first so no arithmetic below can overflow.
        for (i, x) in s.enumerated() where !x.allSatisfy({ $0 >= 0 && $0 <= Op.maxExtent }) {
            throw fail("input \(i) has shape \(x), with an extent that is negative or above \(Op.maxExtent); the model is damaged, re-export it")
        }
        let outs = try uncheckedOutputShapes(s, batch: batch, node: node)
        for o in outs {
            // The batch size is the caller's choice, so it is left out: the first extent that is a multiple of it
            // (the batch axis, or an axis the batch was flattened into) is divided by it.
            var perItem = o
            if batch > 1, let i = o.firstIndex(where: { $0 > 0 && $0 % batch == 0 }) { perItem[i] /= batch }
            guard o.allSatisfy({ $0 >= 0 }), let n = checkedCount(perItem), n <= Op.maxElementsPerItem else {
                throw fail("output shape \(o) for inputs \(s) is negative or larger than \(Op.maxElementsPerItem) values per batch item; the model's attributes are damaged, re-export it")
            }
        }
        return outs
    }

    /// Largest extent of one axis Vigil accepts (also bounds pads, steps and split sizes).
    public static let maxExtent = 1 << 40
    /// Largest kernel, stride, dilation or pad of a window.
    public static let maxWindow = Int(Int32.max)
    /// Largest stride or dilation of a window (real models use at most a few tens).
    public static let maxStride = 1 << 12
    /// Largest tensor Vigil plans, in values per batch item (1 GiB of float32).
    public static let maxElementsPerItem = 1 << 28

    private func uncheckedOutputShapes(_ s: [[Int]], batch: Int, node: String) throws -> [[Int]] {
        func fail(_ d: String) -> GraphError { .shapeMismatch(node: node, op: name, detail: d) }
        func checkWindow(_ wd: Window2D) throws {
            let ones = [wd.kernelH, wd.kernelW, wd.strideH, wd.strideW, wd.dilationH, wd.dilationW]
            let pads = [wd.padTop, wd.padLeft, wd.padBottom, wd.padRight]
            guard ones.allSatisfy({ $0 >= 1 && $0 <= Op.maxWindow }), pads.allSatisfy({ $0 >= 0 && $0 <= Op.maxWindow }) else {
                throw fail("kernel \([wd.kernelH, wd.kernelW]), strides \([wd.strideH, wd.strideW]), dilations \([wd.dilationH, wd.dilationW]) must be at least 1 and pads \(pads) at least 0")
            }
            // Kernels keep scratch proportional to stride x dilation (depthwise phase buffers): refuse absurd ones.
            guard [wd.strideH, wd.strideW, wd.dilationH, wd.dilationW].allSatisfy({ $0 <= Op.maxStride }) else {
                throw fail("strides \([wd.strideH, wd.strideW]) or dilations \([wd.dilationH, wd.dilationW]) above \(Op.maxStride) are not supported")
            }
        }
        func need(_ n: Int) throws { if s.count < n { throw fail("needs \(n) inputs, got \(s.count)") } }
        func axis(_ a: Int, _ r: Int) throws -> Int {
            let v = a < 0 ? a + r : a
            guard v >= 0 && v < r else { throw fail("axis \(a) is out of range for rank \(r)") }
            return v
        }
        switch self {
        case let .conv(wd, groups, _):
            try need(2)
            let x = s[0], w = s[1]
            try checkWindow(wd)
            guard x.count == 4 else { throw fail("input must be 4-D [N,C,H,W], got \(x)") }
            guard w.count == 4 else { throw fail("weight must be 4-D [M,C/groups,kh,kw], got \(w)") }
            guard groups > 0, x[1] % groups == 0, w[0] % groups == 0 else {
                throw fail("input channels \(x[1]) and output channels \(w[0]) must divide by groups \(groups)")
            }
            guard w[1] * groups == x[1] else {
                throw fail("weight \(w) expects \(w[1] * groups) input channels at axis 1 but the input \(x) has \(x[1])")
            }
            guard w[2] == wd.kernelH, w[3] == wd.kernelW else { throw fail("weight \(w) disagrees with kernel_shape \([wd.kernelH, wd.kernelW])") }
            if s.count > 2 && s[2] != [w[0]] { throw fail("bias \(s[2]) must be [\(w[0])]") }
            let oh = wd.outH(x[2]), ow = wd.outW(x[3])
            guard oh > 0, ow > 0 else { throw fail("input \(x) is smaller than the \(wd.kernelH)x\(wd.kernelW) window") }
            return [[x[0], w[0], oh, ow]]
        case let .blocked(b):
            try need(1)
            let x = s[0]
            switch b {
            case .toBlocked:
                guard x.count == 4 else { throw fail("input must be 4-D [N,C,H,W], got \(x)") }
                return [[x[0], ChannelBlocks.count(x[1]), x[2], x[3], 16]]
            case let .fromBlocked(c):
                guard x.count == 5, x[4] == 16, x[1] == ChannelBlocks.count(c) else { throw fail("input \(x) is not \(c) channels blocked by 16") }
                return [[x[0], c, x[2], x[3]]]
            case .channelsLastToBlocked:
                guard x.count == 4 else { throw fail("input must be 4-D [N,H,W,C], got \(x)") }
                return [[x[0], ChannelBlocks.count(x[3]), x[1], x[2], 16]]
            case let .blockedToChannelsLast(c):
                guard x.count == 5, x[4] == 16, x[1] == ChannelBlocks.count(c) else { throw fail("input \(x) is not \(c) channels blocked by 16") }
                return [[x[0], x[2], x[3], c]]
            case let .conv(kind, wd, m, _, _):
                try checkWindow(wd)
                guard x.count == (kind == .planarInput ? 4 : 5) else { throw fail("input \(x) has the wrong rank for a \(kind) convolution") }
                let oh = wd.outH(x[2]), ow = wd.outW(x[3])
                guard oh > 0, ow > 0 else { throw fail("input \(x) is smaller than the \(wd.kernelH)x\(wd.kernelW) window") }
                let y = [x[0], ChannelBlocks.count(m), oh, ow, 16]
                if s.count > 3 && (s[3] != y || kind != .pointwise) { throw fail("residual \(s[3]) does not match the output \(y)") }
                return [y]
            case let .globalAveragePool(c):
                guard x.count == 5, x[4] == 16, x[1] == ChannelBlocks.count(c) else { throw fail("input \(x) is not \(c) channels blocked by 16") }
                return [[x[0], c, 1, 1]]
            case let .maxPool(wd, ceilMode), let .averagePool(wd, ceilMode, _):
                try checkWindow(wd)
                guard x.count == 5, x[4] == 16 else { throw fail("input \(x) is not blocked by 16") }
                let oh = wd.outH(x[2], ceil: ceilMode), ow = wd.outW(x[3], ceil: ceilMode)
                guard oh > 0, ow > 0 else { throw fail("input \(x) is smaller than the \(wd.kernelH)x\(wd.kernelW) window") }
                return [[x[0], x[1], oh, ow, 16]]
            case .clamp:
                guard x.count == 5, x[4] == 16 else { throw fail("input \(x) is not blocked by 16") }
                return [x]
            case let .linear(n, _):
                try need(3)
                guard x.count >= 2, let k = x.last, checkedCount(s[1]) == (n + 31) / 32 * 32 * k + alignedWeightsSlack, checkedCount(s[2]) == n else {
                    throw fail("input \(x), packed weight \(s[1]) and bias \(s[2]) do not make a \(n)-feature linear map")
                }
                return [Array(x.dropLast()) + [n]]
            case .affine:
                try need(2)
                guard x.count == 5, x[4] == 16, checkedCount(s[1]) == 2 * x[1] * 16 else { throw fail("input \(x) and packed scale/shift \(s[1]) do not match") }
                return [x]
            case let .channelScale(c):
                try need(2)
                guard x.count == 5, x[4] == 16, x[1] == ChannelBlocks.count(c), s[1].count == 4, s[1][1] == c, s[1][2] == 1, s[1][3] == 1,
                      s[1][0] == 1 || s[1][0] == x[0] else { throw fail("input \(x) and gate \(s[1]) do not make a per-channel scale of \(c) channels") }
                return [x]
            case .concat:
                guard s.allSatisfy({ $0.count == 5 && $0[4] == 16 && $0[0] == x[0] && $0[2] == x[2] && $0[3] == x[3] }) else {
                    throw fail("inputs \(s) are not blocked tensors of one batch and size")
                }
                return [[x[0], s.reduce(0) { $0 + $1[1] }, x[2], x[3], 16]]
            }
        case .channelAffine:
            try need(3)
            guard s[0].count >= 2 else { throw fail("input must have a channel axis, got \(s[0])") }
            guard checkedCount(s[1]) == s[0][1], checkedCount(s[2]) == s[0][1] else {
                throw fail("scale \(s[1]) and bias \(s[2]) must hold \(s[0][1]) values for input \(s[0])")
            }
            return [s[0]]
        case .activation, .identity:
            try need(1); return [s[0]]
        case .binary:
            try need(2)
            do { return [try broadcastShapes(s[0], s[1])] } catch let e as ShapeError { throw fail(e.description) }
        case .variadic:
            try need(1)
            var out = s[0]
            for t in s.dropFirst() {
                do { out = try broadcastShapes(out, t) } catch let e as ShapeError { throw fail(e.description) }
            }
            return [out]
        case let .pool(_, wd, ceilMode):
            try need(1)
            let x = s[0]
            try checkWindow(wd)
            guard x.count == 4 else { throw fail("input must be 4-D [N,C,H,W], got \(x)") }
            let oh = wd.outH(x[2], ceil: ceilMode), ow = wd.outW(x[3], ceil: ceilMode)
            guard oh > 0, ow > 0 else { throw fail("input \(x) is smaller than the \(wd.kernelH)x\(wd.kernelW) window") }
            return [[x[0], x[1], oh, ow]]
        case .globalPool:
            try need(1)
            guard s[0].count >= 3 else { throw fail("input must be [N,C,spatial...], got \(s[0])") }
            return [Array(s[0][..<2]) + [Int](repeating: 1, count: s[0].count - 2)]
        case let .lrn(size, _, _, _):
            try need(1)
            guard size >= 1 && size <= Op.maxWindow else { throw fail("size \(size) must be 1 or more") }
            guard s[0].count >= 3 else { throw fail("input must be [N,C,spatial...], got \(s[0])") }
            return [s[0]]
        case let .gemm(_, _, ta, tb):
            try need(2)
            let a = s[0], b = s[1]
            guard a.count == 2, b.count == 2 else { throw fail("A \(a) and B \(b) must be 2-D") }
            let m = ta ? a[1] : a[0], k = ta ? a[0] : a[1]
            let kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1]
            guard k == kb else { throw fail("A \(a) (transA=\(ta)) and B \(b) (transB=\(tb)) disagree on the inner axis: \(k) vs \(kb)") }
            if s.count > 2 {
                do { let c = try broadcastShapes([m, n], s[2]); guard c == [m, n] else { throw fail("C \(s[2]) does not broadcast to [\(m), \(n)]") } }
                catch let e as ShapeError { throw fail(e.description) }
            }
            return [[m, n]]
        case let .permutedMatmul(pa, pb, po, _, _):
            try need(2)
            let r = pa.count
            guard r >= 2, s[0].count == r, s[1].count == r, pb.count == r, po.count == r else {
                throw fail("A \(s[0]) and B \(s[1]) must both have the permutations' rank \(r) (2 or more)")
            }
            let a = pa.map { s[0][$0] }, b = pb.map { s[1][$0] }
            guard a.dropLast(2) == b.dropLast(2) else { throw fail("batch axes differ: \(a) and \(b)") }
            guard a[r - 1] == b[r - 2] else { throw fail("inner axes differ: \(a) has \(a[r - 1]) at its last axis, \(b) has \(b[r - 2]) at its second last") }
            let c = Array(a.dropLast()) + [b[r - 1]]
            if s.count > 2 {
                guard po == Array(0..<r), s[2].count <= r, s[2].count >= 2, Array(s[2].suffix(2)) == Array(c.suffix(2)),
                      (try? broadcastShapes(c, s[2])) == c else {
                    throw fail("the addend \(s[2]) must end in the product's \(Array(c.suffix(2))) and broadcast to \(c), with no output permutation")
                }
            }
            return [po.map { c[$0] }]
        case .matmul:
            try need(2)
            var a = s[0], b = s[1]
            guard !a.isEmpty, !b.isEmpty else { throw fail("MatMul needs tensors of rank >= 1") }
            let a1 = a.count == 1, b1 = b.count == 1
            if a1 { a = [1] + a }
            if b1 { b = b + [1] }
            guard a[a.count - 1] == b[b.count - 2] else {
                throw fail("inner axes differ: \(s[0]) has \(a[a.count - 1]) at its last axis, \(s[1]) has \(b[b.count - 2]) at its second last")
            }
            let batchShape: [Int]
            do { batchShape = try broadcastShapes(Array(a.dropLast(2)), Array(b.dropLast(2))) } catch let e as ShapeError { throw fail(e.description) }
            var out = batchShape
            if !a1 { out.append(a[a.count - 2]) }
            if !b1 { out.append(b[b.count - 1]) }
            return [out]
        case let .flatten(ax):
            try need(1)
            let r = s[0].count
            let a = ax < 0 ? ax + r : ax
            guard a >= 0 && a <= r else { throw fail("axis \(ax) is out of range for rank \(r)") }
            guard let outer = checkedCount(Array(s[0][..<a])), let inner = checkedCount(Array(s[0][a...])) else {
                throw fail("input \(s[0]) is too large to flatten")
            }
            return [[outer, inner]]
        case let .reshape(target, allowZero):
            try need(1)
            let x = s[0]
            var out: [Int] = []
            var infer = -1
            for (i, d) in target.enumerated() {
                if d == Op.batchExtent { out.append(batch) }
                else if d == 0 && !allowZero {
                    guard i < x.count else { throw fail("target \(target) copies axis \(i) which input \(x) lacks") }
                    out.append(x[i])
                } else if d == -1 {
                    guard infer < 0 else { throw fail("target \(target) has more than one -1") }
                    infer = i; out.append(1)
                } else {
                    guard d >= 0 && d <= Op.maxExtent else { throw fail("target \(target) has extent \(d) at axis \(i); extents are 0 to \(Op.maxExtent), or -1 to infer") }
                    out.append(d)
                }
            }
            guard let known = checkedCount(out), let total = checkedCount(x) else { throw fail("cannot reshape \(x) to \(target): too many values") }
            if infer >= 0 {
                guard known > 0, total % known == 0 else { throw fail("cannot reshape \(x) to \(target)") }
                out[infer] = total / known
            }
            guard checkedCount(out) == total else { throw fail("cannot reshape \(x) (\(total) values) to \(out)") }
            return [out]
        case let .squeeze(axes):
            try need(1)
            let x = s[0]
            if let axes {
                let norm = try Set(axes.map { try axis($0, x.count) })
                for a in norm where x[a] != 1 { throw fail("cannot squeeze axis \(a) of \(x): its extent is \(x[a])") }
                return [x.enumerated().filter { !norm.contains($0.offset) }.map(\.element)]
            }
            return [x.filter { $0 != 1 }]
        case let .unsqueeze(axes):
            try need(1)
            let r = s[0].count + axes.count
            let norm = try Set(axes.map { try axis($0, r) })
            guard norm.count == axes.count else { throw fail("axes \(axes) name the same axis twice") }
            var out: [Int] = []
            var it = s[0].makeIterator()
            for i in 0..<r { out.append(norm.contains(i) ? 1 : it.next()!) }
            return [out]
        case let .transpose(perm):
            try need(1)
            let p = perm ?? Array((0..<s[0].count).reversed())
            guard p.sorted() == Array(0..<s[0].count) else { throw fail("perm \(p) is not a permutation of the axes of \(s[0])") }
            return [p.map { s[0][$0] }]
        case let .concat(ax):
            try need(1)
            let r = s[0].count
            let a = try axis(ax, r)
            var out = s[0]
            for t in s.dropFirst() {
                guard t.count == r else { throw fail("inputs \(s[0]) and \(t) differ in rank") }
                for i in 0..<r where i != a && t[i] != s[0][i] {
                    throw fail("inputs \(s[0]) and \(t) differ at axis \(i) (\(s[0][i]) vs \(t[i])); only axis \(a) may differ")
                }
                out[a] += t[a]
            }
            return [out]
        case let .split(ax, sizes0, count):
            try need(1)
            let a = try axis(ax, s[0].count)
            guard sizes0 != nil || (count >= 1 && count <= max(s[0][a], 1)) else {
                throw fail("cannot split axis \(a) of \(s[0]) into \(count) parts")
            }
            let sizes = sizes0 ?? evenSplit(s[0][a], count)
            guard sizes.count <= 1 << 20, sizes.allSatisfy({ $0 >= 0 && $0 <= Op.maxExtent }), sizes.reduce(0, +) == s[0][a] else { throw fail("sizes \(sizes) do not sum to axis \(a) extent \(s[0][a]) of \(s[0])") }
            return sizes.map { var o = s[0]; o[a] = $0; return o }
        case let .slice(starts, ends, axes, steps):
            try need(1)
            if let steps, steps.count != starts.count { throw fail("steps \(steps) and starts \(starts) differ in length") }
            if let steps, !steps.allSatisfy({ (-Op.maxExtent...Op.maxExtent).contains($0) }) { throw fail("steps \(steps) are out of range") }
            do { return [try SliceSpec.resolve(shape: s[0], starts: starts, ends: ends, axes: axes, steps: steps).counts] }
            catch let e as ShapeError { throw fail(e.description) }
        case let .pad(_, pads, _):
            try need(1)
            let r = s[0].count
            guard pads.count == 2 * r else { throw fail("pads \(pads) must hold \(2 * r) values for input \(s[0])") }
            guard pads.allSatisfy({ (-Op.maxExtent...Op.maxExtent).contains($0) }) else { throw fail("pads \(pads) are out of range") }
            let out = (0..<r).map { s[0][$0] + pads[$0] + pads[$0 + r] }
            guard out.allSatisfy({ $0 >= 0 }) else { throw fail("pads \(pads) crop input \(s[0]) below zero") }
            return [out]
        case let .reduce(_, axes, keep, noop):
            try need(1)
            let x = s[0]
            let ax: [Int]
            if let axes, !axes.isEmpty { ax = try axes.map { try axis($0, x.count) } }
            else if noop { return [x] } else { ax = Array(0..<x.count) }
            let set = Set(ax)
            if keep { return [x.enumerated().map { set.contains($0.offset) ? 1 : $0.element }] }
            return [x.enumerated().filter { !set.contains($0.offset) }.map(\.element)]
        case let .softmax(ax, _):
            try need(1)
            _ = try axis(ax, s[0].count)
            return [s[0]]
        case let .layerNorm(ax, _):
            try need(2)
            let x = s[0], a = try axis(ax, x.count)
            let normalised = Array(x[a...])
            for (i, p) in s.dropFirst().enumerated() {
                guard checkedCount(p) == checkedCount(normalised), (try? broadcastShapes(normalised, p)) == normalised else {
                    throw fail("\(i == 0 ? "scale" : "bias") \(p) must match the normalised axes \(normalised) of input \(x)")
                }
            }
            return [x]
        case let .einsum(spec):
            try need(2)
            do { return [try spec.outputShape(s[0], s[1])] } catch let e as EinsumError { throw fail(e.description) }
        case let .gather(ax, indices, indexShape):
            try need(1)
            let x = s[0], a = try axis(ax, x.count)
            guard checkedCount(indexShape) == indices.count else { throw fail("indices shape \(indexShape) does not hold \(indices.count) indices") }
            for i in indices where i < -x[a] || i >= x[a] {
                throw fail("index \(i) is out of range for axis \(a) of \(x) (extent \(x[a]))")
            }
            return [Array(x[..<a]) + indexShape + Array(x[(a + 1)...])]
        case let .expand(target):
            try need(1)
            let t = target.map { $0 == Op.batchExtent ? batch : $0 }
            guard t.allSatisfy({ $0 >= 0 && $0 <= Op.maxExtent }) else { throw fail("target shape \(target) has a negative or implausible extent") }
            do { return [try broadcastShapes(s[0], t)] } catch let e as ShapeError { throw fail(e.description) }
        case let .integer(i):
            return try i.outputShapes(s, batch: batch, node: node)
        case let .quantize(q), let .dequantize(q):
            try need(1)
            if q.scales.count > 1 || q.zeroPoints.count > 1 {
                let a = try axis(q.axis, s[0].count)
                guard q.scales.count == s[0][a], q.zeroPoints.count == 1 || q.zeroPoints.count == q.scales.count else {
                    throw fail("\(q.scales.count) scales and \(q.zeroPoints.count) zero points do not match axis \(a) of \(s[0])")
                }
            }
            return [s[0]]
        case let .resize(_, _, scales, sizes):
            try need(1)
            let x = s[0]
            guard x.count == 4 else { throw fail("only 4-D [N,C,H,W] inputs are supported, got \(x)") }
            if let sizes {
                guard sizes.count == 4 else { throw fail("sizes \(sizes) must hold 4 values") }
                guard sizes[1] == x[1] && (sizes[0] == x[0] || sizes[0] == Op.batchExtent) else {
                    throw fail("only the spatial axes may be resized; sizes \(sizes) vs input \(x)")
                }
                return [[x[0], x[1], sizes[2], sizes[3]]]
            }
            guard let scales, scales.count == 4 else { throw fail("scales must hold 4 values") }
            guard scales[0] == 1, scales[1] == 1 else { throw fail("only the spatial axes may be resized; scales \(scales)") }
            let h = (Double(x[2]) * scales[2]).rounded(.down), w = (Double(x[3]) * scales[3]).rounded(.down)
            guard h >= 0, w >= 0, h <= Double(Op.maxExtent), w <= Double(Op.maxExtent) else {
                throw fail("scales \(scales) must be finite and non-negative and give a plausible size for input \(x)")
            }
            return [[x[0], x[1], Int(h), Int(w)]]
        }
    }

    /// Multiply-accumulate count of one evaluation (for FLOP estimates; 0 for data movement).
    public func macs(inputs s: [[Int]], outputs o: [[Int]]) -> Int {
        switch self {
        case .conv:
            return shapeCount(o[0]) * s[1][1] * s[1][2] * s[1][3]
        case let .blocked(.conv(kind, wd, m, g, _)):
            let pixels = o[0][2] * o[0][3], taps = wd.kernelH * wd.kernelW
            switch kind {
            case .pointwise: return o[0][0] * pixels * m * s[0][1] * 16
            case .depthwise: return o[0][0] * pixels * m * taps
            case .planarInput: return o[0][0] * pixels * m * s[0][1] * taps
            // Winograd counts the direct convolution's multiply-adds (the work done, not the way it is done).
            case .direct, .winograd: return o[0][0] * pixels * m * s[0][1] * 16 / g * taps
            case .quadGroups: return o[0][0] * pixels * m * 4 * taps
            }
        case let .gemm(_, _, ta, _):
            return shapeCount(o[0]) * (ta ? s[0][0] : s[0][1])
        case .matmul:
            return shapeCount(o[0]) * s[0][s[0].count - 1]
        case let .permutedMatmul(pa, _, _, _, _):
            return shapeCount(o[0]) * s[0][pa[pa.count - 1]]
        case let .integer(i):
            return i.floatOp.macs(inputs: s, outputs: o)
        case let .einsum(spec):
            guard let e = try? spec.extents(s[0], s[1]) else { return 0 }
            return shapeCount(o[0]) * spec.contracted.reduce(1) { $0 * e[$1]! }
        default:
            return 0
        }
    }
}

/// Product of the extents, or nil when one is negative or the product overflows.
public func checkedCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
        guard d >= 0 else { return nil }
        let (p, o) = n.multipliedReportingOverflow(by: d)
        if o { return nil }
        n = p
    }
    return n
}

/// Sizes of `count` parts of `n`: ceil(n / count) each, the last one taking the rest.
func evenSplit(_ n: Int, _ count: Int) -> [Int] {
    guard count > 0 else { return [] }
    let part = (n + count - 1) / count
    var out: [Int] = []
    var left = n
    for _ in 0..<count { let s = min(part, left); out.append(s); left -= s }
    return out
}

import TensorCore

/// Reusable scratch memory for one executor (one thread).
public final class Workspace {
    var scratch: [Float] = []
    /// Storage of values the executor has freed, handed out again for new outputs: large tensors then
    /// reuse already-mapped pages instead of costing a fresh mmap, page faults and kernel zeroing on
    /// every op (a quarter of the time at batch 16 before). Bounded by `poolLimit` arrays, the smallest
    /// going first (a forward pass frees dozens of small values between two uses of its largest, which
    /// costs 1200 page faults to map afresh at 112x112x96), and `poolFloatLimit` floats, the oldest going first.
    var pool: [[Float]] = []
    static let poolLimit = 16
    static let poolFloatLimit = 96 << 20
    public init() {}

    /// An array of exactly `count` floats with unspecified contents (recycled or fresh): for outputs
    /// the kernel overwrites completely.
    func takeBuffer(_ count: Int) -> [Float] {
        // Best fit among arrays already holding `count` elements (shrinking is free), else by capacity
        // (growing writes the new tail).
        // Ties go to the most recently freed array, whose lines are the likeliest still in cache.
        var best = -1
        for (i, a) in pool.enumerated() where a.count >= count && (best < 0 || a.count <= pool[best].count) { best = i }
        if best < 0 {
            for (i, a) in pool.enumerated() where a.capacity >= count && (best < 0 || a.capacity <= pool[best].capacity) { best = i }
        }
        // A small request does not take a buffer over twice its size, which a later big output could use.
        if best >= 0 && pool[best].capacity <= 2 * count + 65_536 {
            var a = pool.remove(at: best)
            if a.count > count { a.removeLast(a.count - count) }
            // Grown in place within its capacity (a temporary array of zeros to append cost a fresh mapping and its
            // page faults every time).
            else if a.count < count { a.append(contentsOf: repeatElement(0, count: count - a.count)) }
            return a
        }
        return [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
    }

    /// Gives storage back for reuse (writing into it later copies first if someone else still holds it).
    func recycle(_ a: [Float]) {
        if a.capacity < 1024 { return }
        pool.append(a)
        if pool.count > Workspace.poolLimit, let i = pool.indices.min(by: { pool[$0].capacity < pool[$1].capacity }) {
            pool.remove(at: i)
        }
        var total = pool.reduce(0) { $0 + $1.capacity }
        while total > Workspace.poolFloatLimit && pool.count > 1 {
            total -= pool.remove(at: 0).capacity
        }
    }
    /// At least `count` floats of scratch.
    func withScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        if scratch.count < count { scratch = [Float](repeating: 0, count: count) }
        return scratch.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}

extension Op {
    /// Runs the op on validated inputs; `outShapes` come from `outputShapes`.
    ///
    /// - Parameters:
    ///   - x: the input tensors, in node order.
    ///   - outShapes: the output shapes computed by `outputShapes`.
    ///   - ws: per-thread scratch memory.
    func evaluate(_ x: [Tensor], outShapes: [[Int]], ws: Workspace) -> [Tensor] {
        switch self {
        case let .conv(wd, groups, act):
            let xs = x[0].shape
            let cs = ConvShape(batch: xs[0], inC: xs[1], inH: xs[2], inW: xs[3], outC: x[1].shape[0], groups: groups, window: wd)
            // conv2d writes every output element, so the storage need not be cleared.
            let count = shapeCount(outShapes[0])
            var y = ws.takeBuffer(count)
            x[0].data.withUnsafeBufferPointer { xp in
                x[1].data.withUnsafeBufferPointer { wp in
                    y.withUnsafeMutableBufferPointer { yp in
                        guard let yb = yp.baseAddress, count > 0 else { return }
                        func run(_ bias: UnsafePointer<Float>?) {
                            ws.withScratch(cs.scratchCount) { sc in
                                conv2d(xp.baseAddress!, weight: wp.baseAddress!, bias: bias, shape: cs, activation: act,
                                       y: yb, scratch: sc)
                            }
                        }
                        if x.count > 2 { x[2].data.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
                    }
                }
            }
            return [Tensor(shape: outShapes[0], data: y)]
        case .channelAffine:
            let s = x[0].shape
            var y = [Float](repeating: 0, count: x[0].count)
            TensorCore.channelAffine(x[0].data, batch: s[0], channels: s[1], area: shapeCount(Array(s[2...])),
                          scale: x[1].data, shift: x[2].data, y: &y)
            return [Tensor(shape: s, data: y)]
        case let .activation(a):
            // Into recycled storage: writing into `x[0].data` would copy it (the executor still holds it) into a
            // fresh array, page faults and all.
            if x[0].count == 0 { return [x[0]] }
            var y = ws.takeBuffer(x[0].count)
            y.withUnsafeMutableBufferPointer { yp in
                x[0].data.withUnsafeBufferPointer { yp.baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
                a.apply(yp.baseAddress!, count: yp.count)
            }
            return [Tensor(shape: x[0].shape, data: y)]
        case .identity:
            return [x[0]]
        case let .binary(op):
            return [binaryTensor(op, x[0], x[1], outShapes[0], ws: ws)]
        case let .variadic(op, mean):
            var acc = x[0]
            for t in x.dropFirst() { acc = binaryTensor(op, acc, t, (try? broadcastShapes(acc.shape, t.shape)) ?? outShapes[0]) }
            if acc.shape != outShapes[0] { acc = binaryTensor(.add, acc, Tensor(shape: outShapes[0]), outShapes[0]) }
            if mean { let s = 1 / Float(x.count); for i in 0..<acc.count { acc.data[i] *= s } }
            return [acc]
        case let .pool(kind, wd, _):
            let s = x[0].shape, o = outShapes[0]
            var y = [Float](repeating: 0, count: shapeCount(o))
            TensorCore.pool2d(kind, x: x[0].data, planes: s[0] * s[1], h: s[2], w: s[3], window: wd, outH: o[2], outW: o[3], y: &y)
            return [Tensor(shape: o, data: y)]
        case let .globalPool(useMax):
            let s = x[0].shape
            var y = [Float](repeating: 0, count: s[0] * s[1])
            TensorCore.globalPool(max: useMax, x: x[0].data, planes: s[0] * s[1], area: shapeCount(Array(s[2...])), y: &y)
            return [Tensor(shape: outShapes[0], data: y)]
        case let .blocked(b):
            return [evaluateBlocked(b, x, outShapes[0], ws: ws)]
        case let .integer(i):
            return i.evaluate(x, outShapes: outShapes)
        case let .lrn(size, alpha, beta, bias):
            return [TensorCore.lrn(x[0], size: size, alpha: alpha, beta: beta, bias: bias)]
        case let .gemm(alpha, beta, ta, tb):
            let o = outShapes[0]
            let m = o[0], n = o[1], k = ta ? x[0].shape[0] : x[0].shape[1]
            var y = [Float](repeating: 0, count: m * n)
            var b2: Float = 0
            if x.count > 2 && beta != 0 {
                TensorCore.binary(.add, a: y, aShape: o, b: x[2].data, bShape: x[2].shape, out: &y, outShape: o)
                b2 = beta
            }
            // Split over threads: a classifier head at batch 1 is a matrix-vector product bound by reading the
            // weights, which two cores read twice as fast.
            gemmParallel(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: x[0].data, lda: x[0].shape[1],
                         b: x[1].data, ldb: x[1].shape[1], beta: b2, c: &y, ldc: n)
            return [Tensor(shape: o, data: y)]
        case .matmul:
            return [matmulTensor(x[0], x[1], outShape: outShapes[0], ws: ws)]
        case let .permutedMatmul(pa, pb, po, alpha, softmax):
            return [permutedMatmulTensor(x[0], x[1], a: pa, b: pb, out: po, alpha: alpha, addend: x.count > 2 ? x[2] : nil, softmax: softmax,
                                         outShape: outShapes[0], ws: ws)]
        case .flatten, .reshape, .squeeze, .unsqueeze:
            return [x[0].reshaped(outShapes[0])]
        case let .transpose(perm):
            return [TensorCore.transpose(x[0], perm: perm ?? Array((0..<x[0].rank).reversed()), storage: { ws.takeBuffer($0) })]
        case let .concat(ax):
            return [TensorCore.concat(x, axis: ax < 0 ? ax + x[0].rank : ax, storage: { ws.takeBuffer($0) })]
        case let .split(ax0, sizes, _):
            return outShapes.count == 0 ? [] : TensorCore.split(x[0], axis: ax0 < 0 ? ax0 + x[0].rank : ax0, sizes: sizes ?? outShapes.map { $0[ax0 < 0 ? ax0 + x[0].rank : ax0] })
        case let .slice(starts, ends, axes, steps):
            let spec = try! SliceSpec.resolve(shape: x[0].shape, starts: starts, ends: ends, axes: axes, steps: steps)
            return [TensorCore.slice(x[0], spec, storage: { ws.takeBuffer($0) })]
        case let .pad(mode, pads, value):
            let r = x[0].rank
            return [TensorCore.pad(x[0], before: Array(pads[..<r]), after: Array(pads[r...]), mode: mode, value: value)]
        case let .reduce(kind, axes, _, noop):
            guard let ax = reduceAxes(axes, rank: x[0].rank, noop: noop) else { return [x[0]] }
            return [TensorCore.reduce(kind, x[0], axes: ax).reshaped(outShapes[0])]
        case let .softmax(ax, legacy):
            let (outer, len, rest) = softmaxSplit(x[0].shape, axis: ax, legacy: legacy)
            var y = ws.takeBuffer(x[0].count)
            TensorCore.softmax(x[0].data, outer: outer, axisLen: len, rest: rest, y: &y)
            return [Tensor(shape: x[0].shape, data: y)]
        case let .layerNorm(ax, eps):
            let s = x[0].shape, a = ax < 0 ? ax + s.count : ax
            let cols = shapeCount(Array(s[a...])), rows = cols == 0 ? 0 : x[0].count / cols
            var y = ws.takeBuffer(x[0].count)
            x[0].data.withUnsafeBufferPointer { xp in
                x[1].data.withUnsafeBufferPointer { sp in
                    y.withUnsafeMutableBufferPointer { yp in
                        guard let xb = xp.baseAddress, let yb = yp.baseAddress else { return }
                        if x.count > 2 {
                            x[2].data.withUnsafeBufferPointer { bp in
                                TensorCore.layerNorm(xb, rows: rows, cols: cols, scale: sp.baseAddress, bias: bp.baseAddress, epsilon: eps, y: yb)
                            }
                        } else {
                            TensorCore.layerNorm(xb, rows: rows, cols: cols, scale: sp.baseAddress, bias: nil, epsilon: eps, y: yb)
                        }
                    }
                }
            }
            return [Tensor(shape: s, data: y)]
        case let .einsum(spec):
            return [try! spec.evaluate(x[0], x[1])]
        case let .gather(ax, indices, _):
            let s = x[0].shape, a = ax < 0 ? ax + s.count : ax
            let outer = shapeCount(Array(s[..<a])), dim = s[a], inner = shapeCount(Array(s[(a + 1)...]))
            var y = ws.takeBuffer(shapeCount(outShapes[0]))
            x[0].data.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    let k = indices.count
                    copyRuns(outer * k, length: inner, from: xp.baseAddress, to: yp.baseAddress, source: { r in
                        let i = indices[r % k]
                        return (r / k * dim + (i < 0 ? i + dim : i)) * inner
                    }, destination: { $0 * inner })
                }
            }
            return [Tensor(shape: outShapes[0], data: y)]
        case .expand:
            return [binaryTensor(.add, x[0], Tensor(shape: outShapes[0]), outShapes[0], ws: ws)]
        case let .quantize(q):
            return [Tensor(shape: x[0].shape, data: q.apply(x[0].data, shape: x[0].shape, quantize: true))]
        case let .dequantize(q):
            return [Tensor(shape: x[0].shape, data: q.apply(x[0].data, shape: x[0].shape, quantize: false))]
        case let .resize(mode, transform, _, _):
            let s = x[0].shape, o = outShapes[0]
            let (ty, tx) = resizeTaps(inShape: s, outShape: o, mode: mode, transform: transform)
            var y = [Float](repeating: 0, count: shapeCount(o))
            TensorCore.resize2d(x[0].data, planes: s[0] * s[1], inH: s[2], inW: s[3], ty: ty, tx: tx, y: &y)
            return [Tensor(shape: o, data: y)]
        }
    }

    func resizeTaps(inShape s: [Int], outShape o: [Int], mode: ResizeMode, transform: CoordinateTransform) -> (AxisTaps, AxisTaps) {
        guard case let .resize(_, _, scales, _) = self else { fatalError("resizeTaps on \(name)") }
        let sh = scales?[2] ?? Double(o[2]) / Double(s[2]), sw = scales?[3] ?? Double(o[3]) / Double(s[3])
        return (AxisTaps(inLen: s[2], outLen: o[2], scale: sh, mode: mode, transform: transform),
                AxisTaps(inLen: s[3], outLen: o[3], scale: sw, mode: mode, transform: transform))
    }
}

/// Normalised, sorted reduction axes; nil when the reduction is a no-op.
func reduceAxes(_ axes: [Int]?, rank: Int, noop: Bool) -> [Int]? {
    if let axes, !axes.isEmpty { return axes.map { $0 < 0 ? $0 + rank : $0 }.sorted() }
    return noop ? nil : Array(0..<rank)
}

/// (outer, axis length, rest) for a softmax over `shape` at `axis`.
func softmaxSplit(_ shape: [Int], axis ax0: Int, legacy: Bool) -> (Int, Int, Int) {
    let ax = ax0 < 0 ? ax0 + shape.count : ax0
    if legacy { return (shapeCount(Array(shape[..<ax])), shapeCount(Array(shape[ax...])), 1) }
    return (shapeCount(Array(shape[..<ax])), shape[ax], shapeCount(Array(shape[(ax + 1)...])))
}

func binaryTensor(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ o: [Int], ws: Workspace? = nil) -> Tensor {
    // `binary` writes every output element.
    var y = ws?.takeBuffer(shapeCount(o)) ?? [Float](repeating: 0, count: shapeCount(o))
    binary(op, a: a.data, aShape: a.shape, b: b.data, bShape: b.shape, out: &y, outShape: o)
    return Tensor(shape: o, data: y)
}

/// Batched matrix product with NumPy semantics (rank-1 operands promoted and the unit axis dropped), split over
/// `computeThreads`: by products when there are several (attention's heads), else by panels of the one product
/// (a transformer's projections at batch 1).
func matmulTensor(_ a0: Tensor, _ b0: Tensor, outShape: [Int], transA: Bool = false, transB: Bool = false, alpha: Float = 1,
                  ws: Workspace? = nil) -> Tensor {
    var a = a0.shape, b = b0.shape
    if a.count == 1 { a = [1] + a }
    if b.count == 1 { b = b + [1] }
    // A weight shared by every product (a transformer's Linear on [N, tokens, C], ConvNeXt's on [N, H, W, C]):
    // the products are the rows of one GEMM, [N·tokens, C] x [C, C'].
    if !transA && a.count > 2 && b.dropLast(2).allSatisfy({ $0 == 1 }) {
        let rows = shapeCount(Array(a.dropLast()))
        let flat = matmulTensor(a0.reshaped([rows, a[a.count - 1]]), b0.reshaped(Array(b.suffix(2))), outShape: [rows, transB ? b[b.count - 2] : b[b.count - 1]],
                                transB: transB, alpha: alpha, ws: ws)
        return flat.reshaped(outShape)
    }
    let m = transA ? a[a.count - 1] : a[a.count - 2], k = transA ? a[a.count - 2] : a[a.count - 1]
    let n = transB ? b[b.count - 2] : b[b.count - 1]
    let batchShape = (try? broadcastShapes(Array(a.dropLast(2)), Array(b.dropLast(2)))) ?? []
    let aS = broadcastStrides(Array(a.dropLast(2)), to: batchShape), bS = broadcastStrides(Array(b.dropLast(2)), to: batchShape)
    // Every product overwrites its C (beta 0), so a recycled buffer serves.
    var y = ws?.takeBuffer(shapeCount(batchShape) * m * n) ?? [Float](repeating: 0, count: shapeCount(batchShape) * m * n)
    a0.data.withUnsafeBufferPointer { ap in
        b0.data.withUnsafeBufferPointer { bp in
            y.withUnsafeMutableBufferPointer { yp in
                batchedGemm(batchShape: batchShape, aStrides: aS.map { $0 * m * k }, bStrides: bS.map { $0 * k * n },
                            cStrides: contiguousStrides(batchShape).map { $0 * m * n }, transA: transA, transB: transB, m: m, n: n, k: k,
                            alpha: alpha, a: ap.baseAddress!, lda: transA ? m : k, b: bp.baseAddress!, ldb: transB ? k : n, c: yp.baseAddress!, ldc: n)
            }
        }
    }
    return Tensor(shape: outShape, data: y)
}

/// The products C_i = op(A_i) · op(B_i) of a batch of `batchShape` (row-major), product i's operands and result at
/// element offsets `aStrides`, `bStrides`, `cStrides` per batch axis from `a`, `b`, `c`, split over `computeThreads`:
/// by products when there are several (attention's heads), else within the one (a transformer's projections at
/// batch 1). Every C is overwritten; `epilogue` then runs on each product's C (given its index), on the thread that
/// made it, while it is in cache.
func batchedGemm(batchShape: [Int], aStrides: [Int], bStrides: [Int], cStrides: [Int], transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                 alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                 epilogue: ((_ product: Int, _ c: UnsafeMutablePointer<Float>) -> Void)? = nil) {
    let nb = shapeCount(batchShape), bStr = contiguousStrides(batchShape)
    if nb > 1 && epilogue == nil && !transA && bStrides.allSatisfy({ $0 == 0 })
        && aStrides == bStr.map({ $0 * m * lda }) && cStrides == bStr.map({ $0 * m * ldc }) {
        // One B for products whose A and C rows follow on from each other (a linear map over a [batch, tokens, features]
        // input): one product of all the rows, so B is packed and read once.
        gemmParallel(transB: transB, m: nb * m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
        return
    }
    nonisolated(unsafe) let a = a, b = b, c = c
    func product(_ i: Int, parallel: Bool) {
        var rem = i, ao = 0, bo = 0, co = 0
        for ax in 0..<batchShape.count {
            let j = rem / bStr[ax]; rem %= bStr[ax]
            ao += j * aStrides[ax]; bo += j * bStrides[ax]; co += j * cStrides[ax]
        }
        if parallel {
            gemmParallel(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a + ao, lda: lda, b: b + bo, ldb: ldb, c: c + co, ldc: ldc)
        } else {
            gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a + ao, lda: lda, b: b + bo, ldb: ldb, c: c + co, ldc: ldc)
        }
        epilogue?(i, c + co)
    }
    if nb >= computeThreads && nb > 1 {
        parallelChunks(nb, minItemsPerChunk: max(1, 100_000 / max(1, m * n * k))) { r in for i in r { product(i, parallel: false) } }
    } else {
        for i in 0..<nb { product(i, parallel: true) }
    }
}

extension Op {
    /// Validates shapes and runs the op once on its own (constant folding, tests).
    /// - Throws: `GraphError.shapeMismatch` naming the node.
    public func run(_ inputs: [Tensor], node: String = "op") throws -> [Tensor] {
        let shapes = try outputShapes(inputs.map(\.shape), batch: inputs.first?.shape.first ?? 1, node: node)
        return evaluate(inputs, outShapes: shapes, ws: Workspace())
    }
}

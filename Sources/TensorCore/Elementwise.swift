import Foundation

/// A binary elementwise operation with NumPy broadcasting.
public enum BinaryOp: Sendable, Equatable, Hashable {
    case add, sub, mul, div, max, min, pow
    /// PRelu: x >= 0 ? x : slope * x (slope is the second operand).
    case prelu

    @inlinable public func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .max: return Swift.max(a, b)
        case .min: return Swift.min(a, b)
        case .pow: return Foundation.pow(a, b)
        case .prelu: return a >= 0 ? a : a * b
        }
    }

    /// (d/da, d/db) at (a, b).
    @inlinable public func partials(_ a: Float, _ b: Float) -> (Float, Float) {
        switch self {
        case .add: return (1, 1)
        case .sub: return (1, -1)
        case .mul: return (b, a)
        case .div: return (1 / b, -a / (b * b))
        case .max: return a >= b ? (1, 0) : (0, 1)
        case .min: return a <= b ? (1, 0) : (0, 1)
        case .pow: return (b * Foundation.pow(a, b - 1), a > 0 ? Foundation.pow(a, b) * Foundation.log(a) : 0)
        case .prelu: return a >= 0 ? (1, 0) : (b, a)
        }
    }
}

/// Visits every output element of a broadcast binary operation, innermost axis in a tight loop.
///
/// `body(outOffset, aOffset, bOffset, innerCount, aInnerStride, bInnerStride)` is called once per row.
@inlinable
public func forEachBroadcastRow(outShape: [Int], aStrides: [Int], bStrides: [Int],
                                _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
    let r = outShape.count
    if r == 0 { body(0, 0, 0, 1, 0, 0); return }
    let inner = outShape[r - 1]
    let outer = shapeCount(outShape) / max(inner, 1)
    if inner == 0 { return }
    var idx = [Int](repeating: 0, count: r)
    var ao = 0, bo = 0
    for row in 0..<outer {
        body(row * inner, ao, bo, inner, aStrides[r - 1], bStrides[r - 1])
        // advance the multi-index over axes 0..<r-1
        var ax = r - 2
        while ax >= 0 {
            idx[ax] += 1; ao += aStrides[ax]; bo += bStrides[ax]
            if idx[ax] < outShape[ax] { break }
            ao -= aStrides[ax] * outShape[ax]; bo -= bStrides[ax] * outShape[ax]; idx[ax] = 0
            ax -= 1
        }
    }
}

/// out = op(a, b) with broadcasting.
/// - Parameters: `a` has `aShape`, `b` has `bShape`, `out` has `broadcastShapes(aShape, bShape)`.
public func binary(_ op: BinaryOp, a: UnsafePointer<Float>, aShape: [Int], b: UnsafePointer<Float>, bShape: [Int],
                   out: UnsafeMutablePointer<Float>, outShape: [Int]) {
    let count = shapeCount(outShape)
    if aShape == outShape && bShape == outShape && count >= 32_768 {
        // Operands of the output's shape (a residual Add): one flat loop, split over the threads in slices, instead
        // of a call per innermost row (rows of 56 in ResNet-50's first stage).
        nonisolated(unsafe) let a = a, b = b, out = out
        parallelChunks((count + 8191) / 8192) { r in
            let lo = r.lowerBound * 8192, n = min(count, r.upperBound * 8192) - lo
            binaryRow(op, out + lo, a + lo, b + lo, n, 1, 1)
        }
        return
    }
    let aS = broadcastStrides(aShape, to: outShape), bS = broadcastStrides(bShape, to: outShape)
    forEachBroadcastRow(outShape: outShape, aStrides: aS, bStrides: bS) { o, ai, bi, n, sa, sb in
        binaryRow(op, out + o, a + ai, b + bi, n, sa, sb)
    }
}

/// po[i] = op(pa[i·sa], pb[i·sb]) for i in 0..<n: one innermost row of `binary`.
@inline(__always)
private func binaryRow(_ op: BinaryOp, _ po: UnsafeMutablePointer<Float>, _ pa: UnsafePointer<Float>, _ pb: UnsafePointer<Float>,
                       _ n: Int, _ sa: Int, _ sb: Int) {
    switch (op, sa, sb) {
    case (.add, 1, 1): for i in 0..<n { po[i] = pa[i] + pb[i] }
    case (.add, 1, 0): let v = pb[0]; for i in 0..<n { po[i] = pa[i] + v }
    case (.mul, 1, 1): for i in 0..<n { po[i] = pa[i] * pb[i] }
    case (.mul, 1, 0): let v = pb[0]; for i in 0..<n { po[i] = pa[i] * v }
    case (.sub, 1, 1): for i in 0..<n { po[i] = pa[i] - pb[i] }
    case (.div, 1, 1): for i in 0..<n { po[i] = pa[i] / pb[i] }
    // By a scalar (attention's query scaling): true division, as the op says, vectorised.
    case (.div, 1, 0): let v = pb[0]; for i in 0..<n { po[i] = pa[i] / v }
    case (.sub, 1, 0): let v = pb[0]; for i in 0..<n { po[i] = pa[i] - v }
    default: for i in 0..<n { po[i] = op.apply(pa[i * sa], pb[i * sb]) }
    }
}

/// Naive twin of `binary`: full multi-index arithmetic per element.
public func binaryNaive(_ op: BinaryOp, a: UnsafePointer<Float>, aShape: [Int], b: UnsafePointer<Float>, bShape: [Int],
                        out: UnsafeMutablePointer<Float>, outShape: [Int]) {
    let aS = broadcastStrides(aShape, to: outShape), bS = broadcastStrides(bShape, to: outShape)
    let oS = contiguousStrides(outShape)
    for o in 0..<shapeCount(outShape) {
        var rem = o, ai = 0, bi = 0
        for ax in 0..<outShape.count { let i = rem / oS[ax]; rem %= oS[ax]; ai += i * aS[ax]; bi += i * bS[ax] }
        out[o] = op.apply(a[ai], b[bi])
    }
}

/// Gradients of a broadcast binary op: da (shape aShape) and db (shape bShape) are overwritten with the
/// sums of dy * partials over the broadcast axes.
public func binaryBackward(_ op: BinaryOp, a: UnsafePointer<Float>, aShape: [Int], b: UnsafePointer<Float>, bShape: [Int],
                           dy: UnsafePointer<Float>, outShape: [Int],
                           da: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?) {
    da?.update(repeating: 0, count: shapeCount(aShape))
    db?.update(repeating: 0, count: shapeCount(bShape))
    let aS = broadcastStrides(aShape, to: outShape), bS = broadcastStrides(bShape, to: outShape)
    forEachBroadcastRow(outShape: outShape, aStrides: aS, bStrides: bS) { o, ai, bi, n, sa, sb in
        for i in 0..<n {
            let (pa, pb) = op.partials(a[ai + i * sa], b[bi + i * sb])
            let g = dy[o + i]
            da?[ai + i * sa] += g * pa
            db?[bi + i * sb] += g * pb
        }
    }
}

/// Per-channel affine map over NCHW: y[n,c,:] = x[n,c,:] * scale[c] + shift[c] (inference BatchNormalization).
public func channelAffine(_ x: UnsafePointer<Float>, batch: Int, channels: Int, area: Int,
                          scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    // Planes split over the threads (DenseNet's pre-activation BatchNormalizations run over whole concatenations).
    nonisolated(unsafe) let x = x, scale = scale, shift = shift, y = y
    parallelChunks(batch * channels, minItemsPerChunk: max(1, 16_384 / max(1, area))) { planes in
        for plane in planes {
            let c = plane % channels, o = plane * area
            let s = scale[c], t = shift[c]
            for i in 0..<area { y[o + i] = x[o + i] * s + t }
        }
    }
}

/// Sums `x` over the axes along which `shape` was broadcast to `x.shape` (the adjoint of broadcasting).
public func sumToShape(_ x: Tensor, _ shape: [Int]) -> Tensor {
    if x.shape == shape { return x }
    var out = [Float](repeating: 0, count: shapeCount(shape))
    let sS = broadcastStrides(shape, to: x.shape)
    x.data.withUnsafeBufferPointer { xp in
        forEachBroadcastRow(outShape: x.shape, aStrides: sS, bStrides: [Int](repeating: 0, count: x.rank)) { o, a, _, n, sa, _ in
            for i in 0..<n { out[a + i * sa] += xp[o + i] }
        }
    }
    return Tensor(shape: shape, data: out)
}

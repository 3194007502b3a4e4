import Foundation
import TensorKernelsAVX512

/// Reduction kind.
public enum ReduceKind: Sendable, Equatable, Hashable {
    case sum, mean, max, min
    /// Sum of squares, and its square root (ReduceSumSquare, ReduceL2: Swin-V2's cosine attention).
    case sumSquare, l2
    /// Sum of absolute values (ReduceL1).
    case l1
}

/// Reduces `x` over `axes` (already normalised, sorted); the result keeps reduced axes as 1.
public func reduce(_ kind: ReduceKind, _ x: Tensor, axes: [Int]) -> Tensor {
    var outShape = x.shape
    for a in axes { outShape[a] = 1 }
    let n = axes.reduce(1) { $0 * x.shape[$1] }
    let start: Float = kind == .max ? -.infinity : (kind == .min ? .infinity : 0)
    var out = [Float](repeating: start, count: shapeCount(outShape))
    let oS = broadcastStrides(outShape, to: x.shape)
    x.data.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { op in
            forEachBroadcastRow(outShape: x.shape, aStrides: oS, bStrides: [Int](repeating: 0, count: x.rank)) { xo, o, _, cnt, so, _ in
                for i in 0..<cnt {
                    let v = xp[xo + i], j = o + i * so
                    switch kind {
                    case .sum, .mean: op[j] += v
                    case .max: op[j] = Swift.max(op[j], v)
                    case .min: op[j] = Swift.min(op[j], v)
                    case .sumSquare, .l2: op[j] += v * v
                    case .l1: op[j] += Swift.abs(v)
                    }
                }
            }
        }
    }
    if kind == .mean { let s = 1 / Float(max(n, 1)); for i in 0..<out.count { out[i] *= s } }
    if kind == .l2 { for i in 0..<out.count { out[i] = out[i].squareRoot() } }
    return Tensor(shape: outShape, data: out)
}

/// Gradient of `reduce` (keepdims shape `y`): sum/mean spread evenly, max/min go to the elements equal to the result
/// (shared equally among ties), sum of squares 2x, L2 x / y (0 where the norm is 0), L1 the sign of x.
public func reduceBackward(_ kind: ReduceKind, x: Tensor, y: Tensor, dy: Tensor, axes: [Int]) -> Tensor {
    let n = axes.reduce(1) { $0 * x.shape[$1] }
    let oS = broadcastStrides(y.shape, to: x.shape)
    var dx = [Float](repeating: 0, count: x.count)
    var ties = [Float](repeating: 0, count: y.count)
    if kind == .max || kind == .min {
        forEachBroadcastRow(outShape: x.shape, aStrides: oS, bStrides: [Int](repeating: 0, count: x.rank)) { xo, o, _, cnt, so, _ in
            for i in 0..<cnt where x.data[xo + i] == y.data[o + i * so] { ties[o + i * so] += 1 }
        }
    }
    forEachBroadcastRow(outShape: x.shape, aStrides: oS, bStrides: [Int](repeating: 0, count: x.rank)) { xo, o, _, cnt, so, _ in
        for i in 0..<cnt {
            let j = o + i * so
            switch kind {
            case .sum: dx[xo + i] = dy.data[j]
            case .mean: dx[xo + i] = dy.data[j] / Float(n)
            case .max, .min: if x.data[xo + i] == y.data[j] { dx[xo + i] = dy.data[j] / ties[j] }
            case .sumSquare: dx[xo + i] = 2 * x.data[xo + i] * dy.data[j]
            case .l2: dx[xo + i] = y.data[j] > 0 ? x.data[xo + i] / y.data[j] * dy.data[j] : 0
            case .l1: dx[xo + i] = x.data[xo + i] > 0 ? dy.data[j] : (x.data[xo + i] < 0 ? -dy.data[j] : 0)
            }
        }
    }
    return Tensor(shape: x.shape, data: dx)
}

/// Softmax over the contiguous block of `inner` elements after splitting into `outer` x `axisLen` x `rest`.
///
/// - Parameters: `x`, `y` are `[outer, axisLen, rest]` flat.
public func softmax(_ x: UnsafePointer<Float>, outer: Int, axisLen: Int, rest: Int, y: UnsafeMutablePointer<Float>) {
    if rest == 1, let rows = kernels.softmaxRows {
        rows(x, y, outer, axisLen)
        return
    }
    for o in 0..<outer {
        for r in 0..<rest {
            let base = o * axisLen * rest + r
            var m = -Float.infinity
            for i in 0..<axisLen { m = max(m, x[base + i * rest]) }
            var s: Float = 0
            for i in 0..<axisLen { let e = Foundation.exp(x[base + i * rest] - m); y[base + i * rest] = e; s += e }
            let inv = 1 / s
            for i in 0..<axisLen { y[base + i * rest] *= inv }
        }
    }
}

/// Softmax of `outer` rows of `length` on AVX-512 (attention scores), sixteen values at a time, rows split over the
/// threads (`KernelTable.avx512`).
func softmaxRowsParallelAVX512(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, length: Int) {
    softmaxRowsParallel(x, y, outer: outer, length: length, rows: softmaxRowsAVX512)
}

/// The same on AVX2 (`KernelTable.portable`): `TensorKernelsAVX512`'s softmax inlined here and compiled for AVX2.
func softmaxRowsParallelAVX2(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, length: Int) {
    softmaxRowsParallel(x, y, outer: outer, length: length, rows: softmaxRowsAVX2)
}

/// `vectorSoftmaxRows` compiled for AVX2.
func softmaxRowsAVX2(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Range<Int>, length: Int) {
    vectorSoftmaxRows(x, y, rows: rows, length: length)
}

private func softmaxRowsParallel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, length: Int,
                                 rows: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>, Int) -> Void) {
    nonisolated(unsafe) let x = x, y = y
    parallelChunks(outer, minItemsPerChunk: max(1, 8192 / max(1, length))) { r in
        rows(x, y, r, length)
    }
}

/// dx = y * (dy - sum(dy * y)) along the softmax axis.
public func softmaxBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, outer: Int, axisLen: Int, rest: Int,
                            dx: UnsafeMutablePointer<Float>) {
    for o in 0..<outer {
        for r in 0..<rest {
            let base = o * axisLen * rest + r
            var dot: Float = 0
            for i in 0..<axisLen { dot += dy[base + i * rest] * y[base + i * rest] }
            for i in 0..<axisLen { dx[base + i * rest] = y[base + i * rest] * (dy[base + i * rest] - dot) }
        }
    }
}

/// Local response normalisation across channels (ONNX LRN) over NCHW.
public func lrn(_ x: Tensor, size: Int, alpha: Float, beta: Float, bias: Float) -> Tensor {
    let n = x.shape[0], c = x.shape[1], area = shapeCount(Array(x.shape[2...]))
    var out = x.data
    let lo = (size - 1) / 2, hi = size / 2
    for b in 0..<n {
        for ch in 0..<c {
            let c0 = max(0, ch - lo), c1 = min(c - 1, ch + hi)
            for i in 0..<area {
                var sq: Float = 0
                for k in c0...c1 { let v = x.data[(b * c + k) * area + i]; sq += v * v }
                let j = (b * c + ch) * area + i
                out[j] = x.data[j] / Foundation.pow(bias + alpha / Float(size) * sq, beta)
            }
        }
    }
    return Tensor(shape: x.shape, data: out)
}

/// Layout kernels: transpose, slice, pad, concat/split along an axis. Shape checks are the caller's
/// (the graph validates before computing); these are plain loops over flat buffers.

/// y = x transposed by `perm` (y.shape[i] = x.shape[perm[i]]).
///
/// - Parameter storage: gives an array of the result's size to write into (a recycled buffer), called only when the
///   data moves; nil: a new array.
public func transpose(_ x: Tensor, perm: [Int], storage: ((Int) -> [Float])? = nil) -> Tensor {
    let r = x.rank
    let outShape = perm.map { x.shape[$0] }
    if r == 0 || x.count == 0 { return Tensor(shape: outShape, data: x.data) }
    // Axes that stay neighbours in the same order move as one (a Swin window partition [1,8,7,8,7,96] by
    // (0,1,3,2,4,5) is a [8,7,8,672] transpose by (0,2,1,3)); extents of 1 drop out.
    var groups: [[Int]] = []
    for a in perm where x.shape[a] != 1 {
        if let last = groups.last?.last, last + 1 == a { groups[groups.count - 1].append(a) } else { groups.append([a]) }
    }
    if groups.count <= 1 { return Tensor(shape: outShape, data: x.data) }   // the order of the data is unchanged
    let order = groups.sorted { $0[0] < $1[0] }
    let inExtents = order.map { g in g.reduce(1) { $0 * x.shape[$1] } }
    var inStrides = [Int](repeating: 1, count: order.count)
    for i in stride(from: order.count - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * inExtents[i + 1] }
    let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1[0], $0) })
    let shape = groups.map { inExtents[position[$0[0]]!] }
    let strides = groups.map { inStrides[position[$0[0]]!] }
    if var out = storage?(x.count), out.count == x.count {
        x.data.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { transposeMerged(xp.baseAddress!, shape: shape, strides: strides, y: $0.baseAddress!) }
        }
        return Tensor(shape: outShape, data: out)
    }
    let out = [Float](unsafeUninitializedCapacity: x.count) { buf, count in
        x.data.withUnsafeBufferPointer { xp in
            transposeMerged(xp.baseAddress!, shape: shape, strides: strides, y: buf.baseAddress!)
        }
        count = x.count
    }
    return Tensor(shape: outShape, data: out)
}

/// y (contiguous, `shape`) = x read with `strides` per output axis: the last axis's run is copied as a block when
/// its stride is 1, element by element otherwise; when the last two axes swap, in 16 x 16 tiles (whole tiles through
/// the kernel table's tile transpose where it has one). Large transposes split over `computeThreads`.
func transposeMerged(_ x: UnsafePointer<Float>, shape: [Int], strides: [Int], y: UnsafeMutablePointer<Float>) {
    let r = shape.count, n = shape[r - 1], sa = strides[r - 1]
    let count = shape.reduce(1, *)
    nonisolated(unsafe) let x = x, y = y
    if sa != 1 && r >= 2 && strides[r - 2] == 1 {
        // The last two axes swap (attention's K^T, NCHW <-> NHWC): units of 16 output rows of one plane, in 16 x 16
        // tiles read along x's rows.
        let m = shape[r - 2]
        let outer = Array(shape.dropLast(2)), outerStrides = Array(strides.dropLast(2))
        let bands = (m + 15) / 16
        let tile = kernels.transposeTile16
        parallelChunks(outer.reduce(1, *) * bands, minItemsPerChunk: max(1, 16_384 / max(1, 16 * n))) { units in
            for u in units {
                let plane = u / bands, jb = u % bands * 16
                let src = offset(of: plane, shape: outer, strides: outerStrides)
                let mj = min(16, m - jb)
                var ib = 0
                while ib < n {
                    let ni = min(16, n - ib)
                    let dst = y + (plane * m + jb) * n + ib
                    if let tile, mj == 16 && ni == 16 {
                        tile(x + src + ib * sa + jb, sa, dst, n)
                    } else {
                        for i in 0..<ni {
                            let row = x + src + (ib + i) * sa + jb
                            for jj in 0..<mj { dst[jj * n + i] = row[jj] }
                        }
                    }
                    ib += 16
                }
            }
        }
        return
    }
    let outer = Array(shape.dropLast()), outerStrides = Array(strides.dropLast())
    parallelChunks(count / max(1, n), minItemsPerChunk: max(1, 65_536 / max(1, n))) { rows in
        for row in rows {
            let src = offset(of: row, shape: outer, strides: outerStrides), dst = y + row * n
            if sa == 1 { dst.update(from: x + src, count: n) } else { for i in 0..<n { dst[i] = x[src + i * sa] } }
        }
    }
}

/// The source offset of row-major index `index` of an array of extents `shape`, reading with `strides` per axis.
@inline(__always) private func offset(of index: Int, shape: [Int], strides: [Int]) -> Int {
    var rem = index, src = 0
    for a in stride(from: shape.count - 1, through: 0, by: -1) {
        src += (rem % shape[a]) * strides[a]
        rem /= shape[a]
    }
    return src
}

/// Copies `runs` runs of `length` floats, run i from `x + source(i)` to `y + destination(i)` (offsets in floats), split
/// over `computeThreads` when more than 64 Ki floats move (a copy from memory is faster on two cores); runs longer than
/// 16 Ki floats are split into pieces, so that one long run (a Gather of a whole block) is shared too.
///
/// Nil buffers (empty arrays) are allowed when there is nothing to copy.
public func copyRuns(_ runs: Int, length: Int, from x: UnsafePointer<Float>?, to y: UnsafeMutablePointer<Float>?,
                     source: (Int) -> Int, destination: (Int) -> Int) {
    guard runs > 0 && length > 0, let x0 = x, let y0 = y else { return }
    let piece = 16_384, pieces = (length + piece - 1) / piece
    nonisolated(unsafe) let x = x0, y = y0
    parallelChunks(runs * pieces, minItemsPerChunk: max(1, 65_536 / min(length, piece))) { units in
        for u in units {
            let run = u / pieces, lo = u % pieces * piece, n = min(piece, length - lo)
            (y + destination(run) + lo).update(from: x + source(run) + lo, count: n)
        }
    }
}

/// Inverse of a permutation.
public func inversePermutation(_ perm: [Int]) -> [Int] {
    var inv = [Int](repeating: 0, count: perm.count)
    for (i, p) in perm.enumerated() { inv[p] = i }
    return inv
}

/// Strided slice: per axis a start, a step (non-zero) and a count of elements taken.
public struct SliceSpec: Sendable, Equatable, Hashable {
    public var starts: [Int], steps: [Int], counts: [Int]
    public init(starts: [Int], steps: [Int], counts: [Int]) { self.starts = starts; self.steps = steps; self.counts = counts }

    /// Resolves ONNX Slice arguments against a shape (negative indices, clamping, per-axis defaults).
    public static func resolve(shape: [Int], starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?) throws -> SliceSpec {
        let r = shape.count
        var s = SliceSpec(starts: [Int](repeating: 0, count: r), steps: [Int](repeating: 1, count: r), counts: shape)
        let ax = axes ?? Array(0..<starts.count)
        guard starts.count == ends.count, ax.count == starts.count else {
            throw ShapeError("Slice: starts \(starts), ends \(ends) and axes \(ax) differ in length")
        }
        for (j, a0) in ax.enumerated() {
            let a = a0 < 0 ? a0 + r : a0
            guard a >= 0 && a < r else { throw ShapeError("Slice: axis \(a0) is out of range for shape \(shape)") }
            let dim = shape[a]
            let step = steps?[j] ?? 1
            guard step != 0 else { throw ShapeError("Slice: step 0 on axis \(a0)") }
            var st = starts[j], en = ends[j]
            if st < 0 { st += dim }
            if en < 0 { en += dim }
            if step > 0 {
                st = min(max(st, 0), dim); en = min(max(en, 0), dim)
                s.counts[a] = en > st ? (en - st + step - 1) / step : 0
            } else {
                st = min(max(st, 0), dim - 1); en = min(max(en, -1), dim - 1)
                s.counts[a] = st > en ? (st - en + (-step) - 1) / (-step) : 0
            }
            s.starts[a] = st; s.steps[a] = step
        }
        return s
    }
}

/// y = x[spec].
///
/// - Parameter storage: gives an array of the result's size to write into (a recycled buffer); nil: a new array.
public func slice(_ x: Tensor, _ spec: SliceSpec, storage: ((Int) -> [Float])? = nil) -> Tensor {
    let xs = contiguousStrides(x.shape)
    var base = 0
    for a in 0..<x.rank { base += spec.starts[a] * xs[a] }
    let strides = (0..<x.rank).map { xs[$0] * spec.steps[$0] }
    let count = shapeCount(spec.counts)
    var out = storage?(count) ?? [Float](repeating: 0, count: count)
    if out.isEmpty { return Tensor(shape: spec.counts, data: out) }
    // Neighbouring axes read contiguously move as one (a slice of the last axis copies rows of its whole extent).
    var shape: [Int] = [], merged: [Int] = []
    for a in 0..<x.rank where spec.counts[a] != 1 {
        if let last = shape.last, merged.last! == strides[a] * spec.counts[a] {
            shape[shape.count - 1] = last * spec.counts[a]; merged[merged.count - 1] = strides[a]
        } else { shape.append(spec.counts[a]); merged.append(strides[a]) }
    }
    if shape.isEmpty { shape = [1]; merged = [1] }
    x.data.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { op in transposeMerged(xp.baseAddress! + base, shape: shape, strides: merged, y: op.baseAddress!) }
    }
    return Tensor(shape: spec.counts, data: out)
}

/// Adjoint of `slice`: scatters dy into a zero tensor of `inputShape`.
public func sliceBackward(_ dy: Tensor, inputShape: [Int], _ spec: SliceSpec) -> Tensor {
    let xs = contiguousStrides(inputShape)
    var base = 0
    for a in 0..<inputShape.count { base += spec.starts[a] * xs[a] }
    let strides = (0..<inputShape.count).map { xs[$0] * spec.steps[$0] }
    var dx = [Float](repeating: 0, count: shapeCount(inputShape))
    if dy.count == 0 { return Tensor(shape: inputShape, data: dx) }
    dy.data.withUnsafeBufferPointer { gp in
        dx.withUnsafeMutableBufferPointer { xp in
            forEachBroadcastRow(outShape: spec.counts, aStrides: strides, bStrides: [Int](repeating: 0, count: inputShape.count)) { o, a, _, n, sa, _ in
                for i in 0..<n { xp[base + a + i * sa] += gp[o + i] }
            }
        }
    }
    return Tensor(shape: inputShape, data: dx)
}

/// Padding mode.
public enum PadMode: String, Sendable, Equatable, Hashable { case constant, reflect, edge }

/// Source index along one axis for output index `o` of a padded axis, or nil for a constant cell.
@inlinable func padSource(_ o: Int, before: Int, dim: Int, mode: PadMode) -> Int? {
    var i = o - before
    if i >= 0 && i < dim { return i }
    switch mode {
    case .constant: return nil
    case .edge: return i < 0 ? 0 : dim - 1
    case .reflect:
        if dim == 1 { return 0 }
        let period = 2 * (dim - 1)
        i = ((i % period) + period) % period
        return i < dim ? i : period - i
    }
}

/// Pads with `before[a]`/`after[a]` cells per axis (negative values crop).
public func pad(_ x: Tensor, before: [Int], after: [Int], mode: PadMode, value: Float) -> Tensor {
    let outShape = (0..<x.rank).map { x.shape[$0] + before[$0] + after[$0] }
    var out = [Float](repeating: value, count: shapeCount(outShape))
    let xs = contiguousStrides(x.shape)
    let os = contiguousStrides(outShape)
    // Precompute per-axis source maps.
    let maps: [[Int]] = (0..<x.rank).map { a in (0..<outShape[a]).map { padSource($0, before: before[a], dim: x.shape[a], mode: mode) ?? -1 } }
    let total = out.count
    x.data.withUnsafeBufferPointer { xp in
        for o in 0..<total {
            var rem = o, src = 0, ok = true
            for a in 0..<x.rank {
                let i = rem / os[a]; rem %= os[a]
                let s = maps[a][i]
                if s < 0 { ok = false; break }
                src += s * xs[a]
            }
            if ok { out[o] = xp[src] }
        }
    }
    return Tensor(shape: outShape, data: out)
}

/// Adjoint of `pad`.
public func padBackward(_ dy: Tensor, inputShape: [Int], before: [Int], mode: PadMode) -> Tensor {
    var dx = [Float](repeating: 0, count: shapeCount(inputShape))
    let xs = contiguousStrides(inputShape)
    let os = contiguousStrides(dy.shape)
    let maps: [[Int]] = (0..<inputShape.count).map { a in (0..<dy.shape[a]).map { padSource($0, before: before[a], dim: inputShape[a], mode: mode) ?? -1 } }
    for o in 0..<dy.count {
        var rem = o, src = 0, ok = true
        for a in 0..<inputShape.count {
            let i = rem / os[a]; rem %= os[a]
            let s = maps[a][i]
            if s < 0 { ok = false; break }
            src += s * xs[a]
        }
        if ok { dx[src] += dy.data[o] }
    }
    return Tensor(shape: inputShape, data: dx)
}

/// Concatenates along `axis`.
///
/// - Parameter storage: gives an array of the result's size to write into (a recycled buffer); nil: a new array.
public func concat(_ parts: [Tensor], axis: Int, storage: ((Int) -> [Float])? = nil) -> Tensor {
    var outShape = parts[0].shape
    outShape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
    let outer = shapeCount(Array(outShape[..<axis]))
    let innerOut = shapeCount(Array(outShape[axis...]))
    let count = shapeCount(outShape)
    var out = storage?(count) ?? [Float](repeating: 0, count: count)
    var off = 0
    for p in parts {
        let inner = shapeCount(Array(p.shape[axis...]))
        p.data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                copyRuns(outer, length: inner, from: src.baseAddress, to: dst.baseAddress, source: { $0 * inner }, destination: { $0 * innerOut + off })
            }
        }
        off += inner
    }
    return Tensor(shape: outShape, data: out)
}

/// Splits along `axis` into pieces of the given sizes (the adjoint of `concat`).
public func split(_ x: Tensor, axis: Int, sizes: [Int]) -> [Tensor] {
    let outer = shapeCount(Array(x.shape[..<axis]))
    let innerX = shapeCount(Array(x.shape[axis...]))
    let rest = shapeCount(Array(x.shape[(axis + 1)...]))
    var off = 0
    return sizes.map { sz in
        var shape = x.shape; shape[axis] = sz
        let inner = sz * rest
        var out = [Float](repeating: 0, count: outer * inner)
        x.data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                copyRuns(outer, length: inner, from: src.baseAddress, to: dst.baseAddress, source: { $0 * innerX + off }, destination: { $0 * inner })
            }
        }
        off += inner
        return Tensor(shape: shape, data: out)
    }
}

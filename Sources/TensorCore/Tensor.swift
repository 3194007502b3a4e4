/// A dense float32 tensor: a shape and contiguous row-major storage (NCHW for images).
///
/// Layout: element `[i0, i1, ..., ik]` sits at `sum(i_j * stride_j)` with `stride_k = 1`.
public struct Tensor: Sendable, Equatable {
    /// Extent of each axis, outermost first.
    public var shape: [Int]
    /// The elements, `shape.reduce(1, *)` of them.
    public var data: [Float]

    /// Wraps existing storage.
    /// - Precondition: `data.count` equals the product of `shape`.
    public init(shape: [Int], data: [Float]) {
        precondition(data.count == shapeCount(shape), "Tensor: \(data.count) values do not fill shape \(shape)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.shape = shape
        self.data = [Float](repeating: value, count: shapeCount(shape))
    }

    /// A scalar (rank-0) tensor.
    public init(scalar: Float) { self.init(shape: [], data: [scalar]) }

    /// Number of elements.
    @inlinable public var count: Int { data.count }
    /// Number of axes.
    @inlinable public var rank: Int { shape.count }

    /// The same storage seen with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, data: data) }
}

/// Product of the extents; 1 for a scalar.
@inlinable public func shapeCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

/// Row-major strides of `shape`.
@inlinable public func contiguousStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
    return s
}

/// A shape mismatch or invalid argument found while validating a kernel call.
public struct ShapeError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, naming the axis and both shapes.
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// NumPy-style broadcast of two shapes.
/// - Throws: `ShapeError` naming the axis and both shapes when they cannot broadcast.
public func broadcastShapes(_ a: [Int], _ b: [Int]) throws -> [Int] {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
        let da = i < r - a.count ? 1 : a[i - (r - a.count)]
        let db = i < r - b.count ? 1 : b[i - (r - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
            throw ShapeError("shapes \(a) and \(b) do not broadcast at axis \(i) (\(da) vs \(db))")
        }
    }
    return out
}

/// Strides for reading a tensor of `shape` as if it had the (broadcast) `outShape`: 0 on broadcast axes.
public func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
    let s = contiguousStrides(shape)
    let off = outShape.count - shape.count
    var out = [Int](repeating: 0, count: outShape.count)
    for i in 0..<shape.count where shape[i] != 1 { out[i + off] = s[i] }
    return out
}

import TensorCore

/// Scale and zero point of a linear quantisation, per tensor or along one axis, and the integer type's range.
public struct Quantization: Sendable, Equatable {
    /// One value per tensor, or one per index of `axis`.
    public var scales: [Float]
    public var zeroPoints: [Int]
    /// The axis of per-axis quantisation (normalised at run time; ignored when there is one scale).
    public var axis: Int
    /// The integer type's range: 0...255 for uint8, -128...127 for int8, the int32 range for biases.
    public var low: Int, high: Int
    public init(scales: [Float], zeroPoints: [Int], axis: Int, low: Int, high: Int) {
        self.scales = scales; self.zeroPoints = zeroPoints; self.axis = axis; self.low = low; self.high = high
    }

    /// Calls `body` for each run of `shape`'s flat values that shares one scale and zero point.
    func forEachRun(_ shape: [Int], _ body: (Range<Int>, _ scale: Float, _ zeroPoint: Float) -> Void) {
        var outer = 1, count = 1, inner = shapeCount(shape)
        if scales.count > 1 {
            let a = axis < 0 ? axis + shape.count : axis
            (outer, count, inner) = (shapeCount(Array(shape[..<a])), shape[a], shapeCount(Array(shape[(a + 1)...])))
        }
        for o in 0..<outer { for c in 0..<count {
            let base = (o * count + c) * inner
            body(base..<(base + inner), scales[scales.count > 1 ? c : 0], Float(zeroPoints[zeroPoints.count > 1 ? c : 0]))
        } }
    }

    /// QuantizeLinear (round half to even, saturate) or DequantizeLinear of `x` into a new array.
    func apply(_ x: [Float], shape: [Int], quantize: Bool) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        let lo = Float(low), hi = Float(high)
        forEachRun(shape) { run, s, z in
            if quantize { for i in run { y[i] = min(max((x[i] / s).rounded(.toNearestOrEven) + z, lo), hi) } }
            else { for i in run { y[i] = (x[i] - z) * s } }
        }
        return y
    }

    /// Gradient of quantise or dequantise: straight through the rounding; for quantise, as PyTorch's fake
    /// quantisation, only where the unsaturated integer is in range.
    func backward(x: [Float], dy: [Float], shape: [Int], quantize: Bool) -> [Float] {
        var dx = [Float](repeating: 0, count: x.count)
        let lo = Float(low), hi = Float(high)
        forEachRun(shape) { run, s, z in
            if quantize {
                for i in run {
                    let q = (x[i] / s).rounded(.toNearestOrEven) + z
                    if q >= lo && q <= hi { dx[i] = dy[i] / s }
                }
            } else {
                for i in run { dx[i] = dy[i] * s }
            }
        }
        return dx
    }
}

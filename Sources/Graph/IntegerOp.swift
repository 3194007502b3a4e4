import TensorCore

/// An op run with onnxruntime's integer kernels, made by `Graph.integerQDQ` from a float op that reads
/// DequantizeLinear outputs and whose only reader is a QuantizeLinear (the patterns onnxruntime's QDQ
/// transformer fuses). It reads the dequantised activations (so the DequantizeLinear outputs stay observable for
/// captures and gradients), recovers their integers exactly, and writes the QuantizeLinear's integers.
public enum IntegerOp: Sendable, Equatable {
    /// QLinearConv. Inputs: x `[N,C,H,W]` (dequantised by `input`), the weight integers less their zero point
    /// `[M,C/groups,kh,kw]` (dequantised by `weightScales`, one or one per output channel), optional int32 bias `[M]`.
    case conv(window: Window2D, groups: Int, input: Quantization, weightScales: [Float], output: Quantization)
    /// QLinearAdd of two equally shaped inputs, each dequantised by its own quantisation.
    case add(a: Quantization, b: Quantization, output: Quantization)
    /// QLinearGlobalAveragePool of x `[N,C,H,W]`.
    case globalAveragePool(input: Quantization, output: Quantization)
    /// QGemm: A `[M,K]` (dequantised by `input`) times the weight integers less their zero point, `[K,N]` or
    /// `[N,K]` when `transB`, plus an optional int32 bias `[N]`.
    case gemm(transB: Bool, input: Quantization, weightScales: [Float], output: Quantization)

    /// onnxruntime's name of the fused op.
    public var name: String {
        switch self {
        case .conv: return "QLinearConv"
        case .add: return "QLinearAdd"
        case .globalAveragePool: return "QLinearGlobalAveragePool"
        case .gemm: return "QGemm"
        }
    }

    /// The float op it replaces (for shapes and straight-through gradients).
    var floatOp: Op {
        switch self {
        case let .conv(wd, groups, _, _, _): return .conv(window: wd, groups: groups, activation: .identity)
        case .add: return .binary(.add)
        case .globalAveragePool: return .globalPool(max: false)
        case let .gemm(tb, _, _, _): return .gemm(alpha: 1, beta: 1, transA: false, transB: tb)
        }
    }

    func outputShapes(_ s: [[Int]], batch: Int, node: String) throws -> [[Int]] {
        if case .add = self, s.count == 2, s[0] != s[1] {
            throw GraphError.shapeMismatch(node: node, op: name, detail: "inputs \(s[0]) and \(s[1]) must have the same shape")
        }
        return try floatOp.outputShapes(s, batch: batch, node: node)
    }

    /// Int32 accumulators of a convolution or matrix product (before requantisation).
    func accumulators(_ x: [Tensor], outShape: [Int]) -> [Int32] {
        var acc = [Int32](repeating: 0, count: shapeCount(outShape))
        let bias: [Int32]? = x.count > 2 ? x[2].data.map { Int32($0) } : nil
        let w = x[1].data
        switch self {
        case let .conv(wd, groups, q, _, _):
            let xs = x[0].shape
            let cs = ConvShape(batch: xs[0], inC: xs[1], inH: xs[2], inW: xs[3], outC: x[1].shape[0], groups: groups, window: wd)
            let xc = q.centredIntegers(x[0].data)
            xc.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in acc.withUnsafeMutableBufferPointer { ap in
                guard ap.count > 0 else { return }
                if let bias { bias.withUnsafeBufferPointer { integerConv2d(xp.baseAddress!, weight: wp.baseAddress!, bias: $0.baseAddress!, shape: cs, acc: ap.baseAddress!) } }
                else { integerConv2d(xp.baseAddress!, weight: wp.baseAddress!, bias: nil, shape: cs, acc: ap.baseAddress!) }
            } } }
        case let .gemm(tb, q, _, _):
            let m = outShape[0], n = outShape[1], k = x[0].shape[1]
            let ac = q.centredIntegers(x[0].data)
            ac.withUnsafeBufferPointer { ap in w.withUnsafeBufferPointer { wp in acc.withUnsafeMutableBufferPointer { cp in
                guard cp.count > 0 else { return }
                if let bias { bias.withUnsafeBufferPointer { integerGemm(m: m, n: n, k: k, a: ap.baseAddress!, b: wp.baseAddress!, transB: tb, bias: $0.baseAddress!, acc: cp.baseAddress!) } }
                else { integerGemm(m: m, n: n, k: k, a: ap.baseAddress!, b: wp.baseAddress!, transB: tb, bias: nil, acc: cp.baseAddress!) }
            } } }
        default: break
        }
        return acc
    }

    /// The channel of flat output index `i` (axis 1 of a convolution's output, the last axis of a matrix product's).
    func channel(of i: Int, outShape o: [Int]) -> Int {
        switch self {
        case .conv: return (i / (o[2] * o[3])) % o[1]
        case .gemm: return i % o[1]
        default: return 0
        }
    }

    func evaluate(_ x: [Tensor], outShapes: [[Int]]) -> [Tensor] {
        let o = outShapes[0]
        var y = [Float](repeating: 0, count: shapeCount(o))
        switch self {
        case let .conv(_, _, qx, sw, qy), let .gemm(_, qx, sw, qy):
            let r = qy.productRequantization(input: qx, weightScales: sw)
            let acc = accumulators(x, outShape: o)
            for i in 0..<acc.count { y[i] = r.apply(acc[i], scale: r.scale(channel: channel(of: i, outShape: o))) }
        case let .add(qa, qb, qc):
            let a = qa.integers(x[0].data), b = qb.integers(x[1].data)
            qlinearAdd(a, b, count: y.count, qc.addParameters(qa, qb), y: &y)
        case let .globalAveragePool(qx, qy):
            let s = x[0].shape, area = s[2] * s[3]
            let xi = qx.integers(x[0].data)
            qlinearGlobalAveragePool(xi, planes: s[0] * s[1], area: area, inputZeroPoint: qx.zeroPoints[0],
                                     requant: qy.poolRequantization(qx, area: area), y: &y)
        }
        return [Tensor(shape: o, data: y)]
    }

    /// Straight-through gradient: the float op's VJP on the dequantised values, after the output quantiser's
    /// (1/scale where the unclamped integer is in range, 0 where it saturates). Only the activation inputs get one.
    func vjp(x: [Tensor], dy: Tensor, wanted: [Bool], node: String, ws: Workspace) throws -> [Tensor?] {
        let o = dy.shape
        var dpre = dy.data
        switch self {
        case let .conv(_, _, qx, sw, qy), let .gemm(_, qx, sw, qy):
            if wanted.count > 1 && wanted.dropFirst().contains(true) { throw GraphError.noGradient(node: node, op: name) }
            let r = qy.productRequantization(input: qx, weightScales: sw)
            let acc = accumulators(x, outShape: o)
            for i in 0..<dpre.count {
                let c = channel(of: i, outShape: o)
                dpre[i] = r.inRange(acc[i], scale: r.scale(channel: c)) ? dpre[i] / qy.scales[0] : 0
            }
            // Dequantised weights: per output channel (axis 0 of a convolution's or a transposed B's, axis 1 of B).
            var wf = x[1]
            let perAxis0: Bool
            if case let .gemm(tb, _, _, _) = self { perAxis0 = tb } else { perAxis0 = true }
            let outer = perAxis0 ? wf.shape[0] : 1, inner = wf.count / (perAxis0 ? wf.shape[0] : 1)
            for a in 0..<outer { for j in 0..<inner {
                let i = a * inner + j
                let c = perAxis0 ? a : j % wf.shape[1]
                wf.data[i] *= sw.count == 1 ? sw[0] : sw[c]
            } }
            let g = try floatOp.vjp(x: [x[0], wf], y: [Tensor(shape: o)], dy: [Tensor(shape: o, data: dpre)],
                                    wanted: [wanted[0], false], node: node, ws: ws)
            return [g[0], nil] + (x.count > 2 ? [nil] : [])
        case let .add(qa, qb, qc):
            let p = qc.addParameters(qa, qb)
            let a = qa.integers(x[0].data), b = qb.integers(x[1].data)
            for i in 0..<dpre.count {
                let u = p.unclamped(a[i], b[i])
                dpre[i] = (u >= p.low && u <= p.high) ? dpre[i] / qc.scales[0] : 0
            }
            let g = Tensor(shape: o, data: dpre)
            return [wanted[0] ? g : nil, wanted[1] ? g : nil]
        case let .globalAveragePool(qx, qy):
            let s = x[0].shape, area = s[2] * s[3]
            let r = qy.poolRequantization(qx, area: area)
            let xi = qx.integers(x[0].data)
            for p in 0..<dpre.count {
                var sum: Int32 = 0
                for i in 0..<area { sum &+= Int32(xi[p * area + i]) }
                dpre[p] = r.inRange(sum &- Int32(qx.zeroPoints[0] * area), scale: r.scales[0]) ? dpre[p] / qy.scales[0] : 0
            }
            return try floatOp.vjp(x: x, y: [Tensor(shape: o)], dy: [Tensor(shape: o, data: dpre)], wanted: wanted, node: node, ws: ws)
        }
    }
}

extension Quantization {
    /// The integers of dequantised values (round(x / scale) + zero point; exact for values DequantizeLinear made),
    /// per tensor.
    func integers(_ x: [Float]) -> [Float] {
        let s = scales[0], z = Float(zeroPoints[0])
        return x.map { ($0 / s).rounded(.toNearestOrEven) + z }
    }
    /// The integers less the zero point.
    func centredIntegers(_ x: [Float]) -> [Float] {
        let s = scales[0]
        return x.map { ($0 / s).rounded(.toNearestOrEven) }
    }
    /// QLinearConv's and QGemm's requantisation with `self` as the output's quantisation: one multiplier per weight
    /// scale, (scaleX * scaleW) / scaleY in float, in onnxruntime's order.
    func productRequantization(input: Quantization, weightScales: [Float]) -> Requantization {
        Requantization(scales: weightScales.map { input.scales[0] * $0 / scales[0] }, zeroPoint: zeroPoints[0], low: low, high: high)
    }
    /// QLinearAdd's parameters with `self` as the output's quantisation.
    func addParameters(_ a: Quantization, _ b: Quantization) -> QLinearAddParameters {
        QLinearAddParameters(scaleA: a.scales[0], zeroA: a.zeroPoints[0], scaleB: b.scales[0], zeroB: b.zeroPoints[0],
                             scaleC: scales[0], zeroC: zeroPoints[0], low: low, high: high)
    }
    /// QLinearGlobalAveragePool's requantisation with `self` as the output's quantisation.
    func poolRequantization(_ input: Quantization, area: Int) -> Requantization {
        Requantization(scales: [input.scales[0] / (scales[0] * Float(area))], zeroPoint: zeroPoints[0], low: low, high: high)
    }
}

import COpenBLAS

// The integer kernels onnxruntime runs for a QDQ model with its graph optimisations on (QLinearConv, QGemm,
// QLinearAdd, QLinearGlobalAveragePool), reproduced to the bit: int32 accumulation of (x - zx)(w - zw) plus
// the int32 bias, then MLAS's requantisation. 8-bit values are carried as exact floats, as QuantizeLinear's are.
//
// Accumulators are exact. When every partial sum is bounded below 2^24 (max |x| times the largest sum of |w| over
// an output's weights), float32 represents all of them, so the float convolution and GEMM kernels give the integer
// result whatever their summation order or fused multiply-adds: that is the common case (3x3x256 and 1x1 layers with
// real weights). Otherwise products (below 2^16) and sums of fewer than 2^37 of them stay below 2^53, so float64
// GEMMs (cblas_dgemm) are exact. The accumulators then wrap to int32 as MLAS's do (a model that overflows int32 is
// broken in onnxruntime too).

/// How an int32 accumulator becomes an 8-bit value in onnxruntime's integer kernels (MLAS
/// `MlasRequantizeOutput`, the QLinearConv and QGemm output processors, QLinearGlobalAveragePool): converted to
/// float (`cvtdq2ps`: to nearest even above 2^24), times the float scale, clamped to the output type's range
/// less the zero point, rounded half to even (`cvtps2dq`) and shifted by the zero point.
public struct Requantization: Sendable, Equatable, Hashable {
    /// One scale, or one per output channel.
    public var scales: [Float]
    public var zeroPoint: Int
    /// The output type's range: 0...255 (uint8) or -128...127 (int8).
    public var low: Int, high: Int
    public init(scales: [Float], zeroPoint: Int, low: Int, high: Int) {
        self.scales = scales; self.zeroPoint = zeroPoint; self.low = low; self.high = high
    }
    @inlinable public func scale(channel: Int) -> Float { scales.count == 1 ? scales[0] : scales[channel] }

    /// The 8-bit value of accumulator `acc` at `scale`.
    @inlinable public func apply(_ acc: Int32, scale: Float) -> Float {
        let z = Float(zeroPoint)
        let v = min(max(Float(acc) * scale, Float(low) - z), Float(high) - z)
        return v.rounded(.toNearestOrEven) + z
    }

    /// True when the accumulator's value lies in the output range before clamping (where a straight-through
    /// gradient passes, as PyTorch's fake quantisation lets it).
    @inlinable public func inRange(_ acc: Int32, scale: Float) -> Bool {
        let q = (Float(acc) * scale).rounded(.toNearestOrEven) + Float(zeroPoint)
        return q >= Float(low) && q <= Float(high)
    }
}

/// Wraps an exact integer held in a Double to int32 (two's complement, as int32 accumulation wraps).
@inlinable func wrapToInt32(_ v: Double) -> Int32 { Int32(truncatingIfNeeded: Int64(v)) }

/// Int32 accumulators of a quantised 2-D convolution (the integer part of QLinearConv).
///
/// acc[n,m,oy,ox] = bias[m] + sum over (c, ky, kx) in m's group of x[n,c,iy,ix] * w[m,c,ky,kx], where padding
/// reads 0: `x` holds the input integers less the input zero point (padding is the zero point in onnxruntime)
/// and `weight` the weight integers less their zero point.
/// - Parameters:
///   - x: `[N, C, H, W]` centred integers as exact floats.
///   - weight: `[M, C/groups, kh, kw]` centred integers as exact floats.
///   - bias: `[M]` int32, or nil.
///   - acc: `[N, M, outH, outW]`, written completely.
/// - Complexity: `shape.macs` multiply-adds: in float32 by `conv2d` when the partial sums are provably below 2^24,
///   else in float64 GEMMs split over `computeThreads`.
public func integerConv2d(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Int32>?,
                          shape s: ConvShape, acc: UnsafeMutablePointer<Int32>) {
    let plane = s.outH * s.outW, inPlane = s.inH * s.inW, kArea = s.window.kernelH * s.window.kernelW
    let xCount = s.batch * s.inC * inPlane, count = s.batch * s.outC * plane
    var maxX: Float = 0
    for i in 0..<xCount { maxX = max(maxX, abs(x[i])) }
    let parts = s.groups == 1 ? exactChannelParts(weight, outC: s.outC, inC: s.inC, kArea: kArea, maxX: maxX) : (exactInFloat(maxX, weight, rows: s.outC, rowLength: s.colRows) ? [0..<s.inC] : nil)
    guard let parts else {
        integerConv2dFloat64(x, weight: weight, bias: bias, shape: s, acc: acc)
        return
    }
    for i in 0..<count { acc[i] = bias?[(i / plane) % s.outC] ?? 0 }
    var y = [Float](repeating: 0, count: count)
    for part in parts {
        // The convolution over this slice of input channels, in float32: every partial sum is an exact integer.
        var ps = s
        ps.inC = part.count
        var xs: [Float] = [], ws: [Float] = []
        if parts.count > 1 {
            xs = [Float](repeating: 0, count: s.batch * part.count * inPlane)
            for n in 0..<s.batch { for (j, c) in part.enumerated() {
                (xs.withUnsafeMutableBufferPointer { $0.baseAddress! } + (n * part.count + j) * inPlane).update(from: x + (n * s.inC + c) * inPlane, count: inPlane)
            } }
            ws = [Float](repeating: 0, count: s.outC * part.count * kArea)
            for m in 0..<s.outC {
                (ws.withUnsafeMutableBufferPointer { $0.baseAddress! } + m * part.count * kArea).update(from: weight + (m * s.inC + part.lowerBound) * kArea, count: part.count * kArea)
            }
        }
        var scratch = [Float](repeating: 0, count: max(1, ps.scratchCount))
        y.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer { sp in
            if parts.count > 1 {
                xs.withUnsafeBufferPointer { xp in ws.withUnsafeBufferPointer { wp in
                    conv2d(xp.baseAddress!, weight: wp.baseAddress!, bias: nil, shape: ps, activation: .identity, y: yp.baseAddress!, scratch: sp.baseAddress!)
                } }
            } else {
                conv2d(x, weight: weight, bias: nil, shape: ps, activation: .identity, y: yp.baseAddress!, scratch: sp.baseAddress!)
            }
        } }
        for i in 0..<count { acc[i] &+= Int32(y[i]) }
    }
}

/// Slices of the input channels over which every output's partial sums are exact in float32 (max |x| times the
/// largest sum of |w| over a slice below 2^24), as few as possible; nil when one channel alone is too much.
/// - Parameter weight: `[outC, inC, kArea]`.
func exactChannelParts(_ weight: UnsafePointer<Float>, outC: Int, inC: Int, kArea: Int, maxX: Float) -> [Range<Int>]? {
    var parts = 1
    while parts <= inC {
        let ranges = (0..<parts).map { p in (inC * p / parts)..<(inC * (p + 1) / parts) }
        var fits = true
        outer: for r in ranges {
            for m in 0..<outC {
                var sum: Float = 0
                for k in (r.lowerBound * kArea)..<(r.upperBound * kArea) { sum += abs(weight[m * inC * kArea + k]) }
                if Double(sum) * Double(maxX) >= 16_777_216 { fits = false; break outer }
            }
        }
        if fits { return ranges }
        parts *= 2
    }
    return nil
}

/// True when float32 holds every partial sum of the products of values up to `maxX` in magnitude with any row of
/// `weight` exactly: `maxX` times the largest row sum of |w| is below 2^24.
/// - Parameter weight: `[rows, rowLength]`.
func exactInFloat(_ maxX: Float, _ weight: UnsafePointer<Float>, rows: Int, rowLength: Int) -> Bool {
    var maxRow: Float = 0
    for r in 0..<rows {
        var sum: Float = 0
        for k in 0..<rowLength { sum += abs(weight[r * rowLength + k]) }
        maxRow = max(maxRow, sum)
    }
    return Double(maxX) * Double(maxRow) < 16_777_216
}

/// `integerConv2d` in float64 GEMMs (exact for any 8-bit operands).
func integerConv2dFloat64(_ x: UnsafePointer<Float>, weight wf: UnsafePointer<Float>, bias: UnsafePointer<Int32>?,
                          shape s: ConvShape, acc: UnsafeMutablePointer<Int32>) {
    let wd = s.window, plane = s.outH * s.outW, inPlane = s.inH * s.inW
    let kArea = wd.kernelH * wd.kernelW
    let wDouble = (0..<(s.outC * s.colRows)).map { Double(wf[$0]) }
    // im2col into float64 columns, one GEMM per image and group: out[Mg, P] = W_g[Mg, K] · col[K, P].
    let k = s.colRows, mg = s.outCPerGroup
    var col = [Double](repeating: 0, count: k * plane)
    var out = [Double](repeating: 0, count: mg * plane)
    wDouble.withUnsafeBufferPointer { wBuf in
    let weight = wBuf.baseAddress!
    col.withUnsafeMutableBufferPointer { colBuf in
        out.withUnsafeMutableBufferPointer { outBuf in
            let cp = colBuf.baseAddress!, op = outBuf.baseAddress!
            for n in 0..<s.batch {
                for g in 0..<s.groups {
                    let xg = x + (n * s.inC + g * s.inCPerGroup) * inPlane
                    parallelChunks(k, minItemsPerChunk: 4) { rows in
                        for row in rows {
                            let c = row / kArea, ky = (row % kArea) / wd.kernelW, kx = row % wd.kernelW
                            let xp = xg + c * inPlane, dst = cp + row * plane
                            for oy in 0..<s.outH {
                                let iy = oy * wd.strideH - wd.padTop + ky * wd.dilationH
                                for ox in 0..<s.outW {
                                    let ix = ox * wd.strideW - wd.padLeft + kx * wd.dilationW
                                    dst[oy * s.outW + ox] = (iy < 0 || iy >= s.inH || ix < 0 || ix >= s.inW) ? 0 : Double(xp[iy * s.inW + ix])
                                }
                            }
                        }
                    }
                    let wg = weight + g * mg * k
                    let panels = (plane + 63) / 64
                    parallelChunks(panels) { r in
                        let j0 = r.lowerBound * 64, j1 = min(plane, r.upperBound * 64)
                        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(mg), Int32(j1 - j0), Int32(k),
                                    1, wg, Int32(k), cp + j0, Int32(plane), 0, op + j0, Int32(plane))
                    }
                    for mi in 0..<mg {
                        let m = g * mg + mi, b = bias?[m] ?? 0
                        let yp = acc + (n * s.outC + m) * plane, src = op + mi * plane
                        for j in 0..<plane { yp[j] = wrapToInt32(src[j]) &+ b }
                    }
                }
            }
        }
    }
    }
}

/// Naive twin of `integerConv2d`: seven loops in int32 arithmetic (wrapping), the reference tests compare against.
/// - Parameters: as `integerConv2d`, with integer arrays; returns `[N, M, outH, outW]`.
public func integerConv2dNaive(x: [Int32], weight: [Int32], bias: [Int32]?, shape s: ConvShape) -> [Int32] {
    let wd = s.window
    var y = [Int32](repeating: 0, count: s.batch * s.outC * s.outH * s.outW)
    for n in 0..<s.batch { for m in 0..<s.outC {
        let g = m / s.outCPerGroup
        for oy in 0..<s.outH { for ox in 0..<s.outW {
            var sum: Int32 = bias?[m] ?? 0
            for c in 0..<s.inCPerGroup { for ky in 0..<wd.kernelH { for kx in 0..<wd.kernelW {
                let iy = oy * wd.strideH - wd.padTop + ky * wd.dilationH, ix = ox * wd.strideW - wd.padLeft + kx * wd.dilationW
                guard iy >= 0, iy < s.inH, ix >= 0, ix < s.inW else { continue }
                let xv = x[((n * s.inC + g * s.inCPerGroup + c) * s.inH + iy) * s.inW + ix]
                let wv = weight[((m * s.inCPerGroup + c) * wd.kernelH + ky) * wd.kernelW + kx]
                sum &+= xv &* wv
            } } }
            y[((n * s.outC + m) * s.outH + oy) * s.outW + ox] = sum
        } }
    } }
    return y
}

/// Int32 accumulators of a quantised matrix product (the integer part of QGemm / QLinearMatMul):
/// acc[i,j] = bias[j] + sum over p of a[i,p] * b[p,j] (b[j,p] when `transB`), both centred on their zero points.
/// - Parameters:
///   - a: `[M, K]` centred integers as exact floats.
///   - b: `[K, N]`, or `[N, K]` when `transB`, centred integers as exact floats.
///   - bias: `[N]` int32, or nil.
///   - acc: `[M, N]`, written completely.
/// - Complexity: M·N·K multiply-adds in one float32 GEMM when its partial sums are provably exact, else float64.
public func integerGemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, transB: Bool,
                        bias: UnsafePointer<Int32>?, acc: UnsafeMutablePointer<Int32>) {
    // Row sums of |b| along K, per output column: transposing B's bound is the same bound over its columns.
    var maxA: Float = 0
    for i in 0..<(m * k) { maxA = max(maxA, abs(a[i])) }
    var maxCol: Float = 0
    for j in 0..<n {
        var sum: Float = 0
        for p in 0..<k { sum += abs(b[transB ? j * k + p : p * n + j]) }
        maxCol = max(maxCol, sum)
    }
    var out = [Double](repeating: 0, count: m * n)
    if Double(maxA) * Double(maxCol) < 16_777_216 {
        var y = [Float](repeating: 0, count: m * n)
        y.withUnsafeMutableBufferPointer { gemm(transB: transB, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: transB ? k : n, c: $0.baseAddress!, ldc: n) }
        for i in 0..<(m * n) { out[i] = Double(y[i]) }
    } else {
        let ad = (0..<(m * k)).map { Double(a[$0]) }, bd = (0..<(k * n)).map { Double(b[$0]) }
        ad.withUnsafeBufferPointer { ap in bd.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
            cblas_dgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k),
                        1, ap.baseAddress!, Int32(k), bp.baseAddress!, Int32(transB ? k : n), 0, op.baseAddress!, Int32(n))
        } } }
    }
    for i in 0..<m { for j in 0..<n { acc[i * n + j] = wrapToInt32(out[i * n + j]) &+ (bias?[j] ?? 0) } }
}

/// Naive twin of `integerGemm` in int32 arithmetic (wrapping); returns `[M, N]`.
public func integerGemmNaive(m: Int, n: Int, k: Int, a: [Int32], b: [Int32], transB: Bool, bias: [Int32]?) -> [Int32] {
    var y = [Int32](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n {
        var sum: Int32 = bias?[j] ?? 0
        for p in 0..<k { sum &+= a[i * k + p] &* b[transB ? j * k + p : p * n + j] }
        y[i * n + j] = sum
    } }
    return y
}

/// onnxruntime's QLinearAdd as MLAS runs it on x86 (`MlasQLinearAddKernelAvx2Helper`, used wherever AVX2 is):
/// with rA = scaleA / scaleC and rB = scaleB / scaleC in float and fixed = zC - (rA·zA + rB·zB),
/// c = saturate(roundHalfEven(fma(a, rA, fma(b, rB, fixed)))), a and b being the raw 8-bit values.
public struct QLinearAddParameters: Sendable, Equatable, Hashable {
    public var ratioA: Float, ratioB: Float, fixed: Float
    public var low: Float, high: Float
    /// - Parameters: the two inputs' and the output's scale and zero point, and the output type's range.
    public init(scaleA: Float, zeroA: Int, scaleB: Float, zeroB: Int, scaleC: Float, zeroC: Int, low: Int, high: Int) {
        ratioA = scaleA / scaleC; ratioB = scaleB / scaleC
        let za = ratioA * Float(zeroA), zb = ratioB * Float(zeroB)
        fixed = Float(zeroC) - (za + zb)
        self.low = Float(low); self.high = Float(high)
    }
    /// The pre-saturation value of one output (rounded, not yet clamped).
    @inlinable public func unclamped(_ a: Float, _ b: Float) -> Float {
        a.multipliedAdding(ratioA, b.multipliedAdding(ratioB, fixed)).rounded(.toNearestOrEven)
    }
}

extension Float {
    /// self * m + c with one rounding (a fused multiply-add).
    @inlinable func multipliedAdding(_ m: Float, _ c: Float) -> Float { c.addingProduct(self, m) }
}

/// QLinearAdd of two equally shaped 8-bit tensors (raw values as exact floats) into `y`.
/// - Parameters: `a`, `b`, `y`: `count` values each.
public func qlinearAdd(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, _ p: QLinearAddParameters,
                       y: UnsafeMutablePointer<Float>) {
    for i in 0..<count { y[i] = min(max(p.unclamped(a[i], b[i]), p.low), p.high) }
}

/// onnxruntime's QLinearGlobalAveragePool (MLAS `MlasQLinearGlobalAveragePoolNchw` on x86): per plane the int32
/// sum of the raw 8-bit values less zx·area, requantised at scale = scaleX / (scaleY · area).
/// - Parameters:
///   - x: `[planes, area]` raw 8-bit values as exact floats.
///   - requant: the output's requantisation; its one scale must be `scaleX / (scaleY * Float(area))`.
///   - y: `[planes]`.
public func qlinearGlobalAveragePool(_ x: UnsafePointer<Float>, planes: Int, area: Int, inputZeroPoint: Int,
                                     requant: Requantization, y: UnsafeMutablePointer<Float>) {
    let bias = Int32(truncatingIfNeeded: -inputZeroPoint * area), scale = requant.scales[0]
    for p in 0..<planes {
        var sum: Int32 = 0
        let xp = x + p * area
        for i in 0..<area { sum &+= Int32(xp[i]) }
        y[p] = requant.apply(sum &+ bias, scale: scale)
    }
}

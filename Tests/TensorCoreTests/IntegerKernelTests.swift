import Testing
import TensorCore
import TestSupport

/// A quantised convolution's shape for the integer kernel tests.
struct IntegerConvCase: CustomTestStringConvertible, Sendable {
    var inC: Int, outC: Int, hw: Int, k: Int, groups: Int, stride: Int, pad: Int, dilation: Int
    /// Largest |centred value| of inputs and weights.
    var xSpread: Int32, wSpread: Int32
    /// Non-negative values only (sums that do not cancel: accumulators beyond 2^24).
    var positive = false
    var testDescription: String {
        "\(inC)->\(outC) \(hw)x\(hw) k\(k) g\(groups) s\(stride) p\(pad) d\(dilation) |x|<=\(xSpread) |w|<=\(wSpread)\(positive ? " non-negative" : "")"
    }
    var shape: ConvShape {
        ConvShape(batch: 2, inC: inC, inH: hw, inW: hw, outC: outC, groups: groups,
                  window: Window2D(kernelH: k, kernelW: k, strideH: stride, strideW: stride, dilationH: dilation, dilationW: dilation,
                                   padTop: pad, padLeft: pad, padBottom: pad, padRight: pad))
    }
}

let integerConvCases: [IntegerConvCase] = [
    IntegerConvCase(inC: 3, outC: 8, hw: 9, k: 3, groups: 1, stride: 2, pad: 1, dilation: 1, xSpread: 128, wSpread: 127),
    IntegerConvCase(inC: 16, outC: 8, hw: 5, k: 1, groups: 1, stride: 1, pad: 0, dilation: 1, xSpread: 255, wSpread: 127),
    IntegerConvCase(inC: 8, outC: 16, hw: 8, k: 3, groups: 8, stride: 1, pad: 1, dilation: 1, xSpread: 128, wSpread: 127),
    IntegerConvCase(inC: 8, outC: 12, hw: 11, k: 3, groups: 2, stride: 1, pad: 2, dilation: 2, xSpread: 128, wSpread: 127),
    // K = 4608 non-negative products of up to 255 x 127: sums of about 3.7e7, past float32's exact integers (2^24).
    // Run as eight float32 convolutions over slices of 64 input channels, each exact.
    IntegerConvCase(inC: 512, outC: 4, hw: 3, k: 3, groups: 1, stride: 1, pad: 1, dilation: 1, xSpread: 255, wSpread: 127, positive: true),
    // Grouped: float64 GEMMs.
    IntegerConvCase(inC: 512, outC: 4, hw: 3, k: 3, groups: 2, stride: 1, pad: 1, dilation: 1, xSpread: 255, wSpread: 127, positive: true),
]

@Suite("Integer kernels")
struct IntegerKernelTests {
    /// `integerConv2d` (float64 GEMMs, direct loops for depthwise) equals the int32 loops exactly.
    @Test(arguments: integerConvCases)
    func convolutionMatchesNaive(_ c: IntegerConvCase) {
        let s = c.shape
        var rng = SeededRandom(seed: 11)
        func ints(_ n: Int, _ spread: Int32) -> [Int32] {
            (0..<n).map { _ in c.positive ? Int32(rng.next() % UInt64(spread + 1)) : Int32(rng.next() % UInt64(2 * spread + 1)) - spread }
        }
        let x = ints(s.batch * s.inC * s.inH * s.inW, c.xSpread)
        let w = ints(s.outC * s.inCPerGroup * c.k * c.k, c.wSpread)
        let bias = ints(s.outC, 30_000)
        let expected = integerConv2dNaive(x: x, weight: w, bias: bias, shape: s)
        var acc = [Int32](repeating: 0, count: expected.count)
        let xf = x.map(Float.init), wd = w.map(Float.init)
        xf.withUnsafeBufferPointer { xp in wd.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
            acc.withUnsafeMutableBufferPointer { integerConv2d(xp.baseAddress!, weight: wp.baseAddress!, bias: bp.baseAddress!, shape: s, acc: $0.baseAddress!) }
        } } }
        let worst = zip(acc, expected).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(worst == nil, "first difference at \(worst?.offset ?? -1): got \(worst?.element.0 ?? 0), expected \(worst?.element.1 ?? 0)")
        if c.positive { #expect(expected.contains { abs($0) > 1 << 24 }) }
    }

    /// `integerGemm` equals the int32 loops exactly, B plain and transposed, with sums small enough for float32
    /// (K = 64) and not (K = 2048: float64).
    @Test(arguments: [false, true], [64, 2048])
    func gemmMatchesNaive(transB: Bool, k: Int) {
        let m = 3, n = 17
        var rng = SeededRandom(seed: 5)
        func ints(_ count: Int, _ spread: Int32) -> [Int32] { (0..<count).map { _ in Int32(rng.next() % UInt64(2 * spread + 1)) - spread } }
        let a = ints(m * k, 255), b = ints(k * n, 127), bias = ints(n, 100_000)
        let expected = integerGemmNaive(m: m, n: n, k: k, a: a, b: b, transB: transB, bias: bias)
        var acc = [Int32](repeating: 0, count: m * n)
        let af = a.map(Float.init), bd = b.map(Float.init)
        af.withUnsafeBufferPointer { ap in bd.withUnsafeBufferPointer { bp in bias.withUnsafeBufferPointer { cp in
            acc.withUnsafeMutableBufferPointer { integerGemm(m: m, n: n, k: k, a: ap.baseAddress!, b: bp.baseAddress!, transB: transB, bias: cp.baseAddress!, acc: $0.baseAddress!) }
        } } }
        #expect(acc == expected)
    }

    /// Requantisation converts the accumulator to float first (rounding above 2^24), clamps, then rounds half to even.
    @Test func requantisation() {
        let r = Requantization(scales: [0.5], zeroPoint: 10, low: 0, high: 255)
        #expect(r.apply(3, scale: 0.5) == 12)      // 1.5 -> 2 (even)
        #expect(r.apply(5, scale: 0.5) == 12)      // 2.5 -> 2 (even)
        #expect(r.apply(-100, scale: 0.5) == 0)    // clamped at the low end
        #expect(r.apply(1000, scale: 0.5) == 255)  // and at the high end
        // 2^24 + 1 is not a float: it becomes 2^24 before the multiplication, as cvtdq2ps makes it, so at scale
        // 2^-25 the value is the tie 0.5 (rounded to 0) where exact arithmetic gives 0.50000003 (rounded to 1).
        let scale = Float(1) / Float(1 << 25)
        let big = Requantization(scales: [scale], zeroPoint: 0, low: 0, high: 255)
        #expect(big.apply(16_777_217, scale: scale) == 0)
        #expect(r.inRange(3, scale: 0.5) && !r.inRange(1000, scale: 0.5))
    }
}

import Testing
import TensorCore
import TestSupport

struct ConvCase: CustomTestStringConvertible, Sendable {
    var label: String
    var batch = 1, inC: Int, h: Int, w: Int, outC: Int, groups = 1
    var window: Window2D
    var activation: Activation = .identity
    var bias = true
    /// The blocked kernel to run instead of the one `BlockedConvKind.choose` picks (Winograd on maps it would leave to
    /// the direct kernel, to reach its edge cases).
    var kind: BlockedConvKind? = nil
    var testDescription: String { label }

    var shape: ConvShape { ConvShape(batch: batch, inC: inC, inH: h, inW: w, outC: outC, groups: groups, window: window) }
}

let convCases: [ConvCase] = [
    ConvCase(label: "1x1 pointwise", inC: 5, h: 7, w: 9, outC: 6, window: Window2D(kernelH: 1, kernelW: 1)),
    ConvCase(label: "1x1 pointwise no bias batch 2", batch: 2, inC: 3, h: 4, w: 5, outC: 8, window: Window2D(kernelH: 1, kernelW: 1), bias: false),
    ConvCase(label: "1x1 stride 2 (not pointwise)", inC: 4, h: 9, w: 8, outC: 3, window: Window2D(kernelH: 1, kernelW: 1, strideH: 2, strideW: 2)),
    ConvCase(label: "3x3 pad 1", inC: 3, h: 10, w: 11, outC: 4, window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "3x3 valid", inC: 2, h: 6, w: 5, outC: 3, window: Window2D(kernelH: 3, kernelW: 3)),
    ConvCase(label: "5x5 stride 2 asymmetric pads", inC: 3, h: 13, w: 12, outC: 5,
             window: Window2D(kernelH: 5, kernelW: 5, strideH: 2, strideW: 2, padTop: 1, padLeft: 2, padBottom: 2, padRight: 0)),
    ConvCase(label: "3x2 kernel stride 3x1 pads 0/1/2/1", inC: 2, h: 11, w: 7, outC: 3,
             window: Window2D(kernelH: 3, kernelW: 2, strideH: 3, strideW: 1, padTop: 0, padLeft: 1, padBottom: 2, padRight: 1)),
    ConvCase(label: "3x3 dilation 2 pad 2", inC: 3, h: 9, w: 10, outC: 4,
             window: Window2D(kernelH: 3, kernelW: 3, dilationH: 2, dilationW: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2)),
    ConvCase(label: "3x3 stride 3 (stride > 2 path) pad 1", inC: 2, h: 10, w: 10, outC: 2,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 3, strideW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "groups 2 3x3 pad 1", inC: 4, h: 8, w: 7, outC: 6, groups: 2,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "groups 2 1x1", inC: 6, h: 5, w: 5, outC: 4, groups: 2, window: Window2D(kernelH: 1, kernelW: 1)),
    ConvCase(label: "depthwise multiplier 1 3x3 pad 1", inC: 5, h: 9, w: 8, outC: 5, groups: 5,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "depthwise multiplier 2 3x3 pad 1", inC: 3, h: 7, w: 9, outC: 6, groups: 3,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "depthwise stride 2 5x5 asymmetric pads", inC: 4, h: 12, w: 11, outC: 4, groups: 4,
             window: Window2D(kernelH: 5, kernelW: 5, strideH: 2, strideW: 2, padTop: 1, padLeft: 2, padBottom: 2, padRight: 1)),
    ConvCase(label: "depthwise stride 3 dilation 2", inC: 3, h: 13, w: 14, outC: 3, groups: 3,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 3, strideW: 3, dilationH: 2, dilationW: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2)),
    ConvCase(label: "depthwise multiplier 2 stride 2 no bias", inC: 2, h: 8, w: 8, outC: 4, groups: 2,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, padBottom: 1, padRight: 1), bias: false),
    ConvCase(label: "batch 3 3x3 pad 1", batch: 3, inC: 3, h: 6, w: 7, outC: 4,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "batch 3 depthwise", batch: 3, inC: 4, h: 6, w: 6, outC: 4, groups: 4,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "fused relu 3x3", inC: 3, h: 8, w: 8, outC: 4,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "fused clip(0,6) 1x1", inC: 8, h: 5, w: 6, outC: 8, window: Window2D(kernelH: 1, kernelW: 1), activation: .clip(0, 6)),
    ConvCase(label: "fused clip(0,6) depthwise", batch: 2, inC: 4, h: 7, w: 7, outC: 4, groups: 4,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .clip(0, 6)),
    ConvCase(label: "fused relu depthwise multiplier 2", inC: 3, h: 6, w: 6, outC: 6, groups: 3,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "kernel as large as input", inC: 2, h: 4, w: 5, outC: 3, window: Window2D(kernelH: 4, kernelW: 5)),
    ConvCase(label: "RGB stem 3x3 stride 2 pads 0/0/1/1 clip (direct path)", inC: 3, h: 21, w: 37, outC: 8,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padBottom: 1, padRight: 1), activation: .clip(0, 6)),
    ConvCase(label: "groups 2 of 4 channels 3x3 stride 2 pad 1 wide (direct path)", batch: 2, inC: 8, h: 9, w: 41, outC: 6, groups: 2,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "depthwise 3x3 stride 2 pad 1 wide rows", inC: 3, h: 11, w: 45, outC: 3, groups: 3,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "depthwise 5x5 stride 2 pad 2 wide rows", inC: 2, h: 19, w: 50, outC: 2, groups: 2,
             window: Window2D(kernelH: 5, kernelW: 5, strideH: 2, strideW: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2)),
    ConvCase(label: "depthwise 5x5 pad 2 rows of 16 and 33", batch: 2, inC: 3, h: 17, w: 33, outC: 3, groups: 3,
             window: Window2D(kernelH: 5, kernelW: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2), activation: .clip(0, 6)),
    ConvCase(label: "depthwise 3x3 pad 1 exactly 16 wide, 9 rows", inC: 2, h: 9, w: 16, outC: 2, groups: 2,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "1x1 7x7 plane (49 columns), 19 outputs (row tail), relu", inC: 37, h: 7, w: 7, outC: 19,
             window: Window2D(kernelH: 1, kernelW: 1), activation: .relu),
    ConvCase(label: "1x1 10x10 plane, 40 outputs, clip", batch: 2, inC: 24, h: 10, w: 10, outC: 40,
             window: Window2D(kernelH: 1, kernelW: 1), activation: .clip(0, 6)),
    ConvCase(label: "1x1 sigmoid epilogue after the GEMM", inC: 16, h: 6, w: 11, outC: 12,
             window: Window2D(kernelH: 1, kernelW: 1), activation: .sigmoid),
    ConvCase(label: "3x3 im2col GEMM 33 outputs", inC: 6, h: 9, w: 9, outC: 33,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "stem-like 3->6 channels 3x3 stride 2, 4+2 channels, 18 rows, no bias, sigmoid", inC: 3, h: 36, w: 40, outC: 6,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padBottom: 1, padRight: 1), activation: .sigmoid, bias: false),
    ConvCase(label: "stem-like 3->8 channels 3x3 pad 1 relu, 13 rows", batch: 2, inC: 3, h: 13, w: 30, outC: 8,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "depthwise 5x5 pad 2 on 14x14, 20 channels (16 + 4), clip", batch: 2, inC: 20, h: 14, w: 14, outC: 20, groups: 20,
             window: Window2D(kernelH: 5, kernelW: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2), activation: .clip(0, 6)),
    ConvCase(label: "depthwise 5x5 stride 2 on 9x7, 17 channels, asymmetric pads", inC: 17, h: 9, w: 7, outC: 17, groups: 17,
             window: Window2D(kernelH: 5, kernelW: 5, strideH: 2, strideW: 2, padTop: 1, padLeft: 2, padBottom: 2, padRight: 1)),
    ConvCase(label: "depthwise 3x3 dilation 2 on 7x7, 33 channels, sigmoid", inC: 33, h: 7, w: 7, outC: 33, groups: 33,
             window: Window2D(kernelH: 3, kernelW: 3, dilationH: 2, dilationW: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2), activation: .sigmoid),
    ConvCase(label: "depthwise 3x3 pad 1 on 13x40 (row-blocked 3x3 kernel, partial rows and vector), relu", batch: 2, inC: 3, h: 13, w: 40,
             outC: 3, groups: 3, window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "depthwise 3x3 valid on 11x30, no bias", inC: 2, h: 11, w: 30, outC: 2, groups: 2,
             window: Window2D(kernelH: 3, kernelW: 3), bias: false),
]

/// Every case on each kernel path (on a CPU without AVX-512 both run the portable kernels).
let convISACases: [(ConvCase, KernelISA)] = convCases.flatMap { c in [(c, KernelISA.avx2), (c, .avx512)] }

/// Random input, weight and bias for a case; weights scaled so fused clip(0,6) saturates sometimes.
func convOperands(_ c: ConvCase, seed: UInt64) -> (x: [Float], w: [Float], b: [Float]?) {
    var rng = SeededRandom(seed: seed)
    let s = c.shape
    let x = rng.tensor([s.batch, s.inC, s.inH, s.inW], -2, 2).data                           // [N, C, H, W]
    let w = rng.tensor([s.outC, s.inCPerGroup, s.window.kernelH, s.window.kernelW], -1, 1).data // [M, C/g, kh, kw]
    let b = c.bias ? rng.tensor([s.outC], -0.5, 0.5).data : nil                            // [M]
    return (x, w, b)
}

func runConv(_ c: ConvCase, _ x: [Float], _ w: [Float], _ b: [Float]?, naive: Bool) -> [Float] {
    let s = c.shape
    var y = [Float](repeating: .nan, count: s.batch * s.outC * s.outH * s.outW)  // [N, M, outH, outW]
    var scratch = [Float](repeating: .nan, count: max(s.scratchCount, 1))
    func go(_ bp: UnsafePointer<Float>?) {
        if naive {
            conv2dNaive(x, weight: w, bias: bp, shape: s, activation: c.activation, y: &y)
        } else {
            conv2d(x, weight: w, bias: bp, shape: s, activation: c.activation, y: &y, scratch: &scratch)
        }
    }
    if let b { b.withUnsafeBufferPointer { go($0.baseAddress!) } } else { go(nil) }
    return y
}

@Suite("Convolution")
struct ConvolutionTests {
    @Test("conv2d matches conv2dNaive", arguments: convISACases)
    func matchesNaive(_ c: ConvCase, _ isa: KernelISA) {
        let (x, w, b) = convOperands(c, seed: UInt64(c.label.utf8.count * 7919 + c.inC))
        let fast = withKernelISA(isa) { runConv(c, x, w, b, naive: false) }
        let naive = runConv(c, x, w, b, naive: true)
        let m = compare(fast, naive, rtol: 1e-4, atol: 1e-5 * Float(c.shape.colRows))
        #expect(m == nil, "\(describe(m))")
        if case .clip(0, 6) = c.activation {
            #expect(fast.allSatisfy { $0 >= 0 && $0 <= 6 })
        }
    }

    @Test("depthwiseConv2d called directly matches conv2dNaive",
          arguments: convCases.filter { $0.shape.isDepthwise })
    func depthwiseDirect(_ c: ConvCase) {
        let (x, w, b) = convOperands(c, seed: 99)
        let s = c.shape
        var y = [Float](repeating: .nan, count: s.batch * s.outC * s.outH * s.outW)
        if let b {
            b.withUnsafeBufferPointer { depthwiseConv2d(x, weight: w, bias: $0.baseAddress!, shape: s, activation: c.activation, y: &y) }
        } else {
            depthwiseConv2d(x, weight: w, bias: nil, shape: s, activation: c.activation, y: &y)
        }
        let m = compare(y, runConv(c, x, w, b, naive: true), rtol: 1e-4, atol: 1e-5 * Float(s.colRows))
        #expect(m == nil, "\(describe(m))")
    }

    @Test("im2col matches its definition", arguments: convCases.filter { !$0.window.isPointwise })
    func im2colDefinition(_ c: ConvCase) {
        var rng = SeededRandom(seed: 5)
        let s = c.shape, wd = s.window
        let ch = s.inCPerGroup
        let x = rng.tensor([ch, s.inH, s.inW]).data                     // [C_g, H, W]
        var col = [Float](repeating: .nan, count: s.colRows * s.outH * s.outW)  // [C_g*kh*kw, outH*outW]
        im2col(x, channels: ch, h: s.inH, w: s.inW, window: wd, outH: s.outH, outW: s.outW, col: &col)
        var expected = [Float](repeating: 0, count: col.count)
        for c0 in 0..<ch { for ky in 0..<wd.kernelH { for kx in 0..<wd.kernelW {
            let row = (c0 * wd.kernelH + ky) * wd.kernelW + kx
            for oy in 0..<s.outH { for ox in 0..<s.outW {
                let iy = oy * wd.strideH + ky * wd.dilationH - wd.padTop
                let ix = ox * wd.strideW + kx * wd.dilationW - wd.padLeft
                let v: Float = (iy >= 0 && iy < s.inH && ix >= 0 && ix < s.inW) ? x[(c0 * s.inH + iy) * s.inW + ix] : 0
                expected[row * s.outH * s.outW + oy * s.outW + ox] = v
            } }
        } } }
        let m = compare(col, expected, rtol: 0, atol: 0)
        #expect(m == nil, "\(describe(m))")
    }
}

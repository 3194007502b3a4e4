import Testing
import TensorCore
import TestSupport

/// Cases for the channel-blocked kernels: every kind, channel counts that fill blocks and that leave them
/// partly empty, narrow maps (the zero-padded path) and wide ones (the edge-column path), pads, strides,
/// dilation, and all three clamps.
let blockedCases: [ConvCase] = [
    ConvCase(label: "pointwise 16->16 on 7x7", inC: 16, h: 7, w: 7, outC: 16, window: Window2D(kernelH: 1, kernelW: 1)),
    ConvCase(label: "pointwise 24->40 on 5x13 (partial blocks, 65 pixels), clip", inC: 24, h: 5, w: 13, outC: 40,
             window: Window2D(kernelH: 1, kernelW: 1), activation: .clip(0, 6)),
    ConvCase(label: "pointwise 40->96 on 14x14 batch 2, relu", batch: 2, inC: 40, h: 14, w: 14, outC: 96,
             window: Window2D(kernelH: 1, kernelW: 1), activation: .relu),
    ConvCase(label: "pointwise 2100->20 (two input chunks) on 3x4, no bias", inC: 2100, h: 3, w: 4, outC: 20,
             window: Window2D(kernelH: 1, kernelW: 1), bias: false),
    ConvCase(label: "pointwise 8->48 on 1x1", inC: 8, h: 1, w: 1, outC: 48, window: Window2D(kernelH: 1, kernelW: 1)),
    ConvCase(label: "pointwise 48->64 on 7x7 (the odd run done once for two full pairs), clip", inC: 48, h: 7, w: 7, outC: 64,
             window: Window2D(kernelH: 1, kernelW: 1), activation: .clip(0, 6)),
    ConvCase(label: "pointwise 2080->80 on 7x7 (odd run, two input chunks, pairs of 2 and 1 blocks)", inC: 2080, h: 7, w: 7, outC: 80,
             window: Window2D(kernelH: 1, kernelW: 1)),
    ConvCase(label: "pointwise 16->8 on 20x21 (several run chunks)", inC: 16, h: 20, w: 21, outC: 8, window: Window2D(kernelH: 1, kernelW: 1)),
    ConvCase(label: "pointwise 24->40 batch 3 on 1x5 (one short run per image: tiles span images)", batch: 3, inC: 24, h: 1, w: 5, outC: 40,
             window: Window2D(kernelH: 1, kernelW: 1), activation: .clip(0, 6)),
    ConvCase(label: "pointwise 32->48 batch 5 on 7x7 (runs of images 2 and 3 share a tile)", batch: 5, inC: 32, h: 7, w: 7, outC: 48,
             window: Window2D(kernelH: 1, kernelW: 1), activation: .relu),
    ConvCase(label: "depthwise 3x3 pad 1 on 7x7, 20 channels, clip", inC: 20, h: 7, w: 7, outC: 20, groups: 20,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .clip(0, 6)),
    ConvCase(label: "depthwise 5x5 pad 2 on 14x14 batch 2, 32 channels", batch: 2, inC: 32, h: 14, w: 14, outC: 32, groups: 32,
             window: Window2D(kernelH: 5, kernelW: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2)),
    ConvCase(label: "depthwise 5x5 stride 2 asymmetric pads on 11x9, 17 channels", inC: 17, h: 11, w: 9, outC: 17, groups: 17,
             window: Window2D(kernelH: 5, kernelW: 5, strideH: 2, strideW: 2, padTop: 1, padLeft: 2, padBottom: 2, padRight: 1)),
    ConvCase(label: "depthwise 3x3 pad 1 on 19x45 (wide: edge columns), 16 channels, relu", inC: 16, h: 19, w: 45, outC: 16, groups: 16,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "depthwise 3x3 stride 2 pads 0/0/1/1 on 23x70 (wide), 24 channels", inC: 24, h: 23, w: 70, outC: 24, groups: 24,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padBottom: 1, padRight: 1)),
    ConvCase(label: "depthwise 3x3 dilation 2 pad 2 on 9x40, 5 channels, no bias", inC: 5, h: 9, w: 40, outC: 5, groups: 5,
             window: Window2D(kernelH: 3, kernelW: 3, dilationH: 2, dilationW: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2), bias: false),
    ConvCase(label: "depthwise 3x3 valid on 6x6, 16 channels", inC: 16, h: 6, w: 6, outC: 16, groups: 16,
             window: Window2D(kernelH: 3, kernelW: 3)),
    ConvCase(label: "direct 3x3 pad 1 48->64 on 7x7 (odd run done once for two pairs), relu", inC: 48, h: 7, w: 7, outC: 64,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "direct 3x3 pad 1 20->40 on 30x31 batch 2 (partial blocks, bands, pairs of 2 and 1 blocks)", batch: 2, inC: 20, h: 30, w: 31,
             outC: 40, window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "direct 3x3 stride 2 pads 0/0/1/1 40->24 on 15x17, clip", inC: 40, h: 15, w: 17, outC: 24,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padBottom: 1, padRight: 1), activation: .clip(0, 6)),
    ConvCase(label: "direct 1x1 stride 2 32->48 on 14x14 batch 3 (a ResNet downsample), no bias", batch: 3, inC: 32, h: 14, w: 14, outC: 48,
             window: Window2D(kernelH: 1, kernelW: 1, strideH: 2, strideW: 2), bias: false),
    ConvCase(label: "direct 7x7 stride 2 pad 3 16->16 on 20x23", inC: 16, h: 20, w: 23, outC: 16,
             window: Window2D(kernelH: 7, kernelW: 7, strideH: 2, strideW: 2, padTop: 3, padLeft: 3, padBottom: 3, padRight: 3)),
    ConvCase(label: "direct 3x3 dilation 2 pad 2 17->33 on 9x12 batch 2, relu", batch: 2, inC: 17, h: 9, w: 12, outC: 33,
             window: Window2D(kernelH: 3, kernelW: 3, dilationH: 2, dilationW: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2), activation: .relu),
    ConvCase(label: "direct 2x3 valid 16->96 on 1x3 (one output column)", inC: 16, h: 2, w: 3, outC: 96,
             window: Window2D(kernelH: 2, kernelW: 3)),
    ConvCase(label: "direct grouped 3x3 pad 1, 4 groups of 16 on 9x10, relu (RegNet's group width)", inC: 64, h: 9, w: 10, outC: 64,
             groups: 4, window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "direct grouped 3x3 stride 2, 3 groups of 32 -> 48 on 13x15 batch 2 (pairs of 2 and 1 blocks per group)", batch: 2,
             inC: 96, h: 13, w: 15, outC: 144, groups: 3,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "direct grouped 1x1, 2 groups of 16 -> 32 on 7x7, no bias", inC: 32, h: 7, w: 7, outC: 64, groups: 2,
             window: Window2D(kernelH: 1, kernelW: 1), bias: false),
    ConvCase(label: "winograd 3x3 pad 1 64->64 on 7x7 (odd map: tiles past the edge), relu", inC: 64, h: 7, w: 7, outC: 64,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .relu, kind: .winograd),
    ConvCase(label: "winograd 3x3 pad 1 72->80 on 13x10 batch 2 (partial blocks, a half panel)", batch: 2, inC: 72, h: 13, w: 10, outC: 80,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "winograd 3x3 pads 0/0/1/1 64->64 on 9x11, clip", inC: 64, h: 9, w: 11, outC: 64,
             window: Window2D(kernelH: 3, kernelW: 3, padBottom: 1, padRight: 1), activation: .clip(0, 6), kind: .winograd),
    ConvCase(label: "winograd 3x3 valid 64->96 on 6x5 batch 3 (a unit's tiles span images), no bias", batch: 3, inC: 64, h: 6, w: 5, outC: 96,
             window: Window2D(kernelH: 3, kernelW: 3), bias: false, kind: .winograd),
    ConvCase(label: "winograd 3x3 pad 1 64->64 on 1x1", inC: 64, h: 1, w: 1, outC: 64,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), kind: .winograd),
    ConvCase(label: "winograd 3x3 pad 1 96->64 on 30x31 (several units), relu", inC: 96, h: 30, w: 31, outC: 64,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "groups of 4: 3x3 pad 1, 32 channels on 9x21 (interior runs of 8 and edges), relu", inC: 32, h: 9, w: 21, outC: 32,
             groups: 8, window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "groups of 4: 3x3 stride 2 pad 1, 64 channels on 13x19 batch 2", batch: 2, inC: 64, h: 13, w: 19, outC: 64, groups: 16,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ConvCase(label: "groups of 4: 3x3 dilation 2 pad 2 on 11x30, clip", inC: 16, h: 11, w: 30, outC: 16, groups: 4,
             window: Window2D(kernelH: 3, kernelW: 3, dilationH: 2, dilationW: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2),
             activation: .clip(0, 6)),
    ConvCase(label: "groups of 4: 1x1 valid, 48 channels on 3x4, no bias", inC: 48, h: 3, w: 4, outC: 48, groups: 12,
             window: Window2D(kernelH: 1, kernelW: 1), bias: false),
    ConvCase(label: "planar stem 3->32 3x3 stride 2 pads 0/0/1/1 on 21x37, clip", inC: 3, h: 21, w: 37, outC: 32,
             window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padBottom: 1, padRight: 1), activation: .clip(0, 6)),
    ConvCase(label: "planar stem 3->24 3x3 pad 1 batch 2 (odd block count)", batch: 2, inC: 3, h: 9, w: 30, outC: 24,
             window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), activation: .relu),
    ConvCase(label: "planar 1->5 5x5 dilation 2 pad 3, no bias", inC: 1, h: 12, w: 15, outC: 5,
             window: Window2D(kernelH: 5, kernelW: 5, dilationH: 2, dilationW: 2, padTop: 3, padLeft: 3, padBottom: 3, padRight: 3), bias: false),
]

/// The kernel paths this CPU runs: AVX2's always, AVX-512's where the CPU has it.
let blockedKernelPaths: [KernelISA] = cpuKernelISA == .avx512 ? [.avx512, .avx2] : [.avx2]

/// Runs a case through `blockedConv2d` on `isa`'s kernels (or its naive twin) and returns the output as NCHW plus the
/// padding channels' values.
func runBlocked(_ c: ConvCase, _ x: [Float], _ w: [Float], _ b: [Float]?, naive: Bool, isa: KernelISA = cpuKernelISA) -> (y: [Float], padding: [Float]) {
    let s = c.shape
    let kind = c.kind ?? BlockedConvKind.choose(s, blockedInput: s.inC > 4)!
    let inPixels = s.inH * s.inW, outPixels = s.outH * s.outW
    var xb: [Float]
    if kind == .planarInput { xb = x } else {
        xb = [Float](repeating: .nan, count: s.batch * ChannelBlocks.count(s.inC) * 16 * inPixels)
        toChannelBlocked(x, batch: s.batch, channels: s.inC, pixels: inPixels, y: &xb)
    }
    let pw = w.withUnsafeBufferPointer { kind.packWeights($0.baseAddress!, shape: s) }
    let pb = b.map { bb in bb.withUnsafeBufferPointer { packBlockedBias($0.baseAddress!, channels: s.outC) } } ?? packBlockedBias(nil, channels: s.outC)
    let mb = ChannelBlocks.count(s.outC)
    var yb = [Float](repeating: .nan, count: s.batch * mb * 16 * outPixels)
    if naive {
        blockedConv2dNaive(kind, xb, packedWeights: pw, bias: pb, shape: s, activation: c.activation, y: &yb)
    } else {
        withKernelISA(isa) { blockedConv2d(kind, xb, packedWeights: pw, bias: pb, shape: s, activation: c.activation, y: &yb) }
    }
    var y = [Float](repeating: .nan, count: s.batch * s.outC * outPixels)
    fromChannelBlocked(yb, batch: s.batch, channels: s.outC, pixels: outPixels, y: &y)
    var padding: [Float] = []
    for n in 0..<s.batch { for ch in s.outC..<(mb * 16) { for p in 0..<outPixels { padding.append(yb[((n * mb + ch / 16) * outPixels + p) * 16 + ch % 16]) } } }
    return (y, padding)
}

@Suite("Channel-blocked convolution")
struct BlockedConvolutionTests {
    @Test("blockedConv2d matches conv2dNaive on NCHW", arguments: blockedCases)
    func matchesNaive(_ c: ConvCase) {
        let (x, w, b) = convOperands(c, seed: UInt64(c.label.utf8.count * 31 + c.outC))
        let reference = runConv(c, x, w, b, naive: true)
        for path in [nil] + blockedKernelPaths.map(Optional.some) {
            let (y, padding) = runBlocked(c, x, w, b, naive: path == nil, isa: path ?? .avx2)
            let m = compare(y, reference, rtol: 1e-4, atol: 1e-5 * Float(c.shape.colRows))
            let name = path.map { "\($0.rawValue) kernel" } ?? "naive twin"
            #expect(m == nil, "\(name): \(describe(m))")
            // Padding channels hold clamp(0): zero for every clamp in these cases.
            let zeroPadding = padding.allSatisfy { $0 == 0 }
            #expect(zeroPadding, "\(name): padding channels are not zero")
        }
    }

    @Test("A residual is added before the clamp, on the kernel and the naive twin",
          arguments: [(5, 7, Activation.identity), (2, 13, .clip(0, 1)), (3, 3, .relu), (1, 7, .identity), (2, 5, .relu)])
    func residual(_ batch: Int, _ side: Int, _ act: Activation) {
        // 24 outputs: one pair of blocks; batch 1 on 7x7: 40 outputs (a pair and a single block) and an odd run;
        // 5x5 maps: 2100 input channels, two chunks whose partial sums pass through y before the residual.
        let outC = batch == 1 ? 40 : 24, inC = side == 5 ? 2100 : 40
        let c = ConvCase(label: "residual", batch: batch, inC: inC, h: side, w: side, outC: outC, window: Window2D(kernelH: 1, kernelW: 1))
        let s = c.shape
        let (x, w, b) = convOperands(c, seed: UInt64(batch * 100 + side))
        var rng = SeededRandom(seed: 99)
        let skip = rng.tensor([batch, outC, side * side], -3, 3).data
        // Reference: the convolution with no activation, plus the skip, then the clamp.
        let plain = runConv(c, x, w, b, naive: true)
        let want = zip(plain, skip).map { act.apply($0 + $1) }
        let pixels = side * side, mb = ChannelBlocks.count(outC)
        var xb = [Float](repeating: 0, count: batch * ChannelBlocks.count(inC) * 16 * pixels)
        toChannelBlocked(x, batch: batch, channels: inC, pixels: pixels, y: &xb)
        var rb = [Float](repeating: 0, count: batch * mb * 16 * pixels)
        toChannelBlocked(skip, batch: batch, channels: outC, pixels: pixels, y: &rb)
        let pw = w.withUnsafeBufferPointer { BlockedConvKind.pointwise.packWeights($0.baseAddress!, shape: s) }
        let pb = b!.withUnsafeBufferPointer { packBlockedBias($0.baseAddress!, channels: outC) }
        for path in [nil] + blockedKernelPaths.map(Optional.some) {
            var yb = [Float](repeating: .nan, count: rb.count)
            if let path {
                withKernelISA(path) { blockedConv2d(.pointwise, xb, packedWeights: pw, bias: pb, shape: s, activation: act, residual: rb, y: &yb) }
            } else {
                blockedConv2dNaive(.pointwise, xb, packedWeights: pw, bias: pb, shape: s, activation: act, residual: rb, y: &yb)
            }
            var y = [Float](repeating: .nan, count: want.count)
            fromChannelBlocked(yb, batch: batch, channels: outC, pixels: pixels, y: &y)
            let m = compare(y, want, rtol: 1e-4, atol: 1e-4)
            #expect(m == nil, "\(path.map { "\($0.rawValue) kernel" } ?? "naive twin"): \(describe(m))")
        }
    }

    @Test("Blocking and unblocking round-trip, padding channels zero",
          arguments: [1, 15, 16, 17, 40], [(13, KernelISA.avx512), (49, .avx512), (16, .avx512), (13, .avx2), (49, .avx2)])
    func roundTrip(_ channels: Int, _ pixelsAndISA: (Int, KernelISA)) {
        withKernelISA(pixelsAndISA.1) { roundTripCase(channels, pixelsAndISA.0) }
    }

    func roundTripCase(_ channels: Int, _ pixels: Int) {
        var rng = SeededRandom(seed: UInt64(channels))
        let batch = 2
        let x = rng.tensor([batch, channels, pixels]).data
        var b = [Float](repeating: .nan, count: batch * ChannelBlocks.count(channels) * 16 * pixels)
        toChannelBlocked(x, batch: batch, channels: channels, pixels: pixels, y: &b)
        #expect(b[(ChannelBlocks.count(channels) * pixels - 1) * 16 + 15] == (channels % 16 == 0 ? x[channels * pixels - 1] : 0))
        #expect(b.filter { $0 == 0 }.count >= batch * (ChannelBlocks.count(channels) * 16 - channels) * pixels)
        var back = [Float](repeating: .nan, count: x.count)
        fromChannelBlocked(b, batch: batch, channels: channels, pixels: pixels, y: &back)
        #expect(back == x)
        // Element (n, c, p) lands at block c/16, lane c%16.
        #expect(b[((1 * ChannelBlocks.count(channels) + (channels - 1) / 16) * pixels + 5) * 16 + (channels - 1) % 16] == x[(channels + channels - 1) * pixels + 5])
    }

    @Test("Blocked global average pooling matches globalPool", arguments: [3, 16, 35])
    func globalAverage(_ channels: Int) {
        var rng = SeededRandom(seed: 7 + UInt64(channels))
        let pixels = 49, batch = 2
        let x = rng.tensor([batch, channels, pixels]).data
        var b = [Float](repeating: 0, count: batch * ChannelBlocks.count(channels) * 16 * pixels)
        toChannelBlocked(x, batch: batch, channels: channels, pixels: pixels, y: &b)
        var y = [Float](repeating: .nan, count: batch * channels), ref = y
        blockedGlobalAveragePool(b, batch: batch, channels: channels, pixels: pixels, y: &y)
        globalPool(max: false, x: x, planes: batch * channels, area: pixels, y: &ref)
        #expect(compare(y, ref) == nil)
    }

    @Test("Kinds are chosen by shape")
    func chooseKinds() {
        let pw = Window2D(kernelH: 1, kernelW: 1), k3 = Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 32, inH: 7, inW: 7, outC: 64, groups: 1, window: pw), blockedInput: true) == .pointwise)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 32, inH: 7, inW: 7, outC: 32, groups: 32, window: k3), blockedInput: true) == .depthwise)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 3, inH: 7, inW: 7, outC: 32, groups: 1, window: k3), blockedInput: false) == .planarInput)
        // A full 3x3 convolution on blocked channels and a strided 1x1 run directly; a depthwise multiplier of 2 has no blocked kernel.
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 32, inH: 7, inW: 7, outC: 32, groups: 1, window: k3), blockedInput: true) == .direct)
        // From 64 channels in, 32 out and 25 2x2 tiles a 3x3 stride-1 convolution runs as Winograd; strided ones do not.
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 64, inH: 14, inW: 14, outC: 64, groups: 1, window: k3), blockedInput: true) == .winograd)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 64, inH: 9, inW: 9, outC: 64, groups: 1, window: k3), blockedInput: true) == .winograd)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 64, inH: 7, inW: 7, outC: 64, groups: 1, window: k3), blockedInput: true) == .direct)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 64, inH: 14, inW: 14, outC: 16, groups: 1, window: k3), blockedInput: true) == .direct)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 48, inH: 14, inW: 14, outC: 64, groups: 1, window: k3), blockedInput: true) == .direct)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 64, inH: 8, inW: 8, outC: 64, groups: 1,
                                                 window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1)),
                                       blockedInput: true) == .direct)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 16, inH: 7, inW: 7, outC: 32, groups: 16, window: k3), blockedInput: true) == nil)
        // Groups of whole blocks run directly, groups of 4 channels on their own kernel; groups of 8 channels need widening.
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 64, inH: 7, inW: 7, outC: 64, groups: 4, window: k3), blockedInput: true) == .direct)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 64, inH: 7, inW: 7, outC: 64, groups: 8, window: k3), blockedInput: true) == nil)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 64, inH: 7, inW: 7, outC: 64, groups: 16, window: k3), blockedInput: true) == .quadGroups)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 24, inH: 7, inW: 7, outC: 24, groups: 6, window: k3), blockedInput: true) == nil)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 16, inH: 8, inW: 8, outC: 32, groups: 1,
                                                 window: Window2D(kernelH: 1, kernelW: 1, strideH: 2, strideW: 2)), blockedInput: true) == .direct)
        #expect(BlockedConvKind.choose(ConvShape(batch: 1, inC: 8, inH: 7, inW: 7, outC: 32, groups: 1, window: k3), blockedInput: false) == nil)
    }
}

@Suite("Narrow groups widened to blocks")
struct WidenedGroupTests {
    /// ResNeXt's groups of 8 channels as groups of 16 with zero weights between them: the same outputs as the
    /// original grouped convolution, on the kernel and its naive twin.
    @Test("Groups of 8 widened to 16 give the grouped convolution's outputs",
          arguments: [(1, 1), (2, 2)])
    func matchesGroupedConvolution(_ batchAndStride: (Int, Int)) {
        let (batch, stride) = batchAndStride
        let c = ConvCase(label: "grouped 3x3, 6 groups of 8", batch: batch, inC: 48, h: 11, w: 9, outC: 48, groups: 6,
                         window: Window2D(kernelH: 3, kernelW: 3, strideH: stride, strideW: stride, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
                         activation: .relu)
        let (x, w, b) = convOperands(c, seed: 5)
        let reference = runConv(c, x, w, b, naive: true)
        guard let (wide, shape) = widenedToBlockGroups(w, shape: c.shape) else { Issue.record("groups of 8 were not widened"); return }
        #expect(shape.groups == 3 && shape.inCPerGroup == 16)
        var widened = c
        widened.groups = shape.groups
        #expect(BlockedConvKind.choose(widened.shape, blockedInput: true) == .direct)
        for path in [nil] + blockedKernelPaths.map(Optional.some) {
            let (y, _) = runBlocked(widened, x, wide, b, naive: path == nil, isa: path ?? .avx2)
            let m = compare(y, reference, rtol: 1e-4, atol: 1e-5 * Float(c.shape.colRows))
            #expect(m == nil, "\(path.map { "\($0.rawValue) kernel" } ?? "naive twin"): \(describe(m))")
        }
    }

    @Test("Only groups of 8 channels in and out that fill whole blocks are widened")
    func onlyGroupsOfEight() {
        let k3 = Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        func widens(_ inC: Int, _ outC: Int, _ groups: Int) -> Bool {
            let s = ConvShape(batch: 1, inC: inC, inH: 5, inW: 5, outC: outC, groups: groups, window: k3)
            return widenedToBlockGroups([Float](repeating: 1, count: outC * (inC / groups) * 9), shape: s) != nil
        }
        #expect(widens(256, 256, 32))
        #expect(!widens(128, 128, 32))   // groups of 4: four times the work, slower than NCHW
        #expect(!widens(64, 64, 4))      // groups of 16 run blocked as they are
        #expect(!widens(24, 24, 3))      // 24 channels do not fill whole blocks
        #expect(!widens(64, 128, 8))     // 8 channels in, 16 out per group
    }
}

@Suite("Winograd windows")
struct WinogradWindowTests {
    /// Incremental occlusion convolves windows of a map (their input gathered with its halo, zero outside the map) and
    /// must get the whole map's values bit for bit: the windows' 2x2 tiles have to sit where the map's do.
    @Test("A window of the map, at an even or odd origin, gives the whole map's outputs exactly",
          arguments: [(0, 0, 5, 6), (1, 3, 4, 4), (3, 2, 6, 5), (7, 8, 4, 3), (9, 7, 4, 6), (0, 1, 13, 12)])
    func windowsAreExact(_ window: (Int, Int, Int, Int)) {
        for isa in blockedKernelPaths { windowIsExact(window, isa: isa) }
    }

    func windowIsExact(_ window: (Int, Int, Int, Int), isa: KernelISA) {
        let (oy, ox, th, tw) = window
        let inC = 64, outC = 80, h = 13, w = 13
        let k3 = Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        let full = ConvShape(batch: 1, inC: inC, inH: h, inW: w, outC: outC, groups: 1, window: k3)
        #expect(BlockedConvKind.choose(full, blockedInput: true) == .winograd)
        var rng = SeededRandom(seed: 11)
        let x = rng.tensor([1, inC, h, w]).data, weights = rng.tensor([outC, inC, 3, 3]).data, b = rng.tensor([outC]).data
        let cb = ChannelBlocks.count(inC), mb = ChannelBlocks.count(outC)
        var xb = [Float](repeating: 0, count: cb * 16 * h * w)
        toChannelBlocked(x, batch: 1, channels: inC, pixels: h * w, y: &xb)
        let pw = weights.withUnsafeBufferPointer { BlockedConvKind.winograd.packWeights($0.baseAddress!, shape: full) }
        let pb = b.withUnsafeBufferPointer { packBlockedBias($0.baseAddress!, channels: outC) }
        var yFull = [Float](repeating: .nan, count: mb * 16 * h * w)
        withKernelISA(isa) { blockedConv2d(.winograd, xb, packedWeights: pw, bias: pb, shape: full, activation: .relu, y: &yFull) }
        // The window's input: rows oy-1 ..< oy+th+1 and columns likewise, zero outside the map; two copies of it, the
        // second at origin (0, 0) of a batch whose first item has the tested origin, so each item keeps its own tiling.
        let ih = th + 2, iw = tw + 2
        var xw = [Float](repeating: 0, count: 2 * cb * ih * iw * 16)
        for item in 0..<2 {
            let (y0, x0) = item == 0 ? (oy, ox) : (0, 0)
            for blk in 0..<cb { for r in 0..<ih { for c in 0..<iw {
                let iy = y0 - 1 + r, ix = x0 - 1 + c
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                for l in 0..<16 { xw[((item * cb + blk) * ih * iw + r * iw + c) * 16 + l] = xb[(blk * h * w + iy * w + ix) * 16 + l] }
            } } }
        }
        let ws = ConvShape(batch: 2, inC: cb * 16, inH: ih, inW: iw, outC: outC, groups: 1, window: Window2D(kernelH: 3, kernelW: 3))
        var yw = [Float](repeating: .nan, count: 2 * mb * 16 * th * tw)
        withKernelISA(isa) {
            blockedConv2d(.winograd, xw, packedWeights: pw, bias: pb, shape: ws, activation: .relu, y: &yw,
                          windowOrigins: [(y: oy, x: ox), (y: 0, x: 0)])
        }
        var mismatches = 0
        for item in 0..<2 {
            let (y0, x0) = item == 0 ? (oy, ox) : (0, 0)
            for blk in 0..<mb { for r in 0..<th { for c in 0..<tw { for l in 0..<16 {
                let a = yw[((item * mb + blk) * th * tw + r * tw + c) * 16 + l]
                let e = yFull[(blk * h * w + (y0 + r) * w + x0 + c) * 16 + l]
                if a.bitPattern != e.bitPattern { mismatches += 1 }
            } } } }
        }
        #expect(mismatches == 0, "\(isa.rawValue): window at (\(oy), \(ox)) size \(th)x\(tw): \(mismatches) outputs differ from the whole map's")
    }
}

import Testing
import TensorCore
import TestSupport

@Suite("Channel-blocked pooling and clamps")
struct BlockedPoolingTests {
    static let batch = 2

    /// A random `[batch, channels, h * w]` input in -5...3, its blocked form, the pooled size and the block count.
    static func blockedInput(seed: UInt64, _ wd: Window2D, _ ceilMode: Bool, _ channels: Int, _ h: Int, _ w: Int)
        -> (x: [Float], xb: [Float], oh: Int, ow: Int, blocks: Int) {
        var rng = SeededRandom(seed: seed)
        let x = rng.tensor([batch, channels, h * w], -5, 3).data
        let blocks = ChannelBlocks.count(channels)
        var xb = [Float](repeating: 0, count: batch * blocks * 16 * h * w)
        toChannelBlocked(x, batch: batch, channels: channels, pixels: h * w, y: &xb)
        return (x, xb, wd.outH(h, ceil: ceilMode), wd.outW(w, ceil: ceilMode), blocks)
    }

    @Test("blockedMaxPool matches its naive twin and pool2d",
          arguments: [(Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), false, 20, 17, 23),
                      (Window2D(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2), true, 16, 7, 9),
                      (Window2D(kernelH: 3, kernelW: 2, dilationH: 2, dilationW: 1, padTop: 2, padLeft: 0, padBottom: 0, padRight: 1), false, 33, 9, 4)])
    func maxPool(_ wd: Window2D, _ ceilMode: Bool, _ channels: Int, _ h: Int, _ w: Int) {
        // Negative values too: padding must act as minus infinity, not zero.
        let batch = Self.batch
        let (x, xb, oh, ow, blocks) = Self.blockedInput(seed: UInt64(channels * h), wd, ceilMode, channels, h, w)
        var yb = [Float](repeating: .nan, count: batch * blocks * 16 * oh * ow), nb = yb
        blockedMaxPool(xb, batch: batch, blocks: blocks, inH: h, inW: w, window: wd, outH: oh, outW: ow, y: &yb)
        blockedMaxPoolNaive(xb, batch: batch, channels: channels, inH: h, inW: w, window: wd, outH: oh, outW: ow, y: &nb)
        var y = [Float](repeating: .nan, count: batch * channels * oh * ow), n = y, ref = y
        fromChannelBlocked(yb, batch: batch, channels: channels, pixels: oh * ow, y: &y)
        fromChannelBlocked(nb, batch: batch, channels: channels, pixels: oh * ow, y: &n)
        pool2d(.max, x: x, planes: batch * channels, h: h, w: w, window: wd, outH: oh, outW: ow, y: &ref)
        #expect(y == ref)
        #expect(n == ref)
    }

    @Test("blockedAveragePool equals pool2d's average (same sums), with and without counting the padding",
          arguments: [(Window2D(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2), false, false, 20, 8, 9),
                      (Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), true, true, 33, 7, 6),
                      (Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), false, true, 16, 5, 5),
                      (Window2D(kernelH: 3, kernelW: 2, strideH: 2, strideW: 1, padTop: 1, padLeft: 0, padBottom: 1, padRight: 1), false, false, 5, 6, 4)])
    func averagePool(_ wd: Window2D, _ ceilMode: Bool, _ includePad: Bool, _ channels: Int, _ h: Int, _ w: Int) {
        let batch = Self.batch
        let (x, xb, oh, ow, blocks) = Self.blockedInput(seed: UInt64(channels * h + w), wd, ceilMode, channels, h, w)
        var yb = [Float](repeating: .nan, count: batch * blocks * 16 * oh * ow)
        blockedAveragePool(xb, batch: batch, blocks: blocks, inH: h, inW: w, window: wd, countIncludePad: includePad, outH: oh, outW: ow, y: &yb)
        var y = [Float](repeating: .nan, count: batch * channels * oh * ow), ref = y
        fromChannelBlocked(yb, batch: batch, channels: channels, pixels: oh * ow, y: &y)
        pool2d(.average(countIncludePad: includePad), x: x, planes: batch * channels, h: h, w: w, window: wd, outH: oh, outW: ow, y: &ref)
        #expect(y == ref)
    }

    @Test("blockedClamp clamps every float, a tail past whole vectors too")
    func clamp() {
        var rng = SeededRandom(seed: 3)
        let x = rng.tensor([1, 16 * 9 + 5], -4, 4).data
        var y = [Float](repeating: .nan, count: x.count)
        blockedClamp(x, count: x.count, lo: 0, hi: 1.5, y: &y)
        #expect(y == x.map { min(max($0, 0), 1.5) })
    }
}

import Testing
import TensorCore
import TestSupport

@Suite("Channel-blocked affine maps and concatenation")
struct BlockedChannelsTests {
    @Test("blockedAffine matches its naive twin, padding channels stay zero", arguments: [(20, 7, 9, Float(0), Float.infinity),
                                                                                     (32, 3, 5, -Float.infinity, Float.infinity),
                                                                                     (5, 1, 1, -1, 2)])
    func affine(_ channels: Int, _ h: Int, _ w: Int, _ lo: Float, _ hi: Float) {
        var rng = SeededRandom(seed: UInt64(channels * h * w))
        let batch = 2, pixels = h * w, blocks = ChannelBlocks.count(channels)
        let x = rng.tensor([batch, channels, pixels], -3, 3).data
        let scale = rng.tensor([channels], -2, 2).data, shift = rng.tensor([channels], -1, 1).data
        var xb = [Float](repeating: 0, count: batch * blocks * 16 * pixels)
        toChannelBlocked(x, batch: batch, channels: channels, pixels: pixels, y: &xb)
        let packed = packBlockedAffine(scale: scale, shift: shift, channels: channels)
        var yb = [Float](repeating: .nan, count: xb.count), nb = yb
        blockedAffine(xb, packed: packed, batch: batch, blocks: blocks, pixels: pixels, lo: lo, hi: hi, y: &yb)
        blockedAffineNaive(xb, scale: scale, shift: shift, batch: batch, channels: channels, pixels: pixels, lo: lo, hi: hi, y: &nb)
        let m = compare(yb, nb, rtol: 1e-6, atol: 1e-6)
        #expect(m == nil, "\(describe(m))")
        // Padding lanes (channels past the last real one) are zero.
        for n in 0..<batch {
            for p in 0..<pixels {
                for c in channels..<(blocks * 16) { #expect(yb[((n * blocks + c / 16) * pixels + p) * 16 + c % 16] == 0) }
            }
        }
    }

    @Test("channels-last to blocked and back equal a transpose and the NCHW reorders, padding channels zero",
          arguments: [(20, 3, 5), (32, 7, 7), (5, 1, 2), (48, 2, 1)])
    func channelsLast(_ channels: Int, _ h: Int, _ w: Int) {
        var rng = SeededRandom(seed: UInt64(channels * 31 + h))
        let batch = 2, pixels = h * w, blocks = ChannelBlocks.count(channels)
        let nhwc = rng.tensor([batch, h, w, channels], -3, 3)
        let nchw = TensorCore.transpose(nhwc, perm: [0, 3, 1, 2])
        var want = [Float](repeating: .nan, count: batch * blocks * pixels * 16)
        toChannelBlocked(nchw.data, batch: batch, channels: channels, pixels: pixels, y: &want)
        var got = [Float](repeating: .nan, count: want.count)
        channelsLastToBlocked(nhwc.data, batch: batch, channels: channels, pixels: pixels, y: &got)
        #expect(got == want)
        var back = [Float](repeating: .nan, count: nhwc.count)
        blockedToChannelsLast(got, batch: batch, channels: channels, pixels: pixels, y: &back)
        #expect(back == nhwc.data)
    }

    @Test("blockedConcat equals concatenating the NCHW tensors along the channels")
    func concat() {
        var rng = SeededRandom(seed: 9)
        let batch = 3, pixels = 5 * 4
        let channels = [32, 16, 48]
        let xs = channels.map { rng.tensor([batch, $0, pixels]) }
        let blocked: [[Float]] = zip(xs, channels).map { t, c in
            var b = [Float](repeating: 0, count: batch * c * pixels)
            toChannelBlocked(t.data, batch: batch, channels: c, pixels: pixels, y: &b)
            return b
        }
        let total = channels.reduce(0, +)
        var y = [Float](repeating: .nan, count: batch * total * pixels)
        blocked[0].withUnsafeBufferPointer { p0 in
            blocked[1].withUnsafeBufferPointer { p1 in
                blocked[2].withUnsafeBufferPointer { p2 in
                    blockedConcat([p0.baseAddress!, p1.baseAddress!, p2.baseAddress!], blocks: channels.map { $0 / 16 }, batch: batch,
                                  pixels: pixels, y: &y)
                }
            }
        }
        var planar = [Float](repeating: .nan, count: y.count)
        fromChannelBlocked(y, batch: batch, channels: total, pixels: pixels, y: &planar)
        let want = TensorCore.concat(xs, axis: 1).data
        #expect(planar == want)
    }

    @Test("blockedChannelScale matches its naive twin, one gate per image or one for all", arguments: [(20, 3, true), (32, 1, false), (5, 2, true)])
    func channelScale(_ channels: Int, _ batch: Int, _ perImage: Bool) {
        var rng = SeededRandom(seed: UInt64(channels + batch))
        let pixels = 7 * 5, blocks = ChannelBlocks.count(channels)
        let x = rng.tensor([batch, channels, pixels], -3, 3).data
        let gate = rng.tensor([perImage ? batch : 1, channels], 0, 1).data
        var xb = [Float](repeating: 0, count: batch * blocks * 16 * pixels)
        toChannelBlocked(x, batch: batch, channels: channels, pixels: pixels, y: &xb)
        var yb = [Float](repeating: .nan, count: xb.count), nb = yb
        blockedChannelScale(xb, scale: gate, sItemStride: perImage ? channels : 0, batch: batch, channels: channels, pixels: pixels, y: &yb)
        blockedChannelScaleNaive(xb, scale: gate, sItemStride: perImage ? channels : 0, batch: batch, channels: channels, pixels: pixels, y: &nb)
        #expect(yb == nb)
    }
}

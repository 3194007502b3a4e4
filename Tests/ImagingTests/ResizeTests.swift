import Imaging
import Testing
import TestSupport

struct ResizeCase: CustomTestStringConvertible, Sendable {
    var srcW: Int, srcH: Int, dstW: Int, dstH: Int, filter: ResampleFilter
    var testDescription: String { "\(filter) \(srcW)x\(srcH)->\(dstW)x\(dstH)" }
}

/// Up, down, non-integer and mixed ratios, odd sizes, 1-pixel edges.
let resizeCases: [ResizeCase] = ResampleFilter.allCases.flatMap { f in
    [(37, 23, 64, 48), (64, 48, 37, 23), (50, 40, 25, 20), (31, 17, 93, 9), (10, 10, 1, 1), (1, 7, 5, 3), (97, 61, 224, 224)]
        .map { ResizeCase(srcW: $0.0, srcH: $0.1, dstW: $0.2, dstH: $0.3, filter: f) }
}

@Suite("Resize")
struct ResizeTests {
    @Test("fast resize matches its naive twin within 1 per byte", arguments: resizeCases)
    func fastMatchesNaive(_ c: ResizeCase) {
        let src = randomImage(width: c.srcW, height: c.srcH, seed: UInt64(c.srcW * 1000 + c.dstW))
        let fast = src.resized(width: c.dstW, height: c.dstH, filter: c.filter)
        let naive = src.resizedNaive(width: c.dstW, height: c.dstH, filter: c.filter)
        #expect(fast.width == c.dstW && fast.height == c.dstH)
        let d = byteDiff(fast, naive)
        #expect(d.worst <= 1, "worst byte diff \(d.worst) at index \(d.index): fast \(d.index >= 0 ? fast.pixels[d.index] : 0), naive \(d.index >= 0 ? naive.pixels[d.index] : 0)")
        // Off-by-one rounding should be rare (ties at .5 after float accumulation).
        #expect(d.differing * 50 <= fast.pixels.count, "\(d.differing) of \(fast.pixels.count) bytes differ")
    }

    @Test("same size is the identity", arguments: ResampleFilter.allCases)
    func identity(_ f: ResampleFilter) {
        let src = randomImage(width: 13, height: 9, seed: 3)
        #expect(src.resized(width: 13, height: 9, filter: f) == src)
        #expect(src.resizedNaive(width: 13, height: 9, filter: f) == src)
    }

    @Test("a constant picture stays constant", arguments: ResampleFilter.allCases)
    func constant(_ f: ResampleFilter) {
        let src = RGBImage(width: 17, height: 11, fill: (10, 200, 77))
        #expect(src.resized(width: 40, height: 5, filter: f) == RGBImage(width: 40, height: 5, fill: (10, 200, 77)))
    }

    @Test("nearest 2x upscale repeats each pixel 2x2; area 2x downscale averages 2x2 blocks")
    func knownValues() {
        let src = RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 100, 100, 100])
        let up = src.resized(width: 4, height: 2, filter: .nearest)
        #expect(up.pixels.chunks(3).map { $0[0] } == [0, 0, 100, 100, 0, 0, 100, 100])
        let block = RGBImage(width: 2, height: 2, pixels: [0, 0, 0, 10, 10, 10, 20, 20, 20, 50, 50, 50])
        #expect(block.resized(width: 1, height: 1, filter: .area).pixels == [20, 20, 20])
        // Bilinear 2x upscale of [0, 100]: centres at 0.25, 0.75 of source pixel spacing -> 0, 25, 75, 100.
        #expect(src.resized(width: 4, height: 1, filter: .bilinear).pixels.chunks(3).map { $0[0] } == [0, 25, 75, 100])
    }

    @Test("cropped copies the rectangle")
    func crop() {
        let src = randomImage(width: 9, height: 7, seed: 11)
        let c = src.cropped(x: 2, y: 3, width: 4, height: 2)
        #expect(c.width == 4 && c.height == 2)
        for y in 0..<2 { for x in 0..<4 { #expect(c[x, y] == src[x + 2, y + 3]) } }
    }
}

extension Array {
    /// Consecutive groups of `n` elements (the last may be shorter), each re-indexed from 0.
    func chunks(_ n: Int) -> [[Element]] { stride(from: 0, to: count, by: n).map { Array(self[$0..<Swift.min($0 + n, count)]) } }
}

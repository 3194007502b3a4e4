import Imaging
import Testing

@Suite("Heatmap blend")
struct HeatmapTests {
    let grid: [Float] = (0..<49).map { Float(($0 * 37) % 49) / 48 }

    @Test("alpha 0 leaves the picture unchanged")
    func alphaZero() {
        let src = randomImage(width: 61, height: 47, seed: 5)
        var img = src
        img.blendHeatmap(grid, width: 7, height: 7, colormap: .turbo, alpha: 0)
        #expect(img == src)
    }

    @Test("alpha 1 shows the colormap only; a constant grid gives one colour")
    func alphaOne() {
        var img = randomImage(width: 20, height: 10, seed: 6)
        img.blendHeatmap([Float](repeating: 1, count: 9), width: 3, height: 3, colormap: .turbo, alpha: 1)
        #expect(img == RGBImage(width: 20, height: 10, fill: Colormap.turbo.color(1).tuple))
    }

    @Test("fast blend matches its naive twin within 1 per byte", arguments: [(61, 47, Float(0.4)), (7, 7, 0.5), (200, 30, 0.75), (5, 3, 0.4)])
    func fastMatchesNaive(_ c: (Int, Int, Float)) {
        let src = randomImage(width: c.0, height: c.1, seed: 8)
        var fast = src, naive = src
        fast.blendHeatmap(grid, width: 7, height: 7, colormap: .turbo, alpha: c.2)
        naive.blendHeatmapNaive(grid, width: 7, height: 7, colormap: .turbo, alpha: c.2)
        let d = byteDiff(fast, naive)
        // The colour index can round to a neighbouring table entry; neighbouring turbo entries differ by a few
        // units at most, times alpha, plus 1 for the blend rounding.
        #expect(d.worst <= 4, "worst byte diff \(d.worst) at index \(d.index)")
        #expect(d.differing * 20 <= fast.pixels.count, "\(d.differing) of \(fast.pixels.count) bytes differ")
    }

    @Test("upsampling is pixel-centre aligned: a hot left column fades to the right")
    func alignment() {
        // 2x1 grid [1, 0] on an 8-pixel-wide picture: pixels 0...1 are left of the first centre (value 1),
        // 6...7 right of the second (value 0), the middle interpolates.
        var img = RGBImage(width: 8, height: 1)
        img.blendHeatmap([1, 0], width: 2, height: 1, colormap: .gray, alpha: 1)
        #expect(img.pixels.chunks(3).map { $0[0] } == [255, 255, 223, 159, 96, 32, 0, 0])
    }
}

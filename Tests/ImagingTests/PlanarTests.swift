import Imaging
import Testing
import TestSupport

struct PlanarCase: CustomTestStringConvertible, Sendable {
    var srcW: Int, srcH: Int
    var crop: (Double, Double, Double, Double)
    var outW: Int, outH: Int, filter: ResampleFilter
    var testDescription: String { "\(filter) \(srcW)x\(srcH) crop \(crop) -> \(outW)x\(outH)" }
}

let planarCases: [PlanarCase] = [ResampleFilter.bilinear, .bicubic, .nearest, .area].flatMap { f in
    [
        PlanarCase(srcW: 96, srcH: 72, crop: (0, 0, 96, 72), outW: 32, outH: 32, filter: f),
        // "resize shorter side to 256, centre-crop 224" as one fractional window.
        PlanarCase(srcW: 80, srcH: 60, crop: (13.75, 3.75, 52.5, 52.5), outW: 28, outH: 28, filter: f),
        PlanarCase(srcW: 21, srcH: 13, crop: (3, 2, 9, 7), outW: 40, outH: 24, filter: f),
        // A window reaching past the picture: edge pixels repeat.
        PlanarCase(srcW: 16, srcH: 16, crop: (-4, -2, 24, 20), outW: 12, outH: 10, filter: f),
    ]
}

@Suite("Planar preprocessing")
struct PlanarTests {
    let mean: [Float] = [0.485, 0.456, 0.406]
    let std: [Float] = [0.229, 0.224, 0.225]

    @Test("resampledPlanar matches its naive twin", arguments: planarCases)
    func fastMatchesNaive(_ c: PlanarCase) {
        let src = randomImage(width: c.srcW, height: c.srcH, seed: 42)
        let fast = src.resampledPlanar(cropX: c.crop.0, cropY: c.crop.1, cropW: c.crop.2, cropH: c.crop.3,
                                       toWidth: c.outW, toHeight: c.outH, filter: c.filter, mean: mean, std: std)
        let naive = src.resampledPlanarNaive(cropX: c.crop.0, cropY: c.crop.1, cropW: c.crop.2, cropH: c.crop.3,
                                             toWidth: c.outW, toHeight: c.outH, filter: c.filter, mean: mean, std: std)
        #expect(fast.count == 3 * c.outW * c.outH)
        let m = compare(fast, naive, rtol: 1e-4, atol: 2e-4)
        #expect(m == nil, "\(m.map { "\($0)" } ?? "")")
    }

    @Test("planar output of the whole picture equals the 8-bit resize, normalised, within rounding")
    func agreesWithResize() {
        let src = smoothImage(width: 64, height: 48)
        let planar = src.resampledPlanar(cropX: 0, cropY: 0, cropW: 64, cropH: 48, toWidth: 24, toHeight: 20,
                                         filter: .bicubic, mean: [0, 0, 0], std: [1, 1, 1], pixelScale: 1)
        let resized = src.resized(width: 24, height: 20, filter: .bicubic)
        var expected = [Float](repeating: 0, count: planar.count)
        for y in 0..<20 { for x in 0..<24 {
            let p = resized[x, y]
            expected[0 * 480 + y * 24 + x] = Float(p.0); expected[1 * 480 + y * 24 + x] = Float(p.1); expected[2 * 480 + y * 24 + x] = Float(p.2)
        } }
        let m = compare(planar, expected, rtol: 0, atol: 0.5001)
        #expect(m == nil, "\(m.map { "\($0)" } ?? "")")
    }

    @Test("normalisation: (pixel / 255 - mean) / std per channel")
    func normalisation() {
        let src = RGBImage(width: 4, height: 4, fill: (255, 0, 128))
        let out = src.resampledPlanar(cropX: 0, cropY: 0, cropW: 4, cropH: 4, toWidth: 2, toHeight: 2, filter: .bilinear, mean: mean, std: std)
        let r: Float = (1 - 0.485) / 0.229
        let g: Float = (0 - 0.456) / 0.224
        let b: Float = (128.0 / 255 - 0.406) / 0.225
        let expected = [Float](repeating: r, count: 4) + [Float](repeating: g, count: 4) + [Float](repeating: b, count: 4)
        let m = compare(out, expected, rtol: 1e-5, atol: 1e-5)
        #expect(m == nil, "\(m.map { "\($0)" } ?? "")")
    }
}

import Imaging
import Testing

@Suite("Colormaps")
struct ColormapTests {
    @Test("turbo runs from dark blue through green to dark red")
    func turboEndpoints() {
        let lo = Colormap.turbo.color(0), mid = Colormap.turbo.color(0.5), hi = Colormap.turbo.color(1)
        // Canonical Turbo: (48, 18, 59) at 0, (122, 4, 3) at 1; the polynomial fit is within ~35 of them.
        #expect(lo.r < 64 && lo.g < 64 && lo.b < 80 && lo.b > lo.g, "turbo(0) = \(lo)")
        #expect(hi.r > 100 && hi.r < 170 && hi.g < 30 && hi.b < 30, "turbo(1) = \(hi)")
        #expect(mid.g > 200 && mid.g > mid.r && mid.g > mid.b, "turbo(0.5) = \(mid)")
        // Exactly the polynomial at table entries.
        for i in [0, 37, 128, 200, 255] {
            let (r, g, b) = Colormap.turboPolynomial(Double(i) / 255)
            func q(_ x: Double) -> UInt8 { UInt8(min(max(x, 0), 1) * 255 + 0.5) }
            #expect(Colormap.turbo.color(Float(i) / 255) == RGBColor(q(r), q(g), q(b)))
        }
    }

    @Test("values outside 0...1 and NaN clamp to the ends")
    func clamping() {
        #expect(Colormap.turbo.color(-3) == Colormap.turbo.color(0))
        #expect(Colormap.turbo.color(7) == Colormap.turbo.color(1))
        #expect(Colormap.turbo.color(.nan) == Colormap.turbo.color(0))
    }

    @Test("jet and gray endpoints")
    func jetGray() {
        #expect(Colormap.jet.color(0) == RGBColor(0, 0, 128))
        #expect(Colormap.jet.color(1) == RGBColor(128, 0, 0))
        // 0.5 falls on table entry 128, i.e. 128/255.
        #expect(Colormap.jet.color(0.5) == RGBColor(130, 255, 126))
        #expect(Colormap.gray.color(0) == .black && Colormap.gray.color(1) == .white)
        #expect(Colormap(named: "TURBO") == .turbo && Colormap(named: "viridis") == nil)
    }
}

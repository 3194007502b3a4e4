import Imaging
import Testing

@Suite("Drawing and text")
struct DrawingTests {
    /// The bounding box of pixels that are not `paper`, or nil.
    func inkBox(_ img: RGBImage, paper: (UInt8, UInt8, UInt8) = (0, 0, 0)) -> (x0: Int, y0: Int, x1: Int, y1: Int, count: Int)? {
        var x0 = Int.max, y0 = Int.max, x1 = -1, y1 = -1, n = 0
        for y in 0..<img.height { for x in 0..<img.width where img[x, y] != paper {
            x0 = min(x0, x); y0 = min(y0, y); x1 = max(x1, x); y1 = max(y1, y); n += 1
        } }
        return n == 0 ? nil : (x0, y0, x1, y1, n)
    }

    @Test("text draws ink inside the measured box", arguments: [1, 2, 5])
    func textInBox(scale: Int) {
        var img = RGBImage(width: 400, height: 120)
        let text = "Top-1: cat 0.93 (R=0.81) gjpqy"
        let size = img.drawText(text, x: 10, y: 20, scale: scale, color: .white)
        #expect(size == RGBImage.measureText(text, scale: scale))
        #expect(size.w == (text.count * 6 - 1) * scale && size.h == 8 * scale)
        let box = inkBox(img)
        #expect(box != nil)
        if let box {
            #expect(box.x0 >= 10 && box.y0 >= 20 && box.x1 < 10 + size.w && box.y1 < 20 + size.h, "ink \(box) outside \(size)")
            #expect(box.x0 == 10 && box.y0 == 20, "the T and the first row start at the origin")
            #expect(box.y1 >= 20 + 7 * scale, "descenders reach the last row")
            #expect(box.count > 100 * scale * scale)
        }
    }

    @Test("every printable character has a glyph, except space")
    func glyphs() {
        for v in 33...126 {
            var img = RGBImage(width: 5, height: 8)
            img.drawText(String(UnicodeScalar(UInt8(v))), x: 0, y: 0)
            #expect(inkBox(img) != nil, "no ink for \(UnicodeScalar(UInt8(v)))")
        }
        var space = RGBImage(width: 5, height: 8)
        space.drawText(" ", x: 0, y: 0)
        #expect(inkBox(space) == nil)
    }

    @Test("text and background clip at the picture's edges without crashing")
    func clipping() {
        var img = RGBImage(width: 30, height: 10)
        img.drawText("clipped text", x: -7, y: -3, scale: 2, color: .white, background: .red, backgroundAlpha: 0.5)
        img.drawText("x", x: 29, y: 9, scale: 3)
        #expect(inkBox(img) != nil)
    }

    @Test("multi-line text measures the widest line")
    func multiline() {
        #expect(RGBImage.measureText("ab\nabcd", scale: 2) == ((4 * 6 - 1) * 2, (2 * 10 - 2) * 2))
        #expect(RGBImage.measureText("", scale: 1) == (0, 8))
    }

    @Test("fillRect, strokeRect and translucent fill")
    func rects() {
        var img = RGBImage(width: 20, height: 20)
        img.strokeRect(x: 2, y: 3, width: 10, height: 8, color: .white, thickness: 2)
        #expect(img[2, 3] == (255, 255, 255) && img[11, 10] == (255, 255, 255) && img[3, 4] == (255, 255, 255))
        #expect(img[4, 5] == (0, 0, 0) && img[12, 3] == (0, 0, 0))
        let box = inkBox(img)!
        #expect((box.x0, box.y0, box.x1, box.y1) == (2, 3, 11, 10))
        #expect(box.count == 10 * 8 - 6 * 4)

        var fill = RGBImage(width: 4, height: 4, fill: (100, 100, 100))
        fill.fillRect(x: -2, y: -2, width: 4, height: 4, color: .white, alpha: 0.5)
        #expect(fill[0, 0] == (178, 178, 178) && fill[2, 2] == (100, 100, 100))
        fill.fillRect(x: 1, y: 1, width: 100, height: 100, color: RGBColor(1, 2, 3))
        #expect(fill[3, 3] == (1, 2, 3))
    }

    @Test("lines and gauge")
    func linesAndGauge() {
        var img = RGBImage(width: 10, height: 10)
        img.drawLine(x0: 0, y0: 0, x1: 9, y1: 9, color: .white)
        for i in 0..<10 { #expect(img[i, i] == (255, 255, 255)) }
        #expect(inkBox(img)!.count == 10)
        var g = RGBImage(width: 20, height: 4)
        g.drawGauge(x: 0, y: 0, width: 20, height: 4, value: 0.5, fill: .green, track: .gray, border: nil)
        #expect(g[9, 2] == RGBColor.green.tuple && g[10, 2] == RGBColor.gray.tuple)
    }
}

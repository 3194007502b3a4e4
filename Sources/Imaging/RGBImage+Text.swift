extension RGBImage {
    /// The size in pixels of `text` drawn with `BitmapFont` at `scale` (each font pixel a `scale` x `scale`
    /// square): the widest line by all lines, without the trailing gap after the last character, descenders
    /// included. Lines are separated by `\n`.
    public static func measureText(_ text: String, scale: Int = 1) -> (w: Int, h: Int) {
        let s = max(scale, 1)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let longest = lines.map { $0.unicodeScalars.count }.max() ?? 0
        let w = longest == 0 ? 0 : (longest * BitmapFont.advance - (BitmapFont.advance - BitmapFont.glyphWidth)) * s
        let h = (lines.count * BitmapFont.lineAdvance - (BitmapFont.lineAdvance - BitmapFont.glyphHeight)) * s
        return (w, h)
    }

    /// `measureText` as an instance method, for convenience at call sites that hold a picture.
    public func measureText(_ text: String, scale: Int = 1) -> (w: Int, h: Int) { Self.measureText(text, scale: scale) }

    /// A text scale that keeps `BitmapFont` legible on this picture: `max(1, height / 240)`, so 8-pixel glyphs
    /// at 176x144, 2 at 768x576, 4 at 1080p, 9 at 2160p.
    public var suggestedTextScale: Int { max(1, height / 240) }

    /// Draws `text` with its top-left corner at (x, y); the part outside the picture is clipped.
    ///
    /// - Parameters:
    ///   - scale: Size of one font pixel in picture pixels (see `suggestedTextScale`).
    ///   - color: Ink colour.
    ///   - background: When given, a box `scale` pixels larger than the text on every side is filled first
    ///     with this colour at `backgroundAlpha` opacity.
    /// - Returns: The text's size, as `measureText` gives it.
    @discardableResult
    public mutating func drawText(_ text: String, x: Int, y: Int, scale: Int = 1, color: RGBColor = .white,
                                  background: RGBColor? = nil, backgroundAlpha: Float = 1) -> (w: Int, h: Int) {
        let s = max(scale, 1)
        let size = Self.measureText(text, scale: s)
        if let background {
            fillRect(x: x - s, y: y - s, width: size.w + 2 * s, height: size.h + 2 * s, color: background, alpha: backgroundAlpha)
        }
        let rows = BitmapFont.rows
        var penY = y
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var penX = x
            for scalar in line.unicodeScalars {
                if penX >= width { break }
                let g = BitmapFont.glyphIndex(scalar) * BitmapFont.glyphHeight
                if penX + BitmapFont.glyphWidth * s > 0 {
                    for row in 0..<BitmapFont.glyphHeight {
                        let bits = rows[g + row]
                        if bits == 0 { continue }
                        for col in 0..<BitmapFont.glyphWidth where bits & (0x10 >> UInt8(col)) != 0 {
                            fillRect(x: penX + col * s, y: penY + row * s, width: s, height: s, color: color)
                        }
                    }
                }
                penX += BitmapFont.advance * s
            }
            penY += BitmapFont.lineAdvance * s
        }
        return size
    }
}

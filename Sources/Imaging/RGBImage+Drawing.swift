extension RGBImage {
    /// The part of the rectangle inside the picture, or nil if none is.
    func clip(x: Int, y: Int, width w: Int, height h: Int) -> (x0: Int, y0: Int, x1: Int, y1: Int)? {
        let x0 = max(x, 0), y0 = max(y, 0)
        let x1 = min(x + w, width), y1 = min(y + h, height)
        return x0 < x1 && y0 < y1 ? (x0, y0, x1, y1) : nil
    }

    /// Paints the rectangle `x..<x+width` by `y..<y+height` with `color`; the part outside the picture is
    /// ignored.
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, color: RGBColor) {
        guard let r = clip(x: x, y: y, width: w, height: h) else { return }
        let stride = width * 3
        pixels.withUnsafeMutableBufferPointer { px in
            for yy in r.y0..<r.y1 {
                var p = yy * stride + r.x0 * 3
                for _ in r.x0..<r.x1 { px[p] = color.r; px[p + 1] = color.g; px[p + 2] = color.b; p += 3 }
            }
        }
    }

    /// Mixes `color` into the rectangle with opacity `alpha` (0 leaves it unchanged, 1 paints it), in 1/256
    /// steps; the part outside the picture is ignored.
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, color: RGBColor, alpha: Float) {
        let a = Int32((min(max(alpha, 0), 1) * 256).rounded())
        if a == 0 { return }
        if a == 256 { fillRect(x: x, y: y, width: w, height: h, color: color); return }
        guard let r = clip(x: x, y: y, width: w, height: h) else { return }
        let inv = 256 - a
        let cr = Int32(color.r) * a + 128, cg = Int32(color.g) * a + 128, cb = Int32(color.b) * a + 128
        let stride = width * 3
        pixels.withUnsafeMutableBufferPointer { px in
            for yy in r.y0..<r.y1 {
                var p = yy * stride + r.x0 * 3
                for _ in r.x0..<r.x1 {
                    px[p] = UInt8(truncatingIfNeeded: (Int32(px[p]) * inv + cr) >> 8)
                    px[p + 1] = UInt8(truncatingIfNeeded: (Int32(px[p + 1]) * inv + cg) >> 8)
                    px[p + 2] = UInt8(truncatingIfNeeded: (Int32(px[p + 2]) * inv + cb) >> 8)
                    p += 3
                }
            }
        }
    }

    /// Outlines the rectangle `x..<x+width` by `y..<y+height` with a border `thickness` pixels wide drawn
    /// inside it (a border thicker than half the rectangle fills it).
    public mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, color: RGBColor, thickness: Int = 1) {
        guard w > 0 && h > 0 && thickness > 0 else { return }
        let t = min(thickness, (min(w, h) + 1) / 2)
        fillRect(x: x, y: y, width: w, height: t, color: color)                 // top
        fillRect(x: x, y: y + h - t, width: w, height: t, color: color)         // bottom
        fillRect(x: x, y: y + t, width: t, height: h - 2 * t, color: color)     // left
        fillRect(x: x + w - t, y: y + t, width: t, height: h - 2 * t, color: color) // right
    }

    /// Draws a straight line from (x0, y0) to (x1, y1) inclusive with a square pen `thickness` pixels wide
    /// (Bresenham); the part outside the picture is ignored.
    public mutating func drawLine(x0: Int, y0: Int, x1: Int, y1: Int, color: RGBColor, thickness: Int = 1) {
        let t = max(thickness, 1), half = (t - 1) / 2
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        while true {
            if t == 1 {
                if x >= 0 && y >= 0 && x < width && y < height { self[x, y] = color.tuple }
            } else {
                fillRect(x: x - half, y: y - half, width: t, height: t, color: color)
            }
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// A horizontal gauge: a `track`-coloured bar whose left `value` share (clamped to 0...1) is `fill`,
    /// with a 1-pixel `border` when given.
    public mutating func drawGauge(x: Int, y: Int, width w: Int, height h: Int, value: Float,
                                   fill: RGBColor, track: RGBColor = RGBColor(60, 60, 60), border: RGBColor? = .white) {
        guard w > 0 && h > 0 else { return }
        fillRect(x: x, y: y, width: w, height: h, color: track)
        let v = value.isNaN ? 0 : min(max(value, 0), 1)
        let filled = Int((Float(w) * v).rounded())
        fillRect(x: x, y: y, width: filled, height: h, color: fill)
        if let border { strokeRect(x: x, y: y, width: w, height: h, color: border, thickness: 1) }
    }
}

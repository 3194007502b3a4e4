extension RGBImage {
    /// Blends a colour-mapped heat grid over the picture, in place.
    ///
    /// The grid is upsampled bilinearly to the picture with pixel-centre alignment (`align_corners = false`,
    /// as PyTorch's `interpolate(mode: "bilinear")`; positions before the first or after the last grid centre
    /// take the edge value), mapped through `colormap`, and mixed as `out = (1 - alpha) * pixel + alpha * colour`
    /// with `alpha` in 1/256 steps (alpha 0 leaves every byte unchanged, alpha 1 gives the colour).
    /// - Parameters:
    ///   - heat: `height x width` values, row-major, in 0...1 (clamped; NaN counts as 0).
    ///   - width, height: Grid size, e.g. 7 x 7 for a ResNet Grad-CAM.
    ///   - colormap: Usually `.turbo`.
    ///   - alpha: Opacity of the colour, 0...1.
    /// - Complexity: O(pixels); per pixel one lerp, one table look-up and three integer blends.
    public mutating func blendHeatmap(_ heat: [Float], width gw: Int, height gh: Int, colormap: Colormap = .turbo, alpha: Float) {
        precondition(gw > 0 && gh > 0 && heat.count == gw * gh, "blendHeatmap: \(heat.count) values do not make a \(gw)x\(gh) grid")
        let a = Int32((min(max(alpha, 0), 1) * 256).rounded())
        if a == 0 || width == 0 || height == 0 { return }
        let w = width, h = height
        // Per output column: left grid column, right grid column, weight of the right one.
        var x0 = [Int32](repeating: 0, count: w), x1 = [Int32](repeating: 0, count: w), fx = [Float](repeating: 0, count: w)
        for x in 0..<w {
            let (i0, i1, f) = Self.gridLerp(x, outSize: w, gridSize: gw)
            x0[x] = Int32(i0); x1[x] = Int32(i1); fx[x] = f
        }
        // lutA: 256 x 3, colour * alpha + 128 (rounding), so a blend is (pixel * (256 - a) + lutA) >> 8
        let lutA = colormap.table.map { UInt16($0) * UInt16(a) + 128 }
        // grid: gh x gw, the heat clamped to 0...1 with NaN as 0, so interpolated values need no checks
        let grid = heat.map { $0.isNaN ? 0 : min(max($0, 0), 1) }
        // rowHeat: gw values, the grid interpolated vertically at the current output row
        var rowHeat = [Float](repeating: 0, count: gw)
        // rowColor: w x 3, lutA entries of the current output row
        var rowColor = [UInt16](repeating: 0, count: w * 3)
        let inv = UInt32(256 - a)
        lutA.withUnsafeBufferPointer { lutA in
        grid.withUnsafeBufferPointer { heat in
        pixels.withUnsafeMutableBufferPointer { px in
        rowHeat.withUnsafeMutableBufferPointer { rowHeat in
        rowColor.withUnsafeMutableBufferPointer { rowColor in
        x0.withUnsafeBufferPointer { x0 in
        x1.withUnsafeBufferPointer { x1 in
        fx.withUnsafeBufferPointer { fx in
            for y in 0..<h {
                let (j0, j1, fy) = Self.gridLerp(y, outSize: h, gridSize: gh)
                for g in 0..<gw {
                    let top = heat[j0 * gw + g], bottom = heat[j1 * gw + g]
                    rowHeat[g] = top + (bottom - top) * fy
                }
                // Colour look-up for the row (gathers), then a blend over plain bytes (vectorises).
                for x in 0..<w {
                    let l = rowHeat[Int(x0[x])], r = rowHeat[Int(x1[x])]
                    let c = min(Int((l + (r - l) * fx[x]) * 255 + 0.5), 255) * 3   // value in 0...1, see grid
                    rowColor[x * 3] = lutA[c]; rowColor[x * 3 + 1] = lutA[c + 1]; rowColor[x * 3 + 2] = lutA[c + 2]
                }
                let row = UnsafeMutableBufferPointer(rebasing: px[(y * w * 3)..<((y + 1) * w * 3)])
                for i in 0..<(w * 3) {
                    row[i] = UInt8(truncatingIfNeeded: (UInt32(row[i]) &* inv &+ UInt32(rowColor[i])) >> 8)
                }
            }
        }}}}}}}}
    }

    /// For output index `i` of `outSize`, the two grid cells to interpolate and the weight of the second
    /// (`align_corners = false`, clamped at the edges).
    @inlinable
    static func gridLerp(_ i: Int, outSize: Int, gridSize: Int) -> (Int, Int, Float) {
        let s = max((Double(i) + 0.5) * Double(gridSize) / Double(outSize) - 0.5, 0)
        let i0 = min(Int(s), gridSize - 1)
        let i1 = min(i0 + 1, gridSize - 1)
        return (i0, i1, i0 == i1 ? 0 : Float(s - Double(i0)))
    }

    /// Reference twin of `blendHeatmap`: per pixel, bilinear weights over the whole grid from the definition in
    /// double precision and a floating-point blend with the same 1/256 alpha step. Differs from the fast
    /// version only where the interpolated value rounds to a neighbouring colour entry. For tests.
    public mutating func blendHeatmapNaive(_ heat: [Float], width gw: Int, height gh: Int, colormap: Colormap, alpha: Float) {
        let a = (Double(min(max(alpha, 0), 1)) * 256).rounded() / 256
        for y in 0..<height {
            let sy = min(max((Double(y) + 0.5) * Double(gh) / Double(height) - 0.5, 0), Double(gh - 1))
            for x in 0..<width {
                let sx = min(max((Double(x) + 0.5) * Double(gw) / Double(width) - 0.5, 0), Double(gw - 1))
                var v = 0.0
                for gy in 0..<gh {
                    for gx in 0..<gw {
                        let w = max(0, 1 - abs(Double(gx) - sx)) * max(0, 1 - abs(Double(gy) - sy))
                        v += w * Double(heat[gy * gw + gx])
                    }
                }
                let c = colormap.color(Float(v))
                let p = self[x, y]
                func mix(_ s: UInt8, _ t: UInt8) -> UInt8 { UInt8((Double(s) * (1 - a) + Double(t) * a).rounded()) }
                self[x, y] = (mix(p.0, c.r), mix(p.1, c.g), mix(p.2, c.b))
            }
        }
    }
}

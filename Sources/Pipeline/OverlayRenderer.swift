import Imaging
import Robustness

/// Draws the analysis over a frame: Grad-CAM heat over the region the model saw, a caption with the label,
/// its probability and the retention with its interval, a retention gauge, and the flipping patches outlined.
public struct OverlayRenderer: Sendable {
    public var alpha: Float = 0.4
    public var colormap: Colormap = .turbo
    public init() {}

    /// Renders `analysis` over `image`.
    /// - Parameters:
    ///   - camScale: the value mapped to the top of the colour map (per-clip or per-frame maximum).
    ///   - inputWidth, inputHeight: the model input size, to place patches.
    public func render(_ image: RGBImage, analysis a: FrameAnalysis, camScale: Float, inputWidth: Int, inputHeight: Int) -> RGBImage {
        var out = image
        let crop = a.crop
        let cx = Int(crop.x.rounded()), cy = Int(crop.y.rounded())
        let cw = max(1, min(Int(crop.width.rounded()), image.width - cx)), ch = max(1, min(Int(crop.height.rounded()), image.height - cy))
        // Dim what the model did not see.
        if cx > 0 || cy > 0 || cw < image.width || ch < image.height {
            out.fillRect(x: 0, y: 0, width: image.width, height: cy, color: .black, alpha: 0.35)
            out.fillRect(x: 0, y: cy + ch, width: image.width, height: image.height - cy - ch, color: .black, alpha: 0.35)
            out.fillRect(x: 0, y: cy, width: cx, height: ch, color: .black, alpha: 0.35)
            out.fillRect(x: cx + cw, y: cy, width: image.width - cx - cw, height: ch, color: .black, alpha: 0.35)
        }
        // Heat over the crop.
        let scale = camScale > 0 ? camScale : 1
        let heat = a.cam.map { min(max($0 / scale, 0), 1) }
        var region = out.cropped(x: cx, y: cy, width: cw, height: ch)
        region.blendHeatmap(heat, width: a.camWidth, height: a.camHeight, colormap: colormap, alpha: alpha)
        out.paste(region, x: cx, y: cy)
        let textScale = max(1, min(image.width / 200, image.height / 150))
        let thick = max(1, textScale)
        // Flipping patches.
        let sx = crop.width / Double(inputWidth), sy = crop.height / Double(inputHeight)
        for p in a.patches where p.flipped {
            out.strokeRect(x: cx + Int(Double(p.patch.x) * sx), y: cy + Int(Double(p.patch.y) * sy),
                           width: max(2, Int(Double(p.patch.side) * sx)), height: max(2, Int(Double(p.patch.side) * sy)),
                           color: RGBColor(255, 40, 40), thickness: thick)
        }
        // Caption.
        let top = a.top1
        let label = top.label.count > 28 ? String(top.label.prefix(27)) + "." : top.label
        let line1 = "\(label) \(percent(Double(top.probability)))"
        let line2 = "R \(percent(a.retention)) [\(percent(a.retentionInterval.low))-\(percent(a.retentionInterval.high))]"
        let pad = 2 * textScale
        let s1 = out.drawText(line1, x: pad, y: pad, scale: textScale, color: .white, background: .black, backgroundAlpha: 0.6)
        _ = out.drawText(line2, x: pad, y: pad + s1.h + textScale, scale: textScale, color: a.anyFlip ? RGBColor(255, 200, 80) : .white,
                         background: .black, backgroundAlpha: 0.6)
        // Gauge along the bottom.
        let gw = max(20, image.width / 4), gh = max(3, 3 * textScale)
        let gaugeColor = a.retention >= 0.8 ? RGBColor(60, 200, 90) : (a.retention >= 0.5 ? RGBColor(240, 190, 40) : RGBColor(230, 60, 50))
        out.drawGauge(x: pad, y: image.height - gh - pad, width: gw, height: gh, value: Float(a.retention), fill: gaugeColor)
        return out
    }

    func percent(_ v: Double) -> String { "\(Int((v * 100).rounded()))%" }
}

extension RGBImage {
    /// Copies `src` into this picture with its top-left corner at (x, y), clipped to the picture.
    mutating func paste(_ src: RGBImage, x: Int, y: Int) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x + src.width), y1 = min(height, y + src.height)
        guard x1 > x0, y1 > y0 else { return }
        let n = (x1 - x0) * 3
        for yy in y0..<y1 {
            let d = (yy * width + x0) * 3, s = ((yy - y) * src.width + (x0 - x)) * 3
            pixels.withUnsafeMutableBufferPointer { dp in
                src.pixels.withUnsafeBufferPointer { sp in (dp.baseAddress! + d).update(from: sp.baseAddress! + s, count: n) }
            }
        }
    }
}

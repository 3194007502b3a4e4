import Foundation
import Robustness

/// The HTML report's faithfulness section (`--faithfulness`): each CAM method's clip means with intervals, ranked,
/// and the deletion and insertion curves of the least robust frames.
extension HTMLReport {
    static let methodColors = ["#2f6690", "#c05621", "#2f855a", "#b83280", "#6b46c1", "#b7791f", "#2c7a7b", "#9b2c2c"]

    func faithfulnessSection() -> String {
        guard let rows = summary.faithfulness, !rows.isEmpty else { return "" }
        func ci(_ m: MeanWithInterval) -> String { "\(fmt(m.mean)) <span class=\"sub\">[\(fmt(m.interval.low)), \(fmt(m.interval.high))]</span>" }
        var h = "<h2 id=\"faithfulness\">Faithfulness of the explanations</h2>\n"
        h += "<p class=\"sub\">Deletion: the target's probability as pixels are replaced by the mean colour in the order the map ranks them (lower area is more faithful); insertion: as they are put back on a mean-colour image (higher is more faithful). "
        h += "Ranked by insertion minus deletion AUC; <i>random</i> is a seeded random pixel order, the floor a map must beat. CAM mult.: the probability change when the input is multiplied by the map (pytorch-grad-cam's CamMultImageConfidenceChange). Means over frames with 95% block-bootstrap intervals.</p>\n"
        h += "<table><tr><th>rank</th><th>method</th><th>frames</th><th>insertion − deletion</th><th>deletion AUC</th><th>insertion AUC</th><th>CAM mult. change</th></tr>\n"
        var rank = 0
        for r in rows {
            let isRandom = r.method == "random"
            if !isRandom { rank += 1 }
            h += "<tr><td>\(isRandom ? "" : String(rank))</td><td>\(HTML.escape(r.method))</td><td>\(r.frames)</td><td>\(ci(r.score))</td><td>\(ci(r.deletionAUC))</td><td>\(ci(r.insertionAUC))</td><td>\(r.camMultChange.map(ci) ?? "")</td></tr>\n"
        }
        h += "</table>\n"
        let framesWithCurves = summary.worstFrames.filter { $0.curves?.isEmpty == false }
        guard !framesWithCurves.isEmpty else { return h }
        h += "<h3>Deletion and insertion curves of the least robust frames</h3>\n<div class=\"curves\">\n"
        for w in framesWithCurves {
            let curves = w.curves ?? []
            func series(_ pick: (MethodCurves) -> [Float]) -> [(String, String, [Float])] {
                curves.enumerated().map { i, c in (c.method, c.method == "random" ? "#888888" : Self.methodColors[i % Self.methodColors.count], pick(c)) }
            }
            h += "<div class=\"curve-pair\"><b>Frame \(w.frame)</b> at \(secs(w.pts)) &middot; retention \(fmt(w.retention))<br>"
            h += SVGChart.curves(series(\.deletion), title: "deletion", ariaLabel: "deletion curves of frame \(w.frame)")
            h += SVGChart.curves(series(\.insertion), title: "insertion", ariaLabel: "insertion curves of frame \(w.frame)")
            h += "</div>\n"
        }
        return h + "</div>\n"
    }
}

extension SVGChart {
    /// Small curves of the target's probability (0-1) against the fraction of pixels (0-1), one polyline per series,
    /// with a legend.
    static func curves(_ series: [(name: String, color: String, values: [Float])], title: String, ariaLabel: String) -> String {
        let w = 320.0, h = 200.0, l = 40.0, r = 90.0, t = 18.0, b = 30.0
        let pw = w - l - r, ph = h - t - b
        func sx(_ x: Double) -> Double { l + x * pw }
        func sy(_ y: Double) -> Double { t + (1 - min(max(y.isFinite ? y : 0, 0), 1)) * ph }
        var s = "<svg class=\"chart small\" viewBox=\"0 0 \(f(w)) \(f(h))\" width=\"\(f(w))\" role=\"img\" aria-label=\"\(HTML.escape(ariaLabel))\">\n"
        s += "<text class=\"axis-label\" x=\"\(f(l + pw / 2))\" y=\"12\" text-anchor=\"middle\">\(HTML.escape(title))</text>"
        for v in [0.0, 0.5, 1.0] {
            s += "<line class=\"grid\" x1=\"\(f(l))\" y1=\"\(f(sy(v)))\" x2=\"\(f(l + pw))\" y2=\"\(f(sy(v)))\"/>"
            s += "<text class=\"tick\" x=\"\(f(l - 4))\" y=\"\(f(sy(v) + 4))\" text-anchor=\"end\">\(String(format: "%.1f", v))</text>"
            s += "<text class=\"tick\" x=\"\(f(sx(v)))\" y=\"\(f(t + ph + 14))\" text-anchor=\"middle\">\(String(format: "%.1f", v))</text>"
        }
        s += "<text class=\"axis-label\" x=\"\(f(l + pw / 2))\" y=\"\(f(h - 3))\" text-anchor=\"middle\">fraction of pixels</text>\n"
        for (i, c) in series.enumerated() where c.values.count > 1 {
            let n = Double(c.values.count - 1)
            let pts = c.values.enumerated().map { "\(f(sx(Double($0.offset) / n))),\(f(sy(Double($0.element))))" }.joined(separator: " ")
            s += "<polyline class=\"series\" stroke=\"\(c.color)\" points=\"\(pts)\"/>"
            s += "<text class=\"tick\" x=\"\(f(l + pw + 6))\" y=\"\(f(t + 10 + Double(i) * 13))\" style=\"fill:\(c.color)\">\(HTML.escape(c.name))</text>\n"
        }
        return s + "</svg>\n"
    }
}

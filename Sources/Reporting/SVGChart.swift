import Foundation

/// One plotted point; `low`/`high` bound the shaded band when the chart has one.
struct ChartPoint {
    var x: Double
    var y: Double
    var low: Double
    var high: Double
}

/// Inline SVG line charts over time with labelled axes (no script, no external references).
enum SVGChart {
    static let width = 960.0, height = 230.0
    static let left = 52.0, right = 18.0, top = 14.0, bottom = 38.0

    /// A line chart of `points` (y in 0...1) against time in seconds over `xDomain`, with an optional band.
    /// With `seekable`, the chart carries its time axis and a hidden playhead for the review page's script.
    static func line(points: [ChartPoint], xDomain: ClosedRange<Double>, yLabel: String, band: Bool,
                     color: String, ariaLabel: String, threshold: Double? = nil, seekable: Bool = false) -> String {
        let plotW = width - left - right, plotH = height - top - bottom
        let span = max(xDomain.upperBound - xDomain.lowerBound, 1e-9)
        func sx(_ x: Double) -> Double { left + (x - xDomain.lowerBound) / span * plotW }
        func sy(_ y: Double) -> Double { top + (1 - min(max(y.isFinite ? y : 0, 0), 1)) * plotH }
        var s = "<svg class=\"chart\(seekable ? " seekable" : "")\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\" aria-label=\"\(HTML.escape(ariaLabel))\" preserveAspectRatio=\"xMidYMid meet\"\(seekable ? timeAxis(xDomain) : "")>\n"
        // Grid and y ticks.
        for t in stride(from: 0.0, through: 1.0001, by: 0.25) {
            let y = sy(t)
            s += "<line class=\"grid\" x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(width - right))\" y2=\"\(f(y))\"/>"
            s += "<text class=\"tick\" x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(String(format: "%.2f", t))</text>\n"
        }
        // X ticks.
        for t in ticks(xDomain) {
            let x = sx(t)
            s += "<line class=\"tickmark\" x1=\"\(f(x))\" y1=\"\(f(top + plotH))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH + 5))\"/>"
            s += "<text class=\"tick\" x=\"\(f(x))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(tickLabel(t))</text>\n"
        }
        s += "<line class=\"axis\" x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(width - right))\" y2=\"\(f(top + plotH))\"/>"
        s += "<line class=\"axis\" x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\"/>\n"
        s += "<text class=\"axis-label\" x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 4))\" text-anchor=\"middle\">time (s)</text>"
        s += "<text class=\"axis-label\" transform=\"translate(13 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTML.escape(yLabel))</text>\n"
        if let t = threshold, t.isFinite {
            let y = sy(t)
            s += "<line class=\"threshold\" x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(width - right))\" y2=\"\(f(y))\"/>"
            s += "<text class=\"threshold-label\" x=\"\(f(width - right - 4))\" y=\"\(f(y - 5))\" text-anchor=\"end\">fail-under \(tickLabel(t))</text>\n"
        }
        if points.isEmpty {
            s += "<text class=\"empty\" x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\">no analysed frames</text>"
        } else {
            if band {
                let upper = points.map { "\(f(sx($0.x))),\(f(sy($0.high)))" }
                let lower = points.reversed().map { "\(f(sx($0.x))),\(f(sy($0.low)))" }
                s += "<polygon class=\"band\" fill=\"\(color)\" points=\"\((upper + lower).joined(separator: " "))\"/>\n"
            }
            if points.count == 1 {
                s += "<circle cx=\"\(f(sx(points[0].x)))\" cy=\"\(f(sy(points[0].y)))\" r=\"3.5\" fill=\"\(color)\"/>"
            } else {
                let line = points.map { "\(f(sx($0.x))),\(f(sy($0.y)))" }.joined(separator: " ")
                s += "<polyline class=\"series\" stroke=\"\(color)\" points=\"\(line)\"/>\n"
            }
        }
        if seekable { s += playhead(y0: top, y1: top + plotH) }
        s += "</svg>\n"
        return s
    }

    /// The label timeline: one coloured rectangle per segment over `xDomain`, plus an x axis.
    /// With `seekable`, as `line`, and each rectangle carries its start time (`data-t`): the review page seeks there
    /// when it is clicked.
    static func timeline(_ segments: [(start: Double, end: Double, color: String, title: String)],
                         xDomain: ClosedRange<Double>, seekable: Bool = false) -> String {
        let h = 64.0, bandTop = 6.0, bandH = 28.0
        let plotW = width - left - right
        let span = max(xDomain.upperBound - xDomain.lowerBound, 1e-9)
        func sx(_ x: Double) -> Double { left + (x - xDomain.lowerBound) / span * plotW }
        var s = "<svg class=\"chart timeline\(seekable ? " seekable" : "")\" viewBox=\"0 0 \(f(width)) \(f(h))\" role=\"img\" aria-label=\"label timeline\" preserveAspectRatio=\"xMidYMid meet\"\(seekable ? timeAxis(xDomain) : "")>\n"
        s += "<rect x=\"\(f(left))\" y=\"\(f(bandTop))\" width=\"\(f(plotW))\" height=\"\(f(bandH))\" fill=\"#f0f2f5\"/>\n"
        for seg in segments {
            let x0 = sx(seg.start), x1 = max(sx(seg.end), x0 + 1)
            s += "<rect class=\"segment\"\(seekable ? " data-t=\"\(seg.start)\"" : "") x=\"\(f(x0))\" y=\"\(f(bandTop))\" width=\"\(f(min(x1, width - right) - x0))\" height=\"\(f(bandH))\" fill=\"\(seg.color)\"><title>\(HTML.escape(seg.title))</title></rect>\n"
        }
        let axisY = bandTop + bandH
        for t in ticks(xDomain) {
            let x = sx(t)
            s += "<line class=\"tickmark\" x1=\"\(f(x))\" y1=\"\(f(axisY))\" x2=\"\(f(x))\" y2=\"\(f(axisY + 5))\"/>"
            s += "<text class=\"tick\" x=\"\(f(x))\" y=\"\(f(axisY + 18))\" text-anchor=\"middle\">\(tickLabel(t))</text>\n"
        }
        s += "<line class=\"axis\" x1=\"\(f(left))\" y1=\"\(f(axisY))\" x2=\"\(f(width - right))\" y2=\"\(f(axisY))\"/>\n"
        if seekable { s += playhead(y0: bandTop - 3, y1: axisY + 3) }
        s += "</svg>\n"
        return s
    }

    /// The attributes that let the page map time to x and back: the time domain (`data-t0`, `data-t1`, seconds)
    /// and where it is drawn (`data-x0`, `data-x1`, in viewBox units).
    static func timeAxis(_ d: ClosedRange<Double>) -> String {
        " data-t0=\"\(d.lowerBound)\" data-t1=\"\(d.upperBound)\" data-x0=\"\(f(left))\" data-x1=\"\(f(width - right))\""
    }

    /// The vertical line the page moves to the current frame's time (hidden until there is one).
    static func playhead(y0: Double, y1: Double) -> String {
        "<line class=\"playhead\" x1=\"\(f(left))\" y1=\"\(f(y0))\" x2=\"\(f(left))\" y2=\"\(f(y1))\" visibility=\"hidden\"/>\n"
    }

    /// About six round tick values (1, 2 or 5 times a power of ten apart) inside `domain`.
    static func ticks(_ domain: ClosedRange<Double>) -> [Double] {
        let span = domain.upperBound - domain.lowerBound
        guard span > 0, span.isFinite else { return [domain.lowerBound] }
        let raw = span / 6
        let p = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 10 * p
        var out: [Double] = []
        var t = ceil(domain.lowerBound / step) * step
        while t <= domain.upperBound + step * 1e-9 { out.append(t); t += step }
        return out
    }

    static func tickLabel(_ t: Double) -> String {
        if t == t.rounded() { return String(Int(t)) }
        var s = String(format: "%.3f", t)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }

    /// Coordinates with two decimals: compact and deterministic.
    static func f(_ x: Double) -> String { String(format: "%.2f", x.isFinite ? x : 0) }
}

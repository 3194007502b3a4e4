import Foundation
import Robustness

/// HTML text helpers.
enum HTML {
    /// Escapes markup characters; also breaks `://` so that text such as a clip URL is never a live reference
    /// (the report must open offline and contain no external URLs).
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out.replacingOccurrences(of: "://", with: "&#58;//")
    }

    static let style = """
    :root{--fg:#1f2933;--muted:#5f6b7a;--line:#dde3ea;--panel:#f6f8fa;--accent:#2f6690;--pass:#1b7a4a;--fail:#b42318;--none:#52606d}
    *{box-sizing:border-box}
    body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:#fff;line-height:1.45;font-size:15px}
    main{max-width:1100px;margin:0 auto;padding:28px 32px 56px}
    header h1{font-size:22px;margin:0 0 4px;font-weight:650}
    .sub{color:var(--muted);font-size:13px;overflow-wrap:anywhere}
    h2{font-size:17px;font-weight:650;margin:34px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
    .banner{margin:18px 0 0;padding:10px 14px;border-radius:6px;background:#fff8e6;border:1px solid #f5c451;color:#7a4a00;font-weight:600}
    .verdict{display:flex;align-items:center;gap:26px;margin:20px 0 8px;padding:18px 24px;border-radius:10px;border:1px solid var(--line);background:var(--panel)}
    .verdict .word{font-size:46px;font-weight:800;letter-spacing:.05em;line-height:1}
    .verdict.pass .word{color:var(--pass)}.verdict.pass{border-color:#a6d8bd;background:#f1faf5}
    .verdict.fail .word{color:var(--fail)}.verdict.fail{border-color:#f2b8b5;background:#fdf3f2}
    .verdict.none .word{color:var(--none);font-size:34px}
    .verdict .detail{font-size:15px}.verdict .detail b{font-size:20px}
    table{border-collapse:collapse;width:100%;font-size:14px}
    th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
    th{white-space:nowrap;font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
    td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
    td.note{color:var(--muted);font-size:13px}
    table.kv td:first-child{width:220px;color:var(--muted)}
    table.kv td{overflow-wrap:anywhere}
    tr.group td{background:var(--panel);font-weight:600;color:var(--fg)}
    .chart{width:100%;height:auto;display:block}
    .chart .grid{stroke:#e6eaef;stroke-width:1}
    .chart .axis{stroke:#7b8794;stroke-width:1}
    .chart .tickmark{stroke:#7b8794}
    .chart .tick{font-size:11px;fill:#5f6b7a}
    .chart .axis-label{font-size:12px;fill:#3e4c59}
    .chart .empty{font-size:14px;fill:#9aa5b1}
    .chart .series{fill:none;stroke-width:1.6;stroke-linejoin:round}
    .chart .band{opacity:.18;stroke:none}
    .chart .threshold{stroke:#b42318;stroke-width:1.2;stroke-dasharray:6 4}
    .chart .threshold-label{font-size:11px;fill:#b42318}
    .legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:13px;margin-top:6px}
    .legend span.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
    .thumbs{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:16px}
    .thumb{border:1px solid var(--line);border-radius:8px;padding:10px;background:#fff}
    .thumb .pair{display:flex;gap:6px}
    .thumb figure{margin:0;flex:1}
    .thumb img{width:100%;height:auto;display:block;border-radius:4px;image-rendering:auto}
    .thumb figcaption{font-size:11px;color:var(--muted);text-align:center;margin-top:2px}
    .thumb .meta{font-size:13px;margin-top:8px}
    .missing{padding:30px;text-align:center;color:var(--muted);background:var(--panel);border-radius:4px;font-size:13px}
    footer{margin-top:40px;color:var(--muted);font-size:12px}
    .curves { display: flex; flex-wrap: wrap; gap: 14px; } .curve-pair { font-size: 13px; } svg.chart.small { max-width: 320px; }
    """
}

/// The self-contained `report.html`: verdict, metrics with intervals, the review area (the overlay video, when one
/// was written, beside the current frame's figures: `ReviewPage`), charts, label timeline, worst frames and
/// provenance. The charts draw the clip's `FrameSeries` (at most `maxPoints` points); the timeline at most about
/// `maxPoints` rectangles.
struct HTMLReport {
    var provenance: Provenance
    var summary: ClipSummary
    var partial: Bool
    var timing: TimingSummary
    var frameCount: Int
    var series: FrameSeries
    var schemaVersion: String
    var thumbnails: [Int: Thumbnail]
    /// The per-frame figures the review panel embeds.
    var review = ReviewFrames(stride: 1, labels: [], entries: [])
    /// Seconds per source frame (0 when unknown).
    var frameDuration = 0.0
    /// The overlay video beside the page, or nil when none was written (`--no-video`).
    var video: Video? = nil

    /// Files beside report.html, named relative to it.
    struct Video {
        var file: String
        var subtitles: String
    }

    /// Most points drawn per chart.
    static let maxPoints = FrameSeries.maxPoints
    /// Colours for the most frequent labels; the rest share `otherColor`.
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f", "#ff9da7"]
    static let otherColor = "#bac4ce"

    func write(to out: BufferedFile) throws {
        let (prob, ret) = series.chartPoints
        let e = HTML.escape
        let clip = provenance.clip
        let clipName = URL(fileURLWithPath: clip.url).lastPathComponent
        try out.write("""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Vigil report: \(e(clipName))</title>
        <style>
        \(HTML.style)
        \(ReviewPage.style)
        </style>
        </head>
        <body>
        <main>
        <header>
        <h1>Robustness report: \(e(clipName))</h1>
        <div class="sub">\(e(clip.url)) &middot; model \(e(provenance.model.name ?? URL(fileURLWithPath: provenance.model.path).lastPathComponent)) &middot; Vigil \(e(provenance.vigilVersion))</div>
        </header>

        """)
        if partial {
            try out.write("<div class=\"banner\" id=\"partial\">Partial report: the analysis stopped early; the figures cover the \(summary.analysedFrames) frame(s) analysed before it stopped.</div>\n")
        }
        try out.write(verdict())
        try out.write(metrics())
        try out.write(corruptionTable())

        let xs = (prob.map(\.x) + summary.labelTimeline.flatMap { [$0.startPTS, $0.endPTS] })
        let lower = xs.min() ?? 0
        var upper = xs.max() ?? 1
        if upper <= lower { upper = lower + 1 }
        let domain = lower...upper
        let note = frameCount > Self.maxPoints ? " <span class=\"sub\">(\(frameCount) frames averaged into \(prob.count) points)</span>" : ""
        // The review area: the video (or a note that there is none) and the current frame's figures stay in view
        // while the charts, the timeline and the least robust frames below it are clicked.
        try out.write("<section id=\"review-area\">\n<h2>Review</h2>\n")
        try out.write(ReviewPage.block(video: video, review: review, analysedFrames: summary.analysedFrames))
        try out.write("<h2>Top-1 probability over time\(note)</h2>\n")
        try out.write(SVGChart.line(points: prob, xDomain: domain, yLabel: "top-1 probability", band: false,
                                    color: "#2f6690", ariaLabel: "top-1 probability over time", seekable: true))
        try out.write("<h2>Retention over time, with its 95% Wilson interval\(note)</h2>\n")
        try out.write(SVGChart.line(points: ret, xDomain: domain, yLabel: "retention", band: true,
                                    color: "#c05621", ariaLabel: "retention over time", threshold: summary.failUnder, seekable: true))
        try out.write(timeline(domain: domain))
        try out.write(worstFrames())
        try out.write("</section>\n")
        try out.write(faithfulnessSection())
        try out.write(provenanceTable())
        try out.write(ReviewPage.data(review: review, frameDuration: frameDuration, video: video != nil, analysedFrames: summary.analysedFrames))
        try out.write(ReviewPage.script)
        try out.write("<footer>Written by Vigil \(e(provenance.vigilVersion)) (report schema \(schemaVersion)). This page is self-contained and opens offline\(video.map { " (with \(e($0.file)) and \(e($0.subtitles)) beside it)" } ?? "").</footer>\n</main>\n</body>\n</html>\n")
    }

    func verdict() -> String {
        let s = summary
        let mean = "mean retention <b>\(fmt(s.meanRetention))</b> (95% CI \(fmt(s.retentionInterval.low))–\(fmt(s.retentionInterval.high)))"
        switch (s.passed, s.failUnder) {
        case (true?, let t?):
            return "<section class=\"verdict pass\"><div class=\"word\">PASS</div><div class=\"detail\">\(mean)<br>meets the threshold of \(fmt(t)) over \(s.analysedFrames) analysed frames</div></section>\n"
        case (false?, let t?):
            return "<section class=\"verdict fail\"><div class=\"word\">FAIL</div><div class=\"detail\">\(mean)<br>is below the threshold of \(fmt(t)) over \(s.analysedFrames) analysed frames</div></section>\n"
        default:
            return "<section class=\"verdict none\"><div class=\"word\">NO THRESHOLD</div><div class=\"detail\">\(mean) over \(s.analysedFrames) analysed frames<br>run with <code>--fail-under R</code> for a pass/fail verdict</div></section>\n"
        }
    }

    /// Retention under each corruption (rows) at each severity (columns), cells shaded from red (0) to green (1).
    func corruptionTable() -> String {
        guard let rows = summary.corruptions, !rows.isEmpty else { return "" }
        let severities = Array(Set(rows.map(\.severity))).sorted()
        var names: [String] = []
        for r in rows where !names.contains(r.corruption) { names.append(r.corruption) }
        var s = "<h2 id=\"corruptions\">Robustness to camera conditions"
        if let score = summary.corruptionScore { s += String(format: " <span class=\"sub\">(mean retention %.3f)</span>", score) }
        s += "</h2>\n<table><tr><th>corruption</th>" + severities.map { "<th>severity \($0)</th>" }.joined() + "</tr>\n"
        for n in names {
            s += "<tr><td>\(HTML.escape(n))</td>"
            for sev in severities {
                guard let r = rows.first(where: { $0.corruption == n && $0.severity == sev }) else { s += "<td></td>"; continue }
                let hue = Int((r.retention * 120).rounded())
                s += String(format: "<td class=\"num\" style=\"background:hsl(%d,70%%,85%%)\" title=\"%d frames, mean drop %.3f\">%.2f [%.2f, %.2f]</td>",
                            hue, r.frames, r.meanDrop, r.retention, r.retentionInterval.low, r.retentionInterval.high)
            }
            s += "</tr>\n"
        }
        return s + "</table>\n"
    }

    func metrics() -> String {
        let s = summary
        func ci(_ i: Interval) -> String { "\(fmt(i.low)) – \(fmt(i.high))" }
        var rows: [(String, String, String, String)] = [
            ("Mean retention", fmt(s.meanRetention), ci(s.retentionInterval),
             "share of occlusion patches that keep the top-1, averaged over frames; moving-block bootstrap (block \(s.bootstrapBlockLength) frames)"),
            ("Pooled retention", fmt(s.pooledRetention), ci(s.pooledRetentionInterval),
             "all patches of all frames pooled; Wilson interval, ignores dependence between frames"),
            ("Frames with a flip", pct(s.framesWithFlip), "", "frames where at least one patch changed the top-1"),
            ("Mean confidence drop", pct(s.meanConfidenceDrop), "", "mean relative drop of the target's probability under a patch"),
            ("Mean top-1 probability", fmt(s.meanTop1Probability), "", "clean frames"),
            ("Top-1 flip rate", pct(s.top1FlipRate), "", "consecutive analysed frames whose clean top-1 differs"),
            ("Grad-CAM temporal stability", s.camTemporalStability.map(fmt) ?? "n/a", "", "mean Pearson correlation of consecutive Grad-CAM maps"),
            ("Grad-CAM / occlusion agreement", s.camOcclusionAgreement.map(fmt) ?? "n/a", "", "mean Pearson correlation of Grad-CAM and occlusion sensitivity"),
            ("Analysed frames", String(s.analysedFrames), "", ""),
        ]
        if let w = s.occlusionWork {
            rows.append(("Occlusion work", pct(w.multiplyAddShare), "",
                         w.engine == "full" ? "every occluded copy recomputed in full"
                             : "multiply-adds of exact incremental occlusion, as a share of recomputing every occluded copy in full"))
        }
        var h = "<h2>Metrics</h2>\n<table class=\"metrics\">\n<thead><tr><th>Metric</th><th style=\"text-align:right\">Value</th><th style=\"text-align:right\">95% interval</th><th>How it is measured</th></tr></thead>\n<tbody>\n"
        for r in rows {
            h += "<tr><td>\(HTML.escape(r.0))</td><td class=\"num\">\(r.1)</td><td class=\"num\">\(r.2)</td><td class=\"note\">\(HTML.escape(r.3))</td></tr>\n"
        }
        return h + "</tbody>\n</table>\n"
    }

    func timeline(domain: ClosedRange<Double>) -> String {
        let segs = summary.labelTimeline
        var framesByLabel: [String: Int] = [:]
        for s in segs { framesByLabel[s.label, default: 0] += s.frames }
        let ranked = framesByLabel.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        var colors: [String: String] = [:]
        for (i, kv) in ranked.prefix(Self.palette.count).enumerated() { colors[kv.key] = Self.palette[i] }
        let firstPTS = segs.first?.startPTS ?? 0, lastPTS = segs.last?.endPTS ?? 0
        let step = summary.analysedFrames > 1 ? (lastPTS - firstPTS) / Double(summary.analysedFrames - 1) : 0
        var rects: [(start: Double, end: Double, color: String, title: String)] = []
        for run in Self.timelineRuns(segs, span: domain.upperBound - domain.lowerBound) {
            let first = segs[run.lowerBound], last = segs[run.upperBound - 1]
            let end = run.upperBound < segs.count ? segs[run.upperBound].startPTS : last.endPTS + step
            let label: String, title: String
            if run.count == 1 {
                label = first.label
                title = "\(ReviewFrames.cut(first.label)): \(secs(first.startPTS))–\(secs(first.endPTS)), \(first.frames) frame(s)"
            } else {
                // Too short to draw one by one: the label with the most frames stands for the run.
                var frames: [String: Int] = [:]
                for s in segs[run] { frames[s.label, default: 0] += s.frames }
                let top = frames.max { ($0.value, $1.key) < ($1.value, $0.key) }!
                label = top.key
                title = "\(run.count) segments \(secs(first.startPTS))–\(secs(last.endPTS)), mostly \(ReviewFrames.cut(top.key)) (\(top.value) of \(frames.values.reduce(0, +)) frames)"
            }
            rects.append((first.startPTS, end, colors[label] ?? Self.otherColor, title))
        }
        var h = "<h2>Label timeline</h2>\n" + SVGChart.timeline(rects, xDomain: domain, seekable: true) + "<div class=\"legend\">"
        for (label, frames) in ranked.prefix(Self.palette.count) {
            h += "<div><span class=\"sw\" style=\"background:\(colors[label]!)\"></span>\(HTML.escape(label)) <span class=\"sub\">(\(frames) frames)</span></div>"
        }
        if ranked.count > Self.palette.count {
            let rest = ranked.dropFirst(Self.palette.count)
            h += "<div><span class=\"sw\" style=\"background:\(Self.otherColor)\"></span>\(rest.count) other labels <span class=\"sub\">(\(rest.map(\.value).reduce(0, +)) frames)</span></div>"
        }
        if ranked.isEmpty { h += "<div class=\"sub\">no analysed frames</div>" }
        return h + "</div>\n"
    }

    /// The timeline's segments in drawing order: one run per segment, or, when there are more than `maxPoints`
    /// segments, runs of consecutive segments each spanning at least 1/`maxPoints` of `span` (so the page stays
    /// small however often the label flips in a long clip).
    static func timelineRuns(_ segs: [LabelSegment], span: Double) -> [Range<Int>] {
        guard segs.count > maxPoints, span > 0 else { return segs.indices.map { $0..<($0 + 1) } }
        let minimum = span / Double(maxPoints)
        var runs: [Range<Int>] = []
        var start = 0
        for i in segs.indices {
            let end = i + 1 < segs.count ? segs[i + 1].startPTS : segs[i].endPTS
            if end - segs[start].startPTS >= minimum || i + 1 == segs.count {
                runs.append(start..<(i + 1))
                start = i + 1
            }
        }
        return runs
    }

    func worstFrames() -> String {
        var h = "<h2>Least robust frames</h2>\n"
        guard !summary.worstFrames.isEmpty else { return h + "<p class=\"sub\">No frames were analysed.</p>\n" }
        h += "<div class=\"thumbs\">\n"
        for w in summary.worstFrames {
            h += "<div class=\"thumb\" data-frame=\"\(w.frame)\" data-t=\"\(w.pts)\" tabindex=\"0\" role=\"button\" title=\"Show frame \(w.frame)\(video == nil ? "" : " in the video")\">"
            if let t = thumbnails[w.frame], let original = ReportWriter.pngBase64(t.original),
               let overlay = ReportWriter.pngBase64(t.overlay) {
                h += "<div class=\"pair\"><figure><img alt=\"frame \(w.frame)\" src=\"data:image/png;base64,\(original)\"><figcaption>frame</figcaption></figure>"
                h += "<figure><img alt=\"frame \(w.frame) with Grad-CAM overlay\" src=\"data:image/png;base64,\(overlay)\"><figcaption>overlay</figcaption></figure></div>"
            } else {
                h += "<div class=\"missing\">no thumbnail captured</div>"
            }
            let flips = w.flippedTo.isEmpty ? "none"
                : w.flippedTo.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\(HTML.escape($0.key)) ×\($0.value)" }.joined(separator: ", ")
            h += "<div class=\"meta\"><b>Frame \(w.frame)</b> at \(secs(w.pts)) &middot; top-1 \(HTML.escape(w.label))<br>"
            h += "retention \(fmt(w.retention)) &middot; mean drop \(pct(w.meanDrop))<br>flipped to: \(flips)</div></div>\n"
        }
        return h + "</div>\n"
    }

    func provenanceTable() -> String {
        let p = provenance, c = p.clip, m = p.model, q = p.parameters
        var rows: [(String, String?)] = []
        func group(_ name: String) { rows.append((name, nil)) }
        func row(_ k: String, _ v: String?) { if let v { rows.append((k, v)) } }
        group("Parameters")
        row("Patches per frame", String(q.patches))
        row("Patch size", q.patchSizeLow == q.patchSizeHigh ? "\(q.patchSizeLow) of the input side" : "\(q.patchSizeLow)–\(q.patchSizeHigh) of the input side")
        row("Fill", q.fill)
        row("Seed", String(q.seed))
        row("Target", q.target)
        row("Grad-CAM normalisation", q.camNorm)
        row("Every Nth frame", q.every.map(String.init))
        row("Analysis rate (fps)", q.fps.map { "\($0)" })
        row("Max frames", q.maxFrames.map(String.init))
        row("Fail under", q.failUnder.map { "\($0)" } ?? "not set")
        group("Clip")
        row("Source", c.url)
        row("Container", c.container)
        row("Codec", c.profile.map { "\(c.codec) (\($0))" } ?? c.codec)
        row("Size", "\(c.width) × \(c.height)" + (c.rotation != 0 ? ", rotated \(c.rotation)°" : ""))
        row("Frame rate", c.frameRate)
        row("Duration", c.duration.map { secs($0) })
        row("Frames", c.frameCount.map(String.init))
        row("Bit rate", c.bitRate.map { "\($0 / 1000) kb/s" })
        row("Pixel format", c.pixelFormat)
        group("Model")
        row("Name", m.name)
        row("File", m.path)
        row("SHA-256", m.sha256)
        row("Input size (h × w)", m.inputSize.map(String.init).joined(separator: " × "))
        row("Output", m.outputKind)
        row("Grad-CAM layer", m.camLayer + (m.camReshape.map { " (\($0))" } ?? ""))
        row("Mean / std", "\(m.mean.map { "\($0)" }.joined(separator: ", ")) / \(m.std.map { "\($0)" }.joined(separator: ", "))")
        row("Resize", "\(m.resize.policy), crop fraction \(m.resize.cropFraction), \(m.resize.filter)")
        row("Labels", m.labels)
        group("Software")
        row("Vigil", p.vigilVersion)
        row("FFmpeg", p.ffmpeg)
        row("BLAS", p.blas)
        row("Command", p.createdBy)
        group("Timing (varies between runs)")
        row("Wall time", String(format: "%.2f s", timing.wallSeconds))
        row("Analysed frames per second", String(format: "%.2f", timing.analysedFramesPerSecond))
        for (k, v) in timing.meanMsPerStage.sorted(by: { $0.key < $1.key }) { row("Mean \(k)", String(format: "%.2f ms", v)) }
        var h = "<h2>Parameters and provenance</h2>\n<table class=\"kv\">\n<tbody>\n"
        for (k, v) in rows {
            if let v { h += "<tr><td>\(HTML.escape(k))</td><td>\(HTML.escape(v))</td></tr>\n" }
            else { h += "<tr class=\"group\"><td colspan=\"2\">\(HTML.escape(k))</td></tr>\n" }
        }
        return h + "</tbody>\n</table>\n"
    }

    func fmt(_ x: Double) -> String { x.isFinite ? String(format: "%.3f", x) : "n/a" }
    func pct(_ x: Double) -> String { x.isFinite ? String(format: "%.1f%%", x * 100) : "n/a" }
    func secs(_ x: Double) -> String { x.isFinite ? String(format: "%.2f s", x) : "n/a" }
}

import Foundation
import Robustness

/// The state of a live feed's run, rewritten as `index.json` (for machines) and `index.html` (a page that reloads
/// itself) at each window boundary and every few seconds. Its size is bounded: the windows kept (`--keep`), the
/// last `maxListed` gaps and alerts.
public struct LiveIndex: Codable, Sendable {
    /// Frames seen by the run.
    public struct Counts: Codable, Sendable, Equatable {
        /// Frames decoded from the feed.
        public var received = 0
        /// Frames analysed.
        public var analysed = 0
        /// Frames the analyser had no time for: a newer frame replaced them before a worker was free.
        public var dropped = 0
        /// Frames left out of the overlay because its encoder was behind.
        public var overlayDropped = 0
        public init() {}
    }
    /// Seconds from a frame's decoding to its finished analysis.
    public struct Latency: Codable, Sendable, Equatable {
        public var p50: Double
        public var p90: Double
        public var p99: Double
        public var max: Double
        public var samples: Int
        public init(p50: Double, p90: Double, p99: Double, max: Double, samples: Int) {
            self.p50 = p50; self.p90 = p90; self.p99 = p99; self.max = max; self.samples = samples
        }
    }
    /// A time the feed was not delivering frames.
    public struct Gap: Codable, Sendable, Equatable {
        /// When the feed stopped (UTC, ISO 8601).
        public var start: String
        /// When frames came again; nil while the gap lasts or when the run gave up.
        public var end: String?
        public var seconds: Double?
        /// Why: the error or end of stream that started it.
        public var cause: String
        /// Reconnection attempts made.
        public var attempts: Int
        public init(start: String, end: String?, seconds: Double?, cause: String, attempts: Int) {
            self.start = start; self.end = end; self.seconds = seconds; self.cause = cause; self.attempts = attempts
        }
    }
    /// One window of the feed (closed, or the current one).
    public struct Window: Codable, Sendable, Equatable {
        public var index: Int
        /// The window's folder under `windows/` (nil for the current one).
        public var folder: String?
        /// Feed time (seconds of video since the run started, continuous across gaps) the window covers.
        public var startTime: Double
        public var endTime: Double
        /// Wall-clock times (UTC, ISO 8601) of its first and last analysed frame.
        public var firstFrameAt: String?
        public var lastFrameAt: String?
        public var frames: Int
        public var meanRetention: Double?
        public var retentionInterval: Interval?
        public var meanTop1Probability: Double?
        /// The most frequent clean top-1 label in the window.
        public var top1: String?
        /// True when the window's mean retention fell below `--alert-under`.
        public var alert: Bool
        public init(index: Int, folder: String?, startTime: Double, endTime: Double, firstFrameAt: String?, lastFrameAt: String?, frames: Int,
                    meanRetention: Double?, retentionInterval: Interval?, meanTop1Probability: Double?, top1: String?, alert: Bool) {
            self.index = index; self.folder = folder; self.startTime = startTime; self.endTime = endTime
            self.firstFrameAt = firstFrameAt; self.lastFrameAt = lastFrameAt; self.frames = frames
            self.meanRetention = meanRetention; self.retentionInterval = retentionInterval
            self.meanTop1Probability = meanTop1Probability; self.top1 = top1; self.alert = alert
        }
    }
    /// A window whose mean retention fell below the alert threshold.
    public struct Alert: Codable, Sendable, Equatable {
        public var window: Int
        public var at: String
        public var meanRetention: Double
        public var retentionInterval: Interval
        public var threshold: Double
        /// The `--on-alert` command's exit status (nil: no command, or it has not finished).
        public var hookExitStatus: Int32?
        public init(window: Int, at: String, meanRetention: Double, retentionInterval: Interval, threshold: Double, hookExitStatus: Int32?) {
            self.window = window; self.at = at; self.meanRetention = meanRetention; self.retentionInterval = retentionInterval
            self.threshold = threshold; self.hookExitStatus = hookExitStatus
        }
    }

    /// Gaps and alerts listed at most (the oldest are dropped; their counts stay).
    public static let maxListed = 100

    public var schemaVersion = "1.0"
    public var feed: String
    /// running, ended (the feed ended and reconnection is off or gave up), interrupted, or failed.
    public var status: String
    public var startedAt: String
    public var updatedAt: String
    public var model: String
    public var modelSHA256: String
    public var windowSeconds: Double
    public var keepSeconds: Double?
    public var alertUnder: Double?
    /// The overlay playlist (HLS) beside index.json, when the overlay is written.
    public var overlay: String?
    public var counts = Counts()
    public var latency: Latency?
    public var reconnects = 0
    public var gapCount = 0
    public var gaps: [Gap] = []
    public var alertCount = 0
    public var alerts: [Alert] = []
    /// Windows closed and deleted by `--keep`.
    public var prunedWindows = 0
    public var windows: [Window] = []
    public var current: Window?
    /// Frame-weighted mean retention over the windows listed (closed ones), and the frames behind it.
    public var meanRetention: Double?
    public var error: String?

    public init(feed: String, startedAt: String, model: String, modelSHA256: String, windowSeconds: Double, keepSeconds: Double?, alertUnder: Double?,
                overlay: String?) {
        self.feed = feed; self.status = "running"; self.startedAt = startedAt; self.updatedAt = startedAt
        self.model = model; self.modelSHA256 = modelSHA256; self.windowSeconds = windowSeconds; self.keepSeconds = keepSeconds
        self.alertUnder = alertUnder; self.overlay = overlay
    }

    /// Records a gap (or updates the last one), keeping at most `maxListed`.
    public mutating func record(gap: Gap, isNew: Bool) {
        if isNew {
            gapCount += 1
            gaps.append(gap)
            if gaps.count > Self.maxListed { gaps.removeFirst(gaps.count - Self.maxListed) }
        } else if !gaps.isEmpty {
            gaps[gaps.count - 1] = gap
        }
    }

    /// Records an alert, keeping at most `maxListed`.
    public mutating func record(alert: Alert) {
        alertCount += 1
        alerts.append(alert)
        if alerts.count > Self.maxListed { alerts.removeFirst(alerts.count - Self.maxListed) }
    }

    /// Writes `index.json` and `index.html` in `directory`, each atomically (a reader never sees half a file).
    /// - Parameter refreshSeconds: how often the page reloads itself while the run goes on.
    /// - Throws: `ReportingError`.
    public func write(directory: String, refreshSeconds: Int) throws {
        let json = (directory as NSString).appendingPathComponent("index.json")
        let data: Data
        do { data = try ReportJSON.encoder(pretty: true).encode(self) } catch {
            throw ReportingError(.encode, path: json, reason: "\(error)")
        }
        try AtomicFile.write(json) { try $0.write(bytes: Array(data)); try $0.write("\n") }
        let html = (directory as NSString).appendingPathComponent("index.html")
        let page = LiveIndexPage(index: self, refreshSeconds: status == "running" ? refreshSeconds : nil).html()
        try AtomicFile.write(html) { try $0.write(page) }
    }
}

/// The live `index.html`: status, counts, retention and top-1 over the windows, the current window, alerts and gaps.
struct LiveIndexPage {
    var index: LiveIndex
    var refreshSeconds: Int?

    func html() -> String {
        let e = HTML.escape
        let x = index
        func f3(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "&ndash;" }
        func interval(_ i: Interval?) -> String { i.map { String(format: "[%.3f, %.3f]", $0.low, $0.high) } ?? "" }
        var s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        if let r = refreshSeconds { s += "<meta http-equiv=\"refresh\" content=\"\(r)\">\n" }
        s += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Vigil live: \(e(x.feed))</title>\n<style>\n\(HTML.style)\n</style>\n</head>\n<body>\n<main>\n"
        s += "<header><h1>Live feed: \(e(x.feed))</h1><div class=\"sub\">status <b id=\"status\">\(e(x.status))</b> &middot; started \(e(x.startedAt)) &middot; updated \(e(x.updatedAt)) &middot; model \(e(x.model))</div></header>\n"
        if let err = x.error { s += "<div class=\"banner\">\(e(err))</div>\n" }
        if let a = x.alerts.last { s += "<div class=\"banner\" id=\"alert\">Alert: window \(a.window) mean retention \(f3(a.meanRetention)) \(interval(a.retentionInterval)) is below \(f3(a.threshold)) (\(e(a.at)))</div>\n" }
        s += "<h2>Counts</h2>\n<table class=\"kv\">"
        s += "<tr><td>frames received</td><td>\(x.counts.received)</td></tr><tr><td>analysed</td><td>\(x.counts.analysed)</td></tr>"
        s += "<tr><td>dropped (analyser busy)</td><td>\(x.counts.dropped)</td></tr><tr><td>left out of the overlay</td><td>\(x.counts.overlayDropped)</td></tr>"
        if let l = x.latency { s += "<tr><td>latency, decode to result</td><td>" + String(format: "p50 %.3f s, p90 %.3f s, p99 %.3f s, max %.3f s", l.p50, l.p90, l.p99, l.max) + "</td></tr>" }
        s += "<tr><td>reconnects</td><td>\(x.reconnects)</td></tr><tr><td>mean retention (listed windows)</td><td>\(f3(x.meanRetention))</td></tr>"
        if let o = x.overlay { s += "<tr><td>overlay (HLS)</td><td><a href=\"\(e(o))\">\(e(o))</a> (open with VLC, mpv or ffplay while the run goes on)</td></tr>" }
        s += "</table>\n"
        if let c = x.current {
            s += "<h2>Current window</h2>\n<table class=\"kv\"><tr><td>feed time</td><td>" + String(format: "%.1f&ndash;%.1f s", c.startTime, c.endTime) + "</td></tr>"
            s += "<tr><td>frames</td><td>\(c.frames)</td></tr><tr><td>mean retention</td><td>\(f3(c.meanRetention)) \(interval(c.retentionInterval))</td></tr>"
            s += "<tr><td>top-1</td><td>\(e(c.top1 ?? "")) (mean probability \(f3(c.meanTop1Probability)))</td></tr></table>\n"
        }
        let closed = x.windows
        if !closed.isEmpty {
            let lower = closed.first!.startTime, upper = max(closed.last!.endTime, lower + 1)
            let ret = closed.compactMap { w in w.meanRetention.map { ChartPoint(x: (w.startTime + w.endTime) / 2, y: $0, low: w.retentionInterval?.low ?? $0, high: w.retentionInterval?.high ?? $0) } }
            let top = closed.compactMap { w in w.meanTop1Probability.map { ChartPoint(x: (w.startTime + w.endTime) / 2, y: $0, low: $0, high: $0) } }
            s += "<h2>Retention per window, with its 95% interval</h2>\n"
            s += SVGChart.line(points: ret, xDomain: lower...upper, yLabel: "retention", band: true, color: "#c05621", ariaLabel: "retention per window", threshold: x.alertUnder)
            s += "<h2>Mean top-1 probability per window</h2>\n"
            s += SVGChart.line(points: top, xDomain: lower...upper, yLabel: "top-1 probability", band: false, color: "#2f6690", ariaLabel: "top-1 probability per window")
            s += "<h2>Windows</h2>\n<table><tr><th>#</th><th>feed time</th><th>frames</th><th>mean retention</th><th>top-1</th><th>report</th></tr>\n"
            for w in closed.reversed() {
                let link = w.folder.map { "<a href=\"windows/\(e($0))/report.html\">report</a>" } ?? ""
                s += "<tr\(w.alert ? " style=\"color:var(--fail)\"" : "")><td>\(w.index)</td><td>" + String(format: "%.1f&ndash;%.1f s", w.startTime, w.endTime)
                s += "</td><td class=\"num\">\(w.frames)</td><td class=\"num\">\(f3(w.meanRetention)) \(interval(w.retentionInterval))</td><td>\(e(w.top1 ?? ""))</td><td>\(link)</td></tr>\n"
            }
            s += "</table>\n"
            if x.prunedWindows > 0 { s += "<p class=\"sub\">\(x.prunedWindows) older window(s) were deleted (--keep).</p>\n" }
        }
        if !x.alerts.isEmpty {
            s += "<h2>Alerts (\(x.alertCount))</h2>\n<table><tr><th>window</th><th>at</th><th>mean retention</th><th>threshold</th><th>hook exit</th></tr>\n"
            for a in x.alerts.reversed() {
                s += "<tr><td>\(a.window)</td><td>\(e(a.at))</td><td class=\"num\">\(f3(a.meanRetention)) \(interval(a.retentionInterval))</td><td class=\"num\">\(f3(a.threshold))</td><td>\(a.hookExitStatus.map { "\($0)" } ?? "")</td></tr>\n"
            }
            s += "</table>\n"
        }
        if !x.gaps.isEmpty {
            s += "<h2>Gaps in the feed (\(x.gapCount))</h2>\n<table><tr><th>from</th><th>to</th><th>seconds</th><th>cause</th><th>attempts</th></tr>\n"
            for g in x.gaps.reversed() {
                s += "<tr><td>\(e(g.start))</td><td>\(e(g.end ?? "ongoing"))</td><td class=\"num\">\(g.seconds.map { String(format: "%.1f", $0) } ?? "")</td><td class=\"note\">\(e(g.cause))</td><td class=\"num\">\(g.attempts)</td></tr>\n"
            }
            s += "</table>\n"
        }
        s += "<footer>Written by Vigil (live index schema \(e(x.schemaVersion))). \(refreshSeconds.map { "This page reloads every \($0) s." } ?? "The run has ended.")</footer>\n</main>\n</body>\n</html>\n"
        return s
    }
}

import Foundation
import Imaging
import MediaIO
import Reporting
import Robustness

/// Cuts a live run's analysed frames into windows of `LiveOptions.windowSeconds` feed seconds: each window is a
/// report of its own in `windows/NNNNNN/` (written as frames come, closed at the boundary), listed in the run's
/// `LiveIndex`; closing one raises its alert, if any, and deletes windows older than `--keep`. Used from one thread.
final class WindowReporter {
    struct Open {
        var index: Int
        var folder: String
        /// The window's figures and report files.
        var report: ReportStage
        var firstAt: Double?
        var lastAt: Double?
        var labelCounts: [String: Int] = [:]
    }

    let runner: LiveRunner
    let folder: String
    let meta: ClipMetadata
    let hook: AlertHook?
    /// Draws the worst frames' thumbnails (over every analysed frame's CAM scale so far).
    private var render: RenderStage
    private(set) var current: Open?
    /// Summaries of the closed windows still listed (for the run's figures).
    private var closed: [(index: Int, summary: ClipSummary)] = []
    private let hookResults = Locked<[Int: Int32?]>([:])

    init(runner: LiveRunner, folder: String, meta: ClipMetadata, hook: AlertHook?) {
        self.runner = runner; self.folder = folder; self.meta = meta; self.hook = hook
        render = RenderStage(camNorm: runner.options.camNorm, inputWidth: runner.classifier.inputWidth, inputHeight: runner.classifier.inputHeight)
    }

    var windowSeconds: Double { runner.live.windowSeconds }

    /// Adds an analysed frame to its window, closing the current one first when the frame is past its end.
    func add(_ a: FrameAnalysis, frame: LiveFeed.Frame, index: inout LiveIndex, state: LiveState) throws {
        let w = Int((frame.feedTime / windowSeconds).rounded(.down))
        if let c = current, c.index != w { try closeCurrent(&index, state: state, partial: false) }
        if current == nil {
            let name = String(format: "%06d", w)
            let dir = (folder as NSString).appendingPathComponent("windows/\(name)")
            let report = try ReportStage(directory: dir, provenance: runner.options.provenance(clip: meta, classifier: runner.classifier), format: .v2,
                                         overlayVideo: false, seed: runner.options.parameters.seed)
            current = Open(index: w, folder: name, report: report)
        }
        try current!.report.add(a)
        current!.firstAt = current!.firstAt ?? frame.decodedAt
        current!.lastAt = frame.decodedAt
        current!.labelCounts[a.top1.label, default: 0] += 1
        render.note(a)
        if current!.report.isWorst(a), let overlay = render.render(frame.image) {
            current!.report.keepThumbnail(of: a, original: frame.image, overlay: overlay)
        }
    }

    /// Closes the current window (its report is finished, marked partial when the run stopped early), lists it,
    /// raises its alert and prunes old windows. Does nothing when no window is open.
    func closeCurrent(_ index: inout LiveIndex, state: LiveState, partial: Bool) throws {
        guard let c = current else { return }
        current = nil
        let summary = c.report.summary(failUnder: runner.options.failUnder)
        let timing = TimingSummary(wallSeconds: (c.lastAt ?? 0) - (c.firstAt ?? 0), analysedFramesPerSecond: 0, meanMsPerStage: [:])
        try c.report.finish(summary: summary, partial: partial, timing: timing)
        let start = Double(c.index) * windowSeconds
        var entry = window(c, summary: summary)
        entry.folder = c.folder
        closed.append((c.index, summary))
        runner.observer?.windowClosed(meanRetention: summary.meanRetention, low: summary.retentionInterval.low, high: summary.retentionInterval.high)
        if let r = runner.live.alertUnder, summary.meanRetention < r {
            entry.alert = true
            let now = Date()
            let alert = AlertEvent(feed: index.feed, window: c.index, windowStart: start, windowEnd: start + windowSeconds, at: LiveRunner.iso(now),
                                   frames: summary.analysedFrames, meanRetention: summary.meanRetention,
                                   retentionLow: summary.retentionInterval.low, retentionHigh: summary.retentionInterval.high, threshold: r,
                                   report: (folder as NSString).appendingPathComponent("windows/\(c.folder)/report.html"))
            runner.alertOutput(alert.jsonLine)
            index.record(alert: LiveIndex.Alert(window: c.index, at: alert.at, meanRetention: alert.meanRetention,
                                                retentionInterval: summary.retentionInterval, threshold: r, hookExitStatus: nil))
            if let hook {
                let results = hookResults, w = c.index
                hook.run(alert) { status in results.mutate { $0[w] = status } }
            }
        }
        index.windows.append(entry)
        prune(&index, now: start + windowSeconds)
        refresh(&index, state: state)
        try index.write(directory: folder, refreshSeconds: Int(runner.live.indexRefreshSeconds.rounded(.up)))
    }

    /// Deletes the windows that ended more than `--keep` feed seconds before `now`.
    private func prune(_ index: inout LiveIndex, now: Double) {
        guard let keep = runner.live.keepSeconds else { return }
        while let first = index.windows.first, first.endTime < now - keep {
            if let f = first.folder { try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent("windows/\(f)")) }
            index.windows.removeFirst()
            index.prunedWindows += 1
            closed.removeAll { $0.index == first.index }
        }
    }

    /// Brings the index's counts, latency, gaps, hook results, current window and run mean up to date.
    func refresh(_ index: inout LiveIndex, state: LiveState) {
        let s = state.takeSnapshot()
        index.counts = s.counts
        index.latency = s.latency
        index.reconnects = s.reconnects
        for (gap, isNew) in s.gaps { index.record(gap: gap, isNew: isNew) }
        let hooks = hookResults.get()
        for i in index.alerts.indices { if let r = hooks[index.alerts[i].window] { index.alerts[i].hookExitStatus = r } }
        index.current = current.map { window($0, summary: $0.report.summary(failUnder: nil)) }
        index.meanRetention = runSummary(failUnder: nil)?.meanRetention
        index.updatedAt = LiveRunner.iso(Date())
    }

    /// The run's figures over the windows still listed.
    func runSummary(failUnder: Double?) -> ClipSummary? {
        ClipSummary.combining(closed.map(\.summary), failUnder: failUnder, seed: runner.options.parameters.seed)
    }

    func waitForHooks() { hook?.wait(seconds: 30) }

    private func window(_ c: Open, summary: ClipSummary) -> LiveIndex.Window {
        let start = Double(c.index) * windowSeconds
        let n = summary.analysedFrames
        return LiveIndex.Window(index: c.index, folder: nil, startTime: start, endTime: start + windowSeconds,
                                firstFrameAt: c.firstAt.map { LiveRunner.iso(Date(timeIntervalSince1970: $0)) },
                                lastFrameAt: c.lastAt.map { LiveRunner.iso(Date(timeIntervalSince1970: $0)) }, frames: n,
                                meanRetention: n > 0 ? summary.meanRetention : nil, retentionInterval: n > 0 ? summary.retentionInterval : nil,
                                meanTop1Probability: n > 0 ? summary.meanTop1Probability : nil,
                                top1: c.labelCounts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key, alert: false)
    }
}

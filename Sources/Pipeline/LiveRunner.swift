import Foundation
import Imaging
import MediaIO
import Reporting
import Robustness

/// What a live run does beyond `AnalyzeOptions`.
public struct LiveOptions: Sendable {
    /// Window length in feed seconds: a window report (JSON + HTML) is closed at each boundary.
    public var windowSeconds: Double = 300
    /// Delete windows and overlay segments older than this many feed seconds (nil: keep everything).
    public var keepSeconds: Double? = nil
    /// Emit an alert when a window's mean retention falls below this.
    public var alertUnder: Double? = nil
    /// Shell command run on each alert.
    public var onAlert: String? = nil
    public var reconnect = ReconnectPolicy()
    /// Overlay HLS segment length, seconds.
    public var segmentSeconds: Double = 2
    /// How often index.json/index.html are rewritten between window boundaries, seconds.
    public var indexRefreshSeconds: Double = 5
    public init() {}
}

/// Where a live feed's run writes, and how a run is told apart from a recorded clip.
public enum LiveFeedKind {
    /// True for URLs whose schemes are live by nature (RTSP, RTMP, RTP, UDP, SRT, TCP). HTTP(S) is live when FFmpeg
    /// finds no duration (a live HLS playlist, a progressive stream): the caller decides that after opening.
    public static func isLiveScheme(_ url: String) -> Bool {
        guard let r = url.range(of: "://") else { return false }
        return ["rtsp", "rtsps", "rtmp", "rtmps", "rtp", "udp", "srt", "tcp"].contains(url[..<r.lowerBound].lowercased())
    }
}

/// Runs `vigil analyze` on a live feed: the feed is read in real time (the analysers take the newest frame and the
/// rest are dropped and counted), reconnected when it drops, and reported in rolling windows under the feed's folder:
///
/// - `index.json` / `index.html`: the run's state, rewritten at each window boundary and every few seconds;
/// - `windows/NNNNNN/`: each closed window's report.json (version 2), report.html, frames.jsonl and frames.csv;
/// - `overlay.m3u8` + `overlay-*.ts`: the overlay as HLS, playable while the run goes on.
///
/// Memory is bounded whatever the run's length: one window's accumulator, a fixed latency histogram, and queues of
/// a few frames.
public final class LiveRunner: @unchecked Sendable {
    public let classifier: Classifier
    public let options: AnalyzeOptions
    public let live: LiveOptions
    public let cancel: CancellationFlag
    public let observer: LiveObserver?
    let progress: @Sendable (ProgressEvent) -> Void
    /// Where alert lines go (stdout in the CLI).
    let alertOutput: @Sendable (String) -> Void

    public init(classifier: Classifier, options: AnalyzeOptions, live: LiveOptions, cancel: CancellationFlag, observer: LiveObserver?,
                alertOutput: @escaping @Sendable (String) -> Void, progress: @escaping @Sendable (ProgressEvent) -> Void) {
        self.classifier = classifier; self.options = options; self.live = live; self.cancel = cancel; self.observer = observer
        self.alertOutput = alertOutput; self.progress = progress
    }

    struct Result: @unchecked Sendable {
        var frame: LiveFeed.Frame
        var analysis: FrameAnalysis?
        var error: Error?
        var doneAt: Double
    }

    /// Analyses the feed at `url` into `folder` (created; an earlier run's folder is moved aside to
    /// `folder.previous-N`), until the feed is given up, `maxFrames`/`duration` is reached, or the run is cancelled.
    public func run(url: String, folder: String) -> ClipOutcome {
        let started = Date()
        func failed(_ error: Error, open: Bool, output: Bool) -> ClipOutcome {
            ClipOutcome(clip: url, folder: nil, status: .failed, error: "\(error)", summary: nil, analysedFrames: 0, framesWritten: 0,
                        wallSeconds: Date().timeIntervalSince(started), openFailed: open, outputFailed: output)
        }
        let lock: FolderLock
        do { lock = try FolderLock(final: folder) } catch { return failed(error, open: false, output: true) }
        defer { withExtendedLifetime(lock) {} }
        if let e = Self.moveAside(folder) { return failed(e, open: false, output: true) }

        // A feed has no window to seek: --duration and --max-frames are counted here, in feed time and analysed frames.
        var sourceOptions = options.source
        sourceOptions.start = nil; sourceOptions.duration = nil; sourceOptions.maxFrames = nil
        let cancel = self.cancel
        sourceOptions.shouldStop = { cancel.isCancelled }
        let state = LiveState()
        let feed: LiveFeed
        do {
            feed = try LiveFeed(url: url, options: sourceOptions, policy: live.reconnect, cancel: cancel) { [observer] event in
                state.record(event)
                if case .reconnected = event { observer?.reconnected() }
            }
        } catch { return failed(error, open: true, output: false) }
        let meta = feed.metadata
        if let e = OutputFolder.makeDirectories((folder as NSString).appendingPathComponent("windows")) {
            return failed(OutputFolderError.cannotCreate(path: folder, reason: e), open: false, output: true)
        }
        let modelName = classifier.card.name ?? (classifier.model.path as NSString).lastPathComponent
        var index = LiveIndex(feed: url, startedAt: Self.iso(started), model: modelName, modelSHA256: classifier.modelSHA256,
                              windowSeconds: live.windowSeconds, keepSeconds: live.keepSeconds, alertUnder: live.alertUnder,
                              overlay: options.writeVideo ? "overlay.m3u8" : nil)
        var overlay: EncodeStage? = nil
        if options.writeVideo {
            let listSize = live.keepSeconds.map { max(2, Int(($0 / live.segmentSeconds).rounded(.up))) } ?? 0
            let stamp = String(Int(started.timeIntervalSince1970))
            var video = options.video
            video.preset = "veryfast"
            video.hls = .init(segmentSeconds: live.segmentSeconds, listSize: listSize, segmentPrefix: "overlay-\(stamp)-")
            do {
                let sink = try VideoSink(path: (folder as NSString).appendingPathComponent("overlay.m3u8"), width: meta.width, height: meta.height,
                                         frameRate: meta.frameRate, options: video)
                overlay = EncodeStage(sink: sink, capacity: 8)
            } catch { return failed(error, open: false, output: true) }
        }
        let encode = overlay
        try? index.write(directory: folder, refreshSeconds: Int(live.indexRefreshSeconds.rounded(.up)))

        // Capture: every frame to the overlay queue (dropped there when the encoder is behind), selected frames to the
        // analysers' slot (a newer one replaces a waiting one).
        let workers = max(1, options.workers)
        let slot = LatestSlot<LiveFeed.Frame>()
        // The overlay: every received frame with the newest finished analysis drawn on it, on the encode thread.
        let render = Locked(RenderStage(camNorm: options.camNorm, inputWidth: classifier.inputWidth, inputHeight: classifier.inputHeight))
        let draw: @Sendable (RGBImage) -> RGBImage = { image in render.get().render(image) ?? image }
        encode?.start(cancel: cancel)
        let results = BoundedQueue<Result>(capacity: 4 * workers + 4)
        let inFlight = Locked<Set<Int>>([])
        let stopCapture = Locked(false)
        let observer = self.observer
        let captureDone = DispatchSemaphore(value: 0)
        let durationLimit = options.source.duration
        Thread.detachNewThread {
            defer { slot.close(); encode?.close(); captureDone.signal() }
            while !stopCapture.get(), let f = feed.next() {
                state.received()
                observer?.frameReceived()
                if let d = durationLimit, f.feedTime >= d { state.setEnd("--duration reached"); break }
                if let encode, !encode.offer(EncodeStage.Picture(image: f.image, pts: f.feedTime, draw: draw)) { state.overlayDropped() }
                if f.isSelected, slot.put(f) != nil { state.dropped(); observer?.frameDropped() }
            }
        }
        let workerGroup = DispatchGroup()
        for _ in 0..<workers {
            workerGroup.enter()
            let analyzer = options.analyzer(classifier, clip: meta)
            Thread.detachNewThread {
                defer { workerGroup.leave() }
                while let f = slot.take({ f in inFlight.mutate { $0.insert(f.seq) } }) {
                    var r = Result(frame: f, analysis: nil, error: nil, doneAt: 0)
                    if !cancel.isCancelled {
                        do { r.analysis = try analyzer.analyze(f.image, frame: f.seq, pts: f.feedTime) } catch { r.error = error }
                    }
                    r.doneAt = Date().timeIntervalSince1970
                    results.push(r)
                }
            }
        }
        Thread.detachNewThread { workerGroup.wait(); results.close() }
        // Report, on this thread: results in frame order, windows closed at each boundary.
        let windows = WindowReporter(runner: self, folder: folder, meta: meta, hook: live.onAlert.map { AlertHook(command: $0) })
        var pending: [Int: Result] = [:]
        var fatal: Error? = nil
        var lastIndexWrite = Date()
        func emit(_ r: Result) {
            if fatal != nil { return }
            if let m = options.source.maxFrames, state.analysedCount >= m { return }  // analysed in flight after the limit
            if let e = r.error { fatal = e; cancel.cancel("error"); return }
            guard let a = r.analysis else { return }
            render.mutate { $0.note(a) }
            state.analysed(latency: r.doneAt - r.frame.decodedAt)
            observer?.frameAnalysed(latency: r.doneAt - r.frame.decodedAt, top1Probability: Double(a.top1.probability), retention: a.retention)
            do { try windows.add(a, frame: r.frame, index: &index, state: state) } catch { fatal = error; cancel.cancel("error"); return }
            if let m = options.source.maxFrames, state.analysedCount >= m { state.setEnd("--max-frames reached"); stopCapture.set(true) }
        }
        func flushReady(all: Bool) {
            let busy = inFlight.get()
            let limit = all ? Int.max : (busy.min() ?? Int.max)
            for seq in pending.keys.sorted() where seq < limit { emit(pending.removeValue(forKey: seq)!) }
        }
        loop: while true {
            switch results.pop(timeout: 0.5) {
            case .element(let r):
                pending[r.frame.seq] = r
                inFlight.mutate { $0.remove(r.frame.seq) }
                flushReady(all: false)
            case .timedOut: break
            case .closed: break loop
            }
            if Date().timeIntervalSince(lastIndexWrite) >= live.indexRefreshSeconds {
                lastIndexWrite = Date()
                windows.refresh(&index, state: state)
                try? index.write(directory: folder, refreshSeconds: Int(live.indexRefreshSeconds.rounded(.up)))
                let el = Date().timeIntervalSince(started)
                progress(.progress(clip: url, done: state.countsNow.received, total: nil,
                                   analysedPerSecond: el > 0 ? Double(state.analysedCount) / el : 0))
            }
        }
        flushReady(all: true)
        captureDone.wait()
        let encodeError = encode?.drain()
        var outputFailed = false
        if fatal == nil, let e = encodeError { fatal = e; outputFailed = true }
        if let encode {
            do { try encode.finish() } catch { if fatal == nil { fatal = error }; outputFailed = true }
        }
        let interrupted = cancel.isCancelled && cancel.cancelReason != "error"
        do { try windows.closeCurrent(&index, state: state, partial: interrupted || fatal != nil) } catch {
            if fatal == nil { fatal = error }; outputFailed = true
        }
        windows.waitForHooks()
        let endReason = state.endReason ?? feed.endReason
        let gaveUp = state.endReason == nil && feed.endReason != nil
        index.status = fatal != nil ? "failed" : (interrupted ? "interrupted" : "ended")
        index.error = fatal.map { "\($0)" } ?? (gaveUp ? endReason : nil)
        windows.refresh(&index, state: state)
        do { try index.write(directory: folder, refreshSeconds: 0) } catch { if fatal == nil { fatal = error }; outputFailed = true }

        let analysed = state.analysedCount
        let wall = Date().timeIntervalSince(started)
        let summary = windows.runSummary(failUnder: options.failUnder)
        var status: ClipOutcome.Status = .ok
        var errorText: String? = nil
        if fatal != nil || interrupted { status = .partial; errorText = fatal.map { "\($0)" } }
        else if gaveUp { status = .incomplete; errorText = endReason }
        if analysed == 0 && !interrupted {
            status = .failed
            errorText = errorText ?? "no frame was analysed: the feed delivered no picture before it ended"
        }
        let c = state.countsNow
        let note = "\(c.received) frames received, \(c.analysed) analysed, \(c.dropped) dropped (analyser busy)"
        errorText = errorText.map { "\($0); \(note)" } ?? note
        return ClipOutcome(clip: url, folder: folder, status: status, error: errorText, summary: summary, analysedFrames: analysed,
                           framesWritten: encode?.framesWritten ?? 0, wallSeconds: wall, openFailed: false, outputFailed: outputFailed)
    }

    /// Moves an earlier run's folder to `folder.previous-N` (nothing is deleted); nil on success.
    static func moveAside(_ folder: String) -> Error? {
        let fm = FileManager.default
        guard fm.fileExists(atPath: folder) else { return nil }
        var n = 1
        while fm.fileExists(atPath: "\(folder).previous-\(n)") { n += 1 }
        if rename(folder, "\(folder).previous-\(n)") != 0 {
            return OutputFolderError.cannotCreate(path: folder, reason: "an earlier run's folder cannot be moved aside (\(String(cString: strerror(errno))))")
        }
        return nil
    }

    static func iso(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }
}

/// The counters the live run's threads share.
final class LiveState: @unchecked Sendable {
    private let lock = NSLock()
    private var counts = LiveIndex.Counts()
    private var latency = LatencyHistogram()
    private var gaps: [(LiveIndex.Gap, Bool)] = []   // gap, is new (not yet in the index)
    private var openGap: (start: Date, cause: String, attempts: Int)? = nil
    private var reconnects = 0
    private(set) var endReason: String?

    func received() { lock.withLock { counts.received += 1 } }
    func dropped() { lock.withLock { counts.dropped += 1 } }
    func overlayDropped() { lock.withLock { counts.overlayDropped += 1 } }
    func analysed(latency l: Double) { lock.withLock { counts.analysed += 1; latency.add(l) } }
    var analysedCount: Int { lock.withLock { counts.analysed } }
    /// The frame counts now (leaves the gap updates for `takeSnapshot`).
    var countsNow: LiveIndex.Counts { lock.withLock { counts } }
    func setEnd(_ reason: String) { lock.withLock { if endReason == nil { endReason = reason } } }

    func record(_ event: LiveFeed.Event) {
        lock.withLock {
            switch event {
            case let .dropped(cause, at):
                openGap = (at, cause, 0)
                gaps.append((LiveIndex.Gap(start: LiveRunner.iso(at), end: nil, seconds: nil, cause: cause, attempts: 0), true))
            case let .attemptFailed(attempt, _):
                if let g = openGap {
                    openGap = (g.start, g.cause, attempt)
                    gaps.append((LiveIndex.Gap(start: LiveRunner.iso(g.start), end: nil, seconds: nil, cause: g.cause, attempts: attempt), false))
                }
            case let .reconnected(at, attempts):
                reconnects += 1
                if let g = openGap {
                    gaps.append((LiveIndex.Gap(start: LiveRunner.iso(g.start), end: LiveRunner.iso(at), seconds: at.timeIntervalSince(g.start),
                                               cause: g.cause, attempts: attempts), false))
                }
                openGap = nil
            case .gaveUp:
                break
            }
        }
    }

    /// Counts and latency now, and the gap updates since the last call, which it hands over: only the index writer
    /// (`WindowReporter.refresh`) may call it, or a gap taken by another caller never reaches the index.
    func takeSnapshot() -> (counts: LiveIndex.Counts, latency: LiveIndex.Latency?, reconnects: Int, gaps: [(LiveIndex.Gap, Bool)]) {
        lock.withLock {
            let l = latency.samples > 0 ? LiveIndex.Latency(p50: latency.quantile(0.5)!, p90: latency.quantile(0.9)!, p99: latency.quantile(0.99)!,
                                                             max: latency.maximum, samples: latency.samples) : nil
            defer { gaps.removeAll() }
            return (counts, l, reconnects, gaps)
        }
    }
}

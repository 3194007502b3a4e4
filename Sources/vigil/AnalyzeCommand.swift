import ArgumentParser
import Foundation
import Graph
import LiveMetrics
import MediaIO
import Pipeline
import Reporting
import Robustness
import TensorCore

/// `vigil analyze`: the main job.
struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify every frame, measure robustness to occlusion, explain with Grad-CAM, and write an overlay video and a report.",
        discussion: """
            For each clip, writes OUT/<clip>/overlay.mp4 with its subtitles overlay.vtt, report.html (which plays the \
            overlay beside its charts), report.json, frames.jsonl and frames.csv (and \
            OUT/index.html when there are several clips). Interrupting with Ctrl-C (SIGINT) or SIGTERM stops cleanly: \
            the frames analysed so far are written as a complete report marked partial and a playable video.

            Live feeds (rtsp, rtmp, rtp, udp, srt and tcp URLs, live HLS playlists, or any input with --live on, such \
            as a progressive http stream) run in real time: the newest frame is analysed whenever an analyser is free and the rest \
            are counted as dropped; the feed is reopened when it drops; OUT/<feed>/ holds index.html and index.json \
            (rewritten as the run goes), one report per --window in windows/, and the overlay as HLS (overlay.m3u8). \
            The run ends at --max-frames or --duration, when the feed is given up, or on Ctrl-C.

            Exit status: 0 success; 1 a clip's mean retention is below --fail-under; 64 usage error; \
            65 input error (a clip or the model could not be read, or no frame was analysed; other clips are still \
            analysed); 73 an output folder is locked by another run or cannot be written (earlier results there are \
            kept), or --metrics cannot listen; 74 a clip's input was incomplete (ended early, truncated or damaged; \
            the report says what), or a live feed was given up after --reconnect-limit attempts; 130 interrupted.
            """)

    @Argument(help: ArgumentHelp("Video files or URLs (file, http(s), rtsp, udp: anything this FFmpeg reads).", valueName: "clip-or-url"))
    var clips: [String] = []

    @Option(help: ArgumentHelp("Analyse the clips a manifest lists: one path or URL per line, or a CSV/JSON with clip, name, target, start and duration (relative paths are relative to the manifest). Clips whose complete results are already in --out (same model, parameters and bytes) are kept, not analysed again.", valueName: "file"))
    var manifest: String?

    @Option(help: ArgumentHelp("With --manifest: analyse shard I of N (I from 0; the clips at positions I, I+N, ...) into OUT/shards/I/; `vigil merge` joins the shards.", valueName: "i/n"))
    var shard: String?

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: ArgumentHelp("Output folder; one sub-folder per clip.", valueName: "dir"))
    var out: String = "Reports"

    @Option(parsing: .unconditional, help: ArgumentHelp("Analyse every Nth frame (the overlay still shows every frame, carrying the last analysis).", valueName: "n"))
    var every: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Analyse at this many frames per second of clip time instead of --every.", valueName: "f"))
    var fps: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after analysing this many frames.", valueName: "n"))
    var maxFrames: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Start this many seconds into the clip.", valueName: "seconds"))
    var start: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Analyse only this many seconds of the clip (from --start).", valueName: "seconds"))
    var duration: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Occlusion patches per analysed frame.", valueName: "k"))
    var patches: Int = 16

    @Option(help: ArgumentHelp("Patch side as a fraction of the model input side; a range like 0.125-0.25 draws sizes uniformly.", valueName: "fraction"))
    var patchSize: String = "0.25"

    @Option(help: ArgumentHelp("What hides the pixels under a patch: gray (the mean), black, blur or noise.", valueName: "fill"))
    var fill: PatchFill = .gray

    @Option(help: ArgumentHelp("How occluded copies are evaluated: incremental (recompute only what each patch reaches; exact) or full.", valueName: "mode"))
    var occlusion: OcclusionMode = .incremental

    @Option(help: ArgumentHelp("Seed for patch positions; the patches of frame i depend only on the seed and i.", valueName: "s"))
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Class to explain and measure: top1 (each frame's own top-1), a label, or a class index.", valueName: "target"))
    var target: String = "top1"

    @Option(help: ArgumentHelp("Tensor the CAM methods explain (default: the card's, or pytorch-grad-cam's choice for the family: the last spatial map before the final pooling; a token model's last-block first LayerNorm).", valueName: "name"))
    var camLayer: String?

    @Option(help: ArgumentHelp("CAM colour scale in the overlay: clip (one scale for the clip, no flicker) or frame.", valueName: "mode"))
    var camNorm: String = "clip"

    @OptionGroup var explainerOptions: ExplainerOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("Fail (exit 1) when a clip's mean retention is below R (0-1).", valueName: "r"))
    var failUnder: Double?

    @Flag(help: "Do not write overlay.mp4 and overlay.vtt (report only).")
    var noVideo = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Frames analysed in parallel, each with its own engine workspace; the cores are shared between them (default: the number of cores, which measured fastest).", valueName: "n"))
    var threads: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("H.264 quality of the overlay (CRF, 0-51, lower is better).", valueName: "crf"))
    var crf: Int = 20

    @Option(parsing: .unconditional, help: ArgumentHelp("Network read timeout in seconds for URLs.", valueName: "seconds"))
    var timeout: Double = 10

    @Option(parsing: .unconditional, help: ArgumentHelp("Which video stream to analyse when a clip has several, counting from 0 (default: FFmpeg's best; the run says which it took).", valueName: "n"))
    var stream: Int?

    @Option(help: CorruptionFlags.listHelp)
    var corruptions: String?

    @Option(help: ArgumentHelp("Corruption severities: one (3), a range (1-5), a list (1,3,5) or all.", valueName: "s"))
    var severity: String = "3"

    @Option(help: ArgumentHelp("RTSP transport: auto (FFmpeg's default: UDP, then TCP), tcp or udp.", valueName: "transport"))
    var rtspTransport: RTSPTransport = .auto

    @Option(help: ArgumentHelp("Whether inputs are live feeds: auto (rtsp, rtmp, rtp, udp, srt and tcp URLs, and live HLS playlists), on, or off.", valueName: "mode"))
    var live: LiveMode = .auto

    @Option(parsing: .unconditional, help: ArgumentHelp("Live feeds: close a window report (JSON + HTML) every DURATION of feed time, like 30s, 5m or 1h.", valueName: "duration"))
    var window: String = "5m"

    @Option(parsing: .unconditional, help: ArgumentHelp("Live feeds: delete windows and overlay segments older than DURATION (default: keep all).", valueName: "duration"))
    var keep: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Live feeds: print a JSON alert line on stdout when a window's mean retention is below R (0-1).", valueName: "r"))
    var alertUnder: Double?

    @Option(help: ArgumentHelp("Live feeds: run this shell command on each alert, with the facts in VIGIL_ALERT_* environment variables.", valueName: "command"))
    var onAlert: String?

    @Flag(inversion: .prefixedNo, help: "Live feeds: reopen the feed with backoff when it drops (gaps are recorded in index.json).")
    var reconnect = true

    @Option(parsing: .unconditional, help: ArgumentHelp("Live feeds: give up after this many failed reconnection attempts in a row (default: never).", valueName: "n"))
    var reconnectLimit: Int?

    @Option(help: ArgumentHelp("Live feeds: serve Prometheus metrics at http://HOST:PORT/metrics while the run goes on.", valueName: "host:port"))
    var metrics: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("report.json version: 2 (frames in frames.jsonl; stays small however long the clip) or 1 (frames inline).", valueName: "n"))
    var reportSchema: Int = 2

    func validate() throws {
        if manifest == nil {
            guard !clips.isEmpty else { throw ValidationError("Give at least one clip or URL to analyse, or --manifest FILE.") }
            if shard != nil { throw ValidationError("--shard needs --manifest FILE: a shard is a part of a manifest.") }
        } else if !clips.isEmpty {
            throw ValidationError("Give either clips or --manifest, not both (add the clips to the manifest).")
        }
        if let shard { _ = try Self.parseShard(shard) }
        try Self.validateSelection(every: every, fps: fps, maxFrames: maxFrames)
        if let start, !(start >= 0 && start <= 1e9) { throw ValidationError("--start must be between 0 and 1e9 seconds, got \(start).") }
        if let duration, !(duration > 0 && duration <= 1e9) { throw ValidationError("--duration must be more than 0 and at most 1e9 seconds, got \(duration).") }
        guard (1...4096).contains(patches) else { throw ValidationError("--patches must be between 1 and 4096, got \(patches).") }
        _ = try Self.parsePatchSize(patchSize)
        guard ["clip", "frame"].contains(camNorm) else { throw ValidationError("--cam-norm must be clip or frame, got '\(camNorm)'.") }
        if let failUnder, !(0...1).contains(failUnder) { throw ValidationError("--fail-under takes a retention between 0 and 1, got \(failUnder).") }
        if let threads, !(1...64).contains(threads) { throw ValidationError("--threads must be between 1 and 64, got \(threads).") }
        guard (0...51).contains(crf) else { throw ValidationError("--crf must be between 0 and 51, got \(crf).") }
        if let stream, stream < 0 { throw ValidationError("--stream counts video streams from 0, got \(stream).") }
        guard timeout > 0 && timeout <= 86_400 else { throw ValidationError("--timeout must be more than 0 and at most 86400 seconds, got \(timeout).") }
        let w = try Self.parseDuration(window, flag: "--window")
        if let keep, try Self.parseDuration(keep, flag: "--keep") < w {
            throw ValidationError("--keep (\(keep)) must be at least one --window (\(window)), or no window would stay on disk.")
        }
        if let alertUnder, !(0...1).contains(alertUnder) { throw ValidationError("--alert-under takes a retention between 0 and 1, got \(alertUnder).") }
        if onAlert != nil && alertUnder == nil { throw ValidationError("--on-alert needs --alert-under R, the retention below which a window alerts.") }
        if let reconnectLimit, reconnectLimit < 1 { throw ValidationError("--reconnect-limit must be 1 or more, got \(reconnectLimit) (use --no-reconnect to never reconnect).") }
        if let metrics { _ = try Self.parseHostPort(metrics) }
        _ = try CorruptionFlags.parse(corruptions, severity: severity)
        guard [1, 2].contains(reportSchema) else { throw ValidationError("--report-schema must be 1 or 2, got \(reportSchema).") }
    }

    /// (I, N) from "I/N", 0 <= I < N.
    static func parseShard(_ s: String) throws -> (Int, Int) {
        let parts = s.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, n <= 100_000, i >= 0, i < n else {
            throw ValidationError("--shard takes I/N with 0 <= I < N (shards count from 0), like 0/4, got '\(s)'.")
        }
        return (i, n)
    }

    /// Seconds from "90", "90s", "5m", "1.5h" or "1d".
    static func parseDuration(_ s: String, flag: String) throws -> Double {
        let t = s.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var number = t, scale = 1.0
        if let u = t.last, let f = units[u] { number = String(t.dropLast()); scale = f }
        guard let v = Double(number), v.isFinite, v > 0, v * scale >= 1, v * scale <= 3.2e7 else {
            throw ValidationError("\(flag) takes a duration from 1s to a year, like 30s, 5m, 1.5h or 1d, got '\(s)'.")
        }
        return v * scale
    }

    /// (host, port) from "HOST:PORT" or ":PORT" (all interfaces).
    static func parseHostPort(_ s: String) throws -> (String, Int) {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--metrics takes HOST:PORT like 127.0.0.1:9464 or :9464, got '\(s)'.")
        }
        var host = String(s[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// --every, --fps and --max-frames, as analyze and compare take them.
    static func validateSelection(every: Int?, fps: Double?, maxFrames: Int?) throws {
        if every != nil && fps != nil { throw ValidationError("Use either --every or --fps, not both.") }
        if let every, every < 1 { throw ValidationError("--every must be 1 or more, got \(every).") }
        if let fps, !(fps > 0 && fps <= 1000) { throw ValidationError("--fps must be more than 0 and at most 1000 frames per second of clip time, got \(fps).") }
        if let maxFrames, maxFrames < 1 { throw ValidationError("--max-frames must be 1 or more, got \(maxFrames).") }
    }

    static func parsePatchSize(_ s: String) throws -> (Double, Double) {
        let parts = s.split(separator: "-").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard (parts.count == 1 || parts.count == 2), let lo = parts.first!, let hi = parts.last!, lo > 0, hi <= 1, lo <= hi else {
            throw ValidationError("--patch-size takes a fraction in (0, 1] or a range like 0.125-0.25, got '\(s)'.")
        }
        return (lo, hi)
    }

    func run() throws {
        let classifier: Classifier
        do { classifier = try modelOptions.loadClassifier(camLayer: camLayer) } catch {
            printError(error)
            throw ExitCode(ExitStatus.inputError.rawValue)
        }
        for w in classifier.model.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        var opts = AnalyzeOptions()
        opts.outDirectory = out
        // What to read and which frames to pick; with a video, the skipped frames too (the overlay shows every frame).
        opts.source = VideoSource.Options(start: start, duration: duration, maxFrames: maxFrames, every: every ?? 1, targetFPS: fps,
                                          timeout: timeout, yieldSkipped: !noVideo)
        opts.source.stream = stream
        opts.source.rtspTransport = rtspTransport == .auto ? nil : rtspTransport.rawValue
        var p = AnalysisParameters()
        p.patches = patches
        (p.patchSizeLow, p.patchSizeHigh) = try Self.parsePatchSize(patchSize)
        p.fill = fill
        p.occlusion = occlusion
        p.seed = seed
        (p.corruptions, p.severities) = try CorruptionFlags.parse(corruptions, severity: severity)
        try explainerOptions.apply(to: &p)
        if target != "top1" {
            guard let t = classifier.classIndex(for: target) else {
                printError(ValidationError("--target '\(target)' is neither a class index nor a label of the model; `vigil classify` shows the labels."))
                throw ExitCode(ExitStatus.usage.rawValue)
            }
            p.targetClass = t
        }
        opts.parameters = p
        opts.targetDescription = target
        opts.camNorm = camNorm
        opts.failUnder = failUnder
        opts.workers = threads ?? ProcessInfo.processInfo.activeProcessorCount
        opts.video = VideoSink.Options(crf: crf)
        opts.vigilVersion = Vigil.configuration.version
        opts.commandLine = Self.recordedCommandLine()
        opts.reportFormat = reportSchema == 1 ? .v1 : .v2
        // The engine: VIGIL_KERNELS=avx2, VIGIL_LAYOUT=nchw and VIGIL_PROFILE=1|shapes are read here, nowhere else.
        opts.engine = .cli
        var liveOptions = LiveOptions()
        liveOptions.windowSeconds = try Self.parseDuration(window, flag: "--window")
        liveOptions.keepSeconds = try keep.map { try Self.parseDuration($0, flag: "--keep") }
        liveOptions.alertUnder = alertUnder
        liveOptions.onAlert = onAlert
        liveOptions.reconnect.enabled = reconnect
        liveOptions.reconnect.limit = reconnectLimit
        let cancel = CancellationFlag()
        let signals = SignalTrap(cancel: cancel)
        let progress = ProgressPrinter()
        var runner = AnalyzeRunner(classifier: classifier, options: opts, cancel: cancel) { progress.handle($0) }
        let mode = live, networkTimeout = timeout
        // The clips: from the command line, or a manifest (all of it, or one shard into OUT/shards/I).
        var entries = clips.enumerated().map { ManifestEntry(clip: $1, position: $0) }
        var allEntries: [ManifestEntry]? = nil
        var fleet: FleetInfo? = nil
        if let manifest {
            let m: Manifest
            do { m = try Manifest(path: manifest, sha256: FileHash.sha256Hex) } catch {
                printError(error)
                throw ExitCode(ExitStatus.inputError.rawValue)
            }
            allEntries = m.entries
            entries = m.entries
            fleet = FleetInfo(manifest: manifest, manifestSHA256: m.sha256, manifestClips: m.entries.count)
            if let shard {
                let (i, n) = try Self.parseShard(shard)
                entries = m.shard(i, of: n)
                fleet?.shard = i; fleet?.shards = n
                opts.outDirectory = (out as NSString).appendingPathComponent("shards/\(i)")
                runner = AnalyzeRunner(classifier: classifier, options: opts, cancel: cancel) { progress.handle($0) }
            }
        }
        let liveInputs = Set(entries.map(\.clip).filter { Self.isLive($0, mode: mode, timeout: networkTimeout) })
        if !liveInputs.isEmpty {
            if start != nil { printError(ValidationError("--start does not apply to a live feed; drop it or use --live off.")); throw ExitCode(ExitStatus.usage.rawValue) }
            runner.live = liveOptions
            runner.isLive = { liveInputs.contains($0) }
        }
        var endpoint: MetricsEndpoint? = nil
        if let metrics {
            let (host, port) = try Self.parseHostPort(metrics)
            let e = MetricsEndpoint()
            do { try e.start(host: host, port: port) } catch {
                printError(error)
                throw ExitCode(ExitStatus.outputError.rawValue)
            }
            FileHandle.standardError.write(Data("metrics: http://\(host):\(e.port)/metrics\n".utf8))
            runner.observer = { e.observer(feed: $0) }
            endpoint = e
        }
        let outcomes = runner.run(entries: entries, allEntries: allEntries, fleet: fleet)
        endpoint?.stop()
        // VIGIL_PROFILE=1 (or =shapes): time per op kind over the whole run, summed over the workers.
        if let profile = opts.engine.profile {
            FileHandle.standardError.write(Data(("time per op kind:\n" + profile.report() + "\n").utf8))
        }
        signals.restore()
        if cancel.isCancelled && cancel.cancelReason != "error" { throw ExitCode(ExitStatus.interrupted.rawValue) }
        if outcomes.contains(where: { $0.outputFailed }) { throw ExitCode(ExitStatus.outputError.rawValue) }
        if outcomes.contains(where: { $0.status == .failed }) { throw ExitCode(ExitStatus.inputError.rawValue) }
        if outcomes.contains(where: { $0.status == .incomplete }) { throw ExitCode(ExitStatus.incompleteInput.rawValue) }
        if outcomes.contains(where: { $0.summary?.passed == false }) { throw ExitCode(ExitStatus.failed.rawValue) }
    }

    /// Whether `clip` is run as a live feed: by its scheme, or for http(s) when FFmpeg finds no duration.
    static func isLive(_ clip: String, mode: LiveMode, timeout: Double) -> Bool {
        switch mode {
        case .on: return true
        case .off: return false
        case .auto:
            if LiveFeedKind.isLiveScheme(clip) { return true }
            // An HLS playlist is live when it has no end (FFmpeg then finds no duration). Other http(s) inputs are not
            // probed: a server may take one client only (ffmpeg -listen), so a progressive live stream needs --live on.
            let lower = clip.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://"),
                  (URLComponents(string: clip)?.path ?? "").lowercased().hasSuffix(".m3u8") else { return false }
            guard let source = try? VideoSource(url: clip, options: .init(timeout: timeout)) else { return false }
            return source.metadata.duration == nil
        }
    }

    /// The command line without where and how fast it ran (--out, --threads), so reports of the same job compare
    /// equal wherever and however they were computed.
    static func recordedCommandLine() -> String {
        var args = Array(CommandLine.arguments.dropFirst())
        for flag in ["--out", "--threads", "--metrics"] {
            if let i = args.firstIndex(of: flag), i + 1 < args.count { args.removeSubrange(i...(i + 1)) }
            args = args.filter { !$0.hasPrefix(flag + "=") }
        }
        return (["vigil"] + args).joined(separator: " ")
    }
}

/// `--rtsp-transport`.
enum RTSPTransport: String, ExpressibleByArgument, CaseIterable {
    case auto, tcp, udp
}

/// `--live`: whether inputs are live feeds.
enum LiveMode: String, ExpressibleByArgument, CaseIterable {
    case auto, on, off
}

extension PatchFill: ExpressibleByArgument {}
extension OcclusionMode: ExpressibleByArgument {}

/// Prints an error as one line on stderr.
func printError(_ error: Error) {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
}

/// Turns SIGINT and SIGTERM into a cancellation of the running analysis; another one half a second or more later
/// quits at once. Signals closer together count as one: `timeout` and some supervisors signal both the process and
/// its process group, so the same stop arrives twice within microseconds, and it used to quit at once, leaving no
/// report.
final class SignalTrap {
    var sources: [DispatchSourceSignal] = []
    /// When the first signal came (uptime nanoseconds), under its lock.
    final class FirstSignal: @unchecked Sendable {
        let lock = NSLock()
        var time: UInt64? = nil
    }
    static let repeatAfterNanoseconds: UInt64 = 500_000_000
    init(cancel: CancellationFlag) {
        let first = FirstSignal()
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler {
                let now = DispatchTime.now().uptimeNanoseconds
                first.lock.lock()
                let t0 = first.time
                if t0 == nil { first.time = now }
                first.lock.unlock()
                if let t0 {
                    if now - t0 >= SignalTrap.repeatAfterNanoseconds { exit(ExitStatus.interrupted.rawValue) }
                    return
                }
                cancel.cancel(sig == SIGINT ? "SIGINT" : "SIGTERM")
                FileHandle.standardError.write(Data("\nvigil: stopping; writing the partial report and video (press Ctrl-C again to quit at once)\n".utf8))
            }
            s.resume()
            sources.append(s)
        }
    }
    func restore() {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL)
    }
}

/// Progress on a terminal (updated in place) or one line per clip otherwise.
final class ProgressPrinter: @unchecked Sendable {
    let tty = isatty(STDERR_FILENO) != 0
    let lock = NSLock()
    var clipStart = Date()

    func handle(_ e: ProgressEvent) {
        lock.lock(); defer { lock.unlock() }
        switch e {
        case let .clipStarted(clip, index, of, _):
            clipStart = Date()
            if tty { write("[\(index + 1)/\(of)] \(clip)\n") }
        case let .progress(clip, done, total, rate):
            guard tty else { return }
            var line = "\r  \((clip as NSString).lastPathComponent): \(done)"
            // The total is an estimate from what the container declares; past it, only the count is shown.
            if let total, total > 0, done <= total {
                line += "/\(total) frames (\(Int(100 * Double(done) / Double(total)))%)"
                let el = Date().timeIntervalSince(clipStart)
                if done > 0 { line += ", ETA \(Self.duration(el / Double(done) * Double(max(total - done, 0))))" }
            } else { line += " frames" }
            line += String(format: ", %.1f analysed fps   ", rate)
            write(line)
        case let .clipFinished(o):
            if tty { write("\r\u{1B}[K") }
            var line = "\(o.clip): \(o.status.rawValue)"
            if let s = o.summary, o.analysedFrames > 0 {
                line += o.reused ? String(format: ", %d frames analysed by an earlier run with the same model, parameters and clip (kept)", o.analysedFrames)
                    : String(format: ", %d frames analysed in %.1f s", o.analysedFrames, o.wallSeconds)
                line += String(format: ", mean retention %.3f [%.3f, %.3f]", s.meanRetention, s.retentionInterval.low, s.retentionInterval.high)
                if let p = s.passed { line += p ? ", PASS" : ", FAIL (below --fail-under \(s.failUnder!))" }
            }
            if let f = o.folder, o.status != .failed { line += " -> \(f)" }
            if let err = o.error { line += "\n  \(o.status == .failed ? "error" : "note"): \(err)" }
            write(line + "\n")
        }
    }

    func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}

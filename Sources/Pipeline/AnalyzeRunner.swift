import Foundation
import Imaging
import MediaIO
import Reporting
import Robustness
import TensorCore

/// Everything `vigil analyze` was asked to do, apart from the clips.
public struct AnalyzeOptions: Sendable {
    /// Root output folder; each clip gets a folder inside it.
    public var outDirectory: String = "Reports"
    public var every: Int = 1
    public var fps: Double? = nil
    public var maxFrames: Int? = nil
    /// Seconds into the clip to start, and how many seconds to analyse.
    public var start: Double? = nil
    public var duration: Double? = nil
    public var parameters = AnalysisParameters()
    /// The `--target` value as given ("top1", a label or an index), for the report.
    public var targetDescription: String = "top1"
    /// "clip": one CAM scale for the whole clip (the running maximum, so colours do not flicker);
    /// "frame": each frame scaled by its own maximum.
    public var camNorm: String = "clip"
    public var failUnder: Double? = nil
    public var writeVideo: Bool = true
    /// Frames analysed at once (each worker has its own engine workspace).
    public var workers: Int = 1
    public var videoCRF: Int = 20
    public var networkTimeout: Double = 10
    /// Which video stream to read (counting video streams from 0); nil: FFmpeg's best.
    public var stream: Int? = nil
    /// RTSP transport (`tcp` or `udp`); nil: FFmpeg's default.
    public var rtspTransport: String? = nil
    /// How the engines run (kernels, layout, threads, profiling); `threads` is shared out between the workers.
    public var engine = EngineConfiguration.standard
    /// Which report.json to write (version 2: frames in frames.jsonl).
    public var reportFormat: ReportFormat = .v2
    /// The command line, recorded in the report.
    public var commandLine: String = "vigil analyze"
    public var vigilVersion: String = "0.0.0"
    public init() {}
}

/// How a clip's analysis ended.
public struct ClipOutcome: Sendable {
    public enum Status: String, Sendable {
        case ok, partial, failed
        /// Analysed to its end, but the input was incomplete or damaged (see the report's `input`).
        case incomplete
        /// Not started: the run was interrupted before this clip.
        case skipped = "not-analysed"
    }
    public var clip: String
    public var folder: String?
    public var status: Status
    public var error: String?
    public var summary: ClipSummary?
    public var analysedFrames: Int
    public var framesWritten: Int
    public var wallSeconds: Double
    /// True when the clip could not be opened at all.
    public var openFailed: Bool
    /// True when the failure was in writing the outputs (a locked, unwritable or full output folder).
    public var outputFailed: Bool = false
    /// True when earlier complete results were kept instead of analysing the clip again (fleet runs).
    public var reused: Bool = false
    /// The clip's position in the manifest (or in the command line's clip list).
    public var position: Int = 0
}

/// Progress of the run, for a terminal or a log.
public enum ProgressEvent: Sendable {
    case clipStarted(clip: String, index: Int, of: Int, expectedFrames: Int?)
    /// `done` frames analysed of about `total` to analyse (when the input says how long it is), analysed-frame rate.
    /// (A live feed counts the frames received, with no total.)
    case progress(clip: String, done: Int, total: Int?, analysedPerSecond: Double)
    case clipFinished(ClipOutcome)
}

/// Runs `vigil analyze` over clips: decode, analysis and encode overlapped on separate threads joined by
/// bounded queues, so memory stays flat whatever the clip length.
public final class AnalyzeRunner: @unchecked Sendable {
    public let classifier: Classifier
    public let options: AnalyzeOptions
    public let cancel: CancellationFlag
    let progress: @Sendable (ProgressEvent) -> Void
    /// How live feeds are run; nil runs every input as a recorded clip.
    public var live: LiveOptions? = nil
    /// Whether an input is a live feed (run by `LiveRunner`) rather than a recorded clip.
    public var isLive: @Sendable (String) -> Bool = { _ in false }
    /// The metrics observer for a live feed, when metrics are served.
    public var observer: @Sendable (String) -> LiveObserver? = { _ in nil }
    /// Where live alerts' JSON lines go.
    public var alertOutput: @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }

    public init(classifier: Classifier, options: AnalyzeOptions, cancel: CancellationFlag, progress: @escaping @Sendable (ProgressEvent) -> Void) {
        self.classifier = classifier; self.options = options; self.cancel = cancel; self.progress = progress
    }

    /// Analyses every clip in turn; a clip that fails does not stop the others. Writes an index when there are several.
    public func run(clips: [String]) -> [ClipOutcome] {
        run(entries: clips.enumerated().map { ManifestEntry(clip: $1, position: $0) })
    }

    /// Analyses `entries` (a manifest, or the part of it a shard takes) in turn, each with its own name, target and
    /// window when the manifest gives them. Folder names are made unique over `allEntries` (the whole manifest), so a
    /// clip gets the same folder in every shard layout. With `fleet` set, a clip whose complete results already sit in
    /// its folder (same model, parameters and bytes) is not analysed again, and the index is always written, with
    /// the fleet's facts.
    public func run(entries: [ManifestEntry], allEntries: [ManifestEntry]? = nil, fleet: FleetInfo? = nil) -> [ClipOutcome] {
        let names = folderNames(allEntries ?? entries)
        var outcomes: [ClipOutcome] = []
        for (i, entry) in entries.enumerated() {
            let clip = entry.clip
            if cancel.isCancelled {
                // Listed all the same, so the index shows what the interruption left undone.
                outcomes.append(ClipOutcome(clip: clip, folder: nil, status: .skipped, error: "not analysed: the run was interrupted first",
                                            summary: nil, analysedFrames: 0, framesWritten: 0, wallSeconds: 0, openFailed: false))
                continue
            }
            let liveFeed = live != nil && isLive(clip)
            let folder = (options.outDirectory as NSString).appendingPathComponent(names[entry.position] ?? "clip")
            progress(.clipStarted(clip: clip, index: i, of: entries.count, expectedFrames: nil))
            var o: ClipOutcome
            switch clipRunner(for: entry) {
            case .failure(let error):
                o = ClipOutcome(clip: clip, folder: nil, status: .failed, error: "\(error)", summary: nil, analysedFrames: 0, framesWritten: 0,
                                wallSeconds: 0, openFailed: true)
            case .success(let runner):
                if let live, liveFeed {
                    o = LiveRunner(classifier: classifier, options: runner.options, live: live, cancel: cancel, observer: observer(clip),
                                   alertOutput: alertOutput, progress: progress).run(url: clip, folder: folder)
                } else if fleet != nil, let kept = FleetReuse.outcome(clip: clip, folder: folder, options: runner.options, classifier: classifier) {
                    o = kept
                } else {
                    o = runner.runClip(clip, into: folder)
                }
            }
            o.position = entry.position
            progress(.clipFinished(o))
            outcomes.append(o)
        }
        if entries.count > 1 || fleet != nil {
            let entries = outcomes.map { o in
                IndexEntry(clip: o.clip, folder: o.folder.map { ($0 as NSString).lastPathComponent }, status: o.status.rawValue,
                           error: o.error, meanRetention: o.summary?.meanRetention, passed: o.summary?.passed,
                           retentionInterval: o.summary?.retentionInterval, analysedFrames: o.summary?.analysedFrames,
                           position: fleet == nil ? nil : o.position, reused: o.reused ? true : nil)
            }
            do { try IndexWriter.write(directory: options.outDirectory, entries: entries, fleet: fleet) } catch {
                if fleet != nil, !outcomes.isEmpty {
                    outcomes[outcomes.count - 1].outputFailed = true
                    outcomes[outcomes.count - 1].error = "\(error)"
                }
            }
        }
        return outcomes
    }

    /// One folder name per manifest position: the entry's `name`, or one made from the clip, with `-2`, `-3`, ...
    /// added in manifest order when two would collide.
    func folderNames(_ entries: [ManifestEntry]) -> [Int: String] {
        var used = Set<String>(), names: [Int: String] = [:]
        for e in entries.sorted(by: { $0.position < $1.position }) {
            let live = self.live != nil && isLive(e.clip)
            let first = e.name.map { Self.folderName(for: $0) } ?? Self.folderName(for: e.clip, live: live)
            var base = first, n = 2
            while used.contains(base) { base = first + "-\(n)"; n += 1 }
            used.insert(base)
            names[e.position] = base
        }
        return names
    }

    /// A runner with this entry's own target, start and duration in its options.
    func clipRunner(for entry: ManifestEntry) -> Result<AnalyzeRunner, ManifestError> {
        guard entry.target != nil || entry.start != nil || entry.duration != nil else { return .success(self) }
        var o = options
        if let t = entry.target {
            guard let index = classifier.classIndex(for: t) else {
                return .failure(ManifestError(path: entry.clip, line: entry.position + 1,
                                              reason: "names target '\(t)', which is neither a class index nor a label of the model"))
            }
            o.parameters.targetClass = index
            o.targetDescription = t
        }
        if let s = entry.start { o.start = s }
        if let d = entry.duration { o.duration = d }
        let r = AnalyzeRunner(classifier: classifier, options: o, cancel: cancel, progress: progress)
        r.live = live; r.isLive = isLive; r.observer = observer; r.alertOutput = alertOutput
        return .success(r)
    }

    /// Whether the input was whole: no read error or stall, no damaged packet, and (when the whole of an MP4/MOV was
    /// read) as many frames as it declares (MP4/MOV), or frames up to its declared duration (Matroska/WebM). AVI counts
    /// are not compared: AVI declares its null (repeat) frames too.
    func completeness(source: VideoSource, meta: ClipMetadata, readError: Error?, analysed: Int, interrupted: Bool) -> InputCompleteness {
        var problems: [String] = []
        if let readError { problems.append("\(readError)") }
        if source.damagedPackets > 0 { problems.append("\(source.damagedPackets) damaged packet(s) were skipped or concealed; the frames around them may be missing") }
        let wholeRead = !interrupted && readError == nil && options.start == nil && options.duration == nil && (options.maxFrames.map { analysed < $0 } ?? true)
        if wholeRead, meta.container.hasPrefix("mov,mp4"), let declared = meta.frameCount, source.framesDecoded < declared {
            problems.append("decoded \(source.framesDecoded) of the \(declared) frames the file declares: it is truncated or damaged")
        }
        // Matroska and WebM declare a duration, not a frame count: the last frame must come within a second of its end.
        if wholeRead, meta.container.hasPrefix("matroska"), let declared = meta.duration, let last = source.lastPTS, last + 1 < declared {
            problems.append(String(format: "the frames end at %.2f s but the file declares %.2f s: it is truncated", last, declared))
        }
        return InputCompleteness(declaredFrames: meta.frameCount, decodedFrames: source.framesDecoded, damagedPackets: source.damagedPackets,
                                 complete: problems.isEmpty, problem: problems.isEmpty ? nil : problems.joined(separator: "; "))
    }

    /// A folder name from a clip path or URL: the file name without its extension; for a stream URL (rtsp, udp,
    /// rtp, srt, tcp, http without a file name, or any URL run as a live feed) its host, port and path, so two feeds
    /// get two folders. Never empty, never `.` or `..` or anything that starts with a dot (nothing can leave `--out`).
    static func folderName(for clip: String, live: Bool = false) -> String {
        var name: String
        if let u = URLComponents(string: clip), let scheme = u.scheme?.lowercased(), scheme != "file", let host = u.host, !host.isEmpty,
           live || !(["http", "https"].contains(scheme) && !(u.path as NSString).pathExtension.isEmpty) {
            name = ([host] + (u.port.map { ["\($0)"] } ?? []) + u.path.split(separator: "/").map(String.init)).joined(separator: "_")
        } else {
            name = (clip as NSString).lastPathComponent
            if let q = name.firstIndex(of: "?") { name = String(name[..<q]) }
            name = (name as NSString).deletingPathExtension
        }
        let allowed = name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }
        let s = String(String(allowed).drop { $0 == "." })
        return s.isEmpty ? "clip" : s
    }

    struct Work: @unchecked Sendable {
        var seq: Int
        var frame: VideoFrame
        var analysis: FrameAnalysis? = nil
        var error: Error? = nil
    }

    /// Analyses one clip into `final` through a staging folder (`OutputFolder`): the folder is replaced only by a
    /// complete report (a partial one after an interruption included) with at least one analysed frame.
    func runClip(_ clip: String, into final: String) -> ClipOutcome {
        let out: OutputFolder
        do { out = try OutputFolder(final: final) } catch {
            return ClipOutcome(clip: clip, folder: nil, status: .failed, error: "\(error)", summary: nil, analysedFrames: 0, framesWritten: 0,
                               wallSeconds: 0, openFailed: false, outputFailed: true)
        }
        var o = runClip(clip, folder: out.staging)
        guard o.folder != nil, !o.outputFailed, o.analysedFrames > 0 || o.status != .failed else {
            out.discard()
            o.folder = nil
            return o
        }
        do { try out.commit() } catch {
            out.discard()
            o.folder = nil; o.status = .failed; o.outputFailed = true; o.error = "\(error)"
            return o
        }
        o.folder = final
        return o
    }

    /// Analyses one clip into `folder`.
    func runClip(_ clip: String, folder: String) -> ClipOutcome {
        let started = Date()
        let source: VideoSource
        do {
            var sourceOptions = VideoSource.Options(start: options.start, duration: options.duration, maxFrames: options.maxFrames, every: options.every,
                                                    targetFPS: options.fps, timeout: options.networkTimeout, yieldSkipped: options.writeVideo)
            let cancel = self.cancel
            sourceOptions.shouldStop = { cancel.isCancelled }
            sourceOptions.stream = options.stream
            sourceOptions.rtspTransport = options.rtspTransport
            source = try VideoSource(url: clip, options: sourceOptions)
        } catch {
            return ClipOutcome(clip: clip, folder: nil, status: .failed, error: "\(error)", summary: nil, analysedFrames: 0, framesWritten: 0,
                               wallSeconds: 0, openFailed: true)
        }
        let meta = source.metadata
        let writer: ReportWriter
        var sink: VideoSink? = nil
        do {
            writer = try ReportWriter(directory: folder, provenance: provenance(meta), format: options.reportFormat, overlayVideo: options.writeVideo)
            if options.writeVideo {
                sink = try VideoSink(path: (folder as NSString).appendingPathComponent("overlay.mp4"), width: meta.width, height: meta.height,
                                     frameRate: meta.frameRate, options: .init(crf: options.videoCRF))
            }
        } catch {
            return ClipOutcome(clip: clip, folder: nil, status: .failed, error: "\(error)", summary: nil, analysedFrames: 0, framesWritten: 0,
                               wallSeconds: 0, openFailed: false, outputFailed: true)
        }
        let workers = max(1, options.workers)
        let inFlight = DispatchSemaphore(value: 4 * workers + 4)
        let todo = BoundedQueue<Work>(capacity: 2 * workers + 2)
        let done = BoundedQueue<Work>(capacity: 1 << 20) // bounded in practice by the in-flight permits
        let decodeError = Locked<Error?>(nil)
        let group = DispatchGroup()
        let cancel = self.cancel
        // Decode.
        Thread.detachNewThread { [source] in
            group.enter()
            defer { todo.close(); group.leave() }
            var seq = 0
            while !cancel.isCancelled {
                inFlight.wait()
                do {
                    guard let f = try source.nextFrame() else { inFlight.signal(); break }
                    todo.push(Work(seq: seq, frame: f)); seq += 1
                } catch {
                    decodeError.set(error)
                    inFlight.signal()
                    break
                }
            }
        }
        // Analyse.
        let workerGroup = DispatchGroup()
        for _ in 0..<workers {
            workerGroup.enter()
            let analyzer = options.analyzer(classifier, clip: meta)
            Thread.detachNewThread {
                defer { workerGroup.leave() }
                while var w = todo.pop() {
                    if w.frame.isSelected && !cancel.isCancelled {
                        do { w.analysis = try analyzer.analyze(w.frame.image, frame: w.frame.index, pts: w.frame.pts) } catch { w.error = error }
                    }
                    done.push(w)
                }
            }
        }
        Thread.detachNewThread { workerGroup.wait(); done.close() }
        // Encode and report, in order, on this thread.
        var pending: [Int: Work] = [:]
        var next = 0
        var acc = ClipAccumulator(worstCount: 5, seed: options.parameters.seed)
        var last: FrameAnalysis? = nil
        var camMax: Float = 0
        var fatal: Error? = nil
        var written = 0
        var stageTotals: [String: Double] = [:]
        let renderer = OverlayRenderer()
        var lastReport = Date()
        let total = source.expectedSelectedFrames
        var stopped = false, outputFatal = false
        func consume(_ w: Work) {
            defer { inFlight.signal() }
            if fatal != nil || stopped { return }
            if let e = w.error { fatal = e; cancel.cancel("error"); return }
            // Once interrupted, the report and the overlay end together: at the first frame that was not analysed
            // (workers stop analysing), and no skipped frame is written after the interruption.
            if cancel.isCancelled && w.analysis == nil { stopped = true; return }
            if let a = w.analysis {
                acc.add(a)
                for (k, v) in a.timings { stageTotals[k, default: 0] += v }
                do { try writer.append(a) } catch { fatal = error; outputFatal = true; cancel.cancel("error"); return }
                last = a
                camMax = max(camMax, a.cam.max() ?? 0)
            }
            var overlay: RGBImage? = nil
            if let a = last, sink != nil || (w.analysis != nil && acc.isWorst(frame: a.frame)) {
                let scale = options.camNorm == "frame" ? (a.cam.max() ?? 1) : camMax
                overlay = renderer.render(w.frame.image, analysis: a, camScale: scale, inputWidth: classifier.inputWidth, inputHeight: classifier.inputHeight)
            }
            if let a = w.analysis, acc.isWorst(frame: a.frame), let overlay {
                writer.setThumbnail(frame: a.frame, pts: a.pts, original: w.frame.image, overlay: overlay)
                writer.retainThumbnails(Set(acc.worstFrameIndices))
            }
            if let sink {
                do { try sink.write(overlay ?? w.frame.image, pts: w.frame.pts); written += 1 } catch { fatal = error; outputFatal = true; cancel.cancel("error") }
            }
            if Date().timeIntervalSince(lastReport) > 0.25 {
                lastReport = Date()
                let el = Date().timeIntervalSince(started)
                progress(.progress(clip: clip, done: acc.count, total: total, analysedPerSecond: el > 0 ? Double(acc.count) / el : 0))
            }
        }
        while let w = done.pop() {
            pending[w.seq] = w
            while let x = pending.removeValue(forKey: next) { consume(x); next += 1 }
        }
        group.wait()
        let decErr = decodeError.get()
        let interrupted = cancel.isCancelled && cancel.cancelReason != "error"
        let input = completeness(source: source, meta: meta, readError: interrupted ? nil : decErr, analysed: acc.count, interrupted: interrupted)
        var status: ClipOutcome.Status = (interrupted || fatal != nil) ? .partial : (input.complete ? .ok : .incomplete)
        var errorText: String? = fatal.map { "\($0)" } ?? (interrupted ? nil : input.problem)
        if errorText == nil, let n = meta.videoStreamCount, n > 1, let k = meta.videoStream {
            errorText = "the clip has \(n) video streams; stream \(k) was analysed (choose another with --stream 0 to \(n - 1))"
        }
        if let sink {
            do { try sink.finish() } catch { status = .partial; errorText = errorText ?? "\(error)"; outputFatal = true }
        }
        let wall = Date().timeIntervalSince(started)
        let summary = acc.summary(failUnder: options.failUnder)
        let n = Double(max(acc.count, 1))
        let timing = TimingSummary(wallSeconds: wall, analysedFramesPerSecond: wall > 0 ? Double(acc.count) / wall : 0,
                                   meanMsPerStage: stageTotals.mapValues { $0 / n })
        do {
            _ = try writer.finish(summary: summary, partial: interrupted || fatal != nil || decErr != nil || status == .partial, input: input, timing: timing)
        } catch {
            return ClipOutcome(clip: clip, folder: nil, status: .failed, error: "\(error)", summary: summary, analysedFrames: acc.count,
                               framesWritten: written, wallSeconds: wall, openFailed: false, outputFailed: true)
        }
        // Success needs analysed frames: a run that analysed none, or that stopped on an analysis error, failed
        // (its partial report stays on disk, marked partial).
        if fatal != nil || (acc.count == 0 && !interrupted) {
            if acc.count == 0 && fatal == nil {
                errorText = errorText ?? "no frame was analysed: the clip has no decodable frame in the chosen range; check --start, --duration, --every and --fps"
            }
            return ClipOutcome(clip: clip, folder: folder, status: .failed, error: errorText.map { acc.count == 0 ? $0 : "\($0) (after \(acc.count) analysed frames; the report holds them, marked partial)" },
                               summary: summary, analysedFrames: acc.count, framesWritten: written, wallSeconds: wall, openFailed: false,
                               outputFailed: outputFatal)
        }

        return ClipOutcome(clip: clip, folder: folder, status: status, error: errorText, summary: summary, analysedFrames: acc.count,
                           framesWritten: written, wallSeconds: wall, openFailed: false)
    }

    func provenance(_ m: ClipMetadata) -> Provenance { options.provenance(clip: m, classifier: classifier) }
}

extension AnalyzeOptions {
    /// One worker's engine: the cores shared out between the frames analysed at once.
    var workerEngine: EngineConfiguration { engine.with(threads: max(1, engine.threads / max(1, workers))) }

    /// One worker's frame analyser for `meta`'s clip (its luma matrix for 1-channel models).
    func analyzer(_ classifier: Classifier, clip meta: ClipMetadata) -> FrameAnalyzer {
        let a = FrameAnalyzer(classifier: classifier, parameters: parameters, configuration: workerEngine,
                              codec: parameters.corruptionCodec)
        a.luma = LumaMatrix(colorMatrix: meta.colorMatrix)
        return a
    }

    /// What a report records of the model, the parameters and the clip.
    func provenance(clip m: ClipMetadata, classifier c: Classifier) -> Provenance {
        let info = ClipInfo(url: m.url, container: m.container, codec: m.codec, profile: m.profile, width: m.width, height: m.height,
                            frameRate: "\(m.frameRate.num)/\(m.frameRate.den)", duration: m.duration, frameCount: m.frameCount,
                            bitRate: m.bitRate, rotation: m.rotation, pixelFormat: m.pixelFormat)
        var clip = info
        clip.sha256 = Self.fileSHA256(m.url)
        return Provenance(vigilVersion: vigilVersion, createdBy: commandLine, model: modelInfo(c), parameters: reportParameters,
                          ffmpeg: FFmpegLibrary.versionString,
                          blas: blasConfiguration + (engine.effectiveKernels == .avx512 ? "; convolutions on Vigil's AVX-512 kernels" : ""),
                          clip: clip)
    }

    /// The model as a report records it.
    func modelInfo(_ c: Classifier) -> ModelInfo {
        let card = c.card
        var model = ModelInfo(path: c.model.path, sha256: c.modelSHA256, name: card.name, inputSize: [c.inputHeight, c.inputWidth],
                              camLayer: c.camLayer, outputKind: card.outputKind, mean: card.mean, std: card.std,
                              resize: card.resize,
                              labels: card.labels)
        model.camReshape = c.camLayout == .nchw ? nil : "\(c.camLayout)"
        model.inputChannels = c.inputChannels
        model.batch = c.model.batch.rawValue
        if !c.model.quantizedOpCounts.isEmpty { model.quantized = true }
        return model
    }

    /// Every parameter that changes the numbers, as the report records them.
    var reportParameters: ReportParameters {
        let p = parameters
        var params = ReportParameters(patches: p.patches, patchSizeLow: p.patchSizeLow, patchSizeHigh: p.patchSizeHigh, fill: p.fill.rawValue,
                                      seed: p.seed, target: targetDescription, camNorm: camNorm,
                                      every: fps == nil ? every : nil, fps: fps, maxFrames: maxFrames,
                                      failUnder: failUnder)
        params.start = start
        params.duration = duration
        if !p.corruptions.isEmpty { params.corruptions = p.corruptions.map(\.rawValue); params.severities = p.severities }
        if p.cams != ["gradcam"] { params.cams = p.cams }
        if p.faithfulness { params.faithfulnessSteps = p.faithfulnessSteps }
        return params
    }

    /// SHA-256 of a local clip file (nil for URLs and image-sequence patterns, or when it cannot be read).
    static func fileSHA256(_ url: String) -> String? {
        let path = url.lowercased().hasPrefix("file:") ? String(url.dropFirst(5)) : url
        guard !path.contains("://"), FileManager.default.fileExists(atPath: path) else { return nil }
        return try? FileHash.sha256Hex(ofFile: path)
    }
}

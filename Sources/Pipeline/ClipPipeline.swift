import Foundation
import Imaging
import MediaIO
import Reporting
import Robustness

/// Runs one clip through the stages and says how it ended:
///
/// ```
/// DecodeStage --SequencedFrame--> AnalyzeStage (N workers) --AnalysedFrame--> ReorderStage
///     --> ReportStage (figures, report files) --> RenderStage (overlay, thumbnails) --Picture--> EncodeStage (overlay.mp4)
/// ```
///
/// Decode, the N analysis workers and encode run on threads of their own, joined by bounded queues, so they overlap;
/// reorder, report and render run in frame order on the calling thread, which decides what becomes of each frame.
/// At most `inFlightLimit` frames are between decoding and the end of the pipeline (`FramePermits`), so memory stays
/// flat whatever the clip length.
///
/// - Cancellation: once the run is cancelled the workers stop analysing, and the report and the overlay end together
///   at the first frame that was not analysed; the report is written, marked partial.
/// - An analysis error stops the clip: it has failed, and the report of the frames before it is written, marked
///   partial. An output error (a report file, the overlay) does the same and marks the outcome `outputFailed`.
final class ClipPipeline {
    let classifier: Classifier
    /// The run's options, as the CLI built them; each stage reads its part.
    let options: AnalyzeOptions
    let cancel: CancellationFlag
    let progress: @Sendable (ProgressEvent) -> Void
    /// Report outputs of the caller's own, beside the standard files.
    var extraOutputs: [any ReportOutput] = []
    /// Makes one worker's frame analyser for the clip (default: `AnalyzeOptions.analyzer`).
    var makeAnalyzer: (ClipMetadata) -> FrameAnalyzer
    /// The frame permits of the last run (its `peak` says how many frames were in flight at most).
    private(set) var permits: FramePermits? = nil

    init(classifier: Classifier, options: AnalyzeOptions, cancel: CancellationFlag, progress: @escaping @Sendable (ProgressEvent) -> Void) {
        self.classifier = classifier; self.options = options; self.cancel = cancel; self.progress = progress
        makeAnalyzer = { [options] meta in options.analyzer(classifier, clip: meta) }
    }

    /// Workers analysing frames at once.
    var workers: Int { max(1, options.workers) }
    /// Most frames in flight at once: four per worker and four more.
    var inFlightLimit: Int { 4 * workers + 4 }

    /// Analyses `clip` into `folder` (created when missing).
    func run(clip: String, folder: String) -> ClipOutcome {
        let started = Date()
        func failed(_ error: Error, open: Bool, output: Bool) -> ClipOutcome {
            ClipOutcome(clip: clip, folder: nil, status: .failed, error: "\(error)", summary: nil, analysedFrames: 0, framesWritten: 0,
                        wallSeconds: 0, openFailed: open, outputFailed: output)
        }
        let decode: DecodeStage
        do { decode = try DecodeStage(url: clip, options: options.source, cancel: cancel, capacity: 2 * workers + 2) } catch {
            return failed(error, open: true, output: false)
        }
        let meta = decode.metadata
        let report: ReportStage
        var encode: EncodeStage? = nil
        do {
            report = try ReportStage(directory: folder, provenance: options.provenance(clip: meta, classifier: classifier), format: options.reportFormat,
                                     overlayVideo: options.writeVideo, seed: options.parameters.seed, extraOutputs: extraOutputs)
            if options.writeVideo {
                let sink = try VideoSink(path: (folder as NSString).appendingPathComponent(ReportWriter.videoFileName), width: meta.width,
                                         height: meta.height, frameRate: meta.frameRate, options: options.video)
                encode = EncodeStage(sink: sink, capacity: 2 * workers + 2)
            }
        } catch { return failed(error, open: false, output: true) }

        let permits = FramePermits(limit: inFlightLimit)
        self.permits = permits
        decode.start(permits: permits)
        let analyse = AnalyzeStage(analyzers: (0..<workers).map { _ in makeAnalyzer(meta) }, cancel: cancel)
        analyse.start(input: decode.output)
        encode?.start(cancel: cancel, permits: permits)

        // In frame order, on this thread: what becomes of each frame.
        var reorder = ReorderStage()
        var render = RenderStage(camNorm: options.camNorm, inputWidth: classifier.inputWidth, inputHeight: classifier.inputHeight)
        var fatal: Error? = nil
        var stopped = false, outputFatal = false
        var lastProgress = Date()
        let total = decode.source.expectedSelectedFrames
        let cancel = self.cancel
        reorder.run(analyse.output) { w in
            var handedOn = false
            defer { if !handedOn { permits.release() } }
            if fatal == nil, let e = encode?.error { fatal = e; outputFatal = true }
            if fatal != nil || stopped { return }
            if let e = w.error { fatal = e; cancel.cancel("error"); return }
            // Once interrupted, the report and the overlay end together: at the first frame that was not analysed
            // (workers stop analysing), and no skipped frame is written after the interruption.
            if cancel.isCancelled && w.analysis == nil { stopped = true; return }
            if let a = w.analysis {
                do { try report.add(a) } catch { fatal = error; outputFatal = true; cancel.cancel("error"); return }
                render.note(a)
            }
            let worst = w.analysis.map(report.isWorst) ?? false
            let overlay = encode != nil || worst ? render.render(w.frame.image) : nil
            if let a = w.analysis, worst, let overlay { report.keepThumbnail(of: a, original: w.frame.image, overlay: overlay) }
            if let encode {
                encode.push(EncodeStage.Picture(image: overlay ?? w.frame.image, pts: w.frame.pts))
                handedOn = true
            }
            if Date().timeIntervalSince(lastProgress) > 0.25 {
                lastProgress = Date()
                let el = Date().timeIntervalSince(started)
                progress(.progress(clip: clip, done: report.count, total: total, analysedPerSecond: el > 0 ? Double(report.count) / el : 0))
            }
        }
        let readError = decode.wait()
        if let e = encode?.drain(), fatal == nil { fatal = e; outputFatal = true }

        let analysed = report.count
        let interrupted = cancel.isCancelled && cancel.cancelReason != "error"
        let input = decode.completeness(readError: interrupted ? nil : readError, analysed: analysed, interrupted: interrupted)
        var status: ClipOutcome.Status = (interrupted || fatal != nil) ? .partial : (input.complete ? .ok : .incomplete)
        var errorText: String? = fatal.map { "\($0)" } ?? (interrupted ? nil : input.problem)
        if errorText == nil, let n = meta.videoStreamCount, n > 1, let k = meta.videoStream {
            errorText = "the clip has \(n) video streams; stream \(k) was analysed (choose another with --stream 0 to \(n - 1))"
        }
        let written = encode?.framesWritten ?? 0
        if let encode {
            do { try encode.finish() } catch { status = .partial; errorText = errorText ?? "\(error)"; outputFatal = true }
        }
        let wall = Date().timeIntervalSince(started)
        let summary = report.summary(failUnder: options.failUnder)
        do {
            try report.finish(summary: summary, partial: interrupted || fatal != nil || readError != nil || status == .partial, input: input,
                              timing: report.timing(wallSeconds: wall))
        } catch {
            return ClipOutcome(clip: clip, folder: nil, status: .failed, error: "\(error)", summary: summary, analysedFrames: analysed,
                               framesWritten: written, wallSeconds: wall, openFailed: false, outputFailed: true)
        }
        // Success needs analysed frames: a run that analysed none, or that stopped on an error, failed (its partial
        // report stays on disk, marked partial).
        if fatal != nil || (analysed == 0 && !interrupted) {
            if analysed == 0 && fatal == nil {
                errorText = errorText ?? "no frame was analysed: the clip has no decodable frame in the chosen range; check --start, --duration, --every and --fps"
            }
            return ClipOutcome(clip: clip, folder: folder, status: .failed,
                               error: errorText.map { analysed == 0 ? $0 : "\($0) (after \(analysed) analysed frames; the report holds them, marked partial)" },
                               summary: summary, analysedFrames: analysed, framesWritten: written, wallSeconds: wall, openFailed: false,
                               outputFailed: outputFatal)
        }
        return ClipOutcome(clip: clip, folder: folder, status: status, error: errorText, summary: summary, analysedFrames: analysed,
                           framesWritten: written, wallSeconds: wall, openFailed: false)
    }
}

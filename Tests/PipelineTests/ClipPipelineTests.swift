import Foundation
import MediaIO
@testable import Pipeline
import Reporting
import Robustness
import Testing
import TestSupport

/// The stages wired together by `ClipPipeline`, on the real model and clips: ordering, bounded memory,
/// cancellation, errors and the report's list of outputs.
@Suite struct ClipPipelineTests {
    static func pipeline(_ options: AnalyzeOptions, cancel: CancellationFlag = CancellationFlag(), extra: [any ReportOutput] = []) -> ClipPipeline {
        let p = ClipPipeline(classifier: PipelineFixtures.classifier, options: options, cancel: cancel) { _ in }
        p.extraOutputs = extra
        return p
    }

    @Test func theReportIsTheSameWhateverTheWorkerCount() throws {
        var reports: [[Int]] = [], records: [Data] = []
        for workers in [1, 3] {
            let dir = Subprocess.tempDirectory("pipeline-workers-\(workers)")
            var options = PipelineFixtures.options(maxFrames: 8, workers: workers)
            options.engine = options.engine.with(threads: workers)  // one thread per worker: the same sums in the same order
            let o = Self.pipeline(options).run(clip: PipelineFixtures.clip, folder: dir)
            #expect(o.status == .ok, "\(o.error ?? "")")
            #expect(o.analysedFrames == 8 && o.framesWritten == 8)
            reports.append(try PipelineFixtures.csvFrames(dir))
            records.append(try Data(contentsOf: URL(fileURLWithPath: dir + "/frames.jsonl")))
        }
        #expect(reports[0] == Array(0..<8))
        #expect(reports[1] == reports[0])
        #expect(records[1] == records[0], "three workers finishing out of order write the same records as one")
    }

    @Test func framesInFlightStayWithinThePermits() throws {
        let dir = Subprocess.tempDirectory("pipeline-permits")
        // The report output holds the first frame until decoding has run ahead: analysed frames pile up behind it (the
        // analysed-frame queue itself is unbounded), and decoding stops once every permit is held.
        let held = WatchingOutput()
        let p = Self.pipeline(PipelineFixtures.options(maxFrames: 16, workers: 1), extra: [held])
        held.onAppend = { [weak p] n in
            guard let p else { return }
            let deadline = Date(timeIntervalSinceNow: 60)
            while n == 1, (p.permits?.inUse ?? 0) < p.inFlightLimit, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            if n == 1 { Thread.sleep(forTimeInterval: 0.3) }  // time to take one permit too many, were it possible
        }
        let o = p.run(clip: PipelineFixtures.clip, folder: dir)
        #expect(o.status == .ok, "\(o.error ?? "")")
        let permits = try #require(p.permits)
        #expect(p.inFlightLimit == 8)
        #expect(permits.peak == p.inFlightLimit)
        #expect(permits.inUse == 0, "every frame's permit is given back once the frame is written")
    }

    @Test func anInterruptionEndsTheReportAndTheOverlayTogether() throws {
        let dir = Subprocess.tempDirectory("pipeline-interrupt")
        let cancel = CancellationFlag()
        let watch = WatchingOutput()
        watch.cancel = (after: 3, flag: cancel, reason: "SIGINT")
        // Every 2nd frame analysed: the overlay also shows the skipped frames, so it could run past the report.
        let o = Self.pipeline(PipelineFixtures.options(maxFrames: 20, every: 2), cancel: cancel, extra: [watch]).run(clip: PipelineFixtures.clip, folder: dir)
        #expect(o.status == .partial)
        #expect(o.error == nil)
        #expect(o.analysedFrames >= 3 && o.analysedFrames < 20)
        #expect(try PipelineFixtures.reportIsPartial(dir))
        let frames = try PipelineFixtures.csvFrames(dir)
        #expect(frames == watch.appended)
        #expect(frames.count == o.analysedFrames)
        // The overlay holds every decoded frame up to the last analysed one, and none after it.
        let overlay = try PipelineFixtures.overlayFrames(dir)
        #expect(overlay.count == o.framesWritten)
        #expect(overlay.count == frames.last! + 1)
        #expect(watch.events.suffix(2) == [.close, .finish])
    }

    @Test func anAnalysisErrorFailsTheClipAndKeepsAPartialReport() throws {
        let dir = Subprocess.tempDirectory("pipeline-analysis-error")
        let cancel = CancellationFlag()
        let p = Self.pipeline(PipelineFixtures.options(maxFrames: 6), cancel: cancel)
        // h264_compression without its codec: every analysis throws.
        p.makeAnalyzer = { _ in
            var params = AnalysisParameters()
            params.patches = 4
            params.corruptions = [.h264Compression]
            return FrameAnalyzer(classifier: PipelineFixtures.classifier, parameters: params, configuration: .test, codec: nil)
        }
        let o = p.run(clip: PipelineFixtures.clip, folder: dir)
        #expect(o.status == .failed)
        #expect(!o.outputFailed && !o.openFailed)
        #expect(o.error?.contains("h264") == true, "\(o.error ?? "")")
        #expect(o.analysedFrames == 0)
        #expect(cancel.cancelReason == "error")
        #expect(try PipelineFixtures.reportIsPartial(dir))
        #expect(try PipelineFixtures.csvFrames(dir).isEmpty)
    }

    @Test func anOutputErrorFailsTheClipAsAnOutputFailure() throws {
        let dir = Subprocess.tempDirectory("pipeline-output-error")
        let cancel = CancellationFlag()
        let watch = WatchingOutput()
        watch.failAt = 3
        let o = Self.pipeline(PipelineFixtures.options(maxFrames: 8), cancel: cancel, extra: [watch]).run(clip: PipelineFixtures.clip, folder: dir)
        #expect(o.status == .failed)
        #expect(o.outputFailed)
        #expect(o.error?.contains("refuses this frame") == true, "\(o.error ?? "")")
        #expect(cancel.cancelReason == "error")
        #expect(watch.appended == [0, 1])
        #expect(try PipelineFixtures.reportIsPartial(dir))
    }

    @Test func aClipThatCannotBeOpenedSaysSo() throws {
        let dir = Subprocess.tempDirectory("pipeline-open-error")
        let o = Self.pipeline(PipelineFixtures.options()).run(clip: FixturePaths.path("Fixtures/bad/text.mp4"), folder: dir)
        #expect(o.status == .failed && o.openFailed && o.folder == nil)
        #expect(o.error != nil)
    }

    @Test func anExtraOutputReceivesEveryFrameAndTheFinish() throws {
        let dir = Subprocess.tempDirectory("pipeline-extra-output")
        let watch = WatchingOutput()
        let o = Self.pipeline(PipelineFixtures.options(maxFrames: 5, every: 3), extra: [watch]).run(clip: PipelineFixtures.clip, folder: dir)
        #expect(o.status == .ok, "\(o.error ?? "")")
        #expect(watch.appended == [0, 3, 6, 9, 12])
        #expect(watch.appended == (try PipelineFixtures.csvFrames(dir)))
        #expect(watch.events.suffix(2) == [.close, .finish], "closed once, then finished once, after the last frame")
        let r = try #require(watch.finished)
        #expect(r.frameCount == 5 && r.summary.analysedFrames == 5 && !r.partial)
        #expect(watch.recordsPresentAtFinish, "extra outputs finish before the frame records are renamed")
        #expect(FileManager.default.fileExists(atPath: dir + "/frames.jsonl"))
    }

    @Test func theOptionsFlowUnchanged() throws {
        var o = AnalyzeOptions()
        #expect(o.writeVideo && o.source.yieldSkipped)
        o.writeVideo = false
        #expect(!o.source.yieldSkipped)
        o.source.start = 1.5
        o.source.duration = 2
        o.source.targetFPS = 4
        o.source.maxFrames = 7
        o.camNorm = "frame"
        let p = o.reportParameters
        #expect(p.start == 1.5 && p.duration == 2 && p.fps == 4 && p.every == nil && p.maxFrames == 7 && p.camNorm == "frame")
        // The decode stage reads the source options as they are, with cancellation added.
        let cancel = CancellationFlag()
        let decode = try DecodeStage(url: PipelineFixtures.clip, options: o.source, cancel: cancel, capacity: 1)
        #expect(decode.source.options.start == 1.5 && decode.source.options.maxFrames == 7 && !decode.source.options.yieldSkipped)
        #expect(decode.source.options.shouldStop?() == false)
        cancel.cancel("SIGINT")
        #expect(decode.source.options.shouldStop?() == true)
    }
}

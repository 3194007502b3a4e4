import Foundation
import Imaging
import MediaIO
@testable import Pipeline
import Reporting
import Robustness
import Testing
import TestSupport

/// Each stage alone, on the real model and clips.
@Suite struct StageTests {
    @Test func decodeNumbersFramesInOrderAndWaitsForPermits() throws {
        let cancel = CancellationFlag()
        let decode = try DecodeStage(url: PipelineFixtures.clip, options: .init(maxFrames: 10), cancel: cancel, capacity: 100)
        let permits = FramePermits(limit: 3)
        decode.start(permits: permits)
        var got: [SequencedFrame] = []
        // Three frames come at once; the fourth only once a permit is given back.
        for _ in 0..<3 {
            guard case .element(let f) = decode.output.pop(timeout: 10) else { Issue.record("a frame within the permits did not come"); return }
            got.append(f)
        }
        if case .element(let f) = decode.output.pop(timeout: 0.5) { Issue.record("frame \(f.seq) was decoded while 3 permits of 3 were held") }
        #expect(permits.inUse == 3)
        while got.count < 10 {
            permits.release()
            guard case .element(let f) = decode.output.pop(timeout: 10) else { break }
            got.append(f)
        }
        for _ in 0..<3 { permits.release() }
        #expect(decode.output.pop() == nil, "the queue is closed after the last frame")
        #expect(decode.wait() == nil)
        #expect(got.map(\.seq) == Array(0..<10))
        #expect(got.map(\.frame.index) == Array(0..<10))
        #expect(permits.peak == 3)
        #expect(permits.inUse == 0)
        let input = decode.completeness(readError: nil, analysed: 10, interrupted: false)
        #expect(input.complete && input.decodedFrames == 10)
    }

    @Test func decodeStopsWhenCancelled() throws {
        let cancel = CancellationFlag()
        let decode = try DecodeStage(url: PipelineFixtures.clip, options: .init(), cancel: cancel, capacity: 100)
        let permits = FramePermits(limit: 100)
        cancel.cancel("SIGINT")
        decode.start(permits: permits)
        #expect(decode.output.pop() == nil)
        #expect(decode.wait() == nil)
        #expect(permits.peak == 0)
    }

    @Test func workersFinishOutOfOrderAndReorderPutsFramesBack() throws {
        let cancel = CancellationFlag()
        let decode = try DecodeStage(url: PipelineFixtures.clip, options: .init(maxFrames: 6), cancel: cancel, capacity: 4)
        let permits = FramePermits(limit: 100)
        decode.start(permits: permits)
        let options = PipelineFixtures.options(workers: 3)
        let analyse = AnalyzeStage(analyzers: (0..<3).map { _ in options.analyzer(PipelineFixtures.classifier, clip: decode.metadata) }, cancel: cancel)
        analyse.start(input: decode.output)
        var finished: [AnalysedFrame] = []
        while let f = analyse.output.pop() { finished.append(f) }
        #expect(finished.count == 6)
        #expect(finished.allSatisfy { $0.error == nil && $0.analysis?.frame == $0.frame.index })
        // Whatever order the workers finished in, and in the worst one (last first), the frames come out in order.
        for arrival in [finished, finished.reversed(), [3, 0, 5, 1, 4, 2].map { i in finished.first { $0.seq == i }! }] {
            var reorder = ReorderStage()
            var out: [Int] = []
            for f in arrival { reorder.add(f) { out.append($0.seq) } }
            #expect(out == Array(0..<6))
            #expect(reorder.waiting == 0)
        }
        var reorder = ReorderStage()
        var out: [Int] = []
        for i in [2, 1] { reorder.add(finished.first { $0.seq == i }!) { out.append($0.seq) } }
        #expect(out.isEmpty && reorder.waiting == 2, "frames that come early wait for frame 0")
        reorder.add(finished.first { $0.seq == 0 }!) { out.append($0.seq) }
        #expect(out == [0, 1, 2])
    }

    @Test func anAnalysisErrorTravelsWithItsFrame() throws {
        let cancel = CancellationFlag()
        // Every 2nd frame picked; the skipped ones are handed over too, unanalysed.
        let decode = try DecodeStage(url: PipelineFixtures.clip, options: .init(maxFrames: 2, every: 2, yieldSkipped: true), cancel: cancel, capacity: 4)
        decode.start(permits: FramePermits(limit: 100))
        // h264_compression without its codec: the analyser throws for each picked frame.
        var p = AnalysisParameters()
        p.patches = 4
        p.corruptions = [.h264Compression]
        let analyzer = FrameAnalyzer(classifier: PipelineFixtures.classifier, parameters: p, configuration: .test, codec: nil)
        let analyse = AnalyzeStage(analyzers: [analyzer], cancel: cancel)
        analyse.start(input: decode.output)
        var frames: [AnalysedFrame] = []
        while let f = analyse.output.pop() { frames.append(f) }
        #expect(frames.map(\.frame.isSelected) == [true, false, true])
        for f in frames {
            #expect(f.analysis == nil)
            #expect((f.error != nil) == f.frame.isSelected, "frame \(f.seq): \(String(describing: f.error))")
        }
    }

    @Test func renderCarriesTheNewestAnalysisOnTheClipScale() throws {
        let frames = try PipelineFixtures.analysedFrames(3)
        let (f0, a0) = frames[0], (f2, a2) = frames[2]
        let c = PipelineFixtures.classifier
        var clip = RenderStage(camNorm: "clip", inputWidth: c.inputWidth, inputHeight: c.inputHeight)
        var frame = RenderStage(camNorm: "frame", inputWidth: c.inputWidth, inputHeight: c.inputHeight)
        #expect(clip.render(f0.image) == nil, "nothing to draw before the first analysis")
        for (_, a) in frames { clip.note(a); frame.note(a) }
        let peak = frames.map { $0.1.cam.max() ?? 0 }.max()!
        #expect(clip.camMax == peak)
        let r = OverlayRenderer()
        #expect(clip.render(f0.image) == r.render(f0.image, analysis: a2, camScale: peak, inputWidth: c.inputWidth, inputHeight: c.inputHeight))
        #expect(frame.render(f2.image) == r.render(f2.image, analysis: a2, camScale: a2.cam.max()!, inputWidth: c.inputWidth, inputHeight: c.inputHeight))
        #expect(clip.render(f0.image) != f0.image)
    }

    @Test func encodeWritesInOrderAndGivesPermitsBack() throws {
        let dir = Subprocess.tempDirectory("encode-stage")
        let source = try VideoSource(url: PipelineFixtures.clip, options: .init(maxFrames: 8))
        let m = source.metadata
        let path = dir + "/overlay.mp4"
        let encode = EncodeStage(sink: try VideoSink(path: path, width: m.width, height: m.height, frameRate: m.frameRate), capacity: 2)
        let permits = FramePermits(limit: 100)
        let cancel = CancellationFlag()
        encode.start(cancel: cancel, permits: permits)
        var pts: [Double] = []
        while let f = try source.nextFrame() {
            permits.acquire()
            encode.push(.init(image: f.image, pts: f.pts))
            pts.append(f.pts)
        }
        #expect(encode.drain() == nil)
        try encode.finish()
        #expect(encode.framesWritten == 8)
        #expect(permits.inUse == 0)
        #expect(!cancel.isCancelled)
        let back = try VideoSource(url: path)
        var got: [Double] = []
        while let f = try back.nextFrame() { got.append(f.pts) }
        #expect(got.count == 8)
        for (a, b) in zip(got, pts) { #expect(abs(a - b) < 1e-3, "pts \(a) written as \(b)") }
    }

    @Test func anEncodeErrorCancelsAndTheRestIsDrained() throws {
        let dir = Subprocess.tempDirectory("encode-stage-error")
        let source = try VideoSource(url: PipelineFixtures.clip, options: .init(maxFrames: 4))
        let m = source.metadata
        let encode = EncodeStage(sink: try VideoSink(path: dir + "/overlay.mp4", width: m.width, height: m.height, frameRate: m.frameRate), capacity: 1)
        let permits = FramePermits(limit: 100)
        let cancel = CancellationFlag()
        encode.start(cancel: cancel, permits: permits)
        var i = 0
        while let f = try source.nextFrame() {
            permits.acquire()
            // The second picture has the wrong size: the sink refuses it.
            encode.push(.init(image: i == 1 ? RGBImage(width: 16, height: 16) : f.image, pts: f.pts))
            i += 1
        }
        let error = encode.drain()
        #expect(error.map { "\($0)" }?.contains("16x16") == true, "\(String(describing: error))")
        #expect(encode.framesWritten == 1, "nothing is written after the error")
        #expect(cancel.cancelReason == "error")
        #expect(permits.inUse == 0)
    }

    @Test func reportStageFeedsEveryOutputAndKeepsTheWorstThumbnails() throws {
        let dir = Subprocess.tempDirectory("report-stage")
        let frames = try PipelineFixtures.analysedFrames(4)
        let watch = WatchingOutput()
        let options = PipelineFixtures.options()
        let source = try VideoSource(url: PipelineFixtures.clip)
        let report = try ReportStage(directory: dir, provenance: options.provenance(clip: source.metadata, classifier: PipelineFixtures.classifier),
                                     format: .v2, overlayVideo: false, seed: 0, extraOutputs: [watch])
        for (f, a) in frames {
            try report.add(a)
            if report.isWorst(a) { report.keepThumbnail(of: a, original: f.image, overlay: f.image) }
        }
        #expect(report.count == 4)
        let summary = report.summary(failUnder: nil)
        try report.finish(summary: summary, partial: false, timing: report.timing(wallSeconds: 1))
        #expect(watch.appended == frames.map(\.1.frame))
        #expect(try PipelineFixtures.csvFrames(dir) == frames.map(\.1.frame))
        #expect(FileManager.default.fileExists(atPath: dir + "/frames.jsonl"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/" + ReportWriter.fragmentName))
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        #expect(html.contains("data:image/png;base64,"), "the worst frames' thumbnails are in the page")
        // An output that cannot write stops the report stage's caller with its error.
        let failing = WatchingOutput()
        failing.failAt = 2
        let second = try ReportStage(directory: dir + "/2", provenance: report.writer.provenance, format: .v2, overlayVideo: false, seed: 0,
                                     extraOutputs: [failing])
        try second.add(frames[0].1)
        #expect(throws: WatchingOutput.Refused.self) { try second.add(frames[1].1) }
    }
}

/// A live run reads its frame counts for progress lines between index writes; a feed that drops in between must
/// still reach the index as a gap (the progress read once took the pending gap updates with it, and a run that
/// reconnected could end with no gap recorded).
@Test func liveGapSurvivesProgressReads() {
    let state = LiveState()
    state.received()
    state.record(.dropped(cause: "the stream ended", at: Date()))
    #expect(state.countsNow.received == 1)
    state.record(.reconnected(at: Date(), attempts: 1))
    #expect(state.countsNow.received == 1)
    let s = state.takeSnapshot()
    #expect(s.reconnects == 1)
    #expect(s.gaps.count == 2)
    #expect(s.gaps.first?.1 == true, "the drop opens a new gap")
    #expect(s.gaps.last?.0.end != nil, "the reconnection closes it")
    #expect(state.takeSnapshot().gaps.isEmpty, "updates are handed over once")
}

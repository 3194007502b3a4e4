import Foundation
import Imaging
import MediaIO
@testable import Pipeline
import Reporting
import Robustness
import TestSupport

/// The real model and clips the pipeline tests run on, and small report outputs that watch what the writer does.
enum PipelineFixtures {
    /// The default model (EfficientNet-Lite0, real weights), loaded once.
    static let classifier: Classifier = try! Classifier(modelPath: FixturePaths.defaultModel)
    /// 320x240 H.264, 25 fps.
    static let clip = FixturePaths.path("Fixtures/video/synth_h264.mp4")

    /// Options for a short, cheap run: 4 patches per frame, the first `maxFrames` picked frames.
    static func options(maxFrames: Int = 6, every: Int = 1, workers: Int = 2, video: Bool = true, out: String = "") -> AnalyzeOptions {
        var o = AnalyzeOptions()
        o.outDirectory = out
        o.source = VideoSource.Options(maxFrames: maxFrames, every: every, yieldSkipped: video)
        o.parameters.patches = 4
        o.workers = workers
        o.engine = .test
        return o
    }

    /// The analyses of the first `count` frames of `clip`, in order, with the frames they came from.
    static func analysedFrames(_ count: Int) throws -> [(VideoFrame, FrameAnalysis)] {
        let source = try VideoSource(url: clip, options: .init(maxFrames: count))
        let analyzer = options().analyzer(classifier, clip: source.metadata)
        var out: [(VideoFrame, FrameAnalysis)] = []
        while let f = try source.nextFrame() { out.append((f, try analyzer.analyze(f.image, frame: f.index, pts: f.pts))) }
        return out
    }

    /// The frame column of a `frames.csv`.
    static func csvFrames(_ folder: String) throws -> [Int] {
        let text = try String(contentsOfFile: (folder as NSString).appendingPathComponent("frames.csv"), encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { Int($0.split(separator: ",")[0])! }
    }

    /// The top-level `partial` flag of a folder's report.json.
    static func reportIsPartial(_ folder: String) throws -> Bool {
        let data = try Data(contentsOf: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("report.json")))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return json["partial"] as! Bool
    }

    /// The overlay video's frame count and last frame time, decoded.
    static func overlayFrames(_ folder: String) throws -> (count: Int, lastPTS: Double?) {
        let source = try VideoSource(url: (folder as NSString).appendingPathComponent("overlay.mp4"))
        var n = 0, last: Double? = nil
        while let f = try source.nextFrame() { n += 1; last = f.pts }
        return (n, last)
    }
}

/// A report output of the tests' own: records what the writer hands it, and can cancel the run or fail on the
/// Nth frame.
final class WatchingOutput: ReportOutput, @unchecked Sendable {
    enum Event: Equatable { case append(Int), close, finish }
    struct Refused: Error, CustomStringConvertible { var description = "the test output refuses this frame" }

    private(set) var events: [Event] = []
    private(set) var finished: FinishedReport? = nil
    /// Whether the frame records were still on disk when `finish` ran.
    private(set) var recordsPresentAtFinish = false
    var cancel: (after: Int, flag: CancellationFlag, reason: String)? = nil
    var failAt: Int? = nil
    /// Called in each `append` with the count of frames appended so far, this one included.
    var onAppend: ((Int) -> Void)? = nil

    var appended: [Int] { events.compactMap { e -> Int? in if case .append(let f) = e { return f }; return nil } }

    func append(_ frame: FrameAnalysis) throws {
        if let failAt, appended.count + 1 == failAt { throw Refused() }
        events.append(.append(frame.frame))
        if let c = cancel, appended.count == c.after { c.flag.cancel(c.reason) }
        onAppend?(appended.count)
    }

    func close() throws { events.append(.close) }

    func finish(_ report: FinishedReport) throws {
        events.append(.finish)
        finished = report
        recordsPresentAtFinish = FileManager.default.fileExists(atPath: report.recordsPath)
    }
}

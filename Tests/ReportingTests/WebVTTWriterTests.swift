import Foundation
@testable import Reporting
import Robustness
import Testing

/// overlay.vtt: WebVTT timestamps, cue spans, escaping, and the file the report writer streams beside the video.
@Suite struct WebVTTWriterTests {
    @Test(arguments: [
        (0.0, "00:00:00.000"), (0.1, "00:00:00.100"), (1.0 / 3, "00:00:00.333"), (59.9996, "00:01:00.000"),
        (61.25, "00:01:01.250"), (3723.5, "01:02:03.500"), (360_000, "100:00:00.000"),
        (-0.5, "00:00:00.000"), (.nan, "00:00:00.000"), (.infinity, "00:00:00.000"),
    ] as [(Double, String)])
    func timestamps(seconds: Double, expected: String) {
        #expect(WebVTTWriter.timestamp(seconds) == expected)
    }

    /// The blocks of a WebVTT file after its header, each as its lines.
    static func blocks(_ path: String) throws -> [[String]] {
        let text = try String.file(path)
        #expect(text.hasPrefix("WEBVTT\n\n"))
        return text.components(separatedBy: "\n\n").dropFirst().filter { !$0.isEmpty && !$0.hasPrefix("NOTE") }
            .map { $0.components(separatedBy: "\n") }
    }

    /// One cue per frame, named by its frame index, from its pts to the next frame's; the last lasts one frame.
    @Test func cuesSpanToTheNextAnalysedFrame() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let w = try WebVTTWriter(path: dir.file("overlay.vtt"), frameDuration: 0.04)
        let frames = (0..<3).map { ReportFixtures.frame($0) }   // frames 0, 2, 4 at 0, 0.08, 0.16 s
        for f in frames { try w.append(f) }
        try w.finish()
        let cues = try Self.blocks(dir.file("overlay.vtt"))
        #expect(cues.count == 3)
        #expect(cues.map { $0[0] } == ["frame 0", "frame 2", "frame 4"])
        #expect(cues.map { $0[1] } == ["00:00:00.000 --> 00:00:00.080", "00:00:00.080 --> 00:00:00.160", "00:00:00.160 --> 00:00:00.200"])
        let f = frames[0]
        #expect(cues[0][2] == String(format: "tabby cat %.3f", f.top1.probability))
        #expect(cues[0][3] == String(format: "retention %.3f [%.3f, %.3f]", f.retention, f.retentionInterval.low, f.retentionInterval.high))
    }

    /// Without a known frame rate the last cue lasts as long as the gap before it.
    @Test func lastCueWithoutFrameRate() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let w = try WebVTTWriter(path: dir.file("overlay.vtt"), frameDuration: 0)
        try w.append(.init(frame: 10, start: 1.0, text: "a"))
        try w.append(.init(frame: 15, start: 1.5, text: "b"))
        try w.finish()
        #expect(try Self.blocks(dir.file("overlay.vtt")).map { $0[1] } == ["00:00:01.000 --> 00:00:01.500", "00:00:01.500 --> 00:00:02.000"])
    }

    /// Labels cannot break the file: `-->`, `<`, `>` and `&` become character references, line breaks spaces.
    @Test(arguments: [
        ("a-->b", "a--&gt;b"), ("<i>x</i>", "&lt;i&gt;x&lt;/i&gt;"), ("fish & chips", "fish &amp; chips"),
        ("two\nlines", "two lines"), ("blank\n\nline", "blank  line"), ("dog, \"husky\"", "dog, \"husky\""),
    ] as [(String, String)])
    func labelsAreEscaped(label: String, expected: String) throws {
        var f = ReportFixtures.frame(0)
        f.top5[0].label = label
        let text = WebVTTWriter.text(f)
        #expect(text.hasPrefix(expected + " "), "\(text)")
        #expect(!text.contains("-->") && !text.contains("<") && !text.contains("\n\n"))
        let dir = TemporaryDirectory(); defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let w = try WebVTTWriter(path: dir.file("overlay.vtt"), frameDuration: 0.04)
        try w.append(f)
        try w.finish()
        let cues = try Self.blocks(dir.file("overlay.vtt"))
        #expect(cues.count == 1 && cues[0].count == 4, "\(cues)")
        #expect(cues.first?[2].hasPrefix(expected + " ") == true)
    }

    /// With a video, the report writer streams overlay.vtt (one cue per frame, matching frames.csv) and the page plays
    /// overlay.mp4 with it as its track; without one there is no track and the page says there is no video.
    @Test(arguments: [true, false])
    func reportWriterWritesTheTrackOnlyWithAVideo(video: Bool) throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let (paths, _) = try ReportFixtures.writeReport(to: dir.path, count: 12, thumbnails: false, overlayVideo: video)
        let html = try String.file(paths.html)
        #expect(FileManager.default.fileExists(atPath: dir.file("overlay.vtt")) == video)
        #expect(paths.subtitles == (video ? dir.file("overlay.vtt") : nil))
        if video {
            #expect(html.contains("<video id=\"overlay-video\" src=\"overlay.mp4\""))
            #expect(html.contains("<track kind=\"subtitles\" src=\"overlay.vtt\""))
            let cues = try Self.blocks(dir.file("overlay.vtt"))
            let csv = try String.file(paths.csv).split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
            #expect(cues.count == csv.count)
            for (cue, row) in zip(cues, csv) {
                #expect(cue[0] == "frame \(row[0])")
                #expect(cue[1].hasPrefix(WebVTTWriter.timestamp(Double(row[1])!) + " --> "))
            }
            // 25 fps: the last cue lasts 0.04 s.
            #expect(cues.last?[1] == "00:00:00.880 --> 00:00:00.920")
        } else {
            #expect(!html.contains("<video"))
            #expect(html.contains("No overlay video"))
        }
    }
}

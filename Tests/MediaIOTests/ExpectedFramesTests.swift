import Foundation
import Testing
@testable import MediaIO

/// What a progress display counts down: the frames a source will select, estimated from the container's
/// declarations before decoding, against the frames it actually selects.
@Suite struct ExpectedFramesTests {
    static let clips = ["video/vtest.avi", "video/carphone_pristine.mp4", "video/synth_hevc.mkv", "video/synth_vp9.webm", "video/synth_h264.mp4"]
    static let options: [(String, VideoSource.Options)] = [
        ("all", .init()),
        ("every 3", .init(every: 3)),
        ("max 7 every 2", .init(maxFrames: 7, every: 2)),
        ("fps 2.5", .init(targetFPS: 2.5)),
        ("start 1 duration 1.5", .init(start: 1, duration: 1.5)),
        ("start 1.2", .init(start: 1.2)),
        ("duration 0.7 every 2", .init(duration: 0.7, every: 2)),
        ("start past the end", .init(start: 500)),
    ]

    /// A stream that declares neither a frame count nor a duration: no estimate, unless --max-frames or --duration gives one.
    @Test func noEstimateWithoutDeclarations() {
        let meta = ClipMetadata(url: "udp://127.0.0.1:5000", container: "mpegts", codec: "h264", profile: nil, width: 64, height: 48,
                                codedWidth: 64, codedHeight: 48, frameRate: Rational(25, 1), timeBase: Rational(1, 90000),
                                duration: nil, frameCount: nil, bitRate: nil, rotation: 0, pixelFormat: "yuv420p", hasAudio: false)
        #expect(VideoSource.Options().expectedSelectedFrames(metadata: meta) == nil)
        #expect(VideoSource.Options(maxFrames: 40).expectedSelectedFrames(metadata: meta) == 40)
        #expect(VideoSource.Options(duration: 2).expectedSelectedFrames(metadata: meta) == 50)
        #expect(VideoSource.Options(start: 1, duration: 2, every: 2).expectedSelectedFrames(metadata: meta) == 25)
    }

    /// On clips that keep to their declared frame count or duration (AVI, MP4, Matroska, WebM), the estimate is exact.
    @Test(arguments: clips)
    func estimateMatchesTheFramesSelected(clip: String) throws {
        for (name, options) in Self.options {
            let source = try VideoSource(url: fixture(clip), options: options)
            let expected = source.expectedSelectedFrames
            var selected = 0
            while try source.nextFrame() != nil { selected += 1 }
            #expect(expected == selected, "\(clip), \(name): \(expected.map(String.init) ?? "no estimate"), \(selected) selected")
        }
    }
}

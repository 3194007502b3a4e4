import Foundation
import Imaging
import Testing
@testable import MediaIO

/// Decoding the committed fixtures and comparing with what ffprobe found when they were made.
@Suite struct VideoSourceTests {
    static let goodClips = [
        "video/bikes.mp4", "video/carphone_pristine.mp4", "video/synth_audio.mp4", "video/synth_h264.mp4",
        "video/synth_odd_321x241.mp4", "video/synth_rotate90.mp4", "video/synth_vfr.mp4", "video/synth_mjpeg.avi",
        "video/tree.avi", "video/vtest.avi", "video/synth_vp9.webm", "video/synth_hevc.mkv",
    ]

    @Test("frame count, first and last timestamps and display size match ffprobe", arguments: goodClips)
    func decodesLikeFFprobe(clip: String) throws {
        let e = try #require(expectations["Fixtures/\(clip)"])
        let source = try VideoSource(url: fixture(clip))
        #expect(source.metadata.codec == e.codec)
        #expect(source.metadata.codedWidth == e.width && source.metadata.codedHeight == e.height)
        // expected.json's display size applies rotation only; VideoSource also widens by the sample aspect ratio.
        let sar = source.metadata.sampleAspectRatio.value ?? 1
        let displayWidth = Int((Double(e.display_width ?? 0) * sar).rounded())
        #expect(source.metadata.width == displayWidth && source.metadata.height == e.display_height)
        var count = 0
        var first: Double? = nil
        var last: Double? = nil
        var previous = -Double.infinity
        while let frame = try source.nextFrame() {
            #expect(frame.index == count)
            #expect(frame.image.width == displayWidth && frame.image.height == e.display_height)
            #expect(frame.pts > previous, "timestamps must increase: \(frame.pts) after \(previous)")
            previous = frame.pts
            if first == nil { first = frame.pts }
            last = frame.pts
            count += 1
        }
        #expect(count == e.frames_decoded)
        #expect(abs((first ?? -1) - (e.first_pts_time ?? -2)) < 1e-4, "first pts \(String(describing: first))")
        #expect(abs((last ?? -1) - (e.last_pts_time ?? -2)) < 1e-4, "last pts \(String(describing: last))")
        #expect(source.damagedPackets == 0)
        #expect(source.framesDecoded == count)
    }

    /// RGB pictures agree with `ffmpeg -f rawvideo -pix_fmt rgb24` (which also autorotates).
    @Test("RGB conversion and rotation agree with the ffmpeg CLI", arguments: [
        "video/synth_h264.mp4", "video/synth_rotate90.mp4", "video/synth_mjpeg.avi", "video/synth_odd_321x241.mp4",
        "video/carphone_pristine.mp4", "video/tree.avi",
    ])
    func matchesFFmpegCLI(clip: String) throws {
        let frames = try decodeAll(fixture(clip), options: .init(maxFrames: 3))
        let image = try #require(frames.last?.image)
        // passthrough: no frames duplicated or dropped to make a constant rate; scale: the aspect-corrected size.
        let raw = try run("/usr/bin/ffmpeg", ["-v", "error", "-i", fixture(clip), "-fps_mode", "passthrough",
                                              "-vf", "scale=\(image.width):\(image.height)", "-frames:v", "3",
                                              "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        let size = image.width * image.height * 3
        try #require(raw.count == 3 * size, "ffmpeg gave \(raw.count) bytes, expected 3 frames of \(image.width)x\(image.height)")
        let reference = RGBImage(width: image.width, height: image.height, pixels: [UInt8](raw.suffix(size)))
        let db = psnr(image, reference)
        #expect(db >= 40, "PSNR \(db) dB against ffmpeg's RGB for \(clip)")
    }

    @Test func sampleAspectRatioWidensTheDisplay() throws {
        // carphone is coded 176x144 with square-ish QCIF pixels of aspect 128/117: shown 193 wide.
        let m = try VideoSource(url: fixture("video/carphone_pristine.mp4")).metadata
        #expect(m.sampleAspectRatio == Rational(128, 117))
        #expect(m.codedWidth == 176 && m.width == 193 && m.height == 144)
    }

    @Test func metadataOfTheMainSample() throws {
        let m = try VideoSource(url: fixture("video/vtest.avi")).metadata
        #expect(m.container == "avi")
        #expect(m.codec == "msmpeg4v3")
        #expect(m.frameRate == Rational(10, 1))
        #expect(m.frameCount == 795)
        #expect(abs((m.duration ?? 0) - 79.5) < 0.01)
        #expect(m.rotation == 0)
        #expect(m.pixelFormat == "yuv420p")
        #expect(m.hasAudio == false)
        let r = try VideoSource(url: fixture("video/synth_rotate90.mp4")).metadata
        #expect(r.rotation == 90 && r.width == 96 && r.height == 160)
        #expect(try VideoSource(url: fixture("video/synth_audio.mp4")).metadata.hasAudio)
        let encoded = try JSONEncoder().encode(m)
        #expect(try JSONDecoder().decode(ClipMetadata.self, from: encoded) == m)
    }

    @Test func variableFrameRateTimestampsComeFromTheStream() throws {
        let frames = try decodeAll(fixture("video/synth_vfr.mp4"))
        #expect(frames.count == 50)
        #expect(abs(frames[29].pts - 29.0 / 30) < 1e-4)
        #expect(abs(frames[30].pts - 1.0) < 1e-4)
        #expect(abs(frames[31].pts - frames[30].pts - 0.1) < 1e-4, "gap after frame 30: \(frames[31].pts - frames[30].pts)")
        #expect(abs(frames[49].pts - 2.9) < 1e-4)
    }

    // MARK: Options

    @Test func everyNthFrameSkipsWithoutReturning() throws {
        let source = try VideoSource(url: fixture("video/synth_h264.mp4"), options: .init(every: 5))
        var indices: [Int] = []
        while let f = try source.nextFrame() { indices.append(f.index); #expect(f.isSelected) }
        #expect(indices == Array(stride(from: 0, to: 75, by: 5)))
        #expect(source.framesDecoded == 75)
    }

    @Test func yieldSkippedReturnsEveryFrameMarked() throws {
        let frames = try decodeAll(fixture("video/synth_h264.mp4"), options: .init(every: 3, yieldSkipped: true))
        #expect(frames.count == 75)
        #expect(frames.filter(\.isSelected).map(\.index) == Array(stride(from: 0, to: 75, by: 3)))
    }

    @Test func targetFPSPicksOnAGrid() throws {
        let frames = try decodeAll(fixture("video/synth_h264.mp4"), options: .init(targetFPS: 5))
        #expect(frames.count == 15)  // 3 s at 5 fps
        #expect(frames.map(\.index) == Array(stride(from: 0, to: 75, by: 5)))
        let vfr = try decodeAll(fixture("video/synth_vfr.mp4"), options: .init(targetFPS: 10))
        // 0..1 s at 30 fps gives 10 picks, then 20 frames at 10 fps all picked.
        #expect(vfr.count == 30)
    }

    @Test func startDurationAndMaxFrames() throws {
        let window = try decodeAll(fixture("video/synth_h264.mp4"), options: .init(start: 1.0, duration: 1.0))
        #expect(window.count == 25)
        #expect(abs((window.first?.pts ?? 0) - 1.0) < 1e-4)
        #expect(abs((window.last?.pts ?? 0) - 1.96) < 1e-4)
        #expect(window.first?.index == 0)
        let capped = try decodeAll(fixture("video/vtest.avi"), options: .init(maxFrames: 7, every: 2))
        #expect(capped.map(\.index) == [0, 2, 4, 6, 8, 10, 12])
        let late = try decodeAll(fixture("video/vtest.avi"), options: .init(start: 70, maxFrames: 3))
        #expect(late.count == 3)
        for (f, t) in zip(late, [70.0, 70.1, 70.2]) { #expect(abs(f.pts - t) < 1e-6) }
    }

    @Test func seekedFramesMatchTheSameFramesDecodedFromTheStart() throws {
        let all = try decodeAll(fixture("video/bikes.mp4"), options: .init(maxFrames: 140))
        let seeked = try decodeAll(fixture("video/bikes.mp4"), options: .init(start: 5.0, maxFrames: 3))
        #expect(abs(seeked[0].pts - 5.0) < 1e-4)
        let same = try #require(all.first { abs($0.pts - seeked[0].pts) < 1e-6 })
        #expect(psnr(same.image, seeked[0].image) > 60)
    }

    @Test func outputSizeOverridesTheDisplaySize() throws {
        let frames = try decodeAll(fixture("video/vtest.avi"), options: .init(maxFrames: 2, outputSize: (224, 224)))
        #expect(frames.allSatisfy { $0.image.width == 224 && $0.image.height == 224 })
    }

    @Test func sequenceIteration() throws {
        let source = try VideoSource(url: fixture("video/synth_vp9.webm"))
        var n = 0
        for _ in source { n += 1 }
        #expect(n == 50)
    }

    @Test func versionStringNamesTheLibraries() {
        #expect(FFmpegLibrary.versionString.hasPrefix("libavformat 59."))
        #expect(FFmpegLibrary.versionString.contains("libavcodec 59."))
    }
}

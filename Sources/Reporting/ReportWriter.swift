import Foundation
import Imaging
import Robustness

/// What decoding found of the clip: whether the input was whole.
public struct InputCompleteness: Codable, Sendable, Equatable {
    /// Frames the container declares for the stream, when it does.
    public var declaredFrames: Int?
    /// Frames decoded in the analysed window.
    public var decodedFrames: Int
    /// Packets or frames FFmpeg reported as damaged (skipped or concealed).
    public var damagedPackets: Int
    /// False when the input ended early (a stall, a read error, fewer frames than declared) or had damaged packets.
    public var complete: Bool
    /// What was wrong, when something was.
    public var problem: String?
    public init(declaredFrames: Int?, decodedFrames: Int, damagedPackets: Int, complete: Bool, problem: String?) {
        self.declaredFrames = declaredFrames; self.decodedFrames = decodedFrames; self.damagedPackets = damagedPackets
        self.complete = complete; self.problem = problem
    }
}

/// Which `report.json` to write.
public enum ReportFormat: Int, Sendable, CaseIterable {
    /// Version 1.0: every frame record inline in report.json (grows with the clip).
    case v1 = 1
    /// Version 2.0: frame records in `frames.jsonl`; report.json holds summaries and a downsampled series.
    case v2 = 2

    /// The `schemaVersion` written.
    public var schemaVersion: String { self == .v1 ? "1.0" : "2.0" }
}

/// Writes one clip's report, streaming the frames to disk as they come: a list of outputs (`ReportOutput`), by
/// default `frames.csv`, `overlay.vtt` (with an overlay video), `report.json`, `report.html` and the frame records
/// (`frames.jsonl` in version 2).
///
/// Memory stays flat whatever the clip length: `append` hands each frame to every output (a CSV row, a cue, a JSON
/// line in the fragment file `.frames.jsonl.partial`) and keeps nothing per frame but the candidate worst-frame
/// thumbnails. `finish` closes the outputs, reads the fragment once for the downsampled series and the page's
/// per-frame figures, and lets every output write what needs the whole clip (report.json to a temporary file, then
/// renamed; then the HTML; last the fragment, renamed to `frames.jsonl` or, in version 1, copied into report.json and
/// removed).
///
/// `report.json` is byte-identical for identical inputs except its last key, `timing`.
/// The writer is safe to call from several threads; frames must be appended in time order.
public final class ReportWriter: @unchecked Sendable {
    /// Name of the per-frame fragment file inside the report directory while the clip is analysed.
    public static let fragmentName = ".frames.jsonl.partial"
    /// The name of the per-frame file of a version 2 report.
    public static let framesFileName = "frames.jsonl"
    /// Widest thumbnail kept, in pixels.
    public static let thumbnailWidth = 320
    /// The overlay video the page plays, and its WebVTT track (same name, so VLC and mpv load it with the video).
    public static let videoFileName = "overlay.mp4"
    public static let subtitlesFileName = "overlay.vtt"

    public let directory: String
    public let provenance: Provenance
    public let paths: ReportPaths
    /// The report.json version written.
    public let format: ReportFormat
    var fragmentPath: String { records.fragmentPath }

    private let lock = NSLock()
    /// Every output, in the order they are called; the frame records last (see `FrameRecordsFile`).
    private let outputs: [any ReportOutput]
    private let records: FrameRecordsFile
    private var frameCount = 0
    private var thumbnails: [Int: Thumbnail] = [:]
    private var finished = false

    /// Creates `directory` (and its parents) and starts the streamed files in it.
    /// - Parameters:
    ///   - overlayVideo: true when `overlay.mp4` is written beside the report: the writer then streams its WebVTT
    ///     track, `overlay.vtt`, and the page plays the video; false: the page says there is no video.
    ///   - extraOutputs: outputs of the caller's own, called after the standard ones and before the frame records
    ///     are renamed or removed.
    /// - Throws: `ReportingError` when the directory or a file cannot be created.
    public init(directory: String, provenance: Provenance, format: ReportFormat = .v2, overlayVideo: Bool = false,
                extraOutputs: [any ReportOutput] = []) throws {
        self.directory = directory
        self.provenance = provenance
        self.format = format
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw ReportingError(.createDirectory, path: directory, error: error)
        }
        let dir = URL(fileURLWithPath: directory)
        paths = ReportPaths(json: dir.appendingPathComponent("report.json").path,
                            html: dir.appendingPathComponent("report.html").path,
                            csv: dir.appendingPathComponent("frames.csv").path,
                            subtitles: overlayVideo ? dir.appendingPathComponent(Self.subtitlesFileName).path : nil)
        let standard = try Self.standardOutputs(paths: paths, frameDuration: Self.frameDuration(provenance.clip.frameRate))
        records = try FrameRecordsFile(directory: directory, format: format)
        outputs = standard + extraOutputs + [records]
    }

    /// The report's files apart from the frame records, in the order they are called: `frames.csv`, `overlay.vtt`
    /// (when `paths` has subtitles), `report.json` and `report.html`. A new file is one more entry here.
    /// - Throws: `ReportingError` when a streamed file cannot be created.
    static func standardOutputs(paths: ReportPaths, frameDuration: Double) throws -> [any ReportOutput] {
        var outputs: [any ReportOutput] = [try FrameCSVFile(path: paths.csv)]
        if let vtt = paths.subtitles { outputs.append(try WebVTTWriter(path: vtt, frameDuration: frameDuration)) }
        outputs.append(ReportJSONFile(path: paths.json))
        outputs.append(ReportHTMLFile(path: paths.html,
                                      video: paths.subtitles == nil ? nil : HTMLReport.Video(file: videoFileName, subtitles: subtitlesFileName)))
        return outputs
    }

    /// Number of frames appended so far.
    public var count: Int { lock.withLock { frameCount } }

    /// Appends one analysed frame to every output: a CSV row, a JSON record (without `timings`) on its own line and,
    /// with a video, the previous frame's subtitle cue.
    /// - Throws: `ReportingError` when a file cannot be written or the writer has finished.
    public func append(_ frame: FrameAnalysis) throws {
        try lock.withLock {
            guard !finished else { throw ReportingError(.finished, path: directory, reason: "append after finish") }
            for o in outputs { try o.append(frame) }
            frameCount += 1
        }
    }

    /// Keeps a thumbnail pair for `frame`, a candidate worst frame: both pictures are shrunk to at most
    /// `thumbnailWidth` pixels wide now and PNG-encoded by `finish`, only for the frames that end up worst
    /// (most candidates are dropped again, and encoding every one cost a tenth of the run).
    public func setThumbnail(frame: Int, pts: Double, original: RGBImage, overlay: RGBImage) {
        guard original.width > 0, original.height > 0, overlay.width > 0, overlay.height > 0 else { return }
        let thumb = Thumbnail(frame: frame, pts: pts, original: Self.shrunk(original), overlay: Self.shrunk(overlay))
        lock.withLock { thumbnails[frame] = thumb }
    }

    /// Drops the thumbnails of frames not in `frames` (call with the accumulator's current worst frames).
    public func retainThumbnails(_ frames: Set<Int>) {
        lock.withLock { thumbnails = thumbnails.filter { frames.contains($0.key) } }
    }

    /// Closes the streamed files, then has every output write what needs the whole clip: `report.json`,
    /// `report.html`, and the fragment file renamed to `frames.jsonl` (version 2) or removed (version 1).
    ///
    /// - Parameters:
    ///   - summary: the clip metrics; only thumbnails of its `worstFrames` appear in the HTML.
    ///   - partial: true when the analysis stopped early (interrupted); marked in both reports.
    ///   - timing: wall-clock figures, written apart as the last key of `report.json`.
    /// - Throws: `ReportingError`; a failed finish leaves the fragment file in place.
    public func finish(summary: ClipSummary, partial: Bool, input: InputCompleteness? = nil, timing: TimingSummary) throws -> ReportPaths {
        try lock.withLock {
            guard !finished else { throw ReportingError(.finished, path: directory, reason: "finish called twice") }
            finished = true
            for o in outputs { try o.close() }
            let worst = Set(summary.worstFrames.map(\.frame))
            thumbnails = thumbnails.filter { worst.contains($0.key) }
            // One pass over the records for the charts' series and the page's per-frame figures.
            var seriesBuilder = FrameSeries.Builder(frameCount: frameCount)
            var reviewBuilder = ReviewFrames.Builder(frameCount: frameCount, always: worst)
            try FrameSample.forEach(path: records.fragmentPath) { seriesBuilder.add($0); reviewBuilder.add($0) }
            let report = FinishedReport(directory: directory, provenance: provenance, format: format, summary: summary, partial: partial,
                                        input: input, timing: timing, frameCount: frameCount, series: seriesBuilder.series,
                                        recordsPath: records.fragmentPath, frameDuration: Self.frameDuration(provenance.clip.frameRate),
                                        review: reviewBuilder.frames, thumbnails: thumbnails)
            for o in outputs { try o.finish(report) }
            thumbnails = [:]
            return paths
        }
    }

    /// Seconds per frame from a `"num/den"` frame rate, or 0 when the rate is unknown.
    static func frameDuration(_ rate: String) -> Double {
        let parts = rate.split(separator: "/").compactMap { Double($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { return 0 }
        return parts[1] / parts[0]
    }

    /// `image` shrunk to at most `thumbnailWidth` pixels wide (area filter), or as it is.
    static func shrunk(_ image: RGBImage) -> RGBImage {
        guard image.width > thumbnailWidth else { return image }
        let h = max(1, Int((Double(image.height) * Double(thumbnailWidth) / Double(image.width)).rounded()))
        return image.resized(width: thumbnailWidth, height: h, filter: .area)
    }

    /// PNG bytes of `image` in base64, or nil when it cannot be encoded (the report then shows the frame
    /// without its picture).
    public static func pngBase64(_ image: RGBImage) -> String? {
        guard image.width > 0, image.height > 0, let png = try? PNGWriter.encode(image) else { return nil }
        return Data(png).base64EncodedString()
    }
}

/// A worst-frame picture pair, shrunk to the report's thumbnail width.
struct Thumbnail: Sendable {
    var frame: Int
    var pts: Double
    var original: RGBImage
    var overlay: RGBImage
}

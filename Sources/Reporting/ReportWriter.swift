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

/// Writes one clip's `frames.csv`, `report.json` and `report.html` (and, in version 2, `frames.jsonl`; with an
/// overlay video, its WebVTT track `overlay.vtt`), streaming the frames to disk as they come.
///
/// Memory stays flat whatever the clip length: `append` writes a CSV row and a JSON line to a fragment file
/// (`.frames.jsonl.partial`) and keeps nothing per frame but the candidate worst-frame thumbnails. `finish`
/// reads the fragment once for the downsampled series, writes `report.json` (to a temporary file, then renamed)
/// and the HTML, and then renames the fragment to `frames.jsonl` (version 2) or copies it into report.json and
/// removes it (version 1).
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
    let fragmentPath: String

    private let lock = NSLock()
    private var csv: BufferedFile
    private var fragment: BufferedFile
    private var subtitles: WebVTTWriter?
    private let encoder = ReportJSON.encoder()
    private var frameCount = 0
    private var thumbnails: [Int: Thumbnail] = [:]
    private var finished = false

    /// Creates `directory` (and its parents) and starts `frames.csv` and the fragment file in it.
    /// - Parameters:
    ///   - overlayVideo: true when `overlay.mp4` is written beside the report: the writer then streams its WebVTT
    ///     track, `overlay.vtt`, and the page plays the video; false: the page says there is no video.
    /// - Throws: `ReportingError` when the directory or a file cannot be created.
    public init(directory: String, provenance: Provenance, format: ReportFormat = .v2, overlayVideo: Bool = false) throws {
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
        fragmentPath = dir.appendingPathComponent(Self.fragmentName).path
        csv = try BufferedFile(creating: paths.csv)
        try csv.write(FrameCSV.header)
        fragment = try BufferedFile(creating: fragmentPath)
        if let vtt = paths.subtitles {
            subtitles = try WebVTTWriter(path: vtt, frameDuration: Self.frameDuration(provenance.clip.frameRate))
        }
    }

    /// Number of frames appended so far.
    public var count: Int { lock.withLock { frameCount } }

    /// Appends one analysed frame: a CSV row, a JSON record (without `timings`) on its own line and, with a video,
    /// the previous frame's subtitle cue.
    /// - Throws: `ReportingError` when a file cannot be written or the writer has finished.
    public func append(_ frame: FrameAnalysis) throws {
        let record: Data
        do { record = try encoder.encode(frame) } catch {
            throw ReportingError(.encode, path: fragmentPath, reason: "frame \(frame.frame): \(error)")
        }
        let row = FrameCSV.row(frame)
        try lock.withLock {
            guard !finished else { throw ReportingError(.finished, path: directory, reason: "append after finish") }
            try fragment.write(bytes: record)
            try fragment.write("\n")
            try csv.write(row)
            try subtitles?.append(frame)
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

    /// Writes `report.json` and `report.html`, closes `frames.csv` and `overlay.vtt` and removes the fragment file.
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
            try csv.close()
            try fragment.close()
            try subtitles?.finish()
            let worst = Set(summary.worstFrames.map(\.frame))
            thumbnails = thumbnails.filter { worst.contains($0.key) }
            // One pass over the records for the charts' series and the page's per-frame figures.
            var seriesBuilder = FrameSeries.Builder(frameCount: frameCount)
            var reviewBuilder = ReviewFrames.Builder(frameCount: frameCount, always: worst)
            try FrameSample.forEach(path: fragmentPath) { seriesBuilder.add($0); reviewBuilder.add($0) }
            let series = seriesBuilder.series
            try writeJSON(summary: summary, partial: partial, input: input, timing: timing, series: series)
            try AtomicFile.write(paths.html) { out in
                try HTMLReport(provenance: provenance, summary: summary, partial: partial, timing: timing,
                               frameCount: frameCount, series: series, schemaVersion: format.schemaVersion, thumbnails: thumbnails,
                               review: reviewBuilder.frames, frameDuration: Self.frameDuration(provenance.clip.frameRate),
                               video: subtitles == nil ? nil : HTMLReport.Video(file: Self.videoFileName, subtitles: Self.subtitlesFileName))
                    .write(to: out)
            }
            if format == .v2 {
                let framesPath = (directory as NSString).appendingPathComponent(Self.framesFileName)
                if rename(fragmentPath, framesPath) != 0 {
                    throw ReportingError(.rename, path: framesPath, reason: String(cString: strerror(errno)))
                }
            } else {
                do { try FileManager.default.removeItem(atPath: fragmentPath) } catch {
                    throw ReportingError(.remove, path: fragmentPath, error: error)
                }
            }
            thumbnails = [:]
            return paths
        }
    }

    /// Version 1: `{"schemaVersion", "partial", "provenance", "frames": [one record per line], "summary", "input", "timing"}`;
    /// version 2: `{"schemaVersion", "partial", "provenance", "framesFile", "frameCount", "series", "summary", "input", "timing"}`.
    private func writeJSON(summary: ClipSummary, partial: Bool, input: InputCompleteness?, timing: TimingSummary, series: FrameSeries) throws {
        func encode<T: Encodable>(_ v: T, _ what: String) throws -> Data {
            do { return try encoder.encode(v) } catch { throw ReportingError(.encode, path: paths.json, reason: "\(what): \(error)") }
        }
        let provenanceJSON = try encode(provenance, "provenance")
        let summaryJSON = try encode(summary, "summary")
        let timingJSON = try encode(timing, "timing")
        try AtomicFile.write(paths.json) { out in
            try out.write("{\n\"schemaVersion\": \"\(format.schemaVersion)\",\n\"partial\": \(partial),\n\"provenance\": ")
            try out.write(bytes: provenanceJSON)
            if format == .v2 {
                try out.write(",\n\"framesFile\": \"\(Self.framesFileName)\",\n\"frameCount\": \(frameCount),\n\"series\": ")
                try out.write(bytes: try encode(series, "series"))
                try out.write(",\n\"summary\": ")
            } else {
                try out.write(",\n\"frames\": [")
                var reader = try LineReader(path: fragmentPath)
                var first = true
                while let line = try reader.next() {
                    try out.write(first ? "\n" : ",\n")
                    try out.write(bytes: line)
                    first = false
                }
                try out.write(first ? "],\n\"summary\": " : "\n],\n\"summary\": ")
            }
            try out.write(bytes: summaryJSON)
            if let input {
                try out.write(",\n\"input\": ")
                try out.write(bytes: try encode(input, "input"))
            }
            try out.write(",\n\"timing\": ")
            try out.write(bytes: timingJSON)
            try out.write("\n}\n")
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

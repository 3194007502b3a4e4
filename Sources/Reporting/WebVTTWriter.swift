import Foundation
import Robustness

/// Streams `overlay.vtt`, the WebVTT track of the overlay video: one cue per analysed frame with its top-1 label
/// and probability and its retention with the 95% interval, so that VLC, mpv and browsers show them as subtitles
/// (VLC and mpv pick the file up by its name, next to `overlay.mp4`) and `report.html` can read exact per-frame
/// values through the video's TextTrack API.
///
/// ```
/// WEBVTT
///
/// frame 673
/// 00:01:07.300 --> 00:01:07.400
/// pole 0.176
/// retention 0.812 [0.570, 0.934]
/// ```
///
/// A cue spans from its frame's pts to the next analysed frame's pts (the overlay keeps the source timing and
/// carries an analysis over the frames skipped by `--every`/`--fps`); the last one lasts one frame duration.
/// The cue identifier is `frame N` with N the frame's index in the clip, as in `frames.csv`. Memory stays flat:
/// only the latest cue waits for its end time.
final class WebVTTWriter {
    /// One frame's cue before its end time is known.
    struct Cue: Equatable {
        var frame: Int
        var start: Double
        var text: String
    }

    let path: String
    /// Length of the last cue, seconds: one frame of the source.
    let frameDuration: Double
    private let file: BufferedFile
    private var pending: Cue? = nil
    private var lastStart: Double? = nil

    /// Creates (or truncates) `path` and writes the header.
    /// - Parameters:
    ///   - frameDuration: seconds of one source frame (the last cue's length); non-positive or non-finite values
    ///     fall back to the gap between the last two cues, or 1/25 s.
    /// - Throws: `ReportingError` naming the path.
    init(path: String, frameDuration: Double) throws {
        self.path = path
        self.frameDuration = frameDuration
        file = try BufferedFile(creating: path)
        try file.write("WEBVTT\n\nNOTE\nWritten by Vigil: one cue per analysed frame, identified by its frame index; the\n"
                       + "top-1 label and its probability, then the share of occlusion patches that kept it\n"
                       + "(retention) with its 95% Wilson interval.\n\n")
    }

    /// Adds the cue of the next analysed frame (frames in time order) and writes the previous one, whose end is
    /// this frame's start.
    /// - Throws: `ReportingError` when the file cannot be written.
    func append(_ f: FrameAnalysis) throws {
        try append(Cue(frame: f.frame, start: f.pts, text: Self.text(f)))
    }

    func append(_ cue: Cue) throws {
        if let p = pending { try write(p, end: cue.start) }
        lastStart = pending?.start
        pending = cue
    }

    /// Writes the last cue (one frame duration long) and closes the file.
    /// - Throws: `ReportingError` when the file cannot be written.
    func finish() throws {
        if let p = pending {
            var d = frameDuration
            if !(d > 0 && d.isFinite) { d = lastStart.map { p.start - $0 } ?? 0 }
            if !(d > 0 && d.isFinite) { d = 0.04 }
            try write(p, end: p.start + d)
            pending = nil
        }
        try file.close()
    }

    private func write(_ cue: Cue, end: Double) throws {
        // Timings are whole milliseconds; a cue never ends before it starts (frames closer than 1 ms apart).
        let startMs = Self.milliseconds(cue.start)
        let endMs = max(Self.milliseconds(end), startMs + 1)
        try file.write("frame \(cue.frame)\n\(Self.timestamp(ms: startMs)) --> \(Self.timestamp(ms: endMs))\n\(cue.text)\n\n")
    }

    /// The cue text of `f`: `LABEL PROBABILITY` and `retention R [LOW, HIGH]`, numbers with three decimals.
    static func text(_ f: FrameAnalysis) -> String {
        let ci = f.retentionInterval
        return "\(escape(f.top1.label)) \(number(Double(f.top1.probability)))\n"
            + "retention \(number(f.retention)) [\(number(ci.low)), \(number(ci.high))]"
    }

    /// `HH:MM:SS.mmm` (hours grow past two digits when they must); negative and non-finite times are 0.
    static func timestamp(_ seconds: Double) -> String { timestamp(ms: milliseconds(seconds)) }

    static func timestamp(ms: Int) -> String {
        let h = ms / 3_600_000, m = ms / 60_000 % 60, s = ms / 1000 % 60
        return String(format: "%02d:%02d:%02d.%03d", h, m, s, ms % 1000)
    }

    /// `seconds` rounded to whole milliseconds, at least 0.
    static func milliseconds(_ seconds: Double) -> Int {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return Int(min(seconds * 1000, 1e15).rounded())
    }

    /// Cue text for a label: `&`, `<` and `>` as character references (so `-->` cannot end up in a cue) and line
    /// breaks as spaces (a blank line would end the cue).
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\n", "\r", "\r\n", "\u{2028}", "\u{2029}": out += " "
            default: out.append(c)
            }
        }
        return out
    }

    static func number(_ x: Double) -> String { x.isFinite ? String(format: "%.3f", x) : "n/a" }
}

import Foundation
import Testing
import TestSupport

/// The review page of report.html in a real browser: headless Chromium, driven over the DevTools protocol with real
/// clicks and key presses, plays overlay.mp4 beside the charts, seeks it to the frame that was clicked, moves the
/// playhead with playback, and reads overlay.vtt, whose cues must match frames.csv. Progress on stderr counts the
/// frames that will be analysed.
@Suite(.serialized) struct ReviewPageEndToEndTests {
    static let vtest = "Fixtures/video/vtest.avi"
    /// vtest.avi is 10 frames per second.
    static let frameDuration = 0.1

    /// One run for the video tests: every 2nd frame of vtest.avi, 40 analysed frames (the overlay has 79 frames and
    /// carries each analysis over the frame after it). Run through `script` so that stderr is a terminal and the
    /// progress line is printed.
    static let videoRun: Result<(folder: String, output: String), Error> = Result {
        let out = Subprocess.tempDirectory("review")
        let command = ([Subprocess.vigil, "analyze", vtest, "--out", out, "--every", "2", "--max-frames", "40", "--patches", "4", "--seed", "3"])
            .map { "'" + $0 + "'" }.joined(separator: " ")
        let r = try Subprocess.run("/usr/bin/script", ["-qfec", command, "/dev/null"])
        guard r.status == 0 else { throw RunFailed(description: "vigil exited with \(r.status): \(r.stdout)") }
        return (out + "/vtest", r.stdout)
    }

    struct RunFailed: Error, CustomStringConvertible { var description: String }

    /// A row of frames.csv.
    struct Row {
        var frame: Int
        var pts: Double
        var label: String
        var probability: Double
        var retention: Double
        var low: Double
        var high: Double
    }

    /// frames.csv read with RFC 4180 quoting.
    static func rows(_ folder: String) throws -> [Row] {
        let text = try String(contentsOfFile: folder + "/frames.csv", encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { line in
            var fields: [String] = [], field = "", quoted = false
            var chars = Array(line)[...]
            while let c = chars.popFirst() {
                if quoted {
                    if c == "\"" { if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false } } else { field.append(c) }
                } else if c == "\"" { quoted = true } else if c == "," { fields.append(field); field = "" } else { field.append(c) }
            }
            fields.append(field)
            return Row(frame: Int(fields[0])!, pts: Double(fields[1])!, label: fields[3], probability: Double(fields[4])!,
                       retention: Double(fields[7])!, low: Double(fields[8])!, high: Double(fields[9])!)
        }
    }

    /// The browser on the run's report; with `allowFileAccess` the file:// page may read overlay.vtt (as a page
    /// served over HTTP may), without it Chromium refuses the track as it does for anyone opening the file.
    func openReport(_ folder: String, allowFileAccess: Bool) throws -> HeadlessChromium {
        let browser = try HeadlessChromium(flags: allowFileAccess ? ["--allow-file-access-from-files"] : [])
        try browser.open("file://\(folder)/report.html")
        try browser.wait(until: "document.getElementById('overlay-video').readyState >= 2")
        if allowFileAccess {
            try browser.wait(until: "document.getElementById('review').dataset.source === 'vtt'")
        } else {
            try browser.wait(until: "document.getElementById('review-status').textContent.includes('could not be read')")
        }
        return browser
    }

    struct Seek: Decodable {
        var currentTime: Double
        var panelFrame: String
        var playheadTime: Double
        var panelText: String
    }

    /// Waits for the video to settle after a seek and reads where it is.
    func settled(_ browser: HeadlessChromium) throws -> Seek {
        try browser.wait(until: "!document.getElementById('overlay-video').seeking && document.getElementById('overlay-video').readyState >= 2")
        return try browser.evaluate("""
            const v = document.getElementById('overlay-video');
            return {currentTime: v.currentTime, panelFrame: document.getElementById('frame-panel').dataset.frame,
                    playheadTime: Number(document.getElementById('review').dataset.time),
                    panelText: document.getElementById('frame-panel').textContent};
            """)
    }

    /// In the browser, overlay.vtt's cues (through the video's TextTrack API) are one per analysed frame: the
    /// frame's index as identifier, from its pts to the next analysed frame's (the last one frame long), with the
    /// label, probability and retention interval of frames.csv.
    @Test func vttCuesMatchFramesCSV() throws {
        guard HeadlessChromium.isInstalled else { Issue.record("chromium is not installed; run scripts/setup"); return }
        let folder = try Self.videoRun.get().folder
        let rows = try Self.rows(folder)
        #expect(rows.count == 40)
        let browser = try openReport(folder, allowFileAccess: true)
        defer { browser.close() }
        struct Cue: Decodable { var id: String; var start: Double; var end: Double; var text: String }
        let cues: [Cue] = try browser.evaluate("""
            const cues = document.getElementById('overlay-video').textTracks[0].cues;
            return Array.from(cues, c => ({id: c.id, start: c.startTime, end: c.endTime, text: c.text}));
            """)
        #expect(cues.count == rows.count)
        for (i, (cue, row)) in zip(cues, rows).enumerated() {
            let end = i + 1 < rows.count ? rows[i + 1].pts : row.pts + Self.frameDuration
            #expect(cue.id == "frame \(row.frame)")
            #expect(abs(cue.start - row.pts) <= 0.0005 && abs(cue.end - end) <= 0.0005, "cue \(i): \(cue.start)-\(cue.end), frame at \(row.pts)")
            let lines = cue.text.split(separator: "\n").map(String.init)
            let expected = [String(format: "%@ %.3f", row.label, row.probability),
                            String(format: "retention %.3f [%.3f, %.3f]", row.retention, row.low, row.high)]
            #expect(lines == expected, "cue \(i)")
        }
        #expect(try browser.evaluate("return document.getElementById('review').dataset.cues", as: String.self) == "40")
        #expect(browser.pageErrors.isEmpty, "\(browser.pageErrors)")
    }

    /// Clicking each least robust frame seeks the video to that frame's time (within one frame) and shows its
    /// figures; ← → then step one analysed frame. Also on a page opened from disk, where the browser refuses the
    /// track and the page steps through the frames it embeds.
    @Test(arguments: [true, false])
    func clickingLeastRobustFrameSeeksVideo(allowFileAccess: Bool) throws {
        guard HeadlessChromium.isInstalled else { Issue.record("chromium is not installed; run scripts/setup"); return }
        let folder = try Self.videoRun.get().folder
        let rows = try Self.rows(folder)
        let browser = try openReport(folder, allowFileAccess: allowFileAccess)
        defer { browser.close() }
        struct Thumb: Decodable { var frame: String; var t: String }
        let thumbs: [Thumb] = try browser.evaluate("return Array.from(document.querySelectorAll('.thumb'), e => ({frame: e.dataset.frame, t: e.dataset.t}))")
        #expect(thumbs.count == 5)
        for (k, thumb) in thumbs.enumerated() {
            try browser.click(".thumb:nth-of-type(\(k + 1))")
            let s = try settled(browser)
            let row = try #require(rows.first { String($0.frame) == thumb.frame })
            let pts = row.pts
            #expect(abs(s.currentTime - pts) < Self.frameDuration, "frame \(thumb.frame) at \(pts) s: video at \(s.currentTime) s")
            #expect(s.currentTime >= pts, "the frame shown must be \(thumb.frame), not the one before")
            #expect(s.panelFrame == thumb.frame)
            #expect(abs(s.playheadTime - pts) < Self.frameDuration)
            // The panel prints the figures as frames.csv, overlay.vtt and the command line round them.
            let retention = String(format: "Retention %.3f [%.3f, %.3f]", row.retention, row.low, row.high)
            #expect(s.panelText.contains(retention) && s.panelText.contains(String(format: "%@%.3f", row.label, row.probability)),
                    "\(s.panelText) lacks \(retention)")
        }
        // Step from the last clicked frame: one analysed frame (two source frames) each way.
        let start = try #require(rows.firstIndex { String($0.frame) == thumbs.last!.frame })
        let direction = start + 1 < rows.count ? 1 : -1
        try browser.press(direction == 1 ? "ArrowRight" : "ArrowLeft")
        var s = try settled(browser)
        let next = rows[start + direction]
        #expect(s.panelFrame == String(next.frame))
        #expect(abs(s.currentTime - next.pts) < Self.frameDuration && s.currentTime >= next.pts, "video at \(s.currentTime), frame at \(next.pts)")
        try browser.press(direction == 1 ? "ArrowLeft" : "ArrowRight")
        s = try settled(browser)
        #expect(s.panelFrame == String(rows[start].frame))
        #expect(abs(s.currentTime - rows[start].pts) < Self.frameDuration)
        #expect(browser.pageErrors.isEmpty, "\(browser.pageErrors)")
    }

    /// Clicking a chart seeks to the analysed frame nearest the clicked time; clicking a label-timeline segment
    /// seeks to its first frame.
    @Test func clickingChartsAndTimelineSeeksVideo() throws {
        guard HeadlessChromium.isInstalled else { Issue.record("chromium is not installed; run scripts/setup"); return }
        let folder = try Self.videoRun.get().folder
        let rows = try Self.rows(folder)
        let browser = try openReport(folder, allowFileAccess: true)
        defer { browser.close() }
        // The retention chart, at 30% of its plot width.
        struct Axis: Decodable { var t0: String; var t1: String; var x0: String; var x1: String }
        let axis: Axis = try browser.evaluate("const d = document.querySelectorAll('svg.seekable')[1].dataset; return {t0: d.t0, t1: d.t1, x0: d.x0, x1: d.x1}")
        let t0 = Double(axis.t0)!, t1 = Double(axis.t1)!, x0 = Double(axis.x0)!, x1 = Double(axis.x1)!
        let fraction = (x0 + 0.3 * (x1 - x0)) / SVGWidth
        try browser.click("#review-area svg.chart[aria-label='retention over time']", fractionX: fraction)
        var s = try settled(browser)
        let target = t0 + 0.3 * (t1 - t0)
        let nearest = rows.min { abs($0.pts - target) < abs($1.pts - target) }!
        #expect(s.panelFrame == String(nearest.frame), "clicked at \(target) s")
        #expect(abs(s.currentTime - nearest.pts) < Self.frameDuration)
        // The timeline's last segment.
        struct Segment: Decodable { var t: String; var count: Int }
        let seg: Segment = try browser.evaluate("const r = document.querySelectorAll('rect.segment'); return {t: r[r.length - 1].dataset.t, count: r.length}")
        try browser.click("rect.segment:last-of-type")
        s = try settled(browser)
        let first = rows.first { abs($0.pts - Double(seg.t)!) < 1e-9 }!
        #expect(s.panelFrame == String(first.frame))
        #expect(abs(s.currentTime - first.pts) < Self.frameDuration && s.currentTime >= first.pts)
        #expect(browser.pageErrors.isEmpty, "\(browser.pageErrors)")
    }

    /// Width of the charts' viewBox (SVGChart.width).
    let SVGWidth = 960.0

    /// While the video plays, the playhead on every chart follows it and the panel shows the analysed frame on screen.
    @Test func playheadFollowsPlayback() throws {
        guard HeadlessChromium.isInstalled else { Issue.record("chromium is not installed; run scripts/setup"); return }
        let folder = try Self.videoRun.get().folder
        let rows = try Self.rows(folder)
        let browser = try openReport(folder, allowFileAccess: true)
        defer { browser.close() }
        struct State: Decodable { var currentTime: Double; var paused: Bool; var playheads: [Double]; var panelFrame: String }
        let read = """
            const v = document.getElementById('overlay-video');
            const playheads = Array.from(document.querySelectorAll('svg.seekable'), svg => {
              const d = svg.dataset, x = Number(svg.querySelector('line.playhead').getAttribute('x1'));
              return Number(d.t0) + (x - Number(d.x0)) / (Number(d.x1) - Number(d.x0)) * (Number(d.t1) - Number(d.t0));
            });
            return {currentTime: v.currentTime, paused: v.paused, playheads, panelFrame: document.getElementById('frame-panel').dataset.frame};
            """
        _ = try browser.evaluate("const v = document.getElementById('overlay-video'); v.currentTime = 0; await v.play(); return true", as: Bool.self)
        var previous = -1.0
        for _ in 0..<3 {
            usleep(700_000)
            let s: State = try browser.evaluate(read)
            #expect(!s.paused)
            #expect(s.currentTime > previous + 0.3, "playback did not advance: \(s.currentTime) after \(previous)")
            #expect(s.playheads.count == 3, "two charts and the timeline")
            for p in s.playheads {
                // The playhead is at the frame on screen, which trails the clock by less than two frames.
                #expect(p <= s.currentTime + 0.01 && p > s.currentTime - 2 * Self.frameDuration, "playhead at \(p) s, video at \(s.currentTime) s")
            }
            let onScreen = rows.last { $0.pts <= s.playheads[0] + 0.0006 }!
            #expect(s.panelFrame == String(onScreen.frame), "panel shows \(s.panelFrame) at \(s.playheads[0]) s")
            previous = s.currentTime
        }
        #expect(browser.pageErrors.isEmpty, "\(browser.pageErrors)")
    }

    /// With --no-video there is no overlay.vtt, the page says there is no video, and clicking and ← → still select
    /// frames and move the playhead.
    @Test func noVideoPageStillWorks() throws {
        guard HeadlessChromium.isInstalled else { Issue.record("chromium is not installed; run scripts/setup"); return }
        let out = Subprocess.tempDirectory("review-novideo")
        let r = try Subprocess.vigil(["analyze", Self.vtest, "--out", out, "--max-frames", "12", "--patches", "2", "--no-video"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let folder = out + "/vtest"
        #expect(!FileManager.default.fileExists(atPath: folder + "/overlay.vtt"))
        let rows = try Self.rows(folder)
        let browser = try HeadlessChromium()
        defer { browser.close() }
        try browser.open("file://\(folder)/report.html")
        struct Page: Decodable { var video: Bool; var note: String?; var panelFrame: String?; var playheadTime: String? }
        let read = """
            const n = document.getElementById('no-video');
            return {video: !!document.querySelector('video'), note: n ? n.textContent : null,
                    panelFrame: document.getElementById('frame-panel').dataset.frame, playheadTime: document.getElementById('review').dataset.time};
            """
        var page: Page = try browser.evaluate(read)
        #expect(!page.video)
        #expect(page.note?.contains("No overlay video") == true)
        try browser.click(".thumb")
        page = try browser.evaluate(read)
        let worst: String = try browser.evaluate("return document.querySelector('.thumb').dataset.frame")
        #expect(page.panelFrame == worst)
        let i = try #require(rows.firstIndex { String($0.frame) == worst })
        #expect(abs((Double(page.playheadTime ?? "") ?? -1) - rows[i].pts) < 1e-9)
        try browser.press(i + 1 < rows.count ? "ArrowRight" : "ArrowLeft")
        page = try browser.evaluate(read)
        #expect(page.panelFrame == String(rows[i + 1 < rows.count ? i + 1 : i - 1].frame))
        #expect(browser.pageErrors.isEmpty, "\(browser.pageErrors)")
    }

    /// The progress line counts the frames that will be analysed: with --max-frames 40 it counts to 40, not to the
    /// clip's 795 frames.
    @Test func progressCountsFramesToAnalyse() throws {
        let output = try Self.videoRun.get().output
        let counts = output.components(separatedBy: "\r").compactMap { part -> (Int, Int)? in
            guard let r = part.range(of: #"vtest\.avi: (\d+)/(\d+) frames"#, options: .regularExpression) else { return nil }
            let numbers = part[r].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
        }
        #expect(!counts.isEmpty, "no progress line in: \(output)")
        for (done, total) in counts {
            #expect(total == 40 && done <= 40, "progress \(done)/\(total)")
        }
    }
}

import Foundation
import Imaging
import Testing
import TestSupport

/// `vigil analyze` through the built binary, with its outputs checked by independent tools:
/// ffprobe for the video, a JSON Schema validator for the report, headless Chromium for the HTML.
@Suite(.serialized) struct AnalyzeEndToEndTests {
    static let carphone = "Fixtures/video/carphone_pristine.mp4"
    static let vtest = "Fixtures/video/vtest.avi"

    /// Validates report.json (the folder's frames.jsonl too) against the schema of its version.
    func validateReport(_ path: String) throws {
        try JSONSchemaValidator.validateReportFolder((path as NSString).deletingLastPathComponent)
    }

    /// The whole job on a small clip, analysing every 4th frame: schema-valid report, an overlay with every source
    /// frame at the source timing, one CSV row per analysed frame.
    @Test func fullRunOnSmallClip() throws {
        let out = Subprocess.tempDirectory("full")
        let r = try Subprocess.vigil(["analyze", Self.carphone, "--out", out, "--every", "4", "--patches", "6", "--seed", "5"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let dir = out + "/carphone_pristine"
        try validateReport(dir + "/report.json")
        let report = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: dir + "/report.json")))
        let frames = try JSONSchemaValidator.validateReportFolder(dir)
        #expect(frames.count == 30)
        #expect(report["series"]?["points"]?.arrayValue?.count == 30)
        #expect(report["partial"]?.boolValue == false)
        #expect(report["provenance"]?["model"]?["sha256"]?.stringValue == "94c34033e2968e7fc1ac76fe0fb7b2fed6ba0ac90aa36d2439b3b0dcc5bffef6")
        // Overlay against the source, both read by ffprobe.
        let src = try Subprocess.ffprobe(FixturePaths.path(Self.carphone), "stream=nb_read_frames,duration", countFrames: true)
        let ov = try Subprocess.ffprobe(dir + "/overlay.mp4", "stream=nb_read_frames,codec_name,pix_fmt,duration", countFrames: true)
        #expect(ov["codec_name"] == "h264")
        #expect(ov["pix_fmt"] == "yuv420p")
        #expect(ov["nb_read_frames"] == src["nb_read_frames"], "overlay \(ov) vs source \(src)")
        let frameDur = 1001.0 / 30000.0
        if let a = Double(ov["duration"] ?? ""), let b = Double(src["duration"] ?? "") {
            #expect(abs(a - b) <= frameDur + 1e-6, "durations \(a) vs \(b)")
        } else { Issue.record("ffprobe gave no durations: \(ov) \(src)") }
        // CSV: header plus one row per analysed frame.
        let csv = try String(contentsOfFile: dir + "/frames.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 31)
        #expect(csv.first?.hasPrefix("frame,pts,") == true)
        #expect(FileManager.default.fileExists(atPath: dir + "/report.html"))
    }

    /// Same inputs, seed and parameters: byte-identical report.json apart from its final `timing` section.
    /// (Across different --threads values the numbers agree only to float rounding: OpenBLAS sums a
    /// differently split GEMM in another order.)
    @Test func deterministicReports() throws {
        var reports: [Data] = []
        for i in 0..<2 {
            let out = Subprocess.tempDirectory("det\(i)")
            let r = try Subprocess.vigil(["analyze", Self.vtest, "--out", out, "--max-frames", "4", "--patches", "5", "--patch-size", "0.1-0.3",
                                          "--seed", "11", "--no-video", "--threads", "2"])
            #expect(r.status == 0, "stderr: \(r.stderr)")
            var d = try Data(contentsOf: URL(fileURLWithPath: out + "/vtest/report.json"))
            guard let cut = d.range(of: Data("\n\"timing\"".utf8)) else { Issue.record("no timing section"); return }
            d = d.subdata(in: 0..<cut.lowerBound)
            reports.append(d)
        }
        #expect(reports[0] == reports[1], "reports differ outside the timing section")
    }

    /// --fail-under decides the exit status.
    @Test func failUnderSetsExitStatus() throws {
        let out = Subprocess.tempDirectory("fail")
        let fail = try Subprocess.vigil(["analyze", Self.vtest, "--out", out, "--max-frames", "3", "--patches", "8", "--no-video", "--fail-under", "1"])
        #expect(fail.status == 1, "stderr: \(fail.stderr)")
        let report = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: out + "/vtest/report.json")))
        #expect(report["summary"]?["passed"]?.boolValue == false)
        let pass = try Subprocess.vigil(["analyze", Self.vtest, "--out", out, "--max-frames", "3", "--patches", "8", "--no-video", "--fail-under", "0"])
        #expect(pass.status == 0, "stderr: \(pass.stderr)")
    }

    /// SIGINT stops cleanly: exit 130, a complete report marked partial, and a playable video. The same stop sent
    /// twice at once (`timeout` signals the process and its group) is one stop, not the quit-at-once of a second
    /// Ctrl-C.
    @Test(arguments: [1, 2])
    func interruptLeavesPartialReportAndPlayableVideo(signals: Int) throws {
        let out = Subprocess.tempDirectory("sigint-\(signals)")
        let (p, _, errPipe) = try Subprocess.start(Subprocess.vigil, ["analyze", Self.vtest, "--out", out, "--patches", "4"])
        // Wait until some frames have been analysed (the staging folder's frames.csv grows), then interrupt.
        HardeningEndToEndTests.waitForStaging(in: out, clip: "vtest", frames: 4)
        for _ in 0..<signals { kill(p.processIdentifier, SIGINT) }
        p.waitUntilExit()
        let err = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 130, "stderr: \(err)")
        try validateReport(out + "/vtest/report.json")
        let report = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: out + "/vtest/report.json")))
        #expect(report["partial"]?.boolValue == true)
        let n = Int(report["frameCount"]?.double ?? 0)
        #expect(n >= 3 && n < 795)
        let ov = try Subprocess.ffprobe(out + "/vtest/overlay.mp4", "stream=nb_read_frames,codec_name", countFrames: true)
        #expect(ov["codec_name"] == "h264")
        // Every frame is analysed here, so the overlay ends where the report ends.
        #expect(Int(ov["nb_read_frames"] ?? "") == n, "overlay \(ov), \(n) analysed frames")
    }

    /// One clip that cannot be opened does not stop the others; it is listed as failed in the index.
    @Test func badClipDoesNotStopOthers() throws {
        let out = Subprocess.tempDirectory("bad")
        let r = try Subprocess.vigil(["analyze", "Fixtures/bad/text.mp4", Self.carphone, "Fixtures/bad/missing.mp4", "--out", out,
                                      "--max-frames", "2", "--patches", "2", "--no-video"])
        #expect(r.status == 65, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("Fixtures/bad/text.mp4"))
        #expect(r.stderr.contains("Fixtures/bad/missing.mp4"))
        let index = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: out + "/index.json")))
        let statuses = (index["clips"]?.arrayValue ?? index.arrayValue ?? []).compactMap { $0["status"]?.stringValue }
        #expect(statuses == ["failed", "ok", "failed"], "index \(index)")
        try validateReport(out + "/carphone_pristine/report.json")
    }

    @Test(arguments: [
        ["analyze", "Fixtures/video/vtest.avi", "--patches", "0"],
        ["analyze", "Fixtures/video/vtest.avi", "--every", "2", "--fps", "3"],
        ["analyze", "Fixtures/video/vtest.avi", "--patch-size", "1.5"],
        ["analyze", "Fixtures/video/vtest.avi", "--fill", "purple"],
        ["analyze"],
    ])
    func usageErrorsExit64(args: [String]) throws {
        let r = try Subprocess.vigil(args)
        #expect(r.status == 64, "stderr: \(r.stderr)")
        #expect(!r.stderr.isEmpty)
    }

    @Test func unreadableModelIsAnInputError() throws {
        let r = try Subprocess.vigil(["analyze", Self.carphone, "--model", "Fixtures/video/carphone_pristine.mp4", "--out", Subprocess.tempDirectory("model")])
        #expect(r.status == 65)
        #expect(r.stderr.contains("carphone_pristine.mp4"), "stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one-line error expected: \(r.stderr)")
    }

    /// report.html renders offline in headless Chromium: the screenshot is not blank and shows both charts'
    /// line colours.
    @Test func htmlRendersInChromium() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else {
            Issue.record("chromium is not installed; run scripts/setup"); return
        }
        let out = Subprocess.tempDirectory("html")
        let r = try Subprocess.vigil(["analyze", Self.carphone, "--out", out, "--every", "12", "--patches", "4", "--no-video"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let shot = out + "/shot.png"
        let c = try Subprocess.run("/usr/bin/chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                                        "--window-size=1200,1800", "--screenshot=\(shot)",
                                                        "file://\(out)/carphone_pristine/report.html"])
        #expect(FileManager.default.fileExists(atPath: shot), "chromium: \(c.stderr)")
        let img = try PNGReader.read(shot)
        var distinct = Set<UInt32>()
        var blue = 0, orange = 0
        for i in stride(from: 0, to: img.pixels.count, by: 3) {
            let r = Int(img.pixels[i]), g = Int(img.pixels[i + 1]), b = Int(img.pixels[i + 2])
            distinct.insert(UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b))
            if abs(r - 0x2f) < 24 && abs(g - 0x66) < 24 && abs(b - 0x90) < 24 { blue += 1 }   // top-1 probability line
            if abs(r - 0xc0) < 24 && abs(g - 0x56) < 24 && abs(b - 0x21) < 24 { orange += 1 } // retention line
        }
        #expect(distinct.count > 200, "screenshot looks blank: \(distinct.count) colours")
        #expect(blue > 150, "top-1 probability chart not visible (\(blue) pixels)")
        #expect(orange > 150, "retention chart not visible (\(orange) pixels)")
    }
}

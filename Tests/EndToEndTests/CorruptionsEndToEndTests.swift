import Foundation
import Testing
import TestSupport

/// `--corruptions` through the built binary: every frame record carries its corrupted copies, the summary a table
/// per corruption and severity that adds up, the HTML a heat table; compare scores the models and gates on it.
@Suite(.serialized) struct CorruptionsEndToEndTests {
    @Test func analyzeReportsEveryCorruptionAndSeverity() throws {
        let out = Subprocess.tempDirectory("corrupt")
        let r = try Subprocess.vigil(["analyze", "Fixtures/video/vtest.avi", "--max-frames", "3", "--patches", "2", "--no-video", "--out", out,
                                      "--corruptions", "brightness,gaussian_noise,low_light", "--severity", "1-2"])
        #expect(r.status == 0, "\(r.stderr)")
        let frames = try JSONSchemaValidator.validateReportFolder(out + "/vtest")
        #expect(frames.allSatisfy { $0["corruptions"]?.arrayValue?.count == 6 })
        let report = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: out + "/vtest/report.json")))
        let rows = report["summary"]?["corruptions"]?.arrayValue ?? []
        #expect(rows.count == 6 && rows.allSatisfy { $0["frames"]?.double == 3 })
        // Each row's retention is the share of frames whose copy kept the clean top-1.
        for row in rows {
            let name = row["corruption"]?.stringValue, sev = row["severity"]?.double
            let kept = frames.filter { f in f["corruptions"]?.arrayValue?.contains { $0["corruption"]?.stringValue == name && $0["severity"]?.double == sev && $0["survived"]?.boolValue == true } == true }.count
            #expect(row["retention"]?.double == Double(kept) / 3, "\(row)")
        }
        let score = rows.compactMap { $0["retention"]?.double }.reduce(0, +) / 6
        #expect(abs((report["summary"]?["corruptionScore"]?.double ?? -1) - score) < 1e-12)
        #expect(report["provenance"]?["parameters"]?["severities"] == .array([.integer(1), .integer(2)]))
        #expect(try String(contentsOfFile: out + "/vtest/report.html", encoding: .utf8).contains("Robustness to camera conditions"))
        // The same seed gives the same corrupted copies.
        let again = try Subprocess.vigil(["analyze", "Fixtures/video/vtest.avi", "--max-frames", "3", "--patches", "2", "--no-video", "--out", out + "/again",
                                          "--corruptions", "brightness,gaussian_noise,low_light", "--severity", "1-2"])
        #expect(again.status == 0)
        #expect(try String(contentsOfFile: out + "/again/vtest/frames.jsonl", encoding: .utf8) == String(contentsOfFile: out + "/vtest/frames.jsonl", encoding: .utf8))
        for (flags, text) in [(["--corruptions", "smog"], "unknown corruption 'smog'"), (["--corruptions", "fog", "--severity", "6"], "--severity")] {
            let bad = try Subprocess.vigil(["analyze", "Fixtures/video/vtest.avi"] + flags)
            #expect(bad.status == 64 && bad.stderr.contains(text), "\(bad.stderr)")
        }
    }

    /// h264_compression runs libx264 through MediaIO, handed to every frame analyser by the pipeline.
    @Test func analyzeRunsH264Compression() throws {
        let out = Subprocess.tempDirectory("corrupt-h264")
        let r = try Subprocess.vigil(["analyze", "Fixtures/video/vtest.avi", "--max-frames", "2", "--patches", "2", "--no-video", "--out", out,
                                      "--corruptions", "h264_compression,brightness", "--severity", "1,5"])
        #expect(r.status == 0, "\(r.stderr)")
        let frames = try JSONSchemaValidator.validateReportFolder(out + "/vtest")
        for f in frames {
            let cs = f["corruptions"]?.arrayValue ?? []
            let h264 = cs.filter { $0["corruption"]?.stringValue == "h264_compression" }
            #expect(h264.count == 2, "\(cs)")
            // QP 50 takes more of the target's probability than QP 34 does on these frames.
            let drops = h264.sorted { ($0["severity"]?.double ?? 0) < ($1["severity"]?.double ?? 0) }.compactMap { $0["drop"]?.double }
            #expect(drops.count == 2 && drops[1] > drops[0], "\(h264)")
        }
    }

    @Test func compareScoresCorruptionRobustness() throws {
        let dir = Subprocess.tempDirectory("compare-corrupt")
        let copy = try CompareEndToEndTests.copyModel(into: dir, name: "copy") { _ in }
        let r = try Subprocess.vigil(["compare", "Fixtures/video/vtest.avi", "--model", FixturePaths.defaultModel, "--model", copy, "--max-frames", "2",
                                      "--patches", "2", "--corruptions", "pixelate,contrast", "--severity", "3", "--out", dir + "/out", "--baseline", "1",
                                      "--fail-if-worse", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/out/compare.json"))
        try JSONSchemaValidator(schemaFile: FixturePaths.path("scripts/schema/compare.schema.json")).validate(document: data)
        let models = try JSONValue.parse(data)["models"]?.arrayValue ?? []
        #expect(models.count == 2 && models[0]["corruptionScore"] == models[1]["corruptionScore"] && models[0]["corruptionScore"] != nil)
        if (models[0]["corruptionScore"]?.double ?? 1) < 1 { #expect(models[1]["relativeCorruptionError"]?.double == 1) }
    }
}

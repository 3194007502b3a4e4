import Foundation
import Testing
import TestSupport

/// `--cam` and `--faithfulness` through the built binary: every frame record holds each method's map and curves, the
/// first method's map is the frame's `cam`, the summary ranks the methods with intervals, CSV and HTML carry them,
/// and compare ranks each model's methods.
@Suite(.serialized) struct ExplainersEndToEndTests {
    @Test func analyzeWithTwoMethodsAndFaithfulness() throws {
        let out = Subprocess.tempDirectory("cams")
        let r = try Subprocess.vigil(["analyze", "Fixtures/video/vtest.avi", "--max-frames", "3", "--patches", "2", "--no-video", "--out", out,
                                      "--cam", "hirescam,eigencam", "--faithfulness"])
        #expect(r.status == 0, "\(r.stderr)")
        let frames = try JSONSchemaValidator.validateReportFolder(out + "/vtest")
        #expect(frames.count == 3)
        for f in frames {
            let methods = f["explanations"]?.arrayValue ?? []
            #expect(methods.map { $0["method"]?.stringValue } == ["hirescam", "eigencam"])
            #expect(methods.first?["cam"] == f["cam"])
            for m in methods {
                let del = m["faithfulness"]?["deletion"]?.arrayValue ?? [], ins = m["faithfulness"]?["insertion"]?.arrayValue ?? []
                #expect(del.count == 17 && ins.count == 17)
                // The curves start at the clean probability (deletion) and at the baseline's (insertion), and meet at the ends.
                #expect(del.first == ins.last && del.last == ins.first)
                #expect(del.first?.double == f["target"]?["probability"]?.double)
            }
            #expect(f["randomOrder"]?["deletionAUC"] != nil && f["randomOrder"]?["camMultChange"] == nil)
        }
        let report = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: out + "/vtest/report.json")))
        let rows = report["summary"]?["faithfulness"]?.arrayValue ?? []
        #expect(rows.map { $0["method"]?.stringValue ?? "" }.sorted() == ["eigencam", "hirescam", "random"])
        #expect(rows.last?["method"]?.stringValue == "random")
        // Each mean is the mean over the frame records.
        for row in rows where row["method"]?.stringValue != "random" {
            let name = row["method"]?.stringValue
            let aucs = frames.compactMap { f in f["explanations"]?.arrayValue?.first { $0["method"]?.stringValue == name }?["faithfulness"]?["deletionAUC"]?.double }
            #expect(aucs.count == 3)
            #expect(abs((row["deletionAUC"]?["mean"]?.double ?? -1) - aucs.reduce(0, +) / 3) < 1e-9)
        }
        #expect(report["provenance"]?["parameters"]?["cams"] == .array([.string("hirescam"), .string("eigencam")]))
        let html = try String(contentsOfFile: out + "/vtest/report.html", encoding: .utf8)
        #expect(html.contains("Faithfulness of the explanations") && html.contains("deletion curves of frame"))
        let csv = try String(contentsOfFile: out + "/vtest/frames.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.first?.hasSuffix("cam_methods,deletion_auc,insertion_auc,cam_mult_change,random_deletion_auc,random_insertion_auc") == true)
        #expect(csv.dropFirst().allSatisfy { $0.contains("\"hirescam;eigencam\"") })

        let bad = try Subprocess.vigil(["analyze", "Fixtures/video/vtest.avi", "--cam", "gradcam,smoothgrad"])
        #expect(bad.status == 64 && bad.stderr.contains("smoothgrad"), "\(bad.stderr)")
    }

    @Test func compareRanksMethodsByFaithfulness() throws {
        let dir = Subprocess.tempDirectory("compare-cams")
        let copy = try CompareEndToEndTests.copyModel(into: dir, name: "copy") { _ in }
        let r = try Subprocess.vigil(["compare", "Fixtures/video/vtest.avi", "--model", FixturePaths.defaultModel, "--model", copy, "--max-frames", "2",
                                      "--patches", "2", "--cam", "gradcam,layercam", "--faithfulness", "--out", dir + "/out"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("faithfulness, insertion - deletion AUC: 1. "))
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/out/compare.json"))
        try JSONSchemaValidator(schemaFile: FixturePaths.path("scripts/schema/compare.schema.json")).validate(document: data)
        let models = try JSONValue.parse(data)["models"]?.arrayValue ?? []
        #expect(models.count == 2 && models[0]["faithfulness"] == models[1]["faithfulness"])
        let ranked = models[0]["faithfulness"]?.arrayValue ?? []
        #expect(ranked.count == 3)
        let scores = ranked.dropLast().compactMap { $0["score"]?["mean"]?.double }
        #expect(scores == scores.sorted(by: >))
        #expect(try String(contentsOfFile: dir + "/out/compare.html", encoding: .utf8).contains("CAM methods ranked by faithfulness"))
    }
}

import Foundation
import Testing
import TestSupport

/// `vigil compare` through the built binary: a model against an exact copy differs by exactly nothing; against a
/// copy whose card flattens every input (std 1000, three labels renamed) the paired difference, the labels not shared
/// and the CI gate come out as they must; outputs match their schema and the CSV has a row per frame.
@Suite(.serialized) struct CompareEndToEndTests {
    /// A copy of the bundled model in `dir` with the card changed by `edit`.
    static func copyModel(into dir: String, name: String, edit: (inout [String: Any]) -> Void, renameLabels: Int = 0) throws -> String {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let model = dir + "/\(name).onnx"
        try FileManager.default.copyItem(atPath: FixturePaths.defaultModel, toPath: model)
        var card = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: FixturePaths.path("Fixtures/models/efficientnet_lite0.card.json")))) as? [String: Any])
        card["model"] = "\(name).onnx"
        card["name"] = name
        var labels = try String(contentsOfFile: FixturePaths.path("Fixtures/models/imagenet_labels.txt"), encoding: .utf8).split(separator: "\n").map(String.init)
        for i in 0..<renameLabels { labels[i] = "renamed \(i)" }
        try (labels.joined(separator: "\n") + "\n").write(toFile: dir + "/\(name).labels.txt", atomically: true, encoding: .utf8)
        card["labels"] = "\(name).labels.txt"
        edit(&card)
        try JSONSerialization.data(withJSONObject: card, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: dir + "/\(name).card.json"))
        return model
    }

    @Test func identicalModelsDifferByNothing() throws {
        let dir = Subprocess.tempDirectory("compare-same")
        let copy = try Self.copyModel(into: dir, name: "copy") { _ in }
        let r = try Subprocess.vigil(["compare", "Fixtures/video/vtest.avi", "--model", FixturePaths.defaultModel, "--model", copy,
                                      "--max-frames", "4", "--patches", "6", "--out", dir + "/out", "--baseline", "1", "--fail-if-worse", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/out/compare.json"))
        try JSONSchemaValidator(schemaFile: FixturePaths.path("scripts/schema/compare.schema.json")).validate(document: data)
        let c = try JSONValue.parse(data)
        let pair = try #require(c["pairs"]?.arrayValue?.first)
        #expect(pair["retentionDifference"]?.double == 0)
        #expect(pair["differenceInterval"]?["low"]?.double == 0 && pair["differenceInterval"]?["high"]?.double == 0)
        #expect(pair["top1Agreement"]?.double == 1)
        #expect(abs((pair["camSimilarity"]?.double ?? 0) - 1) < 1e-6)
        #expect(pair["labelsOnlyA"]?.double == 0 && pair["labelsOnlyB"]?.double == 0)
        #expect(c["gate"]?["passed"]?.boolValue == true)
        let csv = try String(contentsOfFile: dir + "/out/compare.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 5 && csv[0].hasPrefix("clip,frame,pts,"), "\(csv.first ?? "")")
        let html = try String(contentsOfFile: dir + "/out/compare.html", encoding: .utf8)
        #expect(html.contains("PASS") && html.contains("data:image/png;base64,"))
    }

    @Test func aWorseCandidateFailsTheGate() throws {
        let dir = Subprocess.tempDirectory("compare-gate")
        // Every input flattened to about its mean: the decision cannot change, so every patch keeps it (retention 1).
        let flat = try Self.copyModel(into: dir, name: "flat", edit: { $0["std"] = [100000, 100000, 100000] }, renameLabels: 3)
        let r = try Subprocess.vigil(["compare", "Fixtures/video/vtest.avi", "--model", FixturePaths.defaultModel, "--model", flat,
                                      "--max-frames", "6", "--patches", "8", "--out", dir + "/out", "--baseline", "flat", "--fail-if-worse", "0.05"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("FAIL") && r.stderr.contains("worse than the baseline flat in mean retention"), "\(r.stderr)")
        let c = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: dir + "/out/compare.json")))
        let models = c["models"]?.arrayValue ?? []
        #expect(models.last?["meanRetention"]?.double == 1)
        let pair = try #require(c["pairs"]?.arrayValue?.first)
        #expect((pair["retentionDifference"]?.double ?? 0) > 0.05)
        #expect(pair["labelsOnlyA"]?.double == 3 && pair["labelsOnlyB"]?.double == 3)
        #expect(pair["examplesOnlyB"]?.arrayValue?.contains(.string("renamed 0")) == true)
        #expect((pair["mostDisagreeing"]?.arrayValue?.count ?? 0) == 4)
        #expect(c["gate"]?["passed"]?.boolValue == false)
        // Wrong flags are usage errors that say what to do.
        let one = try Subprocess.vigil(["compare", "Fixtures/video/vtest.avi", "--model", FixturePaths.defaultModel])
        #expect(one.status == 64 && one.stderr.contains("two or more models"), "\(one.stderr)")
        let gate = try Subprocess.vigil(["compare", "Fixtures/video/vtest.avi", "--model", FixturePaths.defaultModel, "--model", flat, "--fail-if-worse", "0.1"])
        #expect(gate.status == 64 && gate.stderr.contains("--baseline"), "\(gate.stderr)")
    }
}

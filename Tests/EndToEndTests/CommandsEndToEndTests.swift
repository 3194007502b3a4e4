import Foundation
import Testing
import TestSupport

/// The smaller commands through the built binary, and the help text of every command against its snapshot.
@Suite struct CommandsEndToEndTests {
    @Test func classifyImages() throws {
        let r = try Subprocess.vigil(["classify", "Fixtures/images/skimage_coffee.png", "Fixtures/images/opencv_squirrel_cls.jpg", "--top", "1", "--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map { try! JSONValue.parse(Data($0.utf8)) }
        #expect(lines.count == 2)
        // onnxruntime's top-1 on the same images (Fixtures/models/README.md): espresso 0.951, fox squirrel 0.926.
        #expect(lines[0]["top"]?.arrayValue?.first?["label"]?.stringValue == "espresso")
        #expect(lines[1]["top"]?.arrayValue?.first?["index"] == .integer(335))
        #expect((lines[0]["top"]?.arrayValue?.first?["probability"]?.double ?? 0) > 0.9)
    }

    @Test func classifyBadInputKeepsGoing() throws {
        let r = try Subprocess.vigil(["classify", "Fixtures/bad/empty.mp4", "Fixtures/images/skimage_coffee.png"])
        #expect(r.status == 65)
        #expect(r.stderr.contains("Fixtures/bad/empty.mp4"))
        #expect(r.stdout.contains("espresso"))
    }

    @Test func inspectDefaultModel() throws {
        let r = try Subprocess.vigil(["inspect", "Fixtures/models/efficientnet_lite0.onnx", "--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let j = try JSONValue.parse(Data(r.stdout.utf8))
        #expect(j["camLayer"]?.stringValue == "/_swish_1/Clip_output_0")
        #expect(j["opset"] == .integer(13))
        #expect(j["opCounts"]?["Conv"] == .integer(49))
        #expect(j["parameters"] == .integer(4_631_000))
        // 0.77 GFLOP per image (Fixtures/models/README.md quotes ~0.8).
        #expect(abs((j["flopsPerItem"]?.double ?? 0) / 1e9 - 0.77) < 0.01)
    }

    @Test func inspectNonModelFails() throws {
        let r = try Subprocess.vigil(["inspect", "Fixtures/video/vtest.avi"])
        #expect(r.status == 65)
        #expect(r.stdout.contains("not a readable ONNX model"))
    }

    @Test func checkCases() throws {
        let pass = try Subprocess.vigil(["check", "Fixtures/models/cases/ops/conv_depthwise3x3", "Fixtures/models/cases/ops/lrn"])
        #expect(pass.status == 0, "\(pass.stdout) \(pass.stderr)")
        #expect(pass.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("PASS") })
        // An impossible tolerance makes the same case fail, with its worst difference reported.
        let fail = try Subprocess.vigil(["check", "Fixtures/models/cases/ops/conv_dilations", "--rtol", "0", "--atol", "0"])
        #expect(fail.status == 1)
        #expect(fail.stdout.hasPrefix("FAIL") && fail.stdout.contains("worst at"))
    }

    @Test func probeClips() throws {
        let r = try Subprocess.vigil(["probe", "Fixtures/video/carphone_pristine.mp4", "--json", "--count-frames"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let j = try JSONValue.parse(Data(r.stdout.split(separator: "\n")[0].utf8))
        #expect(j["codec"]?.stringValue == "h264")
        let bad = try Subprocess.vigil(["probe", "Fixtures/bad/text.mp4"])
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("Fixtures/bad/text.mp4"))
    }

    /// Help text is part of the interface: any change must update the snapshot on purpose
    /// (regenerate with `vigil <command> --help > Tests/EndToEndTests/Snapshots/<command>-help.txt`).
    @Test(arguments: ["analyze", "compare", "merge", "classify", "inspect", "probe", "check", ""])
    func helpMatchesSnapshot(command: String) throws {
        let r = try Subprocess.vigil(command.isEmpty ? ["--help"] : [command, "--help"])
        #expect(r.status == 0)
        let snap = try String(contentsOfFile: FixturePaths.path("Tests/EndToEndTests/Snapshots/\(command.isEmpty ? "vigil" : command)-help.txt"), encoding: .utf8)
        #expect(r.stdout == snap, "help of '\(command)' changed:\n\(r.stdout)")
    }
}

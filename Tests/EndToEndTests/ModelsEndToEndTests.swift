import Foundation
import Testing
import TestSupport

/// `vigil analyze` and `vigil inspect` on the architectures users bring (small configurations in
/// Fixtures/models/cases/arch): each analyses end to end with a schema-valid report that records how the model
/// was run, and a run that analyses no frame fails instead of reporting success.
@Suite(.serialized) struct ModelsEndToEndTests {
    static let vtest = "Fixtures/video/vtest.avi"
    static func model(_ name: String) -> String { "Fixtures/models/cases/arch/\(name)/model.onnx" }

    struct Expectation: Sendable, CustomTestStringConvertible {
        let name: String, batch: String, channels: Int, reshape: String?, quantized: Bool
        var testDescription: String { name }
    }

    @Test(arguments: [
        Expectation(name: "vit_tiny_op17", batch: "fixed", channels: 3, reshape: "tokens", quantized: false),
        Expectation(name: "swin_tiny_op17", batch: "fixed", channels: 3, reshape: "channels-last", quantized: false),
        Expectation(name: "shufflenet_fixed_batch_op13", batch: "freed-from-fixed", channels: 3, reshape: nil, quantized: false),
        Expectation(name: "gray_convnet_op13", batch: "freed-from-fixed", channels: 1, reshape: nil, quantized: false),
        Expectation(name: "qdq_convnet_int8", batch: "freed-from-fixed", channels: 3, reshape: nil, quantized: true),
    ])
    func analyses(_ e: Expectation) throws {
        let out = Subprocess.tempDirectory("models-\(e.name)")
        for occlusion in ["incremental", "full"] {
            let r = try Subprocess.vigil(["analyze", Self.vtest, "--model", Self.model(e.name), "--out", out, "--max-frames", "2",
                                          "--patches", "6", "--occlusion", occlusion])
            #expect(r.status == 0, "\(e.name) --occlusion \(occlusion): \(r.stderr)")
            let path = out + "/vtest/report.json"
            let frames = try JSONSchemaValidator.validateReportFolder(out + "/vtest")
            let report = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: path)))
            let m = report["provenance"]?["model"]
            #expect(frames.count == 2)
            #expect(m?["batch"]?.stringValue == e.batch)
            #expect(m?["inputChannels"]?.double == Double(e.channels))
            if let reshape = e.reshape { #expect(m?["camReshape"]?.stringValue?.hasPrefix(reshape) == true, "\(String(describing: m?["camReshape"]))") }
            else { #expect(m?["camReshape"] == nil) }
            #expect((m?["quantized"]?.boolValue ?? false) == e.quantized)
            // The report says what occlusion cost: a model with a fixed batch, or --occlusion full, recomputes every copy.
            let work = report["summary"]?["occlusionWork"]
            let full = occlusion == "full" || e.batch == "fixed"
            #expect(work?["engine"]?.stringValue == (full ? "full" : "incremental"), "\(String(describing: work))")
            let share = work?["multiplyAddShare"]?.double ?? -1
            if full { #expect(share == 1) } else { #expect(share > 0 && share <= 1, "\(e.name): share \(share)") }
            let overlay = try Subprocess.ffprobe(out + "/vtest/overlay.mp4", "stream=codec_name", countFrames: false)
            #expect(overlay["codec_name"] == "h264")
        }
    }

    /// `vigil inspect` says how the batch is handled, what is quantised, and how token maps are reshaped.
    @Test func inspectExplains() throws {
        let q = try Subprocess.vigil(["inspect", Self.model("qdq_convnet_int8")])
        #expect(q.status == 0)
        #expect(q.stdout.contains("quantised, integer kernels as onnxruntime's: QGemm x1, QLinearAdd x1, QLinearConv x3, QLinearGlobalAveragePool x1"), "\(q.stdout)")
        #expect(q.stdout.contains("quantised, float on dequantised values: Flatten x1"))
        let qj = try JSONValue.parse(Data(try Subprocess.vigil(["inspect", Self.model("qdq_convnet_int8"), "--json"]).stdout.utf8))
        #expect(qj["integerOps"]?["QLinearConv"]?.double == 3)
        let v = try Subprocess.vigil(["inspect", Self.model("vit_tiny_op17")])
        #expect(v.stdout.contains("batch: fixed at 1 in the file; batches run one item at a time"))
        #expect(v.stdout.contains("tokens [N,T,C], the first 1 (class token) dropped, the rest reshaped to a 4x4 grid"), "\(v.stdout)")
        let s = try Subprocess.vigil(["inspect", Self.model("shufflenet_fixed_batch_op13"), "--json"])
        let j = try JSONValue.parse(Data(s.stdout.utf8))
        #expect(j["batch"]?.stringValue == "freed-from-fixed")
    }

    /// No frame in range (a start past the end, or a duration shorter than a frame) is a failure: exit 65 and a
    /// sentence saying what to check, never "ok".
    @Test(arguments: [["--start", "1000"], ["--duration", "0.001", "--start", "0.05"]])
    func noFrameAnalysedFails(_ flags: [String]) throws {
        let out = Subprocess.tempDirectory("noframes")
        let r = try Subprocess.vigil(["analyze", Self.vtest, "--out", out, "--no-video"] + flags)
        #expect(r.status == 65, "stdout \(r.stdout) stderr \(r.stderr)")
        #expect(!r.stdout.contains(": ok"))
        #expect((r.stdout + r.stderr).contains("no frame was analysed"), "\(r.stdout) \(r.stderr)")
    }
}

import Foundation
import Graph
import Imaging
import ONNXImport
import Robustness
import TensorCore
import Testing
import TestSupport

/// A hand-built model whose decision depends only on the top-left corner of the image:
/// A = Relu(Conv1x1(x)) * mask(top-left quarter); logits = [w * GAP(A), t]. Grad-CAM must peak in that corner,
/// and only patches over the corner may flip the label.
@Suite struct CornerModelTests {
    static let side = 32
    static let corner = 12

    /// Writes the model and its card to a temporary folder; returns the model path.
    static func makeModel() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-corner-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func tensor(_ name: String, _ dims: [Int], _ v: [Float]) -> Onnx_TensorProto {
            var t = Onnx_TensorProto()
            t.name = name; t.dims = dims.map(Int64.init); t.dataType = 1; t.floatData = v
            return t
        }
        func node(_ op: String, _ ins: [String], _ outs: [String], _ attrs: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
            var n = Onnx_NodeProto(); n.opType = op; n.name = op + "_" + outs[0]; n.input = ins; n.output = outs; n.attribute = attrs
            return n
        }
        func valueInfo(_ name: String, _ dims: [Int?]) -> Onnx_ValueInfoProto {
            var v = Onnx_ValueInfoProto(); v.name = name
            var tt = Onnx_TypeProto.Tensor(); tt.elemType = 1
            var sh = Onnx_TensorShapeProto()
            sh.dim = dims.map { d in var x = Onnx_TensorShapeProto.Dimension(); if let d { x.dimValue = Int64(d) } else { x.dimParam = "N" }; return x }
            tt.shape = sh
            v.type.tensorType = tt
            return v
        }
        let s = side, c = corner
        var mask = [Float](repeating: 0, count: s * s)
        for y in 0..<c { for x in 0..<c { mask[y * s + x] = 1 } }
        var g = Onnx_GraphProto()
        g.name = "corner"
        // Channel 0 of the conv reads the red channel; channel 1 reads nothing (stays at zero).
        g.initializer = [
            tensor("w", [2, 3, 1, 1], [1, 0, 0, 0, 0, 0]),
            tensor("mask", [1, 1, s, s], mask),
            tensor("fc", [2, 2], [Float(s * s) / Float(c * c) * 4, 0, 0, 0]),
            tensor("fcb", [2], [0, 2]),
        ]
        g.node = [
            node("Conv", ["input", "w"], ["conv"]),
            node("Relu", ["conv"], ["relu"]),
            node("Mul", ["relu", "mask"], ["cam"]),
            node("GlobalAveragePool", ["cam"], ["gap"]),
            node("Flatten", ["gap"], ["flat"]),
            node("Gemm", ["flat", "fc", "fcb"], ["logits"], [{ var a = Onnx_AttributeProto(); a.name = "transB"; a.type = .int; a.i = 1; return a }()]),
        ]
        g.input = [valueInfo("input", [nil, 3, s, s])]
        g.output = [valueInfo("logits", [nil, 2])]
        var m = Onnx_ModelProto()
        m.irVersion = 8
        var op = Onnx_OperatorSetIdProto(); op.version = 13
        m.opsetImport = [op]
        m.graph = g
        let path = dir.appendingPathComponent("corner.onnx").path
        try m.serializedData().write(to: URL(fileURLWithPath: path))
        let card = """
            {"inputSize": [\(s), \(s)], "mean": [127.5, 127.5, 127.5], "std": [127.5, 127.5, 127.5],
             "resize": {"policy": "stretch", "filter": "nearest"}, "camLayer": "cam", "labels": "corner.labels"}
            """
        try card.write(toFile: dir.appendingPathComponent("corner.card.json").path, atomically: true, encoding: .utf8)
        try "corner lit\ncorner dark\n".write(toFile: dir.appendingPathComponent("corner.labels").path, atomically: true, encoding: .utf8)
        return path
    }

    /// A 64x64 picture: white top-left corner, mid-grey elsewhere with a white square at the bottom right
    /// (which the model must ignore).
    static func image() -> RGBImage {
        var img = RGBImage(width: 64, height: 64, fill: (128, 128, 128))
        img.fillRect(x: 0, y: 0, width: 24, height: 24, color: .white)
        img.fillRect(x: 40, y: 40, width: 24, height: 24, color: .white)
        return img
    }

    /// Corrupted copies made on two threads are the copies made on one (each is seeded on its own).
    @Test func corruptedCopiesDoNotDependOnTheThreadCount() throws {
        let c = try Classifier(modelPath: Self.makeModel())
        var p = AnalysisParameters()
        p.patches = 4
        p.corruptions = [.gaussianNoise, .glassBlur, .fog, .lowLight, .cameraShake]
        p.severities = [2, 5]
        let one = try FrameAnalyzer(classifier: c, parameters: p, configuration: .test.with(threads: 1)).analyze(Self.image(), frame: 3, pts: 0)
        let two = try FrameAnalyzer(classifier: c, parameters: p, configuration: .test.with(threads: 2)).analyze(Self.image(), frame: 3, pts: 0)
        let a = try #require(one.corruptions), b = try #require(two.corruptions)
        #expect(a.count == 10 && a.map(\.corruption) == b.map(\.corruption) && a.map(\.severity) == b.map(\.severity))
        for (x, y) in zip(a, b) { #expect(x.top1 == y.top1 && abs(x.targetProbability - y.targetProbability) < 1e-6, "\(x) vs \(y)") }
        // h264_compression needs the codec the pipeline hands each analyser; without it the frame fails with the reason.
        p.corruptions = [.h264Compression]
        #expect(throws: CorruptionError.codecMissing(.h264Compression)) {
            try FrameAnalyzer(classifier: c, parameters: p, configuration: .test).analyze(Self.image(), frame: 0, pts: 0)
        }
    }

    @Test func gradCAMPeaksInTheCornerAndOnlyCornerPatchesFlip() throws {
        let c = try Classifier(modelPath: Self.makeModel())
        var p = AnalysisParameters()
        p.patches = 64
        p.patchSizeLow = 0.375; p.patchSizeHigh = 0.375 // 12 px: a patch can cover the whole 12 x 12 corner
        p.seed = 3
        let a = try FrameAnalyzer(classifier: c, parameters: p, configuration: .test).analyze(Self.image(), frame: 0, pts: 0)
        #expect(a.top1.label == "corner lit")
        // Grad-CAM: every cell outside the corner is zero and the maximum lies inside it.
        let s = Self.side, k = Self.corner
        #expect(a.camWidth == s && a.camHeight == s)
        let peak = a.cam.indices.max { a.cam[$0] < a.cam[$1] }!
        #expect(peak % s < k && peak / s < k, "peak at (\(peak % s), \(peak / s))")
        for y in 0..<s { for x in 0..<s where x >= k || y >= k { #expect(a.cam[y * s + x] == 0) } }
        // Occlusion: a patch flips the label only if it overlaps the corner; covering most of it always flips.
        var flips = 0
        for o in a.patches {
            let ox = max(0, min(o.patch.x + o.patch.side, k) - o.patch.x), oy = max(0, min(o.patch.y + o.patch.side, k) - o.patch.y)
            let overlap = Double(ox * oy) / Double(k * k)
            if o.flipped {
                flips += 1
                #expect(overlap > 0, "patch \(o.patch) flipped without touching the corner")
                #expect(o.top1 == 1)
            }
            if overlap > 0.5 { #expect(o.flipped, "patch \(o.patch) covers \(overlap) of the corner but did not flip") }
            if overlap == 0 { #expect(abs(o.drop) < 1e-6, "patch \(o.patch) away from the corner changed the score by \(o.drop)") }
        }
        #expect(flips > 0)
        #expect(a.retention == Double(a.patches.count - flips) / Double(a.patches.count))
    }
}

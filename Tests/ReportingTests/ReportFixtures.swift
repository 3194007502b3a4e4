import Foundation
import Imaging
import Reporting
import Robustness
import TestSupport

/// Synthetic analyses and provenance for the report tests.
enum ReportFixtures {
    static let labels = ["tabby cat", "dog, \"husky\"", "car", "bicycle", "tree", "house"]

    /// A deterministic frame: label runs of 7 frames, retention falling where `i % 11 == 3`.
    static func frame(_ i: Int, patches k: Int = 8, cam side: Int = 4) -> FrameAnalysis {
        var rng = SeededRandom(seed: UInt64(i) &* 7919 &+ 1)
        let top = (i / 7) % 3
        let scores = (0..<5).map { r in
            ClassScore(index: (top + r) % labels.count, label: labels[(top + r) % labels.count], probability: [0.7, 0.12, 0.08, 0.05, 0.02][r] + rng.float(0, 0.01))
        }
        var outcomes: [OutcomeSpec] = []
        var flipped: [String: Int] = [:]
        for p in 0..<k {
            let flip = i % 11 == 3 && p % 3 == 0
            let to = flip ? (top + 1 + p % 2) % labels.count : top
            if flip { flipped[labels[to], default: 0] += 1 }
            let drop = flip ? 0.6 + rng.float(0, 0.2) : rng.float(0, 0.2)
            outcomes.append(OutcomeSpec(patch: Patch(x: p * 10, y: p * 5, side: 56), top1: to,
                                        targetProbability: scores[0].probability * (1 - drop), drop: drop, flipped: flip))
        }
        let kept = outcomes.filter { !$0.flipped }.count
        let retention = Double(kept) / Double(k)
        let cam = (0..<(side * side)).map { _ in rng.float(0, 1) }
        let sensitivity: [Float?] = (0..<(side * side)).map { c in c % 5 == 0 ? nil : rng.float(0, 1) }
        return FrameSpec(
            frame: i * 2, pts: Double(i * 2) / 25, top5: scores, target: scores[0], cam: cam, camWidth: side, camHeight: side,
            patches: outcomes, retention: retention, retentionInterval: Statistics.wilson(successes: kept, trials: k),
            meanDrop: Double(outcomes.map(\.drop).reduce(0, +)) / Double(k),
            worstPatch: outcomes.indices.max { outcomes[$0].drop < outcomes[$1].drop } ?? 0, flippedTo: flipped,
            sensitivity: sensitivity, camAgreement: i % 4 == 0 ? nil : Double(rng.float(-1, 1)),
            crop: CropRect(x: 28, y: 0, width: 144, height: 144),
            timings: ["preprocessMs": Double(rng.float(0, 5)), "occlusionMs": Double(i) * 0.37]).analysis
    }

    /// `FrameAnalysis` and `PatchOutcome` have no public memberwise initialisers, so the tests build them
    /// through their `Codable` conformance from these mirrors.
    struct OutcomeSpec: Encodable {
        var patch: Patch, top1: Int, targetProbability: Float, drop: Float, flipped: Bool
    }

    struct FrameSpec: Encodable {
        var frame: Int, pts: Double, top5: [ClassScore], target: ClassScore, cam: [Float], camWidth: Int, camHeight: Int
        var patches: [OutcomeSpec], retention: Double, retentionInterval: Interval, meanDrop: Double, worstPatch: Int
        var flippedTo: [String: Int], sensitivity: [Float?], camAgreement: Double?, crop: CropRect, timings: [String: Double]

        var analysis: FrameAnalysis {
            try! JSONDecoder().decode(FrameAnalysis.self, from: JSONEncoder().encode(self))
        }
    }

    static func provenance(url: String = "Fixtures/clips/sample.mp4", failUnder: Double? = nil) -> Provenance {
        Provenance(
            vigilVersion: "0.1.0-test", createdBy: "vigil analyze \(url) --seed 7",
            model: ModelInfo(path: "Fixtures/models/default.onnx", sha256: String(repeating: "ab", count: 32), name: "test-net",
                             inputSize: [224, 224], camLayer: "layer4", outputKind: "logits", mean: [123.675, 116.28, 103.53],
                             std: [58.395, 57.12, 57.375], resize: ModelCard.Resize(), labels: "labels.txt"),
            parameters: ReportParameters(patches: 8, patchSizeLow: 0.125, patchSizeHigh: 0.25, fill: "gray", seed: 7,
                                         target: "top1", camNorm: "clip", every: 2, maxFrames: nil, failUnder: failUnder),
            ffmpeg: "libavformat 59.27.100, libavcodec 59.37.100", blas: "OpenBLAS 0.3.21",
            clip: ClipInfo(url: url, container: "mov,mp4,m4a,3gp,3g2,mj2", codec: "h264", profile: "High", width: 320, height: 240,
                           frameRate: "25/1", duration: 4.0, frameCount: 100, bitRate: 512_000, rotation: 0, pixelFormat: "yuv420p"))
    }

    static let timing = TimingSummary(wallSeconds: 1.25, analysedFramesPerSecond: 32, meanMsPerStage: ["preprocessMs": 1.5, "occlusionMs": 12])

    /// Writes a whole report of `count` frames into `dir`, offering a thumbnail for every worst-frame candidate.
    @discardableResult
    static func writeReport(to dir: String, count: Int = 40, failUnder: Double? = nil, partial: Bool = false,
                            timing: TimingSummary = timing, url: String = "Fixtures/clips/sample.mp4",
                            thumbnails: Bool = true, format: ReportFormat = .v1, overlayVideo: Bool = false) throws -> (ReportPaths, ClipSummary) {
        let writer = try ReportWriter(directory: dir, provenance: provenance(url: url, failUnder: failUnder), format: format, overlayVideo: overlayVideo)
        var acc = ClipAccumulator(worstCount: 3, seed: 7)
        for i in 0..<count {
            let f = frame(i)
            try writer.append(f)
            acc.add(f)
            if thumbnails, acc.isWorst(frame: f.frame) {
                writer.setThumbnail(frame: f.frame, pts: f.pts, original: picture(640, 480, seed: i), overlay: picture(640, 480, seed: i + 1))
                writer.retainThumbnails(Set(acc.worstFrameIndices))
            }
        }
        let summary = acc.summary(failUnder: failUnder)
        return (try writer.finish(summary: summary, partial: partial, timing: timing), summary)
    }

    static func picture(_ w: Int, _ h: Int, seed: Int) -> RGBImage {
        var img = RGBImage(width: w, height: h)
        for y in 0..<h { for x in 0..<w { img[x, y] = (UInt8((x + seed * 17) & 255), UInt8(y & 255), UInt8((x ^ y) & 255)) } }
        return img
    }
}

/// A fresh directory under the system temporary directory, removed by `remove()` unless
/// `VIGIL_KEEP_TEST_REPORTS` is set (to look at or validate the output by hand).
struct TemporaryDirectory {
    let path: String
    init(_ name: String = #function) {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-reporting-\(clean)-\(UUID().uuidString.prefix(8))").path
    }
    func file(_ name: String) -> String { URL(fileURLWithPath: path).appendingPathComponent(name).path }
    func remove() {
        if ProcessInfo.processInfo.environment["VIGIL_KEEP_TEST_REPORTS"] != nil { print("kept \(path)"); return }
        try? FileManager.default.removeItem(atPath: path)
    }
}

extension String {
    /// The contents of the file at `path` as UTF-8.
    static func file(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
}

import Foundation
import Imaging
import Robustness

/// One model of a comparison, with the metrics `analyze` gives and its speed.
public struct ComparedModel: Codable, Sendable {
    public var name: String
    public var path: String
    public var sha256: String
    public var inputSize: [Int]
    public var labels: Int
    public var analysedFrames: Int
    public var meanRetention: Double
    /// 95% moving-block bootstrap interval over the frames.
    public var retentionInterval: Interval
    public var meanTop1Probability: Double
    public var framesWithFlip: Double
    /// Wall-clock milliseconds per analysed frame (classification, Grad-CAM and occlusion) on this machine.
    public var msPerFrame: Double
    /// With --corruptions: mean retention over every corruption and severity, the per-corruption table, and relative to
    /// the baseline ImageNet-C's mCE ratio, (1 - score) / (1 - baseline's score).
    public var corruptionScore: Double? = nil
    public var corruptions: [CorruptionSummary]? = nil
    public var relativeCorruptionError: Double? = nil
    /// Its CAM methods ranked by faithfulness on these frames, most faithful first, then the random pixel order
    /// (`--faithfulness`).
    public var faithfulness: [FaithfulnessSummary]? = nil
    public init(name: String, path: String, sha256: String, inputSize: [Int], labels: Int, analysedFrames: Int, meanRetention: Double,
                retentionInterval: Interval, meanTop1Probability: Double, framesWithFlip: Double, msPerFrame: Double) {
        self.name = name; self.path = path; self.sha256 = sha256; self.inputSize = inputSize; self.labels = labels
        self.analysedFrames = analysedFrames; self.meanRetention = meanRetention; self.retentionInterval = retentionInterval
        self.meanTop1Probability = meanTop1Probability; self.framesWithFlip = framesWithFlip; self.msPerFrame = msPerFrame
    }
}

/// A frame where two models' retentions differ most.
public struct DisagreeingFrame: Codable, Sendable {
    public var clip: String
    public var frame: Int
    public var pts: Double
    public var labelA: String
    public var labelB: String
    public var retentionA: Double
    public var retentionB: Double
    public init(clip: String, frame: Int, pts: Double, labelA: String, labelB: String, retentionA: Double, retentionB: Double) {
        self.clip = clip; self.frame = frame; self.pts = pts; self.labelA = labelA; self.labelB = labelB
        self.retentionA = retentionA; self.retentionB = retentionB
    }
}

/// Two models on the same frames and patches.
public struct ComparedPair: Codable, Sendable {
    /// Indices into `models`.
    public var a: Int
    public var b: Int
    /// Mean over frames of B's retention minus A's, and its 95% paired moving-block bootstrap interval.
    public var retentionDifference: Double
    public var differenceInterval: Interval
    /// Share of frames whose clean top-1 labels are the same label name.
    public var top1Agreement: Double
    /// Mean Pearson correlation of the two Grad-CAM maps, both resampled to a common 7x7 grid (frames where both
    /// maps vary).
    public var camSimilarity: Double?
    /// Labels only one of the two models has (compared by name), with up to 10 examples each.
    public var labelsOnlyA: Int
    public var labelsOnlyB: Int
    public var examplesOnlyA: [String]
    public var examplesOnlyB: [String]
    /// The frames where |retention B - retention A| is largest.
    public var mostDisagreeing: [DisagreeingFrame]
    public init(a: Int, b: Int, retentionDifference: Double, differenceInterval: Interval, top1Agreement: Double, camSimilarity: Double?,
                labelsOnlyA: Int, labelsOnlyB: Int, examplesOnlyA: [String], examplesOnlyB: [String], mostDisagreeing: [DisagreeingFrame]) {
        self.a = a; self.b = b; self.retentionDifference = retentionDifference; self.differenceInterval = differenceInterval
        self.top1Agreement = top1Agreement; self.camSimilarity = camSimilarity; self.labelsOnlyA = labelsOnlyA; self.labelsOnlyB = labelsOnlyB
        self.examplesOnlyA = examplesOnlyA; self.examplesOnlyB = examplesOnlyB; self.mostDisagreeing = mostDisagreeing
    }
}

/// The CI gate: a candidate fails when its retention is worse than the baseline's by more than `margin` with 95%
/// confidence (the upper end of the paired difference's interval is below -margin).
public struct CompareGate: Codable, Sendable {
    public var baseline: Int
    public var margin: Double
    /// One sentence per failing candidate: which model, which metric, by how much.
    public var failures: [String]
    public var passed: Bool
    public init(baseline: Int, margin: Double, failures: [String]) {
        self.baseline = baseline; self.margin = margin; self.failures = failures; self.passed = failures.isEmpty
    }
}

/// `compare.json` (see scripts/schema/compare.schema.json).
public struct CompareResult: Codable, Sendable {
    public var schemaVersion = "1.0"
    public var createdBy: String
    public var clips: [String]
    public var parameters: ReportParameters
    public var models: [ComparedModel]
    public var pairs: [ComparedPair]
    public var gate: CompareGate?
    public init(createdBy: String, clips: [String], parameters: ReportParameters, models: [ComparedModel], pairs: [ComparedPair], gate: CompareGate?) {
        self.createdBy = createdBy; self.clips = clips; self.parameters = parameters; self.models = models; self.pairs = pairs; self.gate = gate
    }
}

/// Writes compare.json and compare.html (compare.csv is streamed by the runner).
public enum CompareReportWriter {
    /// Overlays of the most disagreeing frames, by pair index and frame: one picture per model of the pair.
    public typealias Thumbnails = [Int: [String: (RGBImage, RGBImage)]]

    /// - Throws: `ReportingError`.
    public static func write(_ result: CompareResult, thumbnails: Thumbnails, directory: String) throws {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw ReportingError(.createDirectory, path: directory, error: error)
        }
        let json = (directory as NSString).appendingPathComponent("compare.json")
        let data: Data
        do { data = try ReportJSON.encoder(pretty: true).encode(result) } catch { throw ReportingError(.encode, path: json, reason: "\(error)") }
        try AtomicFile.write(json) { try $0.write(bytes: Array(data)); try $0.write("\n") }
        try AtomicFile.write((directory as NSString).appendingPathComponent("compare.html")) { try $0.write(html(result, thumbnails: thumbnails)) }
    }

    public static func thumbnailKey(_ d: DisagreeingFrame) -> String { "\(d.clip)#\(d.frame)" }

    static func html(_ r: CompareResult, thumbnails: Thumbnails) -> String {
        let e = HTML.escape
        func f3(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "&ndash;" }
        func iv(_ i: Interval) -> String { String(format: "[%.3f, %.3f]", i.low, i.high) }
        var s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        s += "<title>Vigil comparison</title>\n<style>\n\(HTML.style)\n</style>\n</head>\n<body>\n<main>\n"
        s += "<header><h1>Model comparison</h1><div class=\"sub\">\(r.clips.count) clip(s): \(e(r.clips.joined(separator: ", "))) &middot; \(r.parameters.patches) patches per frame, seed \(r.parameters.seed)</div></header>\n"
        if let g = r.gate {
            s += "<div class=\"verdict \(g.passed ? "pass" : "fail")\"><div class=\"word\">\(g.passed ? "PASS" : "FAIL")</div><div class=\"detail\">"
            s += g.passed ? "No candidate is worse than the baseline \(e(r.models[g.baseline].name)) by more than \(f3(g.margin)) with 95% confidence."
                : g.failures.map(e).joined(separator: "<br>")
            s += "</div></div>\n"
        }
        s += "<h2>Models</h2>\n<table><tr><th>model</th><th>input</th><th>frames</th><th>mean retention</th><th>mean top-1 probability</th><th>frames with a flip</th><th>ms per frame</th></tr>\n"
        for m in r.models {
            s += "<tr><td>\(e(m.name))</td><td>\(m.inputSize.map(String.init).joined(separator: "x"))</td><td class=\"num\">\(m.analysedFrames)</td>"
            s += "<td class=\"num\">\(f3(m.meanRetention)) \(iv(m.retentionInterval))</td><td class=\"num\">\(f3(m.meanTop1Probability))</td>"
            s += "<td class=\"num\">\(f3(m.framesWithFlip))</td><td class=\"num\">\(String(format: "%.1f", m.msPerFrame))</td></tr>\n"
        }
        if r.models.contains(where: { $0.faithfulness != nil }) {
            s += "<h2>CAM methods ranked by faithfulness</h2>\n<table><tr><th>model</th><th>rank</th><th>method</th><th>insertion &minus; deletion AUC</th><th>deletion AUC</th><th>insertion AUC</th><th>CAM mult. change</th></tr>\n"
            for m in r.models {
                var rank = 0
                for f in m.faithfulness ?? [] {
                    if f.method != "random" { rank += 1 }
                    s += "<tr><td>\(e(m.name))</td><td class=\"num\">\(f.method == "random" ? "" : String(rank))</td><td>\(e(f.method))</td>"
                    s += "<td class=\"num\">\(f3(f.score.mean)) \(iv(f.score.interval))</td><td class=\"num\">\(f3(f.deletionAUC.mean)) \(iv(f.deletionAUC.interval))</td>"
                    s += "<td class=\"num\">\(f3(f.insertionAUC.mean)) \(iv(f.insertionAUC.interval))</td><td class=\"num\">\(f3(f.camMultChange?.mean))</td></tr>\n"
                }
            }
        }
        s += "</table>\n<h2>Pairs</h2>\n<table><tr><th>B vs A</th><th>retention B &minus; A (paired 95% interval)</th><th>top-1 agreement</th><th>Grad-CAM similarity</th><th>labels not shared</th></tr>\n"
        for p in r.pairs {
            let a = r.models[p.a].name, b = r.models[p.b].name
            s += "<tr><td>\(e(b)) vs \(e(a))</td><td class=\"num\">\(String(format: "%+.3f", p.retentionDifference)) \(iv(p.differenceInterval))</td>"
            s += "<td class=\"num\">\(f3(p.top1Agreement))</td><td class=\"num\">\(f3(p.camSimilarity))</td>"
            s += "<td class=\"note\">\(p.labelsOnlyA) only in \(e(a)), \(p.labelsOnlyB) only in \(e(b))</td></tr>\n"
        }
        s += "</table>\n"
        for (pi, p) in r.pairs.enumerated() where !p.mostDisagreeing.isEmpty {
            let a = r.models[p.a].name, b = r.models[p.b].name
            s += "<h2>Where \(e(b)) and \(e(a)) disagree most</h2>\n<div class=\"thumbs\">\n"
            for d in p.mostDisagreeing {
                s += "<div class=\"thumb\"><div class=\"pair\">"
                if let (ia, ib) = thumbnails[pi]?[thumbnailKey(d)] {
                    for (img, name) in [(ia, a), (ib, b)] {
                        if let b64 = ReportWriter.pngBase64(img) {
                            s += "<figure><img alt=\"\(e(name)) overlay\" src=\"data:image/png;base64,\(b64)\"><figcaption>\(e(name))</figcaption></figure>"
                        }
                    }
                }
                s += "</div><div class=\"meta\">\(e((d.clip as NSString).lastPathComponent)) frame \(d.frame) at \(String(format: "%.2f", d.pts)) s: "
                s += "\(e(a)) <b>\(e(d.labelA))</b> retention \(f3(d.retentionA)); \(e(b)) <b>\(e(d.labelB))</b> retention \(f3(d.retentionB))</div></div>\n"
            }
            s += "</div>\n"
        }
        s += "<footer>Written by Vigil (comparison schema \(e(r.schemaVersion))). \(e(r.createdBy))</footer>\n</main>\n</body>\n</html>\n"
        return s
    }
}

/// `compare.csv`, one row per frame: the clip, frame and time, then each model's top-1 label, its probability and
/// the frame's retention. Streamed as the frames come.
public final class CompareCSV {
    private let file: BufferedFile

    /// - Throws: `ReportingError` when the file cannot be created.
    public init(path: String, models: [String]) throws {
        file = try BufferedFile(creating: path)
        try file.write("clip,frame,pts," + models.flatMap { ["\($0) top1", "\($0) top1_prob", "\($0) retention"].map(Self.field) }.joined(separator: ",") + "\n")
    }

    public func row(clip: String, frame: Int, pts: Double, values: [(label: String, probability: Float, retention: Double)]) throws {
        try file.write("\(Self.field(clip)),\(frame),\(pts)," + values.map { "\(Self.field($0.label)),\($0.probability),\($0.retention)" }.joined(separator: ",") + "\n")
    }

    public func close() throws { try file.close() }

    static func field(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

import Foundation

/// A mean over frames with its 95% moving-block bootstrap interval.
public struct MeanWithInterval: Codable, Sendable, Equatable {
    public var mean: Double
    public var interval: Interval
}

/// One CAM method's faithfulness over a clip (`--faithfulness`), or the random pixel order's (method `random`).
public struct FaithfulnessSummary: Codable, Sendable, Equatable {
    public var method: String
    public var frames: Int
    /// Per-frame deletion AUC (lower is more faithful) and insertion AUC (higher is).
    public var deletionAUC: MeanWithInterval
    public var insertionAUC: MeanWithInterval
    /// Insertion minus deletion AUC, the figure methods are ranked by (higher is more faithful).
    public var score: MeanWithInterval
    /// pytorch-grad-cam's CAM multiplication confidence change (nil for the random order).
    public var camMultChange: MeanWithInterval?
}

/// A method's (or the random order's) curves on one frame, as a worst frame keeps them for the HTML.
public struct MethodCurves: Codable, Sendable, Equatable {
    public var method: String
    public var deletion: [Float]
    public var insertion: [Float]
}

/// Streams per-frame faithfulness into per-method clip summaries: three numbers per method per frame.
struct FaithfulnessAccumulator: Sendable {
    /// Per method, in the order first seen: deletion AUCs, insertion AUCs, CAM multiplication changes.
    var series: [(method: String, deletion: [Double], insertion: [Double], camMult: [Double])] = []

    mutating func add(_ f: FrameAnalysis) {
        var entries: [(String, Faithfulness)] = (f.explanations ?? []).compactMap { m in m.faithfulness.map { (m.method, $0) } }
        if let r = f.randomOrder { entries.append(("random", r)) }
        for (name, fa) in entries {
            let i = series.firstIndex { $0.method == name } ?? { series.append((name, [], [], [])); return series.count - 1 }()
            series[i].deletion.append(fa.deletionAUC)
            series[i].insertion.append(fa.insertionAUC)
            if let c = fa.camMultChange { series[i].camMult.append(c) }
        }
    }

    /// Per method, ranked by score (most faithful first), the random order last.
    func summaries(seed: UInt64) -> [FaithfulnessSummary]? {
        guard !series.isEmpty else { return nil }
        func stat(_ x: [Double]) -> MeanWithInterval {
            let n = x.count
            let block = max(1, Int(ceil(pow(Double(max(n, 1)), 1.0 / 3.0))))
            return MeanWithInterval(mean: n > 0 ? x.reduce(0, +) / Double(n) : 0,
                                    interval: Statistics.blockBootstrapMean(x, blockLength: block, seed: seed))
        }
        let rows = series.map { s in
            FaithfulnessSummary(method: s.method, frames: s.deletion.count, deletionAUC: stat(s.deletion), insertionAUC: stat(s.insertion),
                                score: stat(zip(s.insertion, s.deletion).map { $0 - $1 }), camMultChange: s.camMult.isEmpty ? nil : stat(s.camMult))
        }
        return rows.filter { $0.method != "random" }.sorted { $0.score.mean > $1.score.mean } + rows.filter { $0.method == "random" }
    }
}

extension FaithfulnessSummary {
    /// The methods of consecutive parts (a live feed's windows) taken together: each mean weighted by the part's
    /// frames, its interval a bootstrap over the parts weighted by frames (a part's own with one part); methods in
    /// the order of the first part that has them, then ranked as `ClipAccumulator` ranks them.
    static func combining(_ parts: [[FaithfulnessSummary]], seed: UInt64) -> [FaithfulnessSummary]? {
        var order: [String] = []
        for p in parts { for s in p where !order.contains(s.method) { order.append(s.method) } }
        guard !order.isEmpty else { return nil }
        func merge(_ rows: [FaithfulnessSummary], _ pick: (FaithfulnessSummary) -> MeanWithInterval?) -> MeanWithInterval? {
            let have = rows.compactMap { r in pick(r).map { ($0, Double(r.frames)) } }.filter { $0.1 > 0 }
            guard !have.isEmpty else { return nil }
            let n = have.reduce(0) { $0 + $1.1 }
            let mean = have.reduce(0) { $0 + $1.0.mean * $1.1 } / n
            let interval = have.count == 1 ? have[0].0.interval
                : Statistics.weightedBootstrapMean(have.map(\.0.mean), weights: have.map(\.1), seed: seed)
            return MeanWithInterval(mean: mean, interval: interval)
        }
        let rows = order.compactMap { name -> FaithfulnessSummary? in
            let rs = parts.compactMap { $0.first { $0.method == name } }
            guard let d = merge(rs, { $0.deletionAUC }), let i = merge(rs, { $0.insertionAUC }), let s = merge(rs, { $0.score }) else { return nil }
            return FaithfulnessSummary(method: name, frames: rs.reduce(0) { $0 + $1.frames }, deletionAUC: d, insertionAUC: i, score: s,
                                       camMultChange: merge(rs, { $0.camMultChange }))
        }
        return rows.filter { $0.method != "random" }.sorted { $0.score.mean > $1.score.mean } + rows.filter { $0.method == "random" }
    }
}

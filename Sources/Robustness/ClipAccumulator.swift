import Foundation

/// A run of consecutive analysed frames with the same top-1 label.
public struct LabelSegment: Codable, Sendable, Equatable {
    public var label: String
    public var classIndex: Int
    public var startPTS: Double
    public var endPTS: Double
    public var frames: Int
}

/// A frame singled out as one of the least robust.
public struct WorstFrame: Codable, Sendable, Equatable {
    public var frame: Int
    public var pts: Double
    public var retention: Double
    public var meanDrop: Double
    public var label: String
    public var flippedTo: [String: Int]
    /// Each method's deletion and insertion curves and the random order's (`--faithfulness`).
    public var curves: [MethodCurves]? = nil
}

/// Clip-level metrics with their intervals.
public struct ClipSummary: Codable, Sendable {
    public var analysedFrames: Int
    /// Mean per-frame retention and its 95% moving-block bootstrap interval.
    public var meanRetention: Double
    public var retentionInterval: Interval
    public var bootstrapBlockLength: Int
    /// Pooled retention over all patches of all frames, with a Wilson interval (ignores frame dependence).
    public var pooledRetention: Double
    public var pooledRetentionInterval: Interval
    /// Share of frames where at least one patch flipped the label.
    public var framesWithFlip: Double
    public var meanConfidenceDrop: Double
    public var meanTop1Probability: Double
    /// Share of consecutive analysed-frame pairs whose clean top-1 differs.
    public var top1FlipRate: Double
    /// Mean Pearson correlation of consecutive Grad-CAM maps (nil with fewer than two usable pairs).
    public var camTemporalStability: Double?
    /// Mean Pearson correlation of Grad-CAM and occlusion sensitivity per frame.
    public var camOcclusionAgreement: Double?
    public var labelTimeline: [LabelSegment]
    public var worstFrames: [WorstFrame]
    /// The `--fail-under` threshold, when given, and whether the mean retention met it.
    public var failUnder: Double?
    public var passed: Bool?
    /// Per corruption and severity, how often the clean top-1 survived (`--corruptions`), when any was asked for.
    public var corruptions: [CorruptionSummary]? = nil
    /// Mean of those retentions over every corruption and severity: the clip's camera-condition robustness.
    public var corruptionScore: Double? = nil
    /// Per CAM method, the mean faithfulness over the frames with intervals, most faithful first, then the random
    /// order's (`--faithfulness`).
    public var faithfulness: [FaithfulnessSummary]? = nil
    /// What the occluded copies cost against recomputing every copy in full; nil when no frame was occluded.
    public var occlusionWork: OcclusionWork? = nil
}

/// The multiply-adds the occluded copies took, against a batched full recomputation of every copy: how much exact
/// incremental occlusion saved on this model (convolutional networks recompute only each patch's projective field
/// until it covers the map; token models mix every position after the patch embedding, so nothing after it can be
/// saved).
public struct OcclusionWork: Codable, Sendable, Equatable {
    /// `incremental` (the default) or `full` (`--occlusion full`, or a model that runs its copies one at a time).
    public var engine: String
    /// Multiply-adds run divided by those of a full recomputation (1 for `full`).
    public var multiplyAddShare: Double

    public init(engine: String, multiplyAddShare: Double) { self.engine = engine; self.multiplyAddShare = multiplyAddShare }
}

/// One corruption at one severity over a clip's frames.
public struct CorruptionSummary: Codable, Sendable, Equatable {
    public var corruption: String
    public var severity: Int
    public var frames: Int
    /// Share of frames whose clean top-1 survived, with its 95% Wilson interval.
    public var retention: Double
    public var retentionInterval: Interval
    /// Mean drop of the target's probability.
    public var meanDrop: Double
}

/// Streams frame analyses into clip metrics with memory that grows only by one number per frame.
public struct ClipAccumulator: Sendable {
    var retentions: [Double] = []
    var kept = 0, trials = 0
    var framesWithFlip = 0
    var dropSum = 0.0, probSum = 0.0
    var previousTop1: Int? = nil
    var top1Changes = 0
    var previousCAM: [Float]? = nil
    var stabilitySum = 0.0, stabilityCount = 0
    var agreementSum = 0.0, agreementCount = 0
    var timeline: [LabelSegment] = []
    /// Per (corruption, severity): frames, survivals, summed drop; in the order first seen.
    var corruptionTotals: [String: (order: Int, corruption: String, severity: Int, frames: Int, survived: Int, drop: Double)] = [:]
    var worst: [WorstFrame] = []
    var faithfulness = FaithfulnessAccumulator()
    var occlusionMACs = (run: 0, full: 0), occlusionEngine: String? = nil
    /// How many worst frames to keep.
    public let worstCount: Int
    public let seed: UInt64

    public init(worstCount: Int = 5, seed: UInt64 = 0) { self.worstCount = worstCount; self.seed = seed }

    /// Number of frames added.
    public var count: Int { retentions.count }

    /// Adds the next analysed frame (in time order).
    public mutating func add(_ f: FrameAnalysis) {
        retentions.append(f.retention)
        kept += f.patches.filter { !$0.flipped }.count
        trials += f.patches.count
        if f.anyFlip { framesWithFlip += 1 }
        dropSum += f.meanDrop
        probSum += Double(f.top1.probability)
        if let p = previousTop1, p != f.top1.index { top1Changes += 1 }
        previousTop1 = f.top1.index
        if let prev = previousCAM, prev.count == f.cam.count, let r = Statistics.pearson(prev, f.cam) {
            stabilitySum += r; stabilityCount += 1
        }
        previousCAM = f.cam
        if let a = f.camAgreement { agreementSum += a; agreementCount += 1 }
        if var last = timeline.last, last.classIndex == f.top1.index {
            last.endPTS = f.pts; last.frames += 1
            timeline[timeline.count - 1] = last
        } else {
            timeline.append(LabelSegment(label: f.top1.label, classIndex: f.top1.index, startPTS: f.pts, endPTS: f.pts, frames: 1))
            if timeline.count > Self.maxTimelineRuns { timeline = Self.halved(timeline) }
        }
        for o in f.corruptions ?? [] {
            let key = "\(o.corruption)@\(o.severity)"
            var t = corruptionTotals[key] ?? (corruptionTotals.count, o.corruption, o.severity, 0, 0, 0)
            t.frames += 1; t.survived += o.survived ? 1 : 0; t.drop += Double(o.drop)
            corruptionTotals[key] = t
        }
        faithfulness.add(f)
        if let work = f.occlusionWork {
            occlusionMACs.run += work.run; occlusionMACs.full += work.full
            occlusionEngine = occlusionEngine ?? work.engine
        }
        var w = WorstFrame(frame: f.frame, pts: f.pts, retention: f.retention, meanDrop: f.meanDrop, label: f.top1.label, flippedTo: f.flippedTo)
        if let r = f.randomOrder {
            w.curves = (f.explanations ?? []).compactMap { m in m.faithfulness.map { MethodCurves(method: m.method, deletion: $0.deletion, insertion: $0.insertion) } }
                + [MethodCurves(method: "random", deletion: r.deletion, insertion: r.insertion)]
        }
        worst.append(w)
        worst.sort { ($0.retention, -$0.meanDrop, $0.frame) < ($1.retention, -$1.meanDrop, $1.frame) }
        if worst.count > worstCount { worst.removeLast() }
    }

    /// Most label runs kept: past it, adjacent runs are merged in pairs (memory and reports stay bounded).
    public static let maxTimelineRuns = 4000

    /// Adjacent runs merged in pairs: each merged run spans both and takes the label with more frames (the earlier on
    /// a tie); runs of one label that end up adjacent are joined.
    static func halved(_ runs: [LabelSegment]) -> [LabelSegment] {
        var out: [LabelSegment] = []
        out.reserveCapacity(runs.count / 2 + 1)
        var i = 0
        while i < runs.count {
            var r = runs[i]
            if i + 1 < runs.count {
                let n = runs[i + 1]
                if n.frames > r.frames { r.label = n.label; r.classIndex = n.classIndex }
                r.endPTS = n.endPTS; r.frames += n.frames
            }
            if var last = out.last, last.classIndex == r.classIndex {
                last.endPTS = r.endPTS; last.frames += r.frames
                out[out.count - 1] = last
            } else { out.append(r) }
            i += 2
        }
        return out
    }

    /// True when `frame` is currently among the worst frames (its thumbnail is worth keeping).
    public func isWorst(frame: Int) -> Bool { worst.contains { $0.frame == frame } }

    /// Frames currently kept as worst.
    public var worstFrameIndices: [Int] { worst.map(\.frame) }

    /// The clip metrics so far.
    public func summary(failUnder: Double?) -> ClipSummary {
        let n = retentions.count
        let mean = n > 0 ? retentions.reduce(0, +) / Double(n) : 0
        let blockLength = max(1, Int(ceil(pow(Double(max(n, 1)), 1.0 / 3.0))))
        let ci = Statistics.blockBootstrapMean(retentions, blockLength: blockLength, seed: seed)
        var s = ClipSummary(
            analysedFrames: n, meanRetention: mean, retentionInterval: ci, bootstrapBlockLength: blockLength,
            pooledRetention: trials > 0 ? Double(kept) / Double(trials) : 0,
            pooledRetentionInterval: Statistics.wilson(successes: kept, trials: trials),
            framesWithFlip: n > 0 ? Double(framesWithFlip) / Double(n) : 0,
            meanConfidenceDrop: n > 0 ? dropSum / Double(n) : 0,
            meanTop1Probability: n > 0 ? probSum / Double(n) : 0,
            top1FlipRate: n > 1 ? Double(top1Changes) / Double(n - 1) : 0,
            camTemporalStability: stabilityCount > 0 ? stabilitySum / Double(stabilityCount) : nil,
            camOcclusionAgreement: agreementCount > 0 ? agreementSum / Double(agreementCount) : nil,
            labelTimeline: timeline, worstFrames: worst,
            failUnder: failUnder, passed: failUnder.map { mean >= $0 })
        if !corruptionTotals.isEmpty {
            let rows = corruptionTotals.values.sorted { $0.order < $1.order }.map { t in
                CorruptionSummary(corruption: t.corruption, severity: t.severity, frames: t.frames,
                                  retention: Double(t.survived) / Double(max(1, t.frames)),
                                  retentionInterval: Statistics.wilson(successes: t.survived, trials: t.frames), meanDrop: t.drop / Double(max(1, t.frames)))
            }
            s.corruptions = rows
            s.corruptionScore = rows.map(\.retention).reduce(0, +) / Double(rows.count)
        }
        s.faithfulness = faithfulness.summaries(seed: seed)
        if let engine = occlusionEngine, occlusionMACs.full > 0 {
            s.occlusionWork = OcclusionWork(engine: engine, multiplyAddShare: Double(occlusionMACs.run) / Double(occlusionMACs.full))
        }
        return s
    }
}

extension ClipSummary {
    /// The metrics of consecutive parts (the windows of a live feed) taken together, without their frames: means are
    /// weighted by frames (so are the CAM methods' faithfulness figures); the retention interval is a bootstrap over the parts (each part a block of frames, weighted by them) (a part's own
    /// interval when there is one part); pooled counts add up; the timeline and worst frames are left empty (each
    /// part's report has its own).
    public static func combining(_ parts: [ClipSummary], failUnder: Double?, seed: UInt64 = 0) -> ClipSummary? {
        let used = parts.filter { $0.analysedFrames > 0 }
        guard !used.isEmpty else { return nil }
        let n = used.reduce(0) { $0 + $1.analysedFrames }
        func mean(_ f: (ClipSummary) -> Double) -> Double { used.reduce(0) { $0 + f($1) * Double($1.analysedFrames) } / Double(n) }
        func optionalMean(_ f: (ClipSummary) -> Double?) -> Double? {
            let have = used.filter { f($0) != nil }
            let m = have.reduce(0) { $0 + $1.analysedFrames }
            return m > 0 ? have.reduce(0) { $0 + f($1)! * Double($1.analysedFrames) } / Double(m) : nil
        }
        let meanRetention = mean(\.meanRetention)
        let interval = used.count == 1 ? used[0].retentionInterval
            : Statistics.weightedBootstrapMean(used.map(\.meanRetention), weights: used.map { Double($0.analysedFrames) }, seed: seed)
        let pooled = mean(\.pooledRetention)
        var combined = ClipSummary(
            analysedFrames: n, meanRetention: meanRetention, retentionInterval: interval,
            bootstrapBlockLength: used.count == 1 ? used[0].bootstrapBlockLength : 1,
            pooledRetention: pooled,
            pooledRetentionInterval: Interval(low: used.map(\.pooledRetentionInterval.low).min()!, high: used.map(\.pooledRetentionInterval.high).max()!),
            framesWithFlip: mean(\.framesWithFlip), meanConfidenceDrop: mean(\.meanConfidenceDrop), meanTop1Probability: mean(\.meanTop1Probability),
            top1FlipRate: mean(\.top1FlipRate), camTemporalStability: optionalMean(\.camTemporalStability),
            camOcclusionAgreement: optionalMean(\.camOcclusionAgreement), labelTimeline: [], worstFrames: [],
            failUnder: failUnder, passed: failUnder.map { meanRetention >= $0 })
        combined.faithfulness = FaithfulnessSummary.combining(used.compactMap(\.faithfulness), seed: seed)
        if let engine = used.compactMap(\.occlusionWork).first?.engine, let share = optionalMean({ $0.occlusionWork?.multiplyAddShare }) {
            combined.occlusionWork = OcclusionWork(engine: engine, multiplyAddShare: share)
        }
        return combined
    }
}

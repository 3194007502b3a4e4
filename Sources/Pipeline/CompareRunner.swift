import Foundation
import Imaging
import MediaIO
import Reporting
import Robustness
import TensorCore

/// What `vigil compare` was asked to do.
public struct CompareOptions: Sendable {
    public var outDirectory = "Reports/compare"
    public var every = 1
    public var fps: Double? = nil
    public var maxFrames: Int? = nil
    public var parameters = AnalysisParameters()
    /// Index of the baseline model for the gate, and the margin (retention) it allows.
    public var baseline: Int? = nil
    public var failIfWorse: Double? = nil
    public var networkTimeout: Double = 10
    public var engine = EngineConfiguration.standard
    public var commandLine = "vigil compare"
    /// Frames kept per pair where the models disagree most.
    public var disagreeingFrames = 4
    public init() {}
}

/// Runs several models on the same frames with the same seeded patches and compares them: per model the metrics of
/// `analyze` and its speed; per pair the paired difference in mean retention with a paired moving-block bootstrap
/// interval, top-1 agreement by label name, Grad-CAM similarity on a common grid, and the frames where they
/// disagree most. Writes compare.json, compare.html and compare.csv (one row per frame, streamed).
public final class CompareRunner {
    public let classifiers: [Classifier]
    public let names: [String]
    public let options: CompareOptions
    let cancel: CancellationFlag

    /// Side of the common grid Grad-CAM maps are resampled to before they are compared.
    static let camGrid = 7

    public init(classifiers: [Classifier], names: [String], options: CompareOptions, cancel: CancellationFlag) {
        self.classifiers = classifiers; self.names = names; self.options = options; self.cancel = cancel
    }

    struct FrameValues { var retention: Double; var label: String; var cam: [Float]; var analysis: FrameAnalysis }

    /// Compares the models over `clips`.
    /// - Throws: `FFmpegError` when a clip cannot be read, `GraphError` when a model rejects a frame, `ReportingError`
    ///   when the outputs cannot be written; what was written before stays.
    public func run(clips: [String], progress: (String) -> Void) throws -> CompareResult {
        let n = classifiers.count
        let analyzers = classifiers.map { FrameAnalyzer(classifier: $0, parameters: options.parameters, configuration: options.engine,
                                                          codec: options.parameters.corruptionCodec) }
        var accumulators = (0..<n).map { _ in ClipAccumulator(worstCount: 1, seed: options.parameters.seed) }
        var seconds = [Double](repeating: 0, count: n)
        var retentions = [[Double]](repeating: [], count: n)  // one number per frame per model, for the paired bootstrap
        var corruptionRates = [[Double]](repeating: [], count: n)  // per frame: share of corrupted copies whose top-1 survived
        var labels = [[String]](repeating: [], count: n)
        var camSums = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var camCounts = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
        var worst: [[[(Double, DisagreeingFrame, RGBImage, RGBImage)]]] = Array(repeating: Array(repeating: [], count: n), count: n)
        // One overlay per model, on its own clip-wide CAM scale.
        var renders = classifiers.map { RenderStage(camNorm: "clip", inputWidth: $0.inputWidth, inputHeight: $0.inputHeight) }
        try FileManager.default.createDirectory(atPath: options.outDirectory, withIntermediateDirectories: true)
        let csvPath = (options.outDirectory as NSString).appendingPathComponent("compare.csv")
        let csv = try CompareCSV(path: csvPath, models: names)
        for clip in clips {
            if cancel.isCancelled { break }
            var o = VideoSource.Options(maxFrames: options.maxFrames, every: options.every, targetFPS: options.fps, timeout: options.networkTimeout)
            let cancel = self.cancel
            o.shouldStop = { cancel.isCancelled }
            let source = try VideoSource(url: clip, options: o)
            let luma = LumaMatrix(colorMatrix: source.metadata.colorMatrix)
            var done = 0
            while !cancel.isCancelled, let f = try source.nextFrame() {
                var values: [FrameValues] = []
                for (i, a) in analyzers.enumerated() {
                    a.luma = luma
                    let t0 = Date()
                    let r = try a.analyze(f.image, frame: f.index, pts: f.pts)
                    seconds[i] += Date().timeIntervalSince(t0)
                    accumulators[i].add(r)
                    renders[i].note(r)
                    values.append(FrameValues(retention: r.retention, label: r.top1.label,
                                              cam: Self.resample(r.cam, width: r.camWidth, height: r.camHeight, to: Self.camGrid), analysis: r))
                    retentions[i].append(r.retention)
                    if let cs = r.corruptions, !cs.isEmpty { corruptionRates[i].append(Double(cs.filter(\.survived).count) / Double(cs.count)) }
                    labels[i].append(r.top1.label)
                }
                try csv.row(clip: clip, frame: f.index, pts: f.pts, values: values.map { ($0.label, $0.analysis.top1.probability, $0.retention) })
                for a in 0..<n {
                    for b in (a + 1)..<max(a + 1, n) where b < n {
                        if let r = Statistics.pearson(values[a].cam, values[b].cam) { camSums[a][b] += r; camCounts[a][b] += 1 }
                        let gap = abs(values[b].retention - values[a].retention)
                        if worst[a][b].count < options.disagreeingFrames || gap > worst[a][b].last!.0 {
                            let d = DisagreeingFrame(clip: clip, frame: f.index, pts: f.pts, labelA: values[a].label, labelB: values[b].label,
                                                     retentionA: values[a].retention, retentionB: values[b].retention)
                            func overlay(_ k: Int) -> RGBImage {
                                let img = renders[k].render(f.image) ?? f.image
                                return img.width > 320 ? img.resized(width: 320, height: max(1, img.height * 320 / img.width), filter: .area) : img
                            }
                            worst[a][b].append((gap, d, overlay(a), overlay(b)))
                            worst[a][b].sort { $0.0 > $1.0 }
                            if worst[a][b].count > options.disagreeingFrames { worst[a][b].removeLast() }
                        }
                    }
                }
                done += 1
                progress("\((clip as NSString).lastPathComponent): \(done) frame(s)")
            }
        }
        try csv.close()
        guard let frames = retentions.first?.count, frames > 0 else {
            throw CompareError("no frame was analysed: the clips have no decodable frame in the chosen range; check --every, --fps and --max-frames")
        }
        var models: [ComparedModel] = []
        for (i, c) in classifiers.enumerated() {
            let s = accumulators[i].summary(failUnder: nil)
            models.append(ComparedModel(name: names[i], path: c.model.path, sha256: c.modelSHA256, inputSize: [c.inputHeight, c.inputWidth],
                                        labels: c.labels.count, analysedFrames: s.analysedFrames, meanRetention: s.meanRetention,
                                        retentionInterval: s.retentionInterval, meanTop1Probability: s.meanTop1Probability,
                                        framesWithFlip: s.framesWithFlip, msPerFrame: 1000 * seconds[i] / Double(frames)))
            models[i].corruptions = s.corruptions
            models[i].corruptionScore = s.corruptionScore
            models[i].faithfulness = s.faithfulness
        }
        if let base = options.baseline, let b = models[base].corruptionScore {
            for i in models.indices { models[i].relativeCorruptionError = models[i].corruptionScore.map { b < 1 ? (1 - $0) / (1 - b) : ($0 < 1 ? .infinity : 1) } }
        }
        var pairs: [ComparedPair] = []
        var thumbnails: CompareReportWriter.Thumbnails = [:]
        for a in 0..<n {
            for b in (a + 1)..<max(a + 1, n) where b < n {
                let diffs = zip(retentions[b], retentions[a]).map { $0 - $1 }
                let mean = diffs.reduce(0, +) / Double(diffs.count)
                let ci = Statistics.blockBootstrapMean(diffs, seed: options.parameters.seed)
                let agree = Double(zip(labels[a], labels[b]).filter { $0 == $1 }.count) / Double(frames)
                let la = Set(classifiers[a].labels), lb = Set(classifiers[b].labels)
                let onlyA = la.subtracting(lb).sorted(), onlyB = lb.subtracting(la).sorted()
                let w = worst[a][b]
                thumbnails[pairs.count] = Dictionary(w.map { (CompareReportWriter.thumbnailKey($0.1), ($0.2, $0.3)) }, uniquingKeysWith: { x, _ in x })
                pairs.append(ComparedPair(a: a, b: b, retentionDifference: mean, differenceInterval: ci, top1Agreement: agree,
                                          camSimilarity: camCounts[a][b] > 0 ? camSums[a][b] / Double(camCounts[a][b]) : nil,
                                          labelsOnlyA: onlyA.count, labelsOnlyB: onlyB.count,
                                          examplesOnlyA: Array(onlyA.prefix(10)), examplesOnlyB: Array(onlyB.prefix(10)), mostDisagreeing: w.map(\.1)))
            }
        }
        var gate: CompareGate? = nil
        if let base = options.baseline, let margin = options.failIfWorse {
            var failures: [String] = []
            for p in pairs where p.a == base || p.b == base {
                let candidate = p.a == base ? p.b : p.a
                // Candidate minus baseline, and its interval.
                let d = p.a == base ? p.retentionDifference : -p.retentionDifference
                let hi = p.a == base ? p.differenceInterval.high : -p.differenceInterval.low
                if hi < -margin {
                    failures.append(String(format: "%@ is worse than the baseline %@ in mean retention by %.3f (95%% interval of the difference up to %.3f, below -%.3f)",
                                           names[candidate], names[base], -d, hi, margin))
                }
                // Camera-condition robustness: the per-frame share of corrupted copies that kept their top-1, paired.
                if corruptionRates[candidate].count == frames, corruptionRates[base].count == frames {
                    let diffs = zip(corruptionRates[candidate], corruptionRates[base]).map { $0 - $1 }
                    let cd = diffs.reduce(0, +) / Double(frames)
                    let cci = Statistics.blockBootstrapMean(diffs, seed: options.parameters.seed)
                    if cci.high < -margin {
                        failures.append(String(format: "%@ is worse than the baseline %@ in corruption robustness by %.3f (95%% interval of the difference up to %.3f, below -%.3f)",
                                               names[candidate], names[base], -cd, cci.high, margin))
                    }
                }
            }
            gate = CompareGate(baseline: base, margin: margin, failures: failures)
        }
        let p = options.parameters
        var params = ReportParameters(patches: p.patches, patchSizeLow: p.patchSizeLow, patchSizeHigh: p.patchSizeHigh, fill: p.fill.rawValue,
                                      seed: p.seed, every: options.fps == nil ? options.every : nil, fps: options.fps, maxFrames: options.maxFrames)
        params.failUnder = nil
        if p.cams != ["gradcam"] { params.cams = p.cams }
        if p.faithfulness { params.faithfulnessSteps = p.faithfulnessSteps }
        let result = CompareResult(createdBy: options.commandLine, clips: clips, parameters: params, models: models, pairs: pairs, gate: gate)
        try CompareReportWriter.write(result, thumbnails: thumbnails, directory: options.outDirectory)
        return result
    }

    /// `map` (`height` x `width`) averaged onto a `side` x `side` grid (each cell the mean of the map's values whose
    /// centres fall in it, or the nearest value when none does).
    static func resample(_ map: [Float], width: Int, height: Int, to side: Int) -> [Float] {
        guard width > 0, height > 0, map.count == width * height else { return [Float](repeating: 0, count: side * side) }
        var out = [Float](repeating: 0, count: side * side)
        for gy in 0..<side {
            for gx in 0..<side {
                let y0 = gy * height / side, y1 = max(y0 + 1, (gy + 1) * height / side)
                let x0 = gx * width / side, x1 = max(x0 + 1, (gx + 1) * width / side)
                var sum: Float = 0
                for y in y0..<min(y1, height) { for x in x0..<min(x1, width) { sum += map[y * width + x] } }
                out[gy * side + gx] = sum / Float((min(y1, height) - y0) * (min(x1, width) - x0))
            }
        }
        return out
    }
}

/// A comparison that cannot be made, and what to do.
public struct CompareError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}

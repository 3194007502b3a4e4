import Foundation
import Graph
import Imaging
import TensorCore

/// Analysis parameters shared by every frame.
public struct AnalysisParameters: Codable, Sendable, Equatable {
    public var patches: Int = 16
    public var patchSizeLow: Double = 0.25
    public var patchSizeHigh: Double = 0.25
    public var fill: PatchFill = .gray
    public var seed: UInt64 = 0
    /// nil: each frame's own top-1; else a fixed class index.
    public var targetClass: Int? = nil
    /// Occluded copies evaluated per forward pass (full recomputation only).
    public var batchSize: Int = 16
    /// How the occluded copies are evaluated; both give the same results up to float rounding.
    public var occlusion: OcclusionMode = .incremental
    /// Camera-condition corruptions to apply to each frame's model input, at each of `severities` (1-5).
    public var corruptions: [Corruption] = []
    public var severities: [Int] = [3]
    /// CAM methods by `--cam` name (`CAMMethods.parse` checks a list); the first makes `FrameAnalysis.cam` and the
    /// overlay. Names `CAMMethods` does not know are skipped, and with none left Grad-CAM runs.
    public var cams: [String] = ["gradcam"]
    /// Measure each map's deletion and insertion curves and CAM multiplication change (costs about
    /// 2 x (faithfulnessSteps - 1) + 1 forward passes per method and as many again for the random order, per frame).
    public var faithfulness: Bool = false
    /// Points per deletion or insertion curve, less one.
    public var faithfulnessSteps: Int = 16
    public init() {}
}

/// How occluded copies are evaluated.
public enum OcclusionMode: String, Codable, Sendable, CaseIterable {
    /// Recompute only each layer's region that the patch reaches, reusing the clean activations (exact).
    case incremental
    /// Run every occluded copy through the whole network, in batches.
    case full
}

/// Analyses one frame: classification, Grad-CAM, and the occlusion probe. One per thread (it may move between
/// threads, but only one uses it at a time).
public final class FrameAnalyzer: @unchecked Sendable {
    public let classifier: Classifier
    public let parameters: AnalysisParameters
    let session: ClassifierSession
    let sampler: PatchSampler
    let incremental: IncrementalOcclusion
    /// The luma matrix of the clip, for 1-channel models (the pipeline sets it from the clip's colour matrix).
    public var luma: LumaMatrix = .bt601
    /// How occluded copies are evaluated here: the parameters' mode, except that a model whose batch is fixed at 1
    /// (see `BatchHandling.fixed`) recomputes copies in full, one at a time.
    public let occlusionMode: OcclusionMode
    /// The CAM methods, in the order asked for.
    public let explainers: [any Explainer]

    /// The video codec of the corruptions that need one (`h264_compression`); this analyser's own, used from its thread.
    let codec: (any VideoCodecRoundTrip)?
    /// Threads this analyser's engines use; corrupted copies are made on as many.
    let threads: Int

    /// - Parameters:
    ///   - configuration: how its engines run (kernels, layout, threads per kernel call, profiling); they share one
    ///     set of packed weights.
    ///   - codec: the codec `h264_compression` runs (MediaIO's `H264RoundTrip`); needed only when `parameters`
    ///     asks for that corruption, owned by this analyser from now on.
    public init(classifier: Classifier, parameters: AnalysisParameters, configuration: EngineConfiguration = .standard,
                codec: (any VideoCodecRoundTrip)? = nil) {
        self.classifier = classifier
        self.parameters = parameters
        self.codec = codec
        threads = configuration.threads
        occlusionMode = classifier.model.batch == .fixed ? .full : parameters.occlusion
        explainers = parameters.cams.compactMap(CAMMethods.named).isEmpty ? [GradCAM()] : parameters.cams.compactMap(CAMMethods.named)
        let packing = PackedWeights()
        session = classifier.makeSession(configuration: configuration, packing: packing)
        incremental = IncrementalOcclusion(graph: classifier.graph, input: classifier.inputName, output: classifier.outputName,
                                           configuration: configuration, packing: packing)
        sampler = PatchSampler(count: parameters.patches, low: parameters.patchSizeLow, high: parameters.patchSizeHigh, seed: parameters.seed)
    }

    /// Occluded copies per incremental run (memory stays bounded however many patches are asked for).
    static let incrementalChunk = 64

    /// Analyses `image`, frame number `frame` of its clip, shown at `pts` seconds.
    /// - Throws: `GraphError` if the model rejects the input (it should not once loaded); `CorruptionError` when a
    ///   corruption's codec is missing or fails.
    public func analyze(_ image: RGBImage, frame: Int, pts: Double) throws -> FrameAnalysis {
        let c = classifier
        var timings: [String: Double] = [:]
        var t0 = DispatchTime.now().uptimeNanoseconds
        func lap(_ k: String) { let t = DispatchTime.now().uptimeNanoseconds; timings[k] = Double(t - t0) / 1e6; t0 = t }
        let (input, crop) = c.preprocess(image, luma: luma)
        lap("preprocessMs")
        // The clean pass keeps every activation when the occlusion probe can reuse them.
        let keep = occlusionMode == .incremental ? incremental.nodeOutputNames : []
        // With the blocked engine, its clean pass (which the occlusion probe reuses) is also Grad-CAM's forward pass.
        let cleanTensor = Tensor(shape: [1, c.inputChannels, c.inputHeight, c.inputWidth], data: input)
        let forward: ([String]) throws -> [String: Tensor]? = { [incremental] names in try incremental.cleanPass(cleanTensor, capture: names) }
        let clean = try session.explain(input, target: parameters.targetClass, methods: explainers, keep: keep,
                                        batchSize: parameters.batchSize, forward: occlusionMode == .incremental ? forward : nil)
        lap("classifyAndCamMs")
        let map = clean.maps[0]
        let top = topK(clean.probs, 5).map { ClassScore(index: $0, label: c.label($0), probability: clean.probs[$0]) }
        let top1 = top[0].index
        let target = ClassScore(index: clean.target, label: c.label(clean.target), probability: clean.probs[clean.target])
        let patches = sampler.patches(frame: frame, width: c.inputWidth, height: c.inputHeight)
        let (outcomes, work) = try occlude(input, patches: patches, frame: frame, cleanTop1: top1, target: clean.target,
                                           cleanProb: target.probability, cleanValues: clean.captured)
        lap("occlusionMs")
        let kept = outcomes.filter { !$0.flipped }.count
        var flippedTo: [String: Int] = [:]
        for o in outcomes where o.flipped { flippedTo[c.label(o.top1), default: 0] += 1 }
        let meanDrop = outcomes.isEmpty ? 0 : outcomes.reduce(0.0) { $0 + Double($1.drop) } / Double(outcomes.count)
        let worst = outcomes.indices.max { outcomes[$0].drop < outcomes[$1].drop } ?? 0
        let sens = sensitivityGrid(outcomes, gridWidth: map.width, gridHeight: map.height, inputWidth: c.inputWidth, inputHeight: c.inputHeight)
        var camCovered: [Float] = [], sensCovered: [Float] = []
        for (i, s) in sens.enumerated() { if let s { camCovered.append(map.values[i]); sensCovered.append(s) } }
        let agreement = camCovered.count > 2 ? Statistics.pearson(camCovered, sensCovered) : nil
        var corrupted: [CorruptionOutcome]? = nil
        if !parameters.corruptions.isEmpty {
            corrupted = try corrupt(image, crop: crop, frame: frame, cleanTop1: top1, target: clean.target, cleanProb: target.probability)
            lap("corruptionsMs")
        }
        var analysis = FrameAnalysis(
            frame: frame, pts: pts, top5: top, target: target, cam: map.values, camWidth: map.width, camHeight: map.height,
            patches: outcomes, retention: outcomes.isEmpty ? 1 : Double(kept) / Double(outcomes.count),
            retentionInterval: Statistics.wilson(successes: kept, trials: outcomes.count),
            meanDrop: meanDrop, worstPatch: worst, flippedTo: flippedTo, sensitivity: sens, camAgreement: agreement,
            crop: crop, timings: timings)
        analysis.occlusionWork = work
        analysis.corruptions = corrupted
        if explainers.count > 1 || parameters.faithfulness {
            var methods = zip(explainers, clean.maps).map { MethodExplanation(method: $0.name, map: $1) }
            if parameters.faithfulness {
                (methods, analysis.randomOrder) = try faithfulness(methods, input: input, frame: frame, target: clean.target, clean: target.probability)
                lap("faithfulnessMs")
                analysis.timings = timings
            }
            analysis.explanations = methods
        }
        return analysis
    }

    /// Each method's faithfulness and the random order's, on the model input `input`.
    func faithfulness(_ methods: [MethodExplanation], input: [Float], frame: Int, target: Int, clean: Float) throws
        -> ([MethodExplanation], Faithfulness) {
        let c = classifier
        let probe = FaithfulnessProbe(steps: max(2, parameters.faithfulnessSteps), batchSize: parameters.batchSize) { [session] x, n in
            try session.probabilities(x, batch: n).map { $0[target] }
        }
        let plane = c.inputWidth * c.inputHeight
        let baseline = try session.probabilities([Float](repeating: 0, count: c.inputChannels * plane), batch: 1)[0][target]
        let order = randomOrder(count: plane, seed: parameters.seed ^ (UInt64(truncatingIfNeeded: frame) &* PatchSampler.frameStride) ^ 0xFA17)
        let random = try probe.curves(input, channels: c.inputChannels, plane: plane, order: order, clean: clean, baseline: baseline)
        let measured = try methods.map { m -> MethodExplanation in
            var m = m
            m.faithfulness = try probe.measure(CAMMap(values: m.cam, height: m.camHeight, width: m.camWidth), input: input,
                                               channels: c.inputChannels, height: c.inputHeight, width: c.inputWidth, clean: clean, baseline: baseline)
            return m
        }
        return (measured, random)
    }

    /// The model input (the frame's crop at the input size, 8-bit RGB) under every corruption and severity asked for,
    /// classified in batches of `parameters.batchSize`. Each copy's randomness is seeded by the run's seed, the frame
    /// and the corruption, so a rerun gives the same copies, however many threads make them.
    func corrupt(_ image: RGBImage, crop: CropRect, frame: Int, cleanTop1: Int, target: Int, cleanProb: Float) throws -> [CorruptionOutcome] {
        let c = classifier
        let filter = ResampleFilter(rawValue: c.card.resize.filter) ?? .bilinear
        let x0 = max(0, Int(crop.x.rounded())), y0 = max(0, Int(crop.y.rounded()))
        let w = max(1, min(image.width - x0, Int(crop.width.rounded()))), h = max(1, min(image.height - y0, Int(crop.height.rounded())))
        let input = image.cropped(x: x0, y: y0, width: w, height: h).resized(width: c.inputWidth, height: c.inputHeight, filter: filter)
        let jobs = parameters.corruptions.flatMap { k in parameters.severities.map { (k, $0) } }
        let planar = try corruptedInputs(input, jobs: jobs, frame: frame)
        var out: [CorruptionOutcome] = []
        out.reserveCapacity(jobs.count)
        let batch = max(1, parameters.batchSize)
        var start = 0
        while start < jobs.count {
            let end = min(jobs.count, start + batch)
            let probs = try session.probabilities(Array(planar[start..<end].joined()), batch: end - start)
            for ((k, s), p) in zip(jobs[start..<end], probs) {
                let t1 = argmax(p)
                out.append(CorruptionOutcome(corruption: k.rawValue, severity: s, top1: t1, survived: t1 == cleanTop1,
                                             targetProbability: p[target], drop: cleanProb - p[target]))
            }
            start = end
        }
        return out
    }

    /// Each job's corrupted copy of `input`, preprocessed (planar floats). Copies are made on up to `threads` threads
    /// (Dispatch spreads them over the cores); the ones that need the codec, which is this analyser's alone, on this one.
    func corruptedInputs(_ input: RGBImage, jobs: [(Corruption, Int)], frame: Int) throws -> [[Float]] {
        let c = classifier, luma = luma, seed = parameters.seed
        @Sendable func make(_ i: Int, _ codec: (any VideoCodecRoundTrip)?) throws -> [Float] {
            let (k, s) = jobs[i]
            let copySeed = seed ^ (UInt64(truncatingIfNeeded: frame) &* PatchSampler.frameStride) ^ (UInt64(s) << 56)
            return c.preprocess(try k.apply(to: input, severity: s, seed: copySeed, codec: codec), luma: luma, wholeImage: true).input
        }
        var planar = [[Float]](repeating: [], count: jobs.count)
        var serial = Array(jobs.indices)
        if threads > 1 {
            let free = jobs.indices.filter { !jobs[$0].0.needsCodec }
            serial = jobs.indices.filter { jobs[$0].0.needsCodec }
            var failures = [CorruptionError?](repeating: nil, count: jobs.count)
            planar.withUnsafeMutableBufferPointer { slots in
                failures.withUnsafeMutableBufferPointer { errors in
                    // Each iteration writes only its own job's slots.
                    nonisolated(unsafe) let slots = slots, errors = errors
                    DispatchQueue.concurrentPerform(iterations: free.count) { j in
                        do { slots[free[j]] = try make(free[j], nil) } catch { errors[free[j]] = error as? CorruptionError }
                    }
                }
            }
            if let e = failures.lazy.compactMap({ $0 }).first { throw e }
        }
        for i in serial { planar[i] = try make(i, codec) }
        return planar
    }

    /// Evaluates the occluded copies in batches.
    func occlude(_ input: [Float], patches: [Patch], frame: Int, cleanTop1: Int, target: Int, cleanProb: Float,
                 cleanValues: [String: Tensor] = [:]) throws -> (outcomes: [PatchOutcome], work: (engine: String, run: Int, full: Int)?) {
        let c = classifier
        let channels = c.inputChannels, plane = c.inputWidth * c.inputHeight, item = channels * plane
        var out: [PatchOutcome] = []
        out.reserveCapacity(patches.count)
        func outcome(_ p: Patch, _ probs: [Float]) -> PatchOutcome {
            let t1 = argmax(probs)
            let tp = probs[target]
            return PatchOutcome(patch: p, top1: t1, targetProbability: tp, drop: cleanProb > 0 ? (cleanProb - tp) / cleanProb : 0, flipped: t1 != cleanTop1)
        }
        if occlusionMode == .incremental && !patches.isEmpty {
            var scratch = input
            let w = c.inputWidth
            let tiles = patches.enumerated().map { (i, p) -> OcclusionPatchInput in
                scratch.withUnsafeMutableBufferPointer { applyFill($0.baseAddress!, patch: p, frame: frame, patchIndex: i, clean: input) }
                var values = [Float](repeating: 0, count: channels * p.side * p.side)
                for ch in 0..<channels { for yy in 0..<p.side { for xx in 0..<p.side {
                    let at = ch * plane + (p.y + yy) * w + p.x + xx
                    values[(ch * p.side + yy) * p.side + xx] = scratch[at]
                    scratch[at] = input[at]
                } } }
                return OcclusionPatchInput(y: p.y, x: p.x, height: p.side, width: p.side, values: values)
            }
            // In chunks: the tail materialises every copy of its values at once, so thousands of patches in one run
            // would hold thousands of activation copies (4.7 GB for 4096 patches on a small frame).
            let cleanTensor = Tensor(shape: [1, channels, c.inputHeight, c.inputWidth], data: input)
            var start = 0, run = 0, full = 0
            while start < tiles.count {
                let end = min(tiles.count, start + FrameAnalyzer.incrementalChunk)
                let logits = try incremental.run(cleanInput: cleanTensor, patches: Array(tiles[start..<end]),
                                                 cleanValues: cleanValues.isEmpty ? nil : cleanValues)
                run += incremental.lastMACs.incremental + incremental.lastMACs.full; full += incremental.lastMACs.reference
                let probs = session.rows(logits, batch: end - start)
                out += zip(patches[start..<end], probs).map { outcome($0, $1) }
                start = end
            }
            return (out, (OcclusionMode.incremental.rawValue, run, full))
        }
        let bs = max(1, parameters.batchSize)
        var start = 0
        while start < patches.count {
            let chunk = Array(patches[start..<min(patches.count, start + bs)])
            var batch = [Float](repeating: 0, count: chunk.count * item)
            for (b, p) in chunk.enumerated() {
                batch.withUnsafeMutableBufferPointer { buf in
                    let dst = buf.baseAddress! + b * item
                    input.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: item) }
                    applyFill(dst, patch: p, frame: frame, patchIndex: start + b, clean: input)
                }
            }
            let probs = try session.probabilities(batch, batch: chunk.count)
            for (b, p) in chunk.enumerated() { out.append(outcome(p, probs[b])) }
            start += chunk.count
        }
        return (out, patches.isEmpty ? nil : (OcclusionMode.full.rawValue, patches.count, patches.count))
    }

    /// Writes the fill into one planar input `[C, H, W]` under `patch`.
    func applyFill(_ x: UnsafeMutablePointer<Float>, patch p: Patch, frame: Int, patchIndex: Int, clean: [Float]) {
        let c = classifier
        let w = c.inputWidth, plane = w * c.inputHeight, channels = c.inputChannels
        let mean = c.channelMean, std = c.channelStd
        switch parameters.fill {
        case .gray, .black:
            for ch in 0..<channels {
                let v: Float = parameters.fill == .gray ? 0 : (0 - mean[ch]) / std[ch]
                for yy in p.y..<(p.y + p.side) { (x + ch * plane + yy * w + p.x).update(repeating: v, count: p.side) }
            }
        case .noise:
            var g = SplitMix64(state: parameters.seed ^ (UInt64(truncatingIfNeeded: frame) &* PatchSampler.frameStride) ^ (UInt64(patchIndex) &* 0x9E37_79B9_7F4A_7C15))
            for yy in p.y..<(p.y + p.side) {
                for xx in p.x..<(p.x + p.side) {
                    for ch in 0..<channels {
                        let pixel = Float(g.next() % 256)
                        x[ch * plane + yy * w + xx] = (pixel - mean[ch]) / std[ch]
                    }
                }
            }
        case .blur:
            // Box blur of the patch's own pixels, radius a quarter of its side, edges clamped to the patch.
            let r = max(1, p.side / 4)
            for ch in 0..<channels {
                let src = ch * plane
                var tmp = [Float](repeating: 0, count: p.side * p.side)
                for yy in 0..<p.side {
                    for xx in 0..<p.side {
                        var s: Float = 0, n: Float = 0
                        for dx in -r...r { let sx = min(max(xx + dx, 0), p.side - 1); s += clean[src + (p.y + yy) * w + p.x + sx]; n += 1 }
                        tmp[yy * p.side + xx] = s / n
                    }
                }
                for yy in 0..<p.side {
                    for xx in 0..<p.side {
                        var s: Float = 0, n: Float = 0
                        for dy in -r...r { let sy = min(max(yy + dy, 0), p.side - 1); s += tmp[sy * p.side + xx]; n += 1 }
                        x[src + (p.y + yy) * w + p.x + xx] = s / n
                    }
                }
            }
        }
    }
}

/// Occlusion sensitivity on a grid: each patch's drop spread over the cells it covers, weighted by the covered
/// area, then averaged per cell. Cells no patch touches are nil.
public func sensitivityGrid(_ outcomes: [PatchOutcome], gridWidth gw: Int, gridHeight gh: Int, inputWidth: Int, inputHeight: Int) -> [Float?] {
    var sum = [Double](repeating: 0, count: gw * gh), weight = [Double](repeating: 0, count: gw * gh)
    let cw = Double(inputWidth) / Double(gw), ch = Double(inputHeight) / Double(gh)
    for o in outcomes {
        let x0 = Double(o.patch.x), x1 = x0 + Double(o.patch.side), y0 = Double(o.patch.y), y1 = y0 + Double(o.patch.side)
        for gy in 0..<gh {
            let oy = min(y1, Double(gy + 1) * ch) - max(y0, Double(gy) * ch)
            if oy <= 0 { continue }
            for gx in 0..<gw {
                let ox = min(x1, Double(gx + 1) * cw) - max(x0, Double(gx) * cw)
                if ox <= 0 { continue }
                let a = ox * oy / (cw * ch)
                sum[gy * gw + gx] += a * Double(o.drop)
                weight[gy * gw + gx] += a
            }
        }
    }
    return (0..<(gw * gh)).map { weight[$0] > 0 ? Float(sum[$0] / weight[$0]) : nil }
}

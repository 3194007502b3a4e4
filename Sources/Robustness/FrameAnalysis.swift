/// One class and its probability.
public struct ClassScore: Codable, Sendable, Equatable {
    public var index: Int
    public var label: String
    public var probability: Float
    public init(index: Int, label: String, probability: Float) { self.index = index; self.label = label; self.probability = probability }
}

/// What one occluded copy of the frame gave.
public struct PatchOutcome: Codable, Sendable, Equatable {
    public var patch: Patch
    /// Top-1 class with the patch applied.
    public var top1: Int
    /// Probability of the target class with the patch applied.
    public var targetProbability: Float
    /// Relative drop of the target's probability: (clean - occluded) / clean.
    public var drop: Float
    /// True when the patch changed the top-1 class.
    public var flipped: Bool
}

/// The frame's model input under one corruption at one severity.
public struct CorruptionOutcome: Codable, Sendable, Equatable {
    /// imagecorruptions' name (`gaussian_noise`, ...).
    public var corruption: String
    public var severity: Int
    /// The corrupted copy's top-1 class, and whether it is the clean top-1 (the decision survived).
    public var top1: Int
    public var survived: Bool
    /// The target's probability on the corrupted copy, and its drop from the clean frame.
    public var targetProbability: Float
    public var drop: Float
    public init(corruption: String, severity: Int, top1: Int, survived: Bool, targetProbability: Float, drop: Float) {
        self.corruption = corruption; self.severity = severity; self.top1 = top1; self.survived = survived
        self.targetProbability = targetProbability; self.drop = drop
    }
}

/// One CAM method's map of the frame, and how faithful it is when that was measured.
public struct MethodExplanation: Codable, Sendable, Equatable {
    /// The `--cam` name (`gradcam`, `scorecam`, ...).
    public var method: String
    /// The map at its layer's grid, row-major `[camHeight, camWidth]`, after ReLU, not normalised.
    public var cam: [Float]
    public var camWidth: Int
    public var camHeight: Int
    /// Deletion and insertion curves and the CAM multiplication change (`--faithfulness`).
    public var faithfulness: Faithfulness?
    public init(method: String, map: CAMMap, faithfulness: Faithfulness? = nil) {
        self.method = method; cam = map.values; camWidth = map.width; camHeight = map.height; self.faithfulness = faithfulness
    }
}

/// Everything Vigil measured on one analysed frame.
public struct FrameAnalysis: Codable, Sendable {
    /// Index of the frame among the clip's decoded frames.
    public var frame: Int
    /// Presentation time in seconds.
    public var pts: Double
    public var top5: [ClassScore]
    /// The class the maps and the probability drops refer to.
    public var target: ClassScore
    /// The first CAM method's map (Grad-CAM by default) at the layer's resolution, row-major `[camHeight, camWidth]`,
    /// not normalised: the overlay shows it.
    public var cam: [Float]
    public var camWidth: Int
    public var camHeight: Int
    public var patches: [PatchOutcome]
    /// Share of patches that kept the clean top-1.
    public var retention: Double
    /// Wilson 95% interval of the retention.
    public var retentionInterval: Interval
    /// Mean relative drop of the target's probability over the patches.
    public var meanDrop: Double
    /// Index into `patches` of the largest drop.
    public var worstPatch: Int
    /// Labels the flipping patches produced, with how many patches gave each.
    public var flippedTo: [String: Int]
    /// Occlusion sensitivity at the CAM's resolution (mean drop of the patches covering each cell; nil where
    /// no patch reached).
    public var sensitivity: [Float?]
    /// Pearson correlation of Grad-CAM and occlusion sensitivity over the covered cells (nil when undefined).
    public var camAgreement: Double?
    /// The frame region the model saw.
    public var crop: CropRect
    /// Wall-clock milliseconds per stage. Not deterministic, so not part of the encoded record (the report
    /// keeps timing in a section of its own).
    public var timings: [String: Double] = [:]
    /// The frame under each camera-condition corruption asked for (`--corruptions`), when any was.
    public var corruptions: [CorruptionOutcome]? = nil
    /// Every CAM method's map (`--cam`), the first being `cam`; nil when only Grad-CAM ran without faithfulness.
    public var explanations: [MethodExplanation]? = nil
    /// Deletion and insertion in a seeded random pixel order: the baseline the methods' curves must beat
    /// (`--faithfulness`).
    public var randomOrder: Faithfulness? = nil
    /// Multiply-adds the occluded copies took (`run`) and a full recomputation of them would take (`full`), and
    /// which engine ran them; nil without patches. Summed into the clip's `OcclusionWork`, not part of the record.
    public var occlusionWork: (engine: String, run: Int, full: Int)? = nil

    enum CodingKeys: String, CodingKey {
        case frame, pts, top5, target, cam, camWidth, camHeight, patches, retention, retentionInterval, meanDrop, worstPatch
        case flippedTo, sensitivity, camAgreement, crop, corruptions, explanations, randomOrder
    }

    /// True when any patch changed the top-1 class.
    public var anyFlip: Bool { patches.contains { $0.flipped } }
    public var top1: ClassScore { top5[0] }
}

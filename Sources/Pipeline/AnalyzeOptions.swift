import Foundation
import MediaIO
import Reporting
import Robustness
import TensorCore

/// Everything `vigil analyze` was asked to do, apart from the clips: built once by the CLI (or a library user) and
/// handed unchanged to every stage, each reading its own part.
public struct AnalyzeOptions: Sendable {
    /// Root output folder; each clip gets a folder inside it.
    public var outDirectory: String = "Reports"
    /// What the decode stage reads and which frames it picks: `start`, `duration`, `maxFrames`, `every`, `targetFPS`,
    /// the network `timeout`, `stream` and `rtspTransport`. `yieldSkipped` is `writeVideo`.
    public var source = VideoSource.Options()
    /// What the analyse stage computes for each frame.
    public var parameters = AnalysisParameters()
    /// The `--target` value as given ("top1", a label or an index), for the report.
    public var targetDescription: String = "top1"
    /// "clip": one CAM scale for the whole clip (the running maximum, so colours do not flicker);
    /// "frame": each frame scaled by its own maximum.
    public var camNorm: String = "clip"
    public var failUnder: Double? = nil
    /// Frames analysed at once (each worker has its own engine workspace).
    public var workers: Int = 1
    /// How the encode stage writes the overlay video (x264 quality and preset).
    public var video = VideoSink.Options()
    /// How the engines run (kernels, layout, threads, profiling); `threads` is shared out between the workers.
    public var engine = EngineConfiguration.standard
    /// Which report.json to write (version 2: frames in frames.jsonl).
    public var reportFormat: ReportFormat = .v2
    /// The command line, recorded in the report.
    public var commandLine: String = "vigil analyze"
    public var vigilVersion: String = "0.0.0"

    /// Makes options; the source's defaults read the whole clip, every frame, and `writeVideo` is on.
    public init() { source.yieldSkipped = true }

    /// Whether `overlay.mp4` and `overlay.vtt` are written. The source then hands over the frames it skips too (the
    /// overlay shows every frame), so this is the source's `yieldSkipped` itself, not a copy of it.
    public var writeVideo: Bool {
        get { source.yieldSkipped }
        set { source.yieldSkipped = newValue }
    }
}

extension AnalyzeOptions {
    /// One worker's engine: the cores shared out between the frames analysed at once.
    var workerEngine: EngineConfiguration { engine.with(threads: max(1, engine.threads / max(1, workers))) }

    /// One worker's frame analyser for `meta`'s clip (its luma matrix for 1-channel models).
    func analyzer(_ classifier: Classifier, clip meta: ClipMetadata) -> FrameAnalyzer {
        let a = FrameAnalyzer(classifier: classifier, parameters: parameters, configuration: workerEngine,
                              codec: parameters.corruptionCodec)
        a.luma = LumaMatrix(colorMatrix: meta.colorMatrix)
        return a
    }

    /// What a report records of the model, the parameters and the clip.
    func provenance(clip m: ClipMetadata, classifier c: Classifier) -> Provenance {
        let info = ClipInfo(url: m.url, container: m.container, codec: m.codec, profile: m.profile, width: m.width, height: m.height,
                            frameRate: "\(m.frameRate.num)/\(m.frameRate.den)", duration: m.duration, frameCount: m.frameCount,
                            bitRate: m.bitRate, rotation: m.rotation, pixelFormat: m.pixelFormat)
        var clip = info
        clip.sha256 = Self.fileSHA256(m.url)
        return Provenance(vigilVersion: vigilVersion, createdBy: commandLine, model: modelInfo(c), parameters: reportParameters,
                          ffmpeg: FFmpegLibrary.versionString,
                          blas: blasConfiguration + (engine.usesBlockedLayout
                                                   ? "; convolutions on Vigil's \(engine.effectiveKernels == .avx512 ? "AVX-512" : "AVX2") kernels" : ""),
                          clip: clip)
    }

    /// The model as a report records it.
    func modelInfo(_ c: Classifier) -> ModelInfo {
        let card = c.card
        var model = ModelInfo(path: c.model.path, sha256: c.modelSHA256, name: card.name, inputSize: [c.inputHeight, c.inputWidth],
                              camLayer: c.camLayer, outputKind: card.outputKind, mean: card.mean, std: card.std,
                              resize: card.resize,
                              labels: card.labels)
        model.camReshape = c.camLayout == .nchw ? nil : "\(c.camLayout)"
        model.inputChannels = c.inputChannels
        model.batch = c.model.batch.rawValue
        if !c.model.quantizedOpCounts.isEmpty { model.quantized = true }
        return model
    }

    /// Every parameter that changes the numbers, as the report records them: the one place they are derived from the
    /// options (the fleet's skip-if-done rule compares against it too).
    var reportParameters: ReportParameters {
        let p = parameters, s = source
        var params = ReportParameters(patches: p.patches, patchSizeLow: p.patchSizeLow, patchSizeHigh: p.patchSizeHigh, fill: p.fill.rawValue,
                                      seed: p.seed, target: targetDescription, camNorm: camNorm,
                                      every: s.targetFPS == nil ? s.every : nil, fps: s.targetFPS, maxFrames: s.maxFrames,
                                      failUnder: failUnder)
        params.start = s.start
        params.duration = s.duration
        if !p.corruptions.isEmpty { params.corruptions = p.corruptions.map(\.rawValue); params.severities = p.severities }
        if p.cams != ["gradcam"] { params.cams = p.cams }
        if p.faithfulness { params.faithfulnessSteps = p.faithfulnessSteps }
        return params
    }

    /// SHA-256 of a local clip file (nil for URLs and image-sequence patterns, or when it cannot be read).
    static func fileSHA256(_ url: String) -> String? {
        let path = url.lowercased().hasPrefix("file:") ? String(url.dropFirst(5)) : url
        guard !path.contains("://"), FileManager.default.fileExists(atPath: path) else { return nil }
        return try? FileHash.sha256Hex(ofFile: path)
    }
}

import Foundation
import Robustness

/// What the container and the decoder said about the clip.
public struct ClipInfo: Codable, Sendable, Equatable {
    /// The path or URL as given on the command line.
    public var url: String
    /// Container format name (FFmpeg's short name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`).
    public var container: String
    /// Codec name of the analysed video stream (e.g. `h264`).
    public var codec: String
    /// Codec profile, when the decoder reports one.
    public var profile: String?
    /// Display width and height in pixels, after rotation and sample aspect ratio.
    public var width: Int
    public var height: Int
    /// Average frame rate as an exact fraction `"num/den"`.
    public var frameRate: String
    /// Duration in seconds, when the container knows it.
    public var duration: Double?
    /// Number of frames, when the container knows it.
    public var frameCount: Int?
    /// Bit rate in bits per second, when known.
    public var bitRate: Int?
    /// Display rotation in degrees (0, 90, 180 or 270).
    public var rotation: Int
    /// Decoder pixel format name (e.g. `yuv420p`).
    public var pixelFormat: String
    /// SHA-256 of the clip file (local files only): a fleet run reuses a clip's results only for the same bytes.
    public var sha256: String?

    public init(url: String, container: String, codec: String, profile: String? = nil, width: Int, height: Int,
                frameRate: String, duration: Double? = nil, frameCount: Int? = nil, bitRate: Int? = nil,
                rotation: Int = 0, pixelFormat: String) {
        self.url = url; self.container = container; self.codec = codec; self.profile = profile
        self.width = width; self.height = height; self.frameRate = frameRate; self.duration = duration
        self.frameCount = frameCount; self.bitRate = bitRate; self.rotation = rotation; self.pixelFormat = pixelFormat
    }
}

/// The model as it was used: its file, its digest and the card fields that shaped the analysis.
public struct ModelInfo: Codable, Sendable, Equatable {
    /// Path of the ONNX file.
    public var path: String
    /// SHA-256 of the ONNX file, lower-case hex.
    public var sha256: String
    /// Model name from the card.
    public var name: String?
    /// `[height, width]` of the model input.
    public var inputSize: [Int]
    /// Tensor whose activations Grad-CAM explains.
    public var camLayer: String
    /// `logits` or `probabilities`.
    public var outputKind: String
    /// Per-channel mean and std in 0...255 pixel units.
    public var mean: [Float]
    public var std: [Float]
    /// How frames become the model's input.
    public var resize: ModelCard.Resize
    /// Label file named by the card, when there is one.
    public var labels: String?
    /// How the Grad-CAM layer's values were reshaped to a map (token and channels-last layers); absent for NCHW maps.
    public var camReshape: String?
    /// Colour channels of the model input (1: the frame's luma); absent means 3.
    public var inputChannels: Int?
    /// How the model's batch axis was handled: `free`, `freed-from-fixed` or `fixed`.
    public var batch: String?
    /// True for a quantised (QDQ) model run with integer semantics.
    public var quantized: Bool?

    public init(path: String, sha256: String, name: String? = nil, inputSize: [Int], camLayer: String,
                outputKind: String, mean: [Float], std: [Float], resize: ModelCard.Resize, labels: String? = nil) {
        self.path = path; self.sha256 = sha256; self.name = name; self.inputSize = inputSize; self.camLayer = camLayer
        self.outputKind = outputKind; self.mean = mean; self.std = std; self.resize = resize; self.labels = labels
    }
}

/// Every parameter of `vigil analyze` that changes the numbers.
public struct ReportParameters: Codable, Sendable, Equatable {
    /// Occlusion patches per frame.
    public var patches: Int
    /// Patch side range as a fraction of the input's short side (equal: fixed size).
    public var patchSizeLow: Double
    public var patchSizeHigh: Double
    /// `gray`, `black`, `blur` or `noise`.
    public var fill: String
    /// Seed of the patch placement (and of the bootstrap).
    public var seed: UInt64
    /// `top1`, or the fixed target class as given (label or index).
    public var target: String
    /// Grad-CAM normalisation of the overlay: `clip` or `frame`.
    public var camNorm: String
    /// Analyse every Nth frame, when given.
    public var every: Int?
    /// Analyse at this many frames per second, when given.
    public var fps: Double?
    /// Stop after this many analysed frames, when given.
    public var maxFrames: Int?
    /// Verdict threshold on the mean retention, when given.
    public var failUnder: Double?
    /// Seconds into the clip the analysis started, and how many seconds it covered, when given.
    public var start: Double?
    public var duration: Double?
    /// Camera-condition corruptions and their severities, when asked for.
    public var corruptions: [String]?
    public var severities: [Int]?
    /// CAM methods (`--cam`) when other than Grad-CAM alone; the first made the overlay.
    public var cams: [String]?
    /// Points per deletion or insertion curve less one, when faithfulness was measured (`--faithfulness`).
    public var faithfulnessSteps: Int?

    public init(patches: Int, patchSizeLow: Double, patchSizeHigh: Double, fill: String, seed: UInt64,
                target: String = "top1", camNorm: String = "clip", every: Int? = nil, fps: Double? = nil,
                maxFrames: Int? = nil, failUnder: Double? = nil) {
        self.patches = patches; self.patchSizeLow = patchSizeLow; self.patchSizeHigh = patchSizeHigh; self.fill = fill
        self.seed = seed; self.target = target; self.camNorm = camNorm; self.every = every; self.fps = fps
        self.maxFrames = maxFrames; self.failUnder = failUnder
    }
}

/// Where a report came from: enough to reproduce it.
public struct Provenance: Codable, Sendable, Equatable {
    /// Version of the Vigil that wrote the report.
    public var vigilVersion: String
    /// The command line, arguments joined by spaces.
    public var createdBy: String
    public var model: ModelInfo
    public var parameters: ReportParameters
    /// FFmpeg library versions (e.g. `libavformat 59.27.100, libavcodec 59.37.100`).
    public var ffmpeg: String
    /// BLAS library and version (e.g. `OpenBLAS 0.3.21`).
    public var blas: String
    public var clip: ClipInfo

    public init(vigilVersion: String, createdBy: String, model: ModelInfo, parameters: ReportParameters,
                ffmpeg: String, blas: String, clip: ClipInfo) {
        self.vigilVersion = vigilVersion; self.createdBy = createdBy; self.model = model; self.parameters = parameters
        self.ffmpeg = ffmpeg; self.blas = blas; self.clip = clip
    }
}

/// Wall-clock figures of one run; the only part of `report.json` that differs between identical runs.
public struct TimingSummary: Codable, Sendable, Equatable {
    /// Seconds from opening the clip to writing the report.
    public var wallSeconds: Double
    /// Analysed frames divided by `wallSeconds`.
    public var analysedFramesPerSecond: Double
    /// Mean milliseconds per analysis stage, keyed by stage (the keys of `FrameAnalysis.timings`).
    public var meanMsPerStage: [String: Double]

    public init(wallSeconds: Double, analysedFramesPerSecond: Double, meanMsPerStage: [String: Double]) {
        self.wallSeconds = wallSeconds; self.analysedFramesPerSecond = analysedFramesPerSecond
        self.meanMsPerStage = meanMsPerStage
    }
}

/// The files `ReportWriter.finish` wrote.
public struct ReportPaths: Sendable, Equatable {
    public var json: String
    public var html: String
    public var csv: String
    /// The overlay video's WebVTT track, when a video is written.
    public var subtitles: String?
    public init(json: String, html: String, csv: String, subtitles: String? = nil) {
        self.json = json; self.html = html; self.csv = csv; self.subtitles = subtitles
    }
}

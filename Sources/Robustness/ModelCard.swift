import Foundation

/// What a model expects of its input and what its outputs mean: read from `<model>.card.json` beside the model.
///
/// Every field has a default so a bare ONNX file works; flags on the command line override the card.
public struct ModelCard: Codable, Sendable, Equatable {
    /// How the frame becomes the model's square input.
    public struct Resize: Codable, Sendable, Equatable {
        /// `center-crop`: crop a centred square of `cropFraction` of the short side, then resize;
        /// `stretch`: resize the whole frame, ignoring its aspect ratio.
        public var policy: String = "center-crop"
        public var cropFraction: Double = 0.875
        /// `bilinear`, `bicubic`, `area` or `nearest`.
        public var filter: String = "bilinear"
        public init(policy: String = "center-crop", cropFraction: Double = 0.875, filter: String = "bilinear") {
            self.policy = policy; self.cropFraction = cropFraction; self.filter = filter
        }
        enum CodingKeys: String, CodingKey { case policy, cropFraction, filter }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            policy = try c.decodeIfPresent(String.self, forKey: .policy) ?? "center-crop"
            cropFraction = try c.decodeIfPresent(Double.self, forKey: .cropFraction) ?? 0.875
            filter = try c.decodeIfPresent(String.self, forKey: .filter) ?? "bilinear"
        }
    }

    public var name: String?
    public var model: String?
    public var sha256: String?
    /// Graph input and output names (nil: the first of each).
    public var input: String?
    public var output: String?
    /// [height, width] of the model input.
    public var inputSize: [Int]?
    public var channelOrder: String = "RGB"
    public var resize: Resize = Resize()
    /// Per-channel mean and std in 0...255 pixel units: x = (pixel - mean) / std.
    public var mean: [Float] = [123.675, 116.28, 103.53]
    public var std: [Float] = [58.395, 57.12, 57.375]
    /// Label file (one label per line), relative to the card.
    public var labels: String?
    /// `logits` (softmax applied by Vigil) or `probabilities`.
    public var outputKind: String = "logits"
    /// Tensor whose activations Grad-CAM explains (nil: chosen automatically).
    public var camLayer: String?
    public var source: String?
    public var licence: String?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case name, model, sha256, input, output, inputSize, channelOrder, resize, mean, std, labels, outputKind, camLayer, source, licence
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ModelCard()
        name = try c.decodeIfPresent(String.self, forKey: .name)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        sha256 = try c.decodeIfPresent(String.self, forKey: .sha256)
        input = try c.decodeIfPresent(String.self, forKey: .input)
        output = try c.decodeIfPresent(String.self, forKey: .output)
        inputSize = try c.decodeIfPresent([Int].self, forKey: .inputSize)
        channelOrder = try c.decodeIfPresent(String.self, forKey: .channelOrder) ?? d.channelOrder
        resize = try c.decodeIfPresent(Resize.self, forKey: .resize) ?? d.resize
        mean = try c.decodeIfPresent([Float].self, forKey: .mean) ?? d.mean
        std = try c.decodeIfPresent([Float].self, forKey: .std) ?? d.std
        labels = try c.decodeIfPresent(String.self, forKey: .labels)
        outputKind = try c.decodeIfPresent(String.self, forKey: .outputKind) ?? d.outputKind
        camLayer = try c.decodeIfPresent(String.self, forKey: .camLayer)
        source = try c.decodeIfPresent(String.self, forKey: .source)
        licence = try c.decodeIfPresent(String.self, forKey: .licence)
    }

    /// The card beside `modelPath` (`name.card.json` for `name.onnx`), or defaults when there is none.
    /// - Throws: `RobustnessError.badCard` when a card exists but does not parse or is inconsistent.
    public static func beside(model modelPath: String) throws -> (card: ModelCard, path: String?) {
        let base = (modelPath as NSString).deletingPathExtension
        let cardPath = base + ".card.json"
        guard FileManager.default.fileExists(atPath: cardPath) else { return (ModelCard(), nil) }
        return (try load(cardPath), cardPath)
    }

    /// Reads and checks a card file.
    public static func load(_ path: String) throws -> ModelCard {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RobustnessError.badCard(path: path, detail: "the file cannot be read")
        }
        let card: ModelCard
        do { card = try JSONDecoder().decode(ModelCard.self, from: data) } catch {
            throw RobustnessError.badCard(path: path, detail: "it is not valid model-card JSON (\(error))")
        }
        try card.validate(path: path)
        return card
    }

    /// Checks field values.
    public func validate(path: String) throws {
        if let inputSize, inputSize.count != 2 || !inputSize.allSatisfy({ $0 > 0 && $0 <= 16384 }) {
            throw RobustnessError.badCard(path: path, detail: "inputSize \(inputSize) must be [height, width] with two values from 1 to 16384")
        }
        guard [1, 3].contains(mean.count), [1, 3].contains(std.count), (mean + std).allSatisfy({ $0.isFinite }), std.allSatisfy({ $0 != 0 }) else {
            throw RobustnessError.badCard(path: path, detail: "mean and std need one value (grayscale) or three each, finite, and std must be non-zero")
        }
        guard ["center-crop", "stretch"].contains(resize.policy) else {
            throw RobustnessError.badCard(path: path, detail: "resize policy '\(resize.policy)' is not center-crop or stretch")
        }
        guard resize.cropFraction > 0 && resize.cropFraction <= 1 else {
            throw RobustnessError.badCard(path: path, detail: "cropFraction \(resize.cropFraction) must be in (0, 1]")
        }
        guard ["bilinear", "bicubic", "area", "nearest"].contains(resize.filter) else {
            throw RobustnessError.badCard(path: path, detail: "resize filter '\(resize.filter)' is not bilinear, bicubic, area or nearest")
        }
        guard ["logits", "probabilities"].contains(outputKind) else {
            throw RobustnessError.badCard(path: path, detail: "outputKind '\(outputKind)' is not logits or probabilities")
        }
        guard ["RGB", "BGR"].contains(channelOrder) else {
            throw RobustnessError.badCard(path: path, detail: "channelOrder '\(channelOrder)' is not RGB or BGR")
        }
    }
}

/// Errors of the analysis layer; each names the file or parameter and says what to do.
public enum RobustnessError: Error, CustomStringConvertible, Sendable {
    case badCard(path: String, detail: String)
    case badLabels(path: String, detail: String)
    case badModel(path: String, detail: String)
    case badParameter(String)
    /// A CAM method that is unknown or lacks an input it needs.
    case explainer(method: String, detail: String)

    public var description: String {
        switch self {
        case let .badCard(path, detail): return "model card \(path): \(detail); fix the card or pass the values as flags"
        case let .badLabels(path, detail): return "label file \(path): \(detail)"
        case let .badModel(path, detail): return "model \(path): \(detail)"
        case let .badParameter(d): return d
        case let .explainer(method, detail): return "CAM method '\(method)': \(detail)"
        }
    }
}

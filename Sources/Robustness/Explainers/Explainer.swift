import Foundation

/// One layer's activations and, when the method asks for them, the gradients of the target's score, as
/// `[channels, height, width]` planar values (token and channels-last layers already rearranged).
public struct LayerMaps: Sendable {
    /// The layer's tensor name.
    public var name: String
    public var channels: Int, height: Int, width: Int
    /// `[channels, height, width]`.
    public var activations: [Float]
    /// d (target's raw output) / d activations, `[channels, height, width]`; nil when no method asked for them.
    public var gradients: [Float]?

    public init(name: String, channels: Int, height: Int, width: Int, activations: [Float], gradients: [Float]?) {
        self.name = name; self.channels = channels; self.height = height; self.width = width
        self.activations = activations; self.gradients = gradients
    }

    /// The gradients, or an error naming the method that needed them.
    func requireGradients(_ method: String) throws -> [Float] {
        guard let g = gradients else { throw RobustnessError.explainer(method: method, detail: "it needs the gradients of layer '\(name)', which the clean pass did not compute") }
        return g
    }
}

/// A class-activation map at a layer's grid: row-major `[height, width]`, after pytorch-grad-cam's ReLU, not scaled.
public struct CAMMap: Sendable, Equatable {
    public var values: [Float]
    public var height: Int, width: Int
    public init(values: [Float], height: Int, width: Int) { self.values = values; self.height = height; self.width = width }
}

/// Everything an explainer may read about one frame.
public struct ExplanationInputs {
    /// The CAM layer first, then LayerCAM's fusion layers (finer grids), when asked for.
    public var layers: [LayerMaps]
    /// The planar model input `[C, H, W]`.
    public var input: [Float]
    public var inputChannels: Int, inputHeight: Int, inputWidth: Int
    /// The class explained.
    public var target: Int
    /// The target's raw model output (logit, or probability for a model that outputs them) for each of a batch of
    /// planar inputs laid end to end: Score-CAM's forward passes.
    public var targetScores: (_ inputs: [Float], _ batch: Int) throws -> [Float]
    /// Inputs per forward pass for methods that make copies (Score-CAM).
    public var batchSize: Int

    public init(layers: [LayerMaps], input: [Float], inputChannels: Int, inputHeight: Int, inputWidth: Int, target: Int,
                batchSize: Int, targetScores: @escaping ([Float], Int) throws -> [Float]) {
        self.layers = layers; self.input = input; self.inputChannels = inputChannels; self.inputHeight = inputHeight
        self.inputWidth = inputWidth; self.target = target; self.batchSize = batchSize; self.targetScores = targetScores
    }
}

/// A class-activation-map method: reads a layer's activations (and gradients) and returns a map at its grid.
///
/// Each conforming type lives in a file of its own and follows pytorch-grad-cam's implementation of the method
/// (`pytorch_grad_cam/<method>.py` with `base_cam.py`): the map before its final min-max scaling and resize, so
/// equal up to a positive scale to pytorch-grad-cam's output at the layer's grid.
public protocol Explainer: Sendable {
    /// The `--cam` name.
    var name: String { get }
    /// True when the clean pass must back-propagate the target's score to the layers.
    var needsGradients: Bool { get }
    /// True when it reads the fusion layers as well as the CAM layer.
    var needsFusionLayers: Bool { get }
    /// The map for `inputs.target`.
    /// - Throws: `RobustnessError.explainer` when an input it needs is missing; `GraphError` from Score-CAM's passes.
    func explain(_ inputs: ExplanationInputs) throws -> CAMMap
}

extension Explainer {
    public var needsFusionLayers: Bool { false }
}

/// The explainers by `--cam` name, in the order help text lists them.
public enum CAMMethods {
    public static let all: [any Explainer] = [GradCAM(), GradCAMPlusPlus(), XGradCAM(), LayerCAM(), LayerCAM(fused: true),
                                              EigenCAM(), ScoreCAM(), HiResCAM()]
    public static var names: [String] { all.map(\.name) }

    /// The explainer called `name`, or nil.
    public static func named(_ name: String) -> (any Explainer)? { all.first { $0.name == name } }

    /// Explainers for a comma-separated list (`gradcam,scorecam`), in its order, without repeats.
    /// - Throws: `RobustnessError.explainer` naming an unknown method and listing the known ones.
    public static func parse(_ list: String) throws -> [any Explainer] {
        var out: [any Explainer] = []
        for raw in list.split(separator: ",") {
            let n = raw.trimmingCharacters(in: .whitespaces).lowercased()
            guard let e = named(n) else {
                throw RobustnessError.explainer(method: n, detail: "there is no such CAM method; use one or more of \(names.joined(separator: ", ")), separated by commas")
            }
            if !out.contains(where: { $0.name == e.name }) { out.append(e) }
        }
        guard !out.isEmpty else { throw RobustnessError.explainer(method: list, detail: "no CAM method named; use one or more of \(names.joined(separator: ", "))") }
        return out
    }
}

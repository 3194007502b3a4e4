import Foundation
import Graph
import Imaging
import ONNXImport
import TensorCore

/// A loaded classifier: the model, its card, labels and the Grad-CAM layer. Shared by all threads;
/// each thread runs it through its own `ClassifierSession`.
public final class Classifier: Sendable {
    public let model: ONNXModel
    public let card: ModelCard
    public let cardPath: String?
    public let labels: [String]
    public let inputName: String
    public let outputName: String
    /// The tensor Grad-CAM explains.
    public let camLayer: String
    /// How its values form a `[C, H, W]` map (token models are reshaped to their patch grid).
    public let camLayout: CAMLayout
    /// LayerCAM's fusion layers: finer maps earlier in the network (`suggestFusionLayers`), NCHW.
    public let fusionLayers: [String]
    /// Colour channels of the model input: 3 (RGB or BGR) or 1 (luma, for grayscale and thermal cameras).
    public let inputChannels: Int
    /// Mean and std (0-255 pixel units) of each input channel: the card's, or for a 1-channel model their averages
    /// (torchvision's grayscale convention, 0.449 and 0.226).
    public var channelMean: [Float] { inputChannels == 3 ? card.mean : [card.mean.reduce(0, +) / Float(card.mean.count)] }
    public var channelStd: [Float] { inputChannels == 3 ? card.std : [card.std.reduce(0, +) / Float(card.std.count)] }
    /// Model input height and width.
    public let inputHeight: Int, inputWidth: Int
    /// Number of classes.
    public let classCount: Int
    /// SHA-256 of the model file, hex.
    public let modelSHA256: String
    /// The executable graph (fused, keeping `camLayer` observable).
    public let graph: Graph

    /// Loads a model and its card.
    ///
    /// - Parameters:
    ///   - modelPath: the ONNX file.
    ///   - card: the card to use; nil reads `<model>.card.json` beside the model, or uses defaults.
    ///   - cardPath: where `card` came from, if from a file: its label file is relative to it.
    ///   - camLayer: overrides the card's Grad-CAM layer.
    ///   - labelsPath: overrides the card's label file.
    /// - Throws: `ModelError` or `RobustnessError` naming the file and what to do.
    public init(modelPath: String, card cardOverride: ModelCard? = nil, cardPath cardOverridePath: String? = nil,
                camLayer camOverride: String? = nil, labelsPath: String? = nil) throws {
        let model = try ONNXModel.load(path: modelPath)
        self.model = model
        var card: ModelCard
        if let cardOverride { card = cardOverride; cardPath = cardOverridePath } else {
            let found = try ModelCard.beside(model: modelPath)
            card = found.card; cardPath = found.path
        }
        try card.validate(path: cardPath ?? "(flags)")
        guard let firstInput = model.graph.inputs.first else { throw RobustnessError.badModel(path: modelPath, detail: "the graph has no input") }
        let inName = card.input ?? firstInput.name
        inputName = inName
        guard let gi = model.graph.inputs.first(where: { $0.name == inName }) else {
            throw RobustnessError.badModel(path: modelPath, detail: "it has no input named '\(inName)'; its inputs are \(model.graph.inputs.map(\.name))")
        }
        outputName = card.output ?? model.graph.outputs[0]
        guard model.graph.outputs.contains(outputName) else {
            throw RobustnessError.badModel(path: modelPath, detail: "it has no output named '\(outputName)'; its outputs are \(model.graph.outputs)")
        }
        guard gi.shape.count == 4, gi.shape[1] == nil || gi.shape[1] == 3 || gi.shape[1] == 1 else {
            throw RobustnessError.badModel(path: modelPath, detail: "input '\(inputName)' has shape \(gi.shape.map { $0.map(String.init) ?? "?" }); Vigil needs an image classifier with input [N,3,H,W] (colour) or [N,1,H,W] (grayscale)")
        }
        inputChannels = gi.shape[1] ?? 3
        // One mean/std value serves every channel.
        if card.mean.count == 1 { card.mean = Array(repeating: card.mean[0], count: 3) }
        if card.std.count == 1 { card.std = Array(repeating: card.std[0], count: 3) }
        let h = card.inputSize?.first ?? gi.shape[2], w = card.inputSize?.last ?? gi.shape[3]
        guard let h, let w, h > 0, w > 0 else {
            throw RobustnessError.badModel(path: modelPath, detail: "input '\(inputName)' has no fixed height and width; give inputSize in the model card or --size")
        }
        inputHeight = h; inputWidth = w
        let suggested = Classifier.suggestCAMLayer(model)
        guard let layer = camOverride ?? card.camLayer ?? suggested?.layer else {
            throw RobustnessError.badModel(path: modelPath, detail: "no layer with spatial size above 1 (a [N,C,H,W] map or [N,T,C] tokens) was found for Grad-CAM; name one with --cam-layer")
        }
        guard model.shapes[layer] != nil || model.graph.nodes.contains(where: { $0.outputs.contains(layer) }) else {
            throw RobustnessError.badModel(path: modelPath, detail: "it has no tensor named '\(layer)' for Grad-CAM; `vigil inspect \(modelPath)` lists the suggested layer")
        }
        if layer == suggested?.layer, let layout = suggested?.layout {
            camLayout = layout
        } else if let s = model.shapes[layer] {
            guard let layout = CAMLayout.of(s, grid: Classifier.patchGrid(model)) else {
                throw RobustnessError.badModel(path: modelPath, detail: "Grad-CAM layer '\(layer)' has shape \(s); it must be a map [N,C,H,W] or [N,H,W,C], or tokens [N,T,C] that form a square grid (after up to one class token)")
            }
            camLayout = layout
        } else {
            camLayout = .nchw
        }
        camLayer = layer
        card.camLayer = layer
        fusionLayers = camLayout == .nchw ? Classifier.suggestFusionLayers(model, camLayer: layer) : []
        graph = model.graph.fused(preserving: Set([layer] + fusionLayers))
        classCount = model.shapes[outputName]?.last ?? 0
        // Labels: the flag, else the card's file relative to the card (or the model when the card is not a file).
        var labelFile = labelsPath
        if labelFile == nil, let l = card.labels {
            let base = ((cardPath ?? modelPath) as NSString).deletingLastPathComponent
            labelFile = l.hasPrefix("/") ? l : (base as NSString).appendingPathComponent(l)
        }
        card.labels = labelFile ?? card.labels
        self.card = card
        if let labelFile {
            guard let text = try? String(contentsOfFile: labelFile, encoding: .utf8) else {
                throw RobustnessError.badLabels(path: labelFile, detail: "the file cannot be read; check the path in the card or --labels")
            }
            // Any line ending: LF, CRLF (one Character in Swift, which a split on "\n" never sees) or CR.
            var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            while lines.last == "" { lines.removeLast() }
            if classCount > 0 && lines.count != classCount {
                throw RobustnessError.badLabels(path: labelFile, detail: "it has \(lines.count) labels but the model has \(classCount) classes; use the label file made for this model")
            }
            labels = lines
        } else {
            labels = (0..<classCount).map { "class \($0)" }
        }
        modelSHA256 = (try? FileHash.sha256Hex(ofFile: modelPath)) ?? ""
    }

    /// The label of class `i`.
    public func label(_ i: Int) -> String { i >= 0 && i < labels.count ? labels[i] : "class \(i)" }

    /// The class index for a `--target` value: a label or an index.
    public func classIndex(for target: String) -> Int? {
        if let i = Int(target), i >= 0, i < max(classCount, labels.count) { return i }
        return labels.firstIndex(of: target)
    }

    /// Converts a frame into the model's planar input and says which part of the frame it covers.
    ///
    /// A 1-channel model gets the frame's luma, Y = kr R + kg G + kb B with the clip's matrix (`luma`), normalised
    /// by `channelMean` and `channelStd`.
    /// - Parameter wholeImage: `image` is already the model's view (its crop at the input size): take all of it.
    public func preprocess(_ image: RGBImage, luma: LumaMatrix = .bt601, wholeImage: Bool = false) -> (input: [Float], crop: CropRect) {
        let crop = wholeImage ? CropRect(x: 0, y: 0, width: Double(image.width), height: Double(image.height)) : cropRect(width: image.width, height: image.height)
        let filter = ResampleFilter(rawValue: card.resize.filter) ?? .bilinear
        if inputChannels == 1 {
            let raw = image.resampledPlanar(cropX: crop.x, cropY: crop.y, cropW: crop.width, cropH: crop.height,
                                            toWidth: inputWidth, toHeight: inputHeight, filter: filter,
                                            mean: [0, 0, 0], std: [1, 1, 1], pixelScale: 1)
            let plane = inputWidth * inputHeight, (kr, kg, kb) = luma.weights
            let mean = channelMean[0], std = channelStd[0]
            return ((0..<plane).map { i in (kr * raw[i] + kg * raw[plane + i] + kb * raw[2 * plane + i] - mean) / std }, crop)
        }
        var planar = image.resampledPlanar(cropX: crop.x, cropY: crop.y, cropW: crop.width, cropH: crop.height,
                                           toWidth: inputWidth, toHeight: inputHeight, filter: filter,
                                           mean: card.mean, std: card.std, pixelScale: 1)
        if card.channelOrder == "BGR" {
            let plane = inputWidth * inputHeight
            for i in 0..<plane { planar.swapAt(i, 2 * plane + i) }
        }
        return (planar, crop)
    }

    /// The frame region the model sees.
    public func cropRect(width: Int, height: Int) -> CropRect {
        if card.resize.policy == "stretch" { return CropRect(x: 0, y: 0, width: Double(width), height: Double(height)) }
        // A centred window of the model's aspect ratio, `cropFraction` of the largest that fits.
        let aspect = Double(inputWidth) / Double(inputHeight)
        var cw = Double(width), ch = cw / aspect
        if ch > Double(height) { ch = Double(height); cw = ch * aspect }
        // At least one pixel each way: a tiny crop fraction or a 1-pixel-wide picture still gives a window.
        cw = Swift.max(1, (cw * card.resize.cropFraction).rounded(.down)); ch = Swift.max(1, (ch * card.resize.cropFraction).rounded(.down))
        let x = ((Double(width) - cw + 1) / 2).rounded(.down), y = ((Double(height) - ch + 1) / 2).rounded(.down)
        return CropRect(x: x, y: y, width: cw, height: ch)
    }

    /// A per-thread runner of this classifier.
    /// A session on one thread, its engines run as `configuration` says, sharing `packing` with the caller's other
    /// engines.
    public func makeSession(configuration: EngineConfiguration = .standard, packing: PackedWeights = PackedWeights()) -> ClassifierSession {
        ClassifierSession(self, configuration: configuration, packing: packing)
    }
}

/// The matrix that gives luma from RGB for 1-channel models.
public enum LumaMatrix: String, Sendable, Codable {
    case bt601, bt709
    /// (kr, kg, kb).
    public var weights: (Float, Float, Float) { self == .bt709 ? (0.2126, 0.7152, 0.0722) : (0.299, 0.587, 0.114) }

    /// The matrix for a clip's colour matrix name as FFmpeg gives it: BT.709 when it says so, else BT.601.
    public init(colorMatrix: String?) { self = colorMatrix == "bt709" ? .bt709 : .bt601 }
}

/// The window of the frame that becomes the model input, in frame pixels.
public struct CropRect: Codable, Sendable, Equatable {
    public var x: Double, y: Double, width: Double, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) { self.x = x; self.y = y; self.width = width; self.height = height }
}

/// Runs a classifier on one thread: batched forward passes and Grad-CAM.
public final class ClassifierSession {
    public let classifier: Classifier
    let executor: Executor

    init(_ c: Classifier, configuration: EngineConfiguration, packing: PackedWeights) {
        classifier = c; executor = Executor(graph: c.graph, configuration: configuration, packing: packing)
    }

    /// The part of the graph downstream of the CAM layer, run on its own to back-propagate (see `explain`); nil
    /// when it does not make the output.
    lazy var head: (graph: Graph, executor: Executor)? = {
        guard let g = classifier.graph.downstream(of: classifier.camLayer, output: classifier.outputName) else { return nil }
        return (g, Executor(graph: g, configuration: executor.configuration, packing: executor.packing))
    }()

    /// Probabilities `[batch, classes]` for a batch of planar inputs laid end to end.
    public func probabilities(_ inputs: [Float], batch: Int) throws -> [[Float]] {
        let c = classifier
        let out = try executor.run([c.inputName: Tensor(shape: [batch, c.inputChannels, c.inputHeight, c.inputWidth], data: inputs)]).outputs[c.outputName]!
        return rows(out, batch: batch)
    }

    func rows(_ out: Tensor, batch: Int) -> [[Float]] {
        let k = out.count / batch
        return (0..<batch).map { b in
            let row = Array(out.data[(b * k)..<((b + 1) * k)])
            return classifier.card.outputKind == "logits" ? softmaxRow(row) : row
        }
    }

    /// Raw model outputs (logits, or probabilities for a model that outputs them) `[batch, classes]` for a batch of
    /// planar inputs laid end to end.
    public func scores(_ inputs: [Float], batch: Int) throws -> [[Float]] {
        let c = classifier
        let out = try executor.run([c.inputName: Tensor(shape: [batch, c.inputChannels, c.inputHeight, c.inputWidth], data: inputs)]).outputs[c.outputName]!
        let k = out.count / batch
        return (0..<batch).map { Array(out.data[($0 * k)..<(($0 + 1) * k)]) }
    }

    /// Clean forward pass with the class-activation maps of `methods` for `target` (nil: the top-1 class).
    ///
    /// The pass captures the CAM layer (and LayerCAM's fusion layers when a method fuses them) and, when a method
    /// needs them, back-propagates the target's raw output (the logit) to them; each method then makes its map.
    /// - Parameters:
    ///   - keep: further tensors to return in `captured` (e.g. every activation, for incremental occlusion).
    ///   - forward: when given, makes the plain forward pass instead of this session's executor: it returns the
    ///     named values (NCHW) for this input, or nil to leave the pass to the session.
    ///   - batchSize: inputs per forward pass for methods that run copies (Score-CAM).
    /// - Returns: the probabilities, the explained class, one map per method (in order) and the captured values.
    public func explain(_ input: [Float], target: Int?, methods: [any Explainer] = [GradCAM()], keep: [String] = [],
                        batchSize: Int = 16, forward: (([String]) throws -> [String: Tensor]?)? = nil) throws -> Explanation {
        let c = classifier
        let x = Tensor(shape: [1, c.inputChannels, c.inputHeight, c.inputWidth], data: input)
        let fusion = methods.contains { $0.needsFusionLayers } ? c.fusionLayers : []
        let wantGradients = methods.contains { $0.needsGradients }
        let layers = [c.camLayer] + fusion
        let eval: Evaluation, gradientExecutor: Executor, captured: [String: Tensor]
        if keep.isEmpty && fusion.isEmpty, let head {
            // A plain forward pass up to the head's inputs (on the fast blocked kernels where they apply), then
            // the head alone from them, retaining what back-propagation needs: the NCHW pass that captures and
            // retains was 1.6x slower.
            let names = head.graph.inputs.map(\.name)
            captured = try forward?(names) ?? executor.run([c.inputName: x], capture: names).captured
            eval = try head.executor.run(captured, retainForGradientOf: wantGradients ? c.camLayer : nil)
            gradientExecutor = head.executor
        } else {
            // The earliest layer (in graph order) is the root every other layer's gradient passes through.
            let root = fusion.isEmpty ? c.camLayer : c.graph.nodes.lazy.flatMap(\.outputs).first { layers.contains($0) } ?? c.camLayer
            eval = try executor.run([c.inputName: x], capture: layers + keep, retainForGradientOf: wantGradients ? root : nil)
            captured = eval.captured
            gradientExecutor = executor
        }
        let out = eval.outputs[c.outputName]!
        let probs = rows(out, batch: 1)[0]
        let t = target ?? argmax(probs)
        var grads: [String: Tensor] = [:]
        if wantGradients {
            var seed = Tensor(shape: out.shape)
            seed.data[min(t, seed.count - 1)] = 1
            grads = try gradientExecutor.gradients(eval, seeds: [c.outputName: seed], of: layers)
        }
        let maps = layers.map { name -> LayerMaps in
            let raw = captured[name] ?? eval.captured[name]!
            let layout = name == c.camLayer ? c.camLayout : .nchw
            let a = layout.planar(raw.data, shape: raw.shape)
            let g = grads[name].map { layout.planar($0.data, shape: $0.shape).values }
            return LayerMaps(name: name, channels: a.channels, height: a.height, width: a.width, activations: a.values, gradients: g)
        }
        let inputs = ExplanationInputs(layers: maps, input: input, inputChannels: c.inputChannels, inputHeight: c.inputHeight,
                                       inputWidth: c.inputWidth, target: t, batchSize: batchSize) { [self] copies, n in
            try scores(copies, batch: n).map { $0[t] }
        }
        return Explanation(probs: probs, target: t, maps: try methods.map { try $0.explain(inputs) }, captured: captured)
    }
}

/// What `ClassifierSession.explain` found.
public struct Explanation {
    /// Class probabilities of the clean input.
    public var probs: [Float]
    /// The class explained.
    public var target: Int
    /// One map per method asked for, in order.
    public var maps: [CAMMap]
    /// The values the pass captured (the CAM layer's inputs to the head, or what `keep` named).
    public var captured: [String: Tensor]
}

/// Numerically stable softmax of one row.
public func softmaxRow(_ x: [Float]) -> [Float] {
    let m = x.max() ?? 0
    var e = x.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    for i in 0..<e.count { e[i] /= s }
    return e
}

/// Index of the largest value (the first on ties).
public func argmax(_ x: [Float]) -> Int {
    var b = 0
    for i in 1..<max(x.count, 1) where x[i] > x[b] { b = i }
    return b
}

/// Indices of the k largest values, largest first.
public func topK(_ x: [Float], _ k: Int) -> [Int] {
    Array(x.indices.sorted { x[$0] > x[$1] || (x[$0] == x[$1] && $0 < $1) }.prefix(k))
}

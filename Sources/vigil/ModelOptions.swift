import ArgumentParser
import Foundation
import TensorCore
import Robustness

/// Where the model comes from and how frames become its input: shared by `analyze` and `classify`.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("ONNX model file. Its card (<name>.card.json beside it) gives input size, mean/std, resize policy and labels.",
                                            valueName: "path"))
    var model: String = ModelOptions.defaultModelPath

    @Option(help: ArgumentHelp("Model card JSON to use instead of the one beside the model.", valueName: "path"))
    var card: String?

    @Option(help: ArgumentHelp("Label file, one class name per line in output order (overrides the card).", valueName: "path"))
    var labels: String?

    @Option(help: ArgumentHelp("Per-channel mean in 0-255 pixel units, e.g. 123.675,116.28,103.53 (overrides the card).", valueName: "r,g,b"))
    var mean: String?

    @Option(help: ArgumentHelp("Per-channel std in 0-255 pixel units, e.g. 58.395,57.12,57.375 (overrides the card).", valueName: "r,g,b"))
    var std: String?

    @Option(help: ArgumentHelp("Model input size, N or HxW (overrides the card).", valueName: "size"))
    var size: String?

    @Option(help: ArgumentHelp("How frames become the input: center-crop[:FRACTION] or stretch, optionally @bilinear|bicubic|area|nearest, e.g. center-crop:0.875@bicubic.",
                               valueName: "policy"))
    var resize: String?

    /// The bundled model: Fixtures/models beside the executable's package, or the working directory's.
    static var defaultModelPath: String {
        let rel = "Fixtures/models/efficientnet_lite0.onnx"
        if FileManager.default.fileExists(atPath: rel) { return rel }
        // The executable's own path (/proc/self/exe), so a `vigil` found on PATH finds it too; argv[0] elsewhere.
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: exe).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let p = url.appendingPathComponent(rel).path
            if FileManager.default.fileExists(atPath: p) { return p }
            url.deleteLastPathComponent()
        }
        return rel
    }

    func validate() throws {
        if let mean { _ = try Self.triple(mean, "--mean") }
        if let std {
            let s = try Self.triple(std, "--std")
            if s.contains(0) { throw ValidationError("--std values must be non-zero, got \(std).") }
        }
        if let size { _ = try Self.parseSize(size) }
        if let resize { _ = try Self.parseResize(resize) }
    }

    static func triple(_ s: String, _ flag: String) throws -> [Float] {
        let v = s.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard v.count == 3 || v.count == 1 else { throw ValidationError("\(flag) takes three comma-separated numbers (or one for all channels), got '\(s)'.") }
        return v.count == 1 ? [v[0], v[0], v[0]] : v
    }

    static func parseSize(_ s: String) throws -> [Int] {
        let parts = s.lowercased().split(separator: "x").compactMap { Int($0) }
        guard (parts.count == 1 || parts.count == 2), parts.allSatisfy({ $0 > 0 && $0 <= 4096 }) else {
            throw ValidationError("--size takes N or HxW with positive sizes, got '\(s)'.")
        }
        return parts.count == 1 ? [parts[0], parts[0]] : parts
    }

    static func parseResize(_ s: String) throws -> ModelCard.Resize {
        let (policyPart, filter) = s.contains("@") ? (String(s.split(separator: "@")[0]), String(s.split(separator: "@")[1])) : (s, "bilinear")
        let pp = policyPart.split(separator: ":")
        var r = ModelCard.Resize(policy: String(pp[0]), cropFraction: 0.875, filter: filter)
        if pp.count > 1 {
            guard let f = Double(pp[1]), f > 0, f <= 1 else { throw ValidationError("--resize crop fraction must be in (0, 1], got '\(pp[1])'.") }
            r.cropFraction = f
        }
        guard ["center-crop", "stretch"].contains(r.policy) else { throw ValidationError("--resize policy must be center-crop or stretch, got '\(r.policy)'.") }
        guard ["bilinear", "bicubic", "area", "nearest"].contains(r.filter) else { throw ValidationError("--resize filter must be bilinear, bicubic, area or nearest, got '\(r.filter)'.") }
        return r
    }

    /// Loads the classifier with the card and flag overrides applied.
    func loadClassifier(camLayer: String? = nil) throws -> Classifier {
        var card: ModelCard
        var cardPath: String? = nil
        if let c = self.card { card = try ModelCard.load(c); cardPath = c } else {
            let found = try ModelCard.beside(model: model)
            card = found.card; cardPath = found.path
        }
        if let mean { card.mean = try Self.triple(mean, "--mean") }
        if let std { card.std = try Self.triple(std, "--std") }
        if let size { card.inputSize = try Self.parseSize(size) }
        if let resize { card.resize = try Self.parseResize(resize) }
        return try Classifier(modelPath: model, card: card, cardPath: cardPath, camLayer: camLayer, labelsPath: labels)
    }
}

extension EngineConfiguration {
    /// The engine of a CLI run: all cores; `VIGIL_KERNELS=avx2`, `VIGIL_LAYOUT=nchw` and `VIGIL_PROFILE=1|shapes`
    /// are read here, the only place the environment shapes the engine.
    static var cli: EngineConfiguration {
        fromEnvironment(ProcessInfo.processInfo.environment, threads: ProcessInfo.processInfo.activeProcessorCount)
    }
}

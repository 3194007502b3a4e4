/// Why a model could not be loaded. Each case names the file and, where it applies, the node or tensor,
/// and says what to do.
public enum ModelError: Error, CustomStringConvertible, Sendable {
    case unreadable(path: String, reason: String)
    case notONNX(path: String, reason: String)
    case unsupportedVersion(path: String, detail: String)
    case unsupportedOp(path: String, opType: String, node: String, opset: Int, supported: [String])
    case unsupportedFeature(path: String, node: String, detail: String)
    case badTensor(path: String, tensor: String, detail: String)
    case badGraph(path: String, detail: String)
    case externalData(path: String, tensor: String, detail: String)
    /// An input that Vigil needs at load time (a shape, bounds, statistics) is a run-time graph input.
    case needsConstant(path: String, node: String, input: String, what: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read model \(path): \(reason); check the path and permissions"
        case let .notONNX(path, reason):
            return "\(path) is not a readable ONNX model (\(reason)); the file may be truncated or not a model, re-export or re-download it"
        case let .unsupportedVersion(path, detail):
            return "model \(path): \(detail)"
        case let .unsupportedOp(path, op, node, opset, supported):
            return "model \(path): op '\(op)' (node '\(node)', opset \(opset)) is not supported; supported ops: \(supported.joined(separator: ", "))"
        case let .unsupportedFeature(path, node, detail):
            return "model \(path), node '\(node)': \(detail)"
        case let .badTensor(path, tensor, detail):
            return "model \(path), tensor '\(tensor)': \(detail); the file is damaged or was written incorrectly, re-export it"
        case let .badGraph(path, detail):
            return "model \(path): \(detail)"
        case let .externalData(path, tensor, detail):
            return "model \(path), tensor '\(tensor)': external data \(detail)"
        case let .needsConstant(path, node, input, what):
            return "model \(path), node '\(node)': \(what) ('\(input)') must be an initializer or constant; Vigil does not run data-dependent shapes or parameters, re-export with it folded"
        }
    }

    /// True when the model is well formed but uses something Vigil does not implement.
    public var isUnsupported: Bool {
        switch self {
        case .unsupportedOp, .unsupportedFeature, .unsupportedVersion, .needsConstant: return true
        default: return false
        }
    }
}

import TensorCore

/// An operation of the graph: a closed set, each case carrying its resolved attributes.
///
/// Inputs that ONNX passes as tensors but that must be known to plan (Reshape's shape, Slice's starts,
/// Pad's pads, Resize's scales, Clip's bounds, Split's sizes, axes) are resolved to attributes at import.
public enum Op: Sendable, Equatable {
    /// Inputs: x `[N,C,H,W]`, weight `[M,C/g,kh,kw]`, optional bias `[M]`. `activation` is fused.
    case conv(window: Window2D, groups: Int, activation: Activation)
    /// Inference BatchNormalization as y = x * scale[c] + shift[c]; inputs: x, scale, shift.
    case channelAffine
    case activation(Activation)
    /// Two inputs, broadcast.
    case binary(BinaryOp)
    /// Sum, Max, Min or Mean of any number of inputs, broadcast (`mean` divides the sum).
    case variadic(BinaryOp, mean: Bool)
    case pool(PoolKind, window: Window2D, ceilMode: Bool)
    case globalPool(max: Bool)
    case lrn(size: Int, alpha: Float, beta: Float, bias: Float)
    /// Y = alpha * op(A) op(B) + beta * C; inputs A, B, optional C.
    case gemm(alpha: Float, beta: Float, transA: Bool, transB: Bool)
    case matmul
    /// A MatMul whose operands and result move through permutations it reads and writes in place: the product of
    /// `transpose(A, a)` and `transpose(B, b)`, transposed by `out` (made by `Graph.fused` from Transposes around a
    /// MatMul of equal ranks; every permutation keeps a unit-stride axis among the last two), times `alpha` (a
    /// scalar Mul or Div of an operand folded in: attention's 1/√d). An optional third input is a constant added to
    /// every product (its last two axes the product's, its others broadcasting: Swin's relative-position bias), and
    /// `softmax` then takes the softmax of each product's rows, while they are in cache (both only with `out` the
    /// identity).
    case permutedMatmul(a: [Int], b: [Int], out: [Int], alpha: Float, softmax: Bool)
    case flatten(axis: Int)
    /// Target shape: 0 copies the input extent (unless `allowZero`), -1 is inferred,
    /// `Op.batchExtent` stands for the run-time batch size (from a folded shape sub-graph).
    case reshape(shape: [Int], allowZero: Bool)
    case squeeze(axes: [Int]?)
    case unsqueeze(axes: [Int])
    case transpose(perm: [Int]?)
    case concat(axis: Int)
    /// Sizes along `axis` per output; nil splits into `count` even parts (the last one smaller when uneven).
    case split(axis: Int, sizes: [Int]?, count: Int)
    case slice(starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?)
    /// `pads` is ONNX's [x1_begin, x2_begin, ..., x1_end, x2_end, ...].
    case pad(mode: PadMode, pads: [Int], value: Float)
    case reduce(ReduceKind, axes: [Int]?, keepDims: Bool, noopWithEmptyAxes: Bool)
    /// `legacy`: opset < 13 semantics (coerce to 2-D at `axis`).
    case softmax(axis: Int, legacy: Bool)
    case identity
    /// Resize of the last two axes. Either `scales` (4 values) or `sizes` (4 values) is set.
    case resize(mode: ResizeMode, transform: CoordinateTransform, scales: [Double]?, sizes: [Int]?)
    /// Layer normalisation over the axes from `axis` on; inputs: x, scale, optional bias (both shaped as those axes).
    case layerNorm(axis: Int, epsilon: Float)
    /// A two-operand Einsum, run as a batched matrix product.
    case einsum(EinsumSpec)
    /// Gather along `axis` with indices known at load (`indexShape` replaces the axis; a scalar index drops it).
    case gather(axis: Int, indices: [Int], indexShape: [Int])
    /// Broadcast to `shape` (NumPy rules; `Op.batchExtent` stands for the run-time batch size).
    case expand(shape: [Int])
    /// QuantizeLinear: round-half-even(x / scale) + zero point, saturated to the integer type; the integers are
    /// carried as exact floats.
    case quantize(Quantization)
    /// DequantizeLinear: (q - zero point) * scale.
    case dequantize(Quantization)
    /// An op on the channel-blocked layout, made by `Graph.channelBlocked` (never imported).
    case blocked(BlockedOp)
    /// An op run with onnxruntime's integer kernels, made by `Graph.integerQDQ` from a QDQ pattern.
    case integer(IntegerOp)

    /// Stand-in for the batch size inside a reshape target.
    public static let batchExtent = Int.min

    /// Short name for messages and op counts.
    public var name: String {
        switch self {
        case .conv: return "Conv"
        case .channelAffine: return "BatchNormalization"
        case let .activation(a):
            switch a {
            case .identity: return "Identity"
            case .relu: return "Relu"
            case .clip: return "Clip"
            case .leakyRelu: return "LeakyRelu"
            case .sigmoid: return "Sigmoid"
            case .hardSigmoid: return "HardSigmoid"
            case .hardSwish: return "HardSwish"
            case .tanh: return "Tanh"
            case .elu: return "Elu"
            case .selu: return "Selu"
            case .softplus: return "Softplus"
            case .erf: return "Erf"
            case .sqrt: return "Sqrt"
            case .exp: return "Exp"
            case .gelu: return "Gelu"
            }
        case let .binary(b): return "\(b)".capitalized
        case let .variadic(b, mean): return mean ? "Mean" : (b == .add ? "Sum" : "\(b)".capitalized)
        case let .pool(k, _, _): return k == .max ? "MaxPool" : "AveragePool"
        case let .globalPool(m): return m ? "GlobalMaxPool" : "GlobalAveragePool"
        case .lrn: return "LRN"
        case .gemm: return "Gemm"
        case .matmul: return "MatMul"
        case .permutedMatmul: return "PermutedMatMul"
        case .flatten: return "Flatten"
        case .reshape: return "Reshape"
        case .squeeze: return "Squeeze"
        case .unsqueeze: return "Unsqueeze"
        case .transpose: return "Transpose"
        case .concat: return "Concat"
        case .split: return "Split"
        case .slice: return "Slice"
        case .pad: return "Pad"
        case let .reduce(k, _, _, _):
            switch k {
            case .sumSquare: return "ReduceSumSquare"
            case .l2: return "ReduceL2"
            case .l1: return "ReduceL1"
            default: return "Reduce" + "\(k)".capitalized
            }
        case .softmax: return "Softmax"
        case .identity: return "Identity"
        case .resize: return "Resize"
        case .layerNorm: return "LayerNormalization"
        case .einsum: return "Einsum"
        case .gather: return "Gather"
        case .expand: return "Expand"
        case .quantize: return "QuantizeLinear"
        case .dequantize: return "DequantizeLinear"
        case let .integer(i): return i.name
        case let .blocked(b):
            switch b {
            case .toBlocked: return "ToBlocked"
            case .fromBlocked: return "FromBlocked"
            case .channelsLastToBlocked: return "ToBlockedFromChannelsLast"
            case .blockedToChannelsLast: return "FromBlockedToChannelsLast"
            case let .conv(kind, _, _, _, _): return "BlockedConv " + kind.rawValue
            case .globalAveragePool: return "BlockedGlobalAveragePool"
            case .maxPool: return "BlockedMaxPool"
            case .averagePool: return "BlockedAveragePool"
            case let .clamp(a): return "Blocked" + Op.activation(a).name
            case .linear: return "PackedLinear"
            case .affine: return "BlockedBatchNormalization"
            case .concat: return "BlockedConcat"
            case .channelScale: return "BlockedChannelScale"
            }
        }
    }
}

/// Ops on channel-blocked tensors (`[N, ceil(C/16), H, W, 16]`, see `ChannelBlocks`).
public enum BlockedOp: Sendable, Equatable {
    /// NCHW `[N, C, H, W]` to blocked.
    case toBlocked
    /// Blocked back to NCHW `[N, channels, H, W]`.
    case fromBlocked(channels: Int)
    /// Channels-last `[N, H, W, C]` to blocked: a Transpose by (0, 3, 1, 2) and the reorder to blocked, in one copy.
    case channelsLastToBlocked
    /// Blocked to channels-last `[N, H, W, channels]`: the reorder to NCHW and a Transpose by (0, 2, 3, 1), in one copy.
    case blockedToChannelsLast(channels: Int)
    /// A convolution with a fused clamp; inputs: x (blocked, or NCHW for `.planarInput`), the weights packed by
    /// `kind.packWeights`, the bias packed by `packBlockedBias`, and for a pointwise kind optionally a residual
    /// shaped as the output, added before the clamp (a fused Add). `outChannels` is M; `groups` is the ONNX
    /// node's (a direct kind's groups are whole blocks of channels).
    case conv(kind: BlockedConvKind, window: Window2D, outChannels: Int, groups: Int, activation: Activation)
    /// Global average pooling of a blocked tensor into NCHW `[N, channels, 1, 1]`.
    case globalAveragePool(channels: Int)
    /// Max pooling of a blocked tensor (padding taps skipped, as ONNX's minus-infinity padding).
    case maxPool(window: Window2D, ceilMode: Bool)
    /// Average pooling of a blocked tensor (as `pool2d`: taps inside the input, divided by their number or, with
    /// `countIncludePad`, by the padded window).
    case averagePool(window: Window2D, ceilMode: Bool, countIncludePad: Bool)
    /// A clamp (ReLU, Clip) of a blocked tensor that no convolution took into its epilogue.
    case clamp(Activation)
    /// y[..., N] = act(x[..., K] · W + bias) on plain (not blocked) tensors: a MatMul or Gemm by a constant weight
    /// with the bias Add, a per-column scale (Mul) and the activation that followed it folded in. Inputs: x, W
    /// packed in 32-column panels (`PackedPanels`), the bias `[N]`.
    case linear(outFeatures: Int, activation: Activation)
    /// A per-channel affine map (a BatchNormalization with no convolution to fold into) and a clamp, on a blocked
    /// tensor; inputs: x and the scale and shift packed by `packBlockedAffine`.
    case affine(activation: Activation)
    /// Channel concatenation of blocked tensors whose channels are whole blocks (DenseNet's feature maps).
    case concat
    /// A blocked tensor times a per-channel gate given in NCHW, `[N or 1, channels, 1, 1]` (squeeze-and-excitation).
    case channelScale(channels: Int)
}

/// One node: an op, the names of the tensors it reads and the names it writes.
public struct Node: Sendable, Equatable {
    public var name: String
    public var op: Op
    public var inputs: [String]
    public var outputs: [String]
    public init(name: String, op: Op, inputs: [String], outputs: [String]) {
        self.name = name; self.op = op; self.inputs = inputs; self.outputs = outputs
    }
}

/// A graph input: its name and shape, nil where the extent is free (the batch axis).
public struct GraphInput: Sendable, Equatable {
    public var name: String
    public var shape: [Int?]
    public init(name: String, shape: [Int?]) { self.name = name; self.shape = shape }
}

/// A computation graph over float tensors: nodes in execution order, constants, inputs and outputs.
public struct Graph: Sendable {
    public var nodes: [Node]
    public var inputs: [GraphInput]
    public var outputs: [String]
    public var constants: [String: Tensor]

    /// Builds a graph and checks it: every input defined, no cycles, nodes put into execution order.
    /// - Throws: `GraphError` naming the node and the missing tensor, or the nodes on a cycle.
    public init(nodes: [Node], inputs: [GraphInput], outputs: [String], constants: [String: Tensor]) throws {
        self.inputs = inputs
        self.outputs = outputs
        self.constants = constants
        self.nodes = try Graph.topologicalOrder(nodes, available: Set(inputs.map(\.name)).union(constants.keys))
        var defined = Set(inputs.map(\.name)).union(constants.keys)
        for n in self.nodes { defined.formUnion(n.outputs) }
        for o in outputs where !defined.contains(o) {
            throw GraphError.undefinedTensor(name: o, node: "graph output")
        }
    }

    static func topologicalOrder(_ nodes: [Node], available: Set<String>) throws -> [Node] {
        var producer: [String: Int] = [:]
        for (i, n) in nodes.enumerated() { for o in n.outputs where !o.isEmpty { producer[o] = i } }
        for n in nodes {
            for i in n.inputs where !i.isEmpty && producer[i] == nil && !available.contains(i) {
                throw GraphError.undefinedTensor(name: i, node: n.name)
            }
        }
        var state = [UInt8](repeating: 0, count: nodes.count) // 0 new, 1 visiting, 2 done
        var order: [Node] = []
        order.reserveCapacity(nodes.count)
        for start in 0..<nodes.count where state[start] == 0 {
            // Iterative DFS.
            var stack: [(Int, Int)] = [(start, 0)]
            state[start] = 1
            while let (i, k) = stack.last {
                let ins = nodes[i].inputs
                if k < ins.count {
                    stack[stack.count - 1].1 += 1
                    guard let p = producer[ins[k]] else { continue }
                    if state[p] == 1 {
                        let cycle = stack.map { nodes[$0.0].name }.drop { $0 != nodes[p].name }
                        throw GraphError.cycle(nodes: Array(cycle))
                    }
                    if state[p] == 0 { state[p] = 1; stack.append((p, 0)) }
                } else {
                    state[i] = 2
                    order.append(nodes[i])
                    stack.removeLast()
                }
            }
        }
        return order
    }

    /// Counts of each op name.
    public var opCounts: [String: Int] {
        var c: [String: Int] = [:]
        for n in nodes { c[n.op.name, default: 0] += 1 }
        return c
    }

    /// Number of parameters (elements of all constants).
    public var parameterCount: Int { constants.values.reduce(0) { $0 + $1.count } }
}

/// Errors found while building, checking or running a graph. Each names the node or tensor involved.
public enum GraphError: Error, CustomStringConvertible, Sendable, Equatable {
    case undefinedTensor(name: String, node: String)
    case cycle(nodes: [String])
    case shapeMismatch(node: String, op: String, detail: String)
    case badInput(name: String, detail: String)
    case unknownTensor(name: String)
    case noGradient(node: String, op: String)

    public var description: String {
        switch self {
        case let .undefinedTensor(name, node):
            return "tensor '\(name)' read by \(node) is produced by no node, input or initializer; the model file is incomplete, re-export it"
        case let .cycle(nodes):
            return "the graph has a cycle through nodes \(nodes.joined(separator: " -> ")); a valid ONNX model is acyclic, re-export it"
        case let .shapeMismatch(node, op, detail):
            return "\(op) node '\(node)': \(detail)"
        case let .badInput(name, detail):
            return "input '\(name)': \(detail)"
        case let .unknownTensor(name):
            return "no tensor named '\(name)' in the graph; `vigil inspect MODEL` lists the tensors"
        case let .noGradient(node, op):
            return "cannot back-propagate through \(op) node '\(node)': its gradient with respect to the captured tensor is not defined; choose a later layer"
        }
    }
}

import Foundation
import Graph
import TensorCore

/// What a node's ONNX inputs and attributes resolve to.
struct NodeContext {
    let proto: Onnx_NodeProto
    let attrs: Attributes
    let opset: Int
    let path: String
    /// Known constant value of input i (nil: a run-time tensor or absent).
    let constant: (Int) -> ConstValue?
    /// Static shape of input i (batch axis as `ImportState.symbolicBatch`), when known.
    let shape: (Int) -> [Int]?
    /// Whether a tensor is read by any node or is a graph output.
    let isRead: (String) -> Bool

    var name: String { proto.name }
    func has(_ i: Int) -> Bool { i < proto.input.count && !proto.input[i].isEmpty }

    func unsupported(_ detail: String) -> ModelError { .unsupportedFeature(path: path, node: name, detail: detail) }

    /// Input i, which must be a constant (Reshape's shape, Slice's starts, ...).
    func requireConstant(_ i: Int, _ what: String) throws -> ConstValue {
        guard let c = constant(i) else {
            throw ModelError.needsConstant(path: path, node: name, input: i < proto.input.count ? proto.input[i] : "input \(i), absent", what: what)
        }
        return c
    }
    func optionalInts(_ i: Int, _ what: String) throws -> [Int]? { has(i) ? try requireConstant(i, what).asInts : nil }
}

/// A lowering from an ONNX op to a graph `Op`: the op and which ONNX inputs stay run-time inputs.
struct Lowering {
    var op: Op
    var dataInputs: [Int]
    /// Constants created by the lowering (e.g. BatchNormalization's folded scale and shift), appended as inputs.
    var extraConstants: [(String, Tensor)] = []
}

/// One row of the op table: the opset range Vigil implements and the lowering.
struct OpRule: Sendable {
    let since: Int
    let until: Int
    let lower: @Sendable (NodeContext) throws -> Lowering
    init(_ since: Int = 1, _ until: Int = 99, _ lower: @escaping @Sendable (NodeContext) throws -> Lowering) {
        self.since = since; self.until = until; self.lower = lower
    }
}

/// Spatial attributes shared by Conv and the pools.
func window(_ c: NodeContext, kernel: [Int]) throws -> Window2D {
    guard kernel.count == 2 else { throw c.unsupported("only 2-D windows are supported, kernel_shape is \(kernel)") }
    let strides = c.attrs.ints("strides") ?? [1, 1]
    let dil = c.attrs.ints("dilations") ?? [1, 1]
    var pads = c.attrs.ints("pads") ?? [0, 0, 0, 0]
    guard strides.count == 2, dil.count == 2, pads.count == 4 else { throw c.unsupported("strides \(strides), dilations \(dil) or pads \(pads) do not describe a 2-D window") }
    guard (kernel + strides + dil).allSatisfy({ $0 >= 1 && $0 <= Op.maxWindow }), pads.allSatisfy({ $0 >= 0 && $0 <= Op.maxWindow }) else {
        throw ModelError.badGraph(path: c.path, detail: "node '\(c.name)' (\(c.proto.opType)): kernel_shape \(kernel), strides \(strides), dilations \(dil) must be 1 or more and pads \(pads) 0 or more; the model is damaged, re-export it")
    }
    let auto = c.attrs.string("auto_pad", "NOTSET")
    switch auto {
    case "NOTSET": break
    case "VALID": pads = [0, 0, 0, 0]
    case "SAME_UPPER", "SAME_LOWER":
        guard let x = c.shape(0), x.count == 4, x.allSatisfy({ $0 >= 0 && $0 <= Op.maxExtent }) else { throw c.unsupported("auto_pad \(auto) needs the input's spatial size at load time") }
        for a in 0..<2 {
            let inLen = x[2 + a]
            let out = (inLen + strides[a] - 1) / strides[a]
            let total = max(0, (out - 1) * strides[a] + (kernel[a] - 1) * dil[a] + 1 - inLen)
            let small = total / 2, big = total - small
            pads[a] = auto == "SAME_UPPER" ? small : big
            pads[a + 2] = auto == "SAME_UPPER" ? big : small
        }
    default: throw c.unsupported("auto_pad '\(auto)' is not an ONNX value")
    }
    return Window2D(kernelH: kernel[0], kernelW: kernel[1], strideH: strides[0], strideW: strides[1],
                    dilationH: dil[0], dilationW: dil[1], padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3])
}

func unary(_ a: Activation) -> OpRule { OpRule { _ in Lowering(op: .activation(a), dataInputs: [0]) } }
func binaryRule(_ b: BinaryOp) -> OpRule {
    OpRule(6) { c in
        // Opset 6 broadcasting aligns B at `axis` of A; NumPy rules agree when B is aligned to A's trailing axes.
        if c.opset < 7 && c.attrs.int("broadcast", 0) != 0 && c.attrs.has("axis") {
            guard let a = c.shape(0), let bs = c.shape(1), c.attrs.int("axis", 0) == a.count - bs.count || c.attrs.int("axis", 0) == -bs.count else {
                throw c.unsupported("legacy broadcasting with an axis that is not the trailing one is not supported")
            }
        }
        return Lowering(op: .binary(b), dataInputs: [0, 1])
    }
}
func variadicRule(_ b: BinaryOp, mean: Bool = false) -> OpRule {
    OpRule(6) { c in Lowering(op: .variadic(b, mean: mean), dataInputs: Array(0..<c.proto.input.count)) }
}
func reduceRule(_ k: ReduceKind, axesInputSince: Int) -> OpRule {
    OpRule { c in
        let axes = c.opset >= axesInputSince ? try c.optionalInts(1, "axes") : c.attrs.ints("axes")
        return Lowering(op: .reduce(k, axes: axes, keepDims: c.attrs.int("keepdims", 1) != 0,
                                    noopWithEmptyAxes: c.attrs.int("noop_with_empty_axes", 0) != 0), dataInputs: [0])
    }
}
func poolRule(_ max: Bool) -> OpRule {
    OpRule(1) { c in
        guard let k = c.attrs.ints("kernel_shape") else { throw c.unsupported("kernel_shape is required") }
        if c.proto.output.count > 1 && !c.proto.output[1].isEmpty { throw c.unsupported("the Indices output of MaxPool is not supported") }
        let kind: PoolKind = max ? .max : .average(countIncludePad: c.attrs.int("count_include_pad", 0) != 0)
        return Lowering(op: .pool(kind, window: try window(c, kernel: k), ceilMode: c.attrs.int("ceil_mode", 0) != 0), dataInputs: [0])
    }
}

func resizeLowering(_ c: NodeContext, mode m: String, scalesInput: Int?, sizesInput: Int?) throws -> Lowering {
    let mode: ResizeMode
    switch m {
    case "nearest":
        // Upsample and opset-10 Resize pick the floor of the asymmetric source coordinate.
        guard let nm = NearestMode(rawValue: c.attrs.string("nearest_mode", c.opset >= 11 ? "round_prefer_floor" : "floor")) else { throw c.unsupported("nearest_mode \(c.attrs.string("nearest_mode", "")) is not supported") }
        mode = .nearest(nm)
    case "linear", "bilinear": mode = .linear
    default: throw c.unsupported("Resize mode '\(m)' is not supported (nearest and linear are)")
    }
    let defaultCT = c.opset >= 11 ? "half_pixel" : "asymmetric"
    guard let ct = CoordinateTransform(rawValue: c.attrs.string("coordinate_transformation_mode", defaultCT)) else {
        throw c.unsupported("coordinate_transformation_mode '\(c.attrs.string("coordinate_transformation_mode", ""))' is not supported")
    }
    if c.attrs.has("axes") { throw c.unsupported("the axes attribute of Resize is not supported") }
    if c.attrs.int("antialias", 0) != 0 { throw c.unsupported("antialias is not supported") }
    if c.attrs.string("keep_aspect_ratio_policy", "stretch") != "stretch" { throw c.unsupported("keep_aspect_ratio_policy is not supported") }
    var scales: [Double]? = nil, sizes: [Int]? = nil
    if let si = sizesInput, c.has(si), let v = c.constant(si), v.count > 0 { sizes = v.asInts }
    else if let si = scalesInput, c.has(si), let v = c.constant(si), v.count > 0 { scales = v.asFloats.map(Double.init) }
    else if let s = c.attrs.floats("scales") { scales = s.map(Double.init) }
    else { throw c.unsupported("Resize needs constant scales or sizes") }
    return Lowering(op: .resize(mode: mode, transform: ct, scales: scales, sizes: sizes), dataInputs: [0])
}

/// Scale, zero point, axis and integer range of a QuantizeLinear or DequantizeLinear node (inputs 1 and 2 constant).
func quantization(_ c: NodeContext, outputType: Bool) throws -> Quantization {
    let scale = try c.requireConstant(1, "scale")
    let zero = c.has(2) ? try c.requireConstant(2, "zero point") : nil
    let scales = scale.asFloats, zeros = zero?.asInts ?? [0]
    guard !scales.isEmpty, scales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
        throw ModelError.badGraph(path: c.path, detail: "node '\(c.name)' (\(c.proto.opType)) has scales \(scales.prefix(4)); they must be positive and finite, re-export or re-quantise the model")
    }
    guard zeros.count == 1 || zeros.count == scales.count else { throw c.unsupported("\(zeros.count) zero points for \(scales.count) scales") }
    // The integer type: the zero point's (uint8 when it is absent).
    let type = zero?.dataType ?? 2
    let range: (Int, Int)
    switch type {
    case 2: range = (0, 255)
    case 3: range = (-128, 127)
    case 4: range = (0, 65535)
    case 5: range = (-32768, 32767)
    case 6: range = (Int(Int32.min), Int(Int32.max))
    default:
        if outputType { throw c.unsupported("quantising to element type \(type) is not supported (uint8, int8, uint16, int16 are)") }
        range = (Int(Int32.min), Int(Int32.max))
    }
    return Quantization(scales: scales, zeroPoints: zeros, axis: c.opset >= 13 ? c.attrs.int("axis", 1) : 1, low: range.0, high: range.1)
}

/// The op table: every ONNX op type Vigil runs, with its opset range and lowering. Anything else fails at load.
let opTable: [String: OpRule] = [
    "Conv": OpRule { c in
        guard let w = c.shape(1) ?? c.constant(1)?.shape else { throw c.unsupported("the weight shape must be known at load") }
        let kernel = c.attrs.ints("kernel_shape") ?? Array(w.dropFirst(2))
        return Lowering(op: .conv(window: try window(c, kernel: kernel), groups: c.attrs.int("group", 1), activation: .identity),
                        dataInputs: c.has(2) ? [0, 1, 2] : [0, 1])
    },
    "BatchNormalization": OpRule(6) { c in
        if c.attrs.int("training_mode", 0) != 0 { throw c.unsupported("training-mode BatchNormalization is not supported") }
        let eps = c.attrs.float("epsilon", 1e-5)
        let scale = try c.requireConstant(1, "scale").asFloats, b = try c.requireConstant(2, "bias").asFloats
        let mean = try c.requireConstant(3, "mean").asFloats, v = try c.requireConstant(4, "var").asFloats
        guard scale.count == b.count, b.count == mean.count, mean.count == v.count else {
            throw c.unsupported("scale, bias, mean and var hold \(scale.count), \(b.count), \(mean.count), \(v.count) values; they must agree")
        }
        let s = (0..<scale.count).map { scale[$0] / (v[$0] + eps).squareRoot() }
        let t = (0..<scale.count).map { b[$0] - mean[$0] * s[$0] }
        return Lowering(op: .channelAffine, dataInputs: [0],
                        extraConstants: [(c.name + "::scale", Tensor(shape: [s.count], data: s)), (c.name + "::shift", Tensor(shape: [t.count], data: t))])
    },
    "Relu": unary(.relu),
    "LeakyRelu": OpRule { c in Lowering(op: .activation(.leakyRelu(alpha: c.attrs.float("alpha", 0.01))), dataInputs: [0]) },
    "PRelu": OpRule(6) { c in
        // Opset 6 applies a 1-D slope per channel (axis 1).
        if c.opset < 7, let slope = c.constant(1), slope.shape.count == 1, let x = c.shape(0), x.count > 2, x[1] == slope.count {
            let shape = [slope.count] + [Int](repeating: 1, count: x.count - 2)
            return Lowering(op: .binary(.prelu), dataInputs: [0], extraConstants: [(c.name + "::slope", Tensor(shape: shape, data: slope.asFloats))])
        }
        return Lowering(op: .binary(.prelu), dataInputs: [0, 1])
    },
    "Clip": OpRule { c in
        if c.opset < 11 {
            return Lowering(op: .activation(.clip(c.attrs.float("min", -.greatestFiniteMagnitude), c.attrs.float("max", .greatestFiniteMagnitude))), dataInputs: [0])
        }
        let lo = c.has(1) ? try c.requireConstant(1, "min").asFloats.first ?? -.greatestFiniteMagnitude : -.greatestFiniteMagnitude
        let hi = c.has(2) ? try c.requireConstant(2, "max").asFloats.first ?? .greatestFiniteMagnitude : .greatestFiniteMagnitude
        if lo == 0 && hi == .greatestFiniteMagnitude { return Lowering(op: .activation(.relu), dataInputs: [0]) }
        return Lowering(op: .activation(.clip(lo, hi)), dataInputs: [0])
    },
    "Sigmoid": unary(.sigmoid),
    "HardSigmoid": OpRule { c in Lowering(op: .activation(.hardSigmoid(alpha: c.attrs.float("alpha", 0.2), beta: c.attrs.float("beta", 0.5))), dataInputs: [0]) },
    "HardSwish": OpRule(14) { _ in Lowering(op: .activation(.hardSwish), dataInputs: [0]) },
    "Tanh": unary(.tanh),
    "Elu": OpRule { c in Lowering(op: .activation(.elu(alpha: c.attrs.float("alpha", 1))), dataInputs: [0]) },
    "Selu": OpRule { c in Lowering(op: .activation(.selu(alpha: c.attrs.float("alpha", 1.67326319217681884765625), gamma: c.attrs.float("gamma", 1.05070102214813232421875))), dataInputs: [0]) },
    "Softplus": unary(.softplus),
    "Add": binaryRule(.add), "Sub": binaryRule(.sub), "Mul": binaryRule(.mul), "Div": binaryRule(.div), "Pow": binaryRule(.pow),
    "Sum": variadicRule(.add), "Max": variadicRule(.max), "Min": variadicRule(.min), "Mean": variadicRule(.add, mean: true),
    "MaxPool": poolRule(true),
    "AveragePool": poolRule(false),
    "GlobalAveragePool": OpRule { _ in Lowering(op: .globalPool(max: false), dataInputs: [0]) },
    "GlobalMaxPool": OpRule { _ in Lowering(op: .globalPool(max: true), dataInputs: [0]) },
    "LRN": OpRule { c in
        Lowering(op: .lrn(size: c.attrs.int("size", 1), alpha: c.attrs.float("alpha", 1e-4), beta: c.attrs.float("beta", 0.75), bias: c.attrs.float("bias", 1)), dataInputs: [0])
    },
    "Gemm": OpRule(6) { c in
        if c.opset < 7 && c.has(2) && c.attrs.int("broadcast", 0) == 0, let cs = c.shape(2), let a = c.shape(0), let b = c.shape(1), a.count == 2, b.count == 2 {
            let m = c.attrs.int("transA", 0) != 0 ? a[1] : a[0], n = c.attrs.int("transB", 0) != 0 ? b[0] : b[1]
            guard cs == [m, n] else { throw c.unsupported("Gemm without broadcast needs C of shape [\(m), \(n)], got \(cs)") }
        }
        return Lowering(op: .gemm(alpha: c.attrs.float("alpha", 1), beta: c.attrs.float("beta", 1), transA: c.attrs.int("transA", 0) != 0, transB: c.attrs.int("transB", 0) != 0),
                 dataInputs: c.has(2) ? [0, 1, 2] : [0, 1])
    },
    "MatMul": OpRule { _ in Lowering(op: .matmul, dataInputs: [0, 1]) },
    "Flatten": OpRule { c in Lowering(op: .flatten(axis: c.attrs.int("axis", 1)), dataInputs: [0]) },
    "Reshape": OpRule(5) { c in
        Lowering(op: .reshape(shape: try c.requireConstant(1, "shape").asInts, allowZero: c.attrs.int("allowzero", 0) != 0), dataInputs: [0])
    },
    "Squeeze": OpRule { c in
        Lowering(op: .squeeze(axes: c.opset >= 13 ? try c.optionalInts(1, "axes") : c.attrs.ints("axes")), dataInputs: [0])
    },
    "Unsqueeze": OpRule { c in
        guard let axes = c.opset >= 13 ? try c.optionalInts(1, "axes") : c.attrs.ints("axes") else { throw c.unsupported("Unsqueeze needs axes") }
        return Lowering(op: .unsqueeze(axes: axes), dataInputs: [0])
    },
    "Transpose": OpRule { c in Lowering(op: .transpose(perm: c.attrs.ints("perm")), dataInputs: [0]) },
    "Concat": OpRule(4) { c in Lowering(op: .concat(axis: c.attrs.int("axis", 0)), dataInputs: Array(0..<c.proto.input.count).filter(c.has)) },
    "Split": OpRule(2) { c in
        let sizes = c.opset >= 13 ? try c.optionalInts(1, "split") : c.attrs.ints("split")
        return Lowering(op: .split(axis: c.attrs.int("axis", 0), sizes: sizes, count: c.attrs.int("num_outputs", c.proto.output.count)), dataInputs: [0])
    },
    "Slice": OpRule { c in
        if c.opset < 10 {
            guard let st = c.attrs.ints("starts"), let en = c.attrs.ints("ends") else { throw c.unsupported("Slice needs starts and ends") }
            return Lowering(op: .slice(starts: st, ends: en, axes: c.attrs.ints("axes"), steps: nil), dataInputs: [0])
        }
        return Lowering(op: .slice(starts: try c.requireConstant(1, "starts").asInts, ends: try c.requireConstant(2, "ends").asInts,
                                   axes: try c.optionalInts(3, "axes"), steps: try c.optionalInts(4, "steps")), dataInputs: [0])
    },
    "Pad": OpRule(2) { c in
        let modeName = c.attrs.string("mode", "constant")
        guard let mode = PadMode(rawValue: modeName) else { throw c.unsupported("Pad mode '\(modeName)' is not supported (constant, reflect, edge are)") }
        if c.opset < 11 {
            guard let p = c.attrs.ints("pads") ?? c.attrs.ints("paddings") else { throw c.unsupported("Pad needs pads") }
            return Lowering(op: .pad(mode: mode, pads: p, value: c.attrs.float("value", 0)), dataInputs: [0])
        }
        var pads = try c.requireConstant(1, "pads").asInts
        let value = c.has(2) ? try c.requireConstant(2, "constant_value").asFloats.first ?? 0 : 0
        if let axes = try c.optionalInts(3, "axes") {
            guard let r = c.shape(0)?.count else { throw c.unsupported("Pad with axes needs the input rank at load") }
            guard pads.count == 2 * axes.count else { throw c.unsupported("pads \(pads) must hold 2 values per axis of \(axes)") }
            var full = [Int](repeating: 0, count: 2 * r)
            for (j, a0) in axes.enumerated() {
                let a = a0 < 0 ? a0 + r : a0
                guard a >= 0 && a < r else { throw c.unsupported("Pad axis \(a0) is out of range for rank \(r)") }
                full[a] = pads[j]; full[a + r] = pads[j + axes.count]
            }
            pads = full
        }
        // DenseNet's exports put an all-zero Pad before each transition's pooling: nothing to copy.
        if pads.allSatisfy({ $0 == 0 }) { return Lowering(op: .identity, dataInputs: [0]) }
        return Lowering(op: .pad(mode: mode, pads: pads, value: value), dataInputs: [0])
    },
    "ReduceMean": reduceRule(.mean, axesInputSince: 18),
    "ReduceMax": reduceRule(.max, axesInputSince: 18),
    "ReduceMin": reduceRule(.min, axesInputSince: 18),
    "ReduceSum": reduceRule(.sum, axesInputSince: 13),
    "ReduceSumSquare": reduceRule(.sumSquare, axesInputSince: 18),
    "ReduceL2": reduceRule(.l2, axesInputSince: 18),
    "ReduceL1": reduceRule(.l1, axesInputSince: 18),
    "Softmax": OpRule { c in Lowering(op: .softmax(axis: c.attrs.int("axis", c.opset >= 13 ? -1 : 1), legacy: c.opset < 13), dataInputs: [0]) },
    "Dropout": OpRule { c in
        // Inference, or a ratio of 0 (as exporters write for attention dropout): the identity. The mask output
        // (all true then) is supported only while no node reads it.
        if c.proto.output.count > 1 && !c.proto.output[1].isEmpty && c.isRead(c.proto.output[1]) {
            throw c.unsupported("the mask output of Dropout is read by another node, which Vigil does not support")
        }
        let ratio = c.opset >= 12 ? (c.has(1) ? try c.requireConstant(1, "ratio").asFloats.first ?? 0.5 : 0.5) : c.attrs.float("ratio", 0.5)
        if try c.has(2) && (c.requireConstant(2, "training_mode").asInts.first ?? 0) != 0 && ratio != 0 {
            throw c.unsupported("training-mode Dropout with ratio \(ratio) is random and not supported; export the model in eval mode")
        }
        return Lowering(op: .identity, dataInputs: [0])
    },
    "Identity": OpRule { _ in Lowering(op: .identity, dataInputs: [0]) },
    "Resize": OpRule(10) { c in
        try resizeLowering(c, mode: c.attrs.string("mode", "nearest"), scalesInput: c.opset >= 11 ? 2 : 1, sizesInput: c.opset >= 11 ? 3 : nil)
    },
    "Erf": OpRule(9) { _ in Lowering(op: .activation(.erf), dataInputs: [0]) },
    "Sqrt": OpRule(6) { _ in Lowering(op: .activation(.sqrt), dataInputs: [0]) },
    "Exp": OpRule(6) { _ in Lowering(op: .activation(.exp), dataInputs: [0]) },
    "LayerNormalization": OpRule(17) { c in
        if c.proto.output.count > 1 && c.proto.output.dropFirst().contains(where: { !$0.isEmpty }) {
            throw c.unsupported("the Mean and InvStdDev outputs of LayerNormalization are training outputs, not supported")
        }
        return Lowering(op: .layerNorm(axis: c.attrs.int("axis", -1), epsilon: c.attrs.float("epsilon", 1e-5)),
                        dataInputs: c.has(2) ? [0, 1, 2] : [0, 1])
    },
    "Einsum": OpRule(12) { c in
        let eq = c.attrs.string("equation", "")
        do { return Lowering(op: .einsum(try EinsumSpec(eq)), dataInputs: [0, 1]) } catch let e as EinsumError { throw c.unsupported(e.description) }
    },
    "Gather": OpRule(1) { c in
        let idx = try c.requireConstant(1, "indices")
        return Lowering(op: .gather(axis: c.attrs.int("axis", 0), indices: idx.asInts, indexShape: idx.shape), dataInputs: [0])
    },
    "Expand": OpRule(8) { c in
        Lowering(op: .expand(shape: try c.requireConstant(1, "shape").asInts), dataInputs: [0])
    },
    "QuantizeLinear": OpRule(10) { c in
        let q = try quantization(c, outputType: true)
        return Lowering(op: .quantize(q), dataInputs: [0])
    },
    "DequantizeLinear": OpRule(10) { c in
        Lowering(op: .dequantize(try quantization(c, outputType: false)), dataInputs: [0])
    },
    "Upsample": OpRule(7, 9) { c in
        try resizeLowering(c, mode: c.attrs.string("mode", "nearest"), scalesInput: c.opset >= 9 ? 1 : nil, sizesInput: nil)
    },
]

/// Op types evaluated only at load time, on constants (shape sub-graphs).
let foldOnlyOps: Set<String> = ["Shape", "Size", "Cast", "ConstantOfShape", "Constant", "Equal", "Less", "Greater", "LessOrEqual",
                                 "GreaterOrEqual", "And", "Or", "Not", "Where", "Mod", "Range", "ScatterND", "Neg", "Abs", "Floor", "Ceil"]

/// The names Vigil supports, for messages and `vigil inspect`.
public let supportedOpTypes: [String] = (Array(opTable.keys) + Array(foldOnlyOps)).sorted()

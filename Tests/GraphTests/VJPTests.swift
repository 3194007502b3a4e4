import Foundation
import Graph
import Testing
import TensorCore
import TestSupport

/// Values that are multiples of 0.1: at least 0.05 from every value of `spaced(step: 0.1)`, so max/min
/// between the two never ties within a finite-difference step.
func tenths(_ shape: [Int], _ rng: inout SeededRandom) -> Tensor {
    var t = rng.tensor(shape, -1.5, 1.5)
    for i in 0..<t.count { t.data[i] = (t.data[i] * 10).rounded() / 10 }
    return t
}

let pad1 = Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)

let vjpCases: [VJPCase] = {
    var r = SeededRandom(seed: 2024)
    var c: [VJPCase] = []

    // Convolution (linear in x); fused activations get biases that put whole channels on either side of the kinks.
    c.append(VJPCase(label: "conv 3x3 pad 1", op: .conv(window: pad1, groups: 1, activation: .identity),
                     inputs: [r.tensor([1, 2, 5, 5]), r.tensor([3, 2, 3, 3]), r.tensor([3])]))
    c.append(VJPCase(label: "conv depthwise", op: .conv(window: pad1, groups: 3, activation: .identity),
                     inputs: [r.tensor([1, 3, 5, 5]), r.tensor([3, 1, 3, 3])]))
    c.append(VJPCase(label: "conv depthwise multiplier 2 stride 2", op: .conv(window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), groups: 2, activation: .identity),
                     inputs: [r.tensor([1, 2, 6, 5]), r.tensor([4, 1, 3, 3]), r.tensor([4])]))
    c.append(VJPCase(label: "conv groups 2", op: .conv(window: pad1, groups: 2, activation: .identity),
                     inputs: [r.tensor([1, 4, 4, 4]), r.tensor([6, 2, 3, 3])]))
    c.append(VJPCase(label: "conv stride 2 asymmetric pads batch 2", op: .conv(window: Window2D(kernelH: 3, kernelW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 1, padBottom: 2, padRight: 0), groups: 1, activation: .identity),
                     inputs: [r.tensor([2, 2, 6, 5]), r.tensor([3, 2, 3, 2]), r.tensor([3])]))
    c.append(VJPCase(label: "conv dilation 2", op: .conv(window: Window2D(kernelH: 3, kernelW: 3, dilationH: 2, dilationW: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2), groups: 1, activation: .identity),
                     inputs: [r.tensor([1, 2, 5, 5]), r.tensor([2, 2, 3, 3])]))
    c.append(VJPCase(label: "conv 1x1 pointwise", op: .conv(window: Window2D(kernelH: 1, kernelW: 1), groups: 1, activation: .identity),
                     inputs: [r.tensor([2, 3, 3, 3]), r.tensor([4, 3, 1, 1])]))
    c.append(VJPCase(label: "conv fused relu", op: .conv(window: pad1, groups: 1, activation: .relu),
                     inputs: [r.tensor([1, 2, 4, 4]), r.tensor([4, 2, 3, 3], -0.1, 0.1), Tensor(shape: [4], data: [-3, 3, -3, 3])]))
    c.append(VJPCase(label: "conv fused clip(0,6)", op: .conv(window: pad1, groups: 1, activation: .clip(0, 6)),
                     inputs: [r.tensor([1, 2, 4, 4]), r.tensor([3, 2, 3, 3], -0.1, 0.1), Tensor(shape: [3], data: [-3, 3, 9])]))

    // Fusion only makes ReLU and Clip epilogues, but Op.conv takes any activation; its VJP must hold for each.
    for a in [Activation.leakyRelu(alpha: 0.1), .sigmoid, .tanh, .elu(alpha: 0.7), .selu(alpha: 1.6733, gamma: 1.0507),
              .hardSigmoid(alpha: 0.2, beta: 0.5), .hardSwish, .softplus] {
        c.append(VJPCase(label: "conv fused \(a)", op: .conv(window: pad1, groups: 1, activation: a),
                         inputs: [r.tensor([1, 2, 4, 4]), r.tensor([4, 2, 3, 3], -0.1, 0.1), Tensor(shape: [4], data: [-2, 2, -0.5, 0.5])]).nonlinear())
    }

    c.append(VJPCase(label: "channelAffine", op: .channelAffine, inputs: [r.tensor([2, 3, 2, 2]), r.tensor([3]), r.tensor([3])]))

    // Activations over values 0.15 or more from every kink (ReLU 0, clip +-1, hard sigmoid +-2.5, hard swish +-3).
    let acts: [Activation] = [.identity, .relu, .clip(-1, 1), .leakyRelu(alpha: 0.1), .sigmoid, .hardSigmoid(alpha: 0.2, beta: 0.5),
                              .hardSwish, .tanh, .elu(alpha: 0.7), .selu(alpha: 1.6733, gamma: 1.0507), .softplus]
    for a in acts {
        c.append(VJPCase(label: "activation \(a)", op: .activation(a), inputs: [r.spaced([2, 3, 4], step: 0.3)]).nonlinear())
    }

    // Binary ops with broadcasting; gradient wrt the first input (and the second where it is interesting).
    c.append(VJPCase(label: "add [2,1,4]+[3,1]", op: .binary(.add), inputs: [r.tensor([2, 1, 4]), r.tensor([3, 1])]))
    c.append(VJPCase(label: "sub [2,3,4]-[4]", op: .binary(.sub), inputs: [r.tensor([2, 3, 4]), r.tensor([4])]))
    c.append(VJPCase(label: "sub [2,3,4]-[4]", op: .binary(.sub), inputs: [r.tensor([2, 3, 4]), r.tensor([4])]).withRespectTo(1))
    c.append(VJPCase(label: "mul [3,1]*[2,3,4]", op: .binary(.mul), inputs: [r.tensor([3, 1]), r.tensor([2, 3, 4])]))
    c.append(VJPCase(label: "mul [3,1]*[2,3,4]", op: .binary(.mul), inputs: [r.tensor([3, 1]), r.tensor([2, 3, 4])]).withRespectTo(1))
    c.append(VJPCase(label: "div [2,3,4]/[1,3,1]", op: .binary(.div), inputs: [r.tensor([2, 3, 4]), r.tensor([1, 3, 1], 0.5, 1.5)]))
    c.append(VJPCase(label: "div [2,3,4]/[1,3,1]", op: .binary(.div), inputs: [r.tensor([2, 3, 4]), r.tensor([1, 3, 1], 0.5, 1.5)]).withRespectTo(1).nonlinear())
    c.append(VJPCase(label: "max [2,3,4] with [4]", op: .binary(.max), inputs: [r.spaced([2, 3, 4], step: 0.1), tenths([4], &r)]).nonlinear())
    c.append(VJPCase(label: "min [3,1] with [2,3,4]", op: .binary(.min), inputs: [r.spaced([3, 1], step: 0.1), tenths([2, 3, 4], &r)]).nonlinear())
    c.append(VJPCase(label: "max [2,3,4] with [4]", op: .binary(.max), inputs: [tenths([2, 3, 4], &r), r.spaced([4], step: 0.1)]).withRespectTo(1).nonlinear())
    c.append(VJPCase(label: "prelu [2,3,2,2] slope [3,1,1]", op: .binary(.prelu), inputs: [r.spaced([2, 3, 2, 2]), r.tensor([3, 1, 1], 0.1, 0.3)]).nonlinear())
    c.append(VJPCase(label: "prelu [2,3,2,2] slope [3,1,1]", op: .binary(.prelu), inputs: [r.spaced([2, 3, 2, 2]), r.tensor([3, 1, 1], 0.1, 0.3)]).withRespectTo(1))
    c.append(VJPCase(label: "pow [2,3] ^ [3]", op: .binary(.pow), inputs: [r.tensor([2, 3], 0.5, 2), r.tensor([3], -1.5, 2.5)]).nonlinear())

    // Variadic.
    c.append(VJPCase(label: "sum of 3 broadcast", op: .variadic(.add, mean: false), inputs: [r.tensor([2, 1, 3]), r.tensor([4, 3]), r.tensor([1])]))
    c.append(VJPCase(label: "sum of 3 broadcast", op: .variadic(.add, mean: false), inputs: [r.tensor([2, 1, 3]), r.tensor([4, 3]), r.tensor([1])]).withRespectTo(1))
    c.append(VJPCase(label: "mean of 3 broadcast", op: .variadic(.add, mean: true), inputs: [r.tensor([2, 4, 3]), r.tensor([3]), r.tensor([4, 1])]))
    c.append(VJPCase(label: "mean of 3 broadcast", op: .variadic(.add, mean: true), inputs: [r.tensor([2, 4, 3]), r.tensor([3]), r.tensor([4, 1])]).withRespectTo(2))
    c.append(VJPCase(label: "max of 3 broadcast", op: .variadic(.max, mean: false), inputs: [r.spaced([2, 3], step: 0.1), tenths([3], &r), tenths([2, 1], &r)]).nonlinear())
    c.append(VJPCase(label: "max of 3 broadcast", op: .variadic(.max, mean: false), inputs: [tenths([2, 3], &r), r.spaced([3], step: 0.1), tenths([2, 1], &r)]).withRespectTo(1).nonlinear())
    c.append(VJPCase(label: "min of 2", op: .variadic(.min, mean: false), inputs: [r.spaced([3, 4], step: 0.1), tenths([3, 4], &r)]).nonlinear())

    // Pooling.
    let w3s2 = Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
    c.append(VJPCase(label: "maxpool 3x3 s2 p1", op: .pool(.max, window: w3s2, ceilMode: false), inputs: [r.spaced([1, 2, 6, 6])]).nonlinear())
    c.append(VJPCase(label: "maxpool 2x2 s2 ceil", op: .pool(.max, window: Window2D(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2), ceilMode: true), inputs: [r.spaced([1, 2, 5, 5])]).nonlinear())
    c.append(VJPCase(label: "avgpool 3x3 s2 p1 exclude pad", op: .pool(.average(countIncludePad: false), window: w3s2, ceilMode: false), inputs: [r.tensor([1, 2, 6, 6])]))
    c.append(VJPCase(label: "avgpool 3x3 s2 p1 include pad", op: .pool(.average(countIncludePad: true), window: w3s2, ceilMode: false), inputs: [r.tensor([1, 2, 6, 6])]))
    c.append(VJPCase(label: "avgpool 3x3 s2 ceil include pad", op: .pool(.average(countIncludePad: true), window: Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 0, padBottom: 1, padRight: 1), ceilMode: true), inputs: [r.tensor([2, 1, 6, 7])]))
    c.append(VJPCase(label: "globalPool avg", op: .globalPool(max: false), inputs: [r.tensor([2, 3, 3, 3])]))
    c.append(VJPCase(label: "globalPool max", op: .globalPool(max: true), inputs: [r.spaced([2, 3, 3, 3])]).nonlinear())

    c.append(VJPCase(label: "lrn size 3", op: .lrn(size: 3, alpha: 0.5, beta: 0.75, bias: 1), inputs: [r.tensor([1, 5, 2, 2])]).nonlinear())
    c.append(VJPCase(label: "lrn size 4", op: .lrn(size: 4, alpha: 0.8, beta: 0.5, bias: 2), inputs: [r.tensor([2, 6, 1, 2])]).nonlinear())

    // Gemm: every transpose combination, gradient wrt A and wrt B (two graphs); C broadcast.
    for ta in [false, true] {
        for tb in [false, true] {
            let a = r.tensor(ta ? [4, 3] : [3, 4]), b = r.tensor(tb ? [5, 4] : [4, 5])
            let g = VJPCase(label: "gemm transA \(ta) transB \(tb)", op: .gemm(alpha: 0.7, beta: 0.5, transA: ta, transB: tb),
                            inputs: [a, b, r.tensor([5])])
            c.append(g.withRespectTo(0)); c.append(g.withRespectTo(1))
        }
    }
    c.append(VJPCase(label: "gemm C [3,1]", op: .gemm(alpha: 1, beta: 0.5, transA: false, transB: false),
                     inputs: [r.tensor([3, 4]), r.tensor([4, 5]), r.tensor([3, 1])]).withRespectTo(2))

    // MatMul.
    let mm2 = VJPCase(label: "matmul [3,4]x[4,5]", op: .matmul, inputs: [r.tensor([3, 4]), r.tensor([4, 5])])
    let mm3 = VJPCase(label: "matmul [2,3,4]x[4,5]", op: .matmul, inputs: [r.tensor([2, 3, 4]), r.tensor([4, 5])])
    let mmb = VJPCase(label: "matmul [2,3,4]x[1,4,2]", op: .matmul, inputs: [r.tensor([2, 3, 4]), r.tensor([1, 4, 2])])
    let mm1 = VJPCase(label: "matmul [4]x[2,4,3]", op: .matmul, inputs: [r.tensor([4]), r.tensor([2, 4, 3])])
    for m in [mm2, mm3, mmb, mm1] { c.append(m.withRespectTo(0)); c.append(m.withRespectTo(1)) }
    // Attention's heads as torch exports them: [tokens, heads, dim] operands, Kᵀ read in place, heads merged back.
    let pmm = VJPCase(label: "permuted matmul [4,3,5]x[6,3,5]", op: .permutedMatmul(a: [1, 0, 2], b: [1, 2, 0], out: [1, 0, 2], alpha: 0.3, softmax: false),
                      inputs: [r.tensor([4, 3, 5]), r.tensor([6, 3, 5])])
    c.append(pmm.withRespectTo(0)); c.append(pmm.withRespectTo(1))
    // Swin's scores: Kᵀ read in place, a bias broadcast over the windows added, the softmax taken in the product.
    let scores = VJPCase(label: "permuted matmul + bias + softmax [2,3,4,5]x[2,3,6,5]", op: .permutedMatmul(a: [0, 1, 2, 3], b: [0, 1, 3, 2], out: [0, 1, 2, 3], alpha: 0.5, softmax: true),
                         inputs: [r.tensor([2, 3, 4, 5]), r.tensor([2, 3, 6, 5]), r.tensor([3, 4, 6])])
    c.append(scores.withRespectTo(0)); c.append(scores.withRespectTo(1)); c.append(scores.withRespectTo(2))

    // Shape ops.
    c.append(VJPCase(label: "flatten axis 2", op: .flatten(axis: 2), inputs: [r.tensor([2, 3, 2, 2])]))
    c.append(VJPCase(label: "reshape [0,-1]", op: .reshape(shape: [0, -1], allowZero: false), inputs: [r.tensor([2, 3, 4])]))
    c.append(VJPCase(label: "squeeze [1]", op: .squeeze(axes: [1]), inputs: [r.tensor([2, 1, 3])]))
    c.append(VJPCase(label: "squeeze all", op: .squeeze(axes: nil), inputs: [r.tensor([1, 3, 1, 2])]))
    c.append(VJPCase(label: "unsqueeze [0,3]", op: .unsqueeze(axes: [0, 3]), inputs: [r.tensor([2, 3])]))
    c.append(VJPCase(label: "identity", op: .identity, inputs: [r.tensor([2, 3])]))
    c.append(VJPCase(label: "transpose [2,0,1]", op: .transpose(perm: [2, 0, 1]), inputs: [r.tensor([2, 3, 4])]))
    c.append(VJPCase(label: "transpose reversed", op: .transpose(perm: nil), inputs: [r.tensor([2, 3, 4])]))
    let cat = VJPCase(label: "concat axis 1", op: .concat(axis: 1), inputs: [r.tensor([2, 2, 3]), r.tensor([2, 1, 3]), r.tensor([2, 3, 3])])
    c.append(cat.withRespectTo(0)); c.append(cat.withRespectTo(1))
    c.append(VJPCase(label: "concat axis -1", op: .concat(axis: -1), inputs: [r.tensor([2, 3]), r.tensor([2, 2])]).withRespectTo(1))
    c.append(VJPCase(label: "split axis 1 sizes [1,2]", op: .split(axis: 1, sizes: [1, 2], count: 2), inputs: [r.tensor([2, 3, 4])]))
    c.append(VJPCase(label: "split axis -1 into 3 uneven", op: .split(axis: -1, sizes: nil, count: 3), inputs: [r.tensor([2, 5])]))
    c.append(VJPCase(label: "slice steps 2,3", op: .slice(starts: [1, 0], ends: [4, 6], axes: nil, steps: [2, 3]), inputs: [r.tensor([5, 6])]))
    c.append(VJPCase(label: "slice negative steps", op: .slice(starts: [-1, 4], ends: [-5, 0], axes: [0, 2], steps: [-1, -2]), inputs: [r.tensor([4, 2, 6])]))
    c.append(VJPCase(label: "slice clamped end axis 1", op: .slice(starts: [1], ends: [100], axes: [1], steps: nil), inputs: [r.tensor([2, 4, 3])]))
    c.append(VJPCase(label: "pad constant 0.5", op: .pad(mode: .constant, pads: [0, 1, 2, 0, 2, 1], value: 0.5), inputs: [r.tensor([2, 3, 4])]))
    c.append(VJPCase(label: "pad reflect", op: .pad(mode: .reflect, pads: [0, 2, 1, 0, 1, 3], value: 0), inputs: [r.tensor([2, 3, 4])]))
    c.append(VJPCase(label: "pad edge", op: .pad(mode: .edge, pads: [1, 0, 3, 0, 2, 1], value: 0), inputs: [r.tensor([2, 3, 4])]))
    c.append(VJPCase(label: "pad edge with crop", op: .pad(mode: .edge, pads: [0, -1, 2, 0, 1, -1], value: 0), inputs: [r.tensor([2, 4, 3])]))

    // Reductions.
    c.append(VJPCase(label: "reduce sum axis 1 keepdims", op: .reduce(.sum, axes: [1], keepDims: true, noopWithEmptyAxes: false), inputs: [r.tensor([2, 3, 4])]))
    c.append(VJPCase(label: "reduce sum all", op: .reduce(.sum, axes: nil, keepDims: false, noopWithEmptyAxes: false), inputs: [r.tensor([2, 3])]))
    c.append(VJPCase(label: "reduce mean axes [0,2]", op: .reduce(.mean, axes: [0, 2], keepDims: false, noopWithEmptyAxes: false), inputs: [r.tensor([2, 3, 4])]))
    c.append(VJPCase(label: "reduce max axis -1", op: .reduce(.max, axes: [-1], keepDims: false, noopWithEmptyAxes: false), inputs: [r.spaced([2, 3, 4])]).nonlinear())
    c.append(VJPCase(label: "reduce max axes [0,1] keepdims", op: .reduce(.max, axes: [0, 1], keepDims: true, noopWithEmptyAxes: false), inputs: [r.spaced([2, 3, 2])]).nonlinear())
    c.append(VJPCase(label: "reduce min axis 0", op: .reduce(.min, axes: [0], keepDims: true, noopWithEmptyAxes: false), inputs: [r.spaced([3, 4])]).nonlinear())

    // Softmax.
    c.append(VJPCase(label: "softmax axis 1", op: .softmax(axis: 1, legacy: false), inputs: [r.tensor([2, 3, 4], -2, 2)]).nonlinear())
    c.append(VJPCase(label: "softmax axis -1", op: .softmax(axis: -1, legacy: false), inputs: [r.tensor([2, 5], -2, 2)]).nonlinear())
    c.append(VJPCase(label: "softmax legacy axis 1", op: .softmax(axis: 1, legacy: true), inputs: [r.tensor([2, 3, 4], -2, 2)]).nonlinear())

    // Resize.
    c.append(VJPCase(label: "resize nearest x2 asymmetric", op: .resize(mode: .nearest(.floor), transform: .asymmetric, scales: [1, 1, 2, 2], sizes: nil), inputs: [r.tensor([1, 2, 3, 3])]))
    c.append(VJPCase(label: "resize nearest half_pixel 3x4->5x7", op: .resize(mode: .nearest(.roundPreferFloor), transform: .halfPixel, scales: nil, sizes: [1, 2, 5, 7]), inputs: [r.tensor([1, 2, 3, 4])]))
    c.append(VJPCase(label: "resize linear half_pixel 3x4->5x7", op: .resize(mode: .linear, transform: .halfPixel, scales: nil, sizes: [1, 2, 5, 7]), inputs: [r.tensor([1, 2, 3, 4])]))
    c.append(VJPCase(label: "resize linear align_corners 4x5->2x3", op: .resize(mode: .linear, transform: .alignCorners, scales: nil, sizes: [2, 1, 2, 3]), inputs: [r.tensor([2, 1, 4, 5])]))
    c.append(VJPCase(label: "resize linear scales 1.5 (scale differs from sizes ratio)", op: .resize(mode: .linear, transform: .halfPixel, scales: [1, 1, 1.5, 1.5], sizes: nil), inputs: [r.tensor([1, 2, 3, 3])]))
    c.append(VJPCase(label: "resize nearest downsample scales 0.6", op: .resize(mode: .nearest(.roundPreferCeil), transform: .asymmetric, scales: [1, 1, 0.6, 0.6], sizes: nil), inputs: [r.tensor([1, 1, 5, 6])]))
    c.append(VJPCase(label: "reduce with empty axes and noop", op: .reduce(.sum, axes: [], keepDims: true, noopWithEmptyAxes: true), inputs: [r.tensor([2, 3])]))

    // Transformer pieces.
    c.append(VJPCase(label: "activation erf", op: .activation(.erf), inputs: [r.tensor([2, 3, 4], -2, 2)]).nonlinear())
    c.append(VJPCase(label: "activation gelu", op: .activation(.gelu), inputs: [r.tensor([2, 3, 4], -3, 3)]).nonlinear())
    c.append(VJPCase(label: "activation exp", op: .activation(.exp), inputs: [r.tensor([2, 3], -2, 2)]).nonlinear())
    c.append(VJPCase(label: "reduce l2 axis -1 keepdims", op: .reduce(.l2, axes: [-1], keepDims: true, noopWithEmptyAxes: false), inputs: [r.tensor([2, 3, 4])]).nonlinear())
    c.append(VJPCase(label: "reduce sum of squares axes [0,2]", op: .reduce(.sumSquare, axes: [0, 2], keepDims: false, noopWithEmptyAxes: false), inputs: [r.tensor([2, 3, 4])]).nonlinear())
    c.append(VJPCase(label: "reduce l1 axis 1", op: .reduce(.l1, axes: [1], keepDims: true, noopWithEmptyAxes: false), inputs: [r.spaced([2, 3, 2])]).nonlinear())
    c.append(VJPCase(label: "activation sqrt", op: .activation(.sqrt), inputs: [r.tensor([2, 3, 4], 0.5, 3)]).nonlinear())
    c.append(VJPCase(label: "layerNorm last axis", op: .layerNorm(axis: -1, epsilon: 1e-5), inputs: [r.tensor([2, 3, 6], -2, 2), r.tensor([6]), r.tensor([6])]).nonlinear())
    c.append(VJPCase(label: "layerNorm axis 1 no bias", op: .layerNorm(axis: 1, epsilon: 1e-3), inputs: [r.tensor([2, 3, 2, 2], -2, 2), r.tensor([3, 2, 2])]).nonlinear())
    for eq in ["bghid,bghjd->bghij", "bghij,bghjd->bghid", "bij,bjk->bik", "ij,kj->ik", "bi,ij->bj"] {
        let spec = try! EinsumSpec(eq)
        let letters = Set(spec.a + spec.b).sorted()
        let extent = Dictionary(uniqueKeysWithValues: letters.enumerated().map { ($0.element, 2 + $0.offset % 3) })
        let e = VJPCase(label: "einsum \(eq)", op: .einsum(spec), inputs: [r.tensor(spec.a.map { extent[$0]! }), r.tensor(spec.b.map { extent[$0]! })])
        c.append(e.withRespectTo(0)); c.append(e.withRespectTo(1))
    }
    c.append(VJPCase(label: "gather scalar axis 1 (class token)", op: .gather(axis: 1, indices: [0], indexShape: []), inputs: [r.tensor([2, 5, 3])]))
    c.append(VJPCase(label: "gather repeated and negative indices axis -1", op: .gather(axis: -1, indices: [1, -1, 1], indexShape: [3]), inputs: [r.tensor([2, 3, 4])]))
    c.append(VJPCase(label: "expand [1,1,3] to [2,4,3]", op: .expand(shape: [2, 4, 3]), inputs: [r.tensor([1, 1, 3])]))
    // Quantisation: straight through the rounding (the finite difference of a step function is not the reference,
    // so these compare against the analytic straight-through gradient: dequantise scales, quantise divides).
    return c
}()

@Suite("Vector-Jacobian products")
struct VJPTests {
    /// QuantizeLinear then DequantizeLinear back-propagates as the identity inside the range and 0 where it saturates
    /// (PyTorch's fake-quantisation gradient); each alone scales by 1/scale or scale.
    @Test func quantisationStraightThrough() throws {
        let q = Quantization(scales: [0.5], zeroPoints: [10], axis: 1, low: 0, high: 255)
        let x = Tensor(shape: [1, 5], data: [-6, -4.9, 0.26, 100, 200])
        let qx = try Op.quantize(q).run([x])[0]
        #expect(qx.data == [0, 0, 11, 210, 255])
        let dq = try Op.dequantize(q).run([qx])[0]
        #expect(dq.data == [-5, -5, 0.5, 100, 122.5])
        let graph = try Graph(nodes: [Node(name: "q", op: .quantize(q), inputs: ["x"], outputs: ["q"]),
                                      Node(name: "d", op: .dequantize(q), inputs: ["q"], outputs: ["y"])],
                              inputs: [GraphInput(name: "x", shape: [1, 5])], outputs: ["y"], constants: [:])
        let ex = Executor(graph: graph, configuration: .test)
        let eval = try ex.run(["x": x], retainForGradientOf: "x")
        let g = try ex.gradient(eval, seeds: ["y": Tensor(shape: [1, 5], data: [1, 2, 3, 4, 5])])
        // -6 / 0.5 + 10 = -2 saturates; -4.9 rounds to 0 (in range); 200 -> 410 saturates.
        #expect(g.data == [0, 2, 3, 4, 0])
    }

    @Test("gradient matches central finite differences", arguments: vjpCases)
    func matchesFiniteDifferences(_ c: VJPCase) throws {
        let shapes = try c.op.outputShapes(c.inputs.map(\.shape), batch: c.inputs[0].shape.first ?? 1, node: "node")
        let graph = try singleOpGraph(c.op, inputs: c.inputs, wrt: c.wrt, outputCount: shapes.count)
        let ex = Executor(graph: graph, configuration: .test)
        let eval = try ex.run(["x": c.inputs[c.wrt]], retainForGradientOf: "x")

        // The executor's forward pass is the op's (on the same kernels).
        let direct = try EngineConfiguration.test.apply { try c.op.run(c.inputs) }
        for (j, y) in direct.enumerated() { #expect(eval.outputs["y\(j)"] == y, "output y\(j)") }

        var rng = SeededRandom(seed: UInt64(c.label.utf8.count) &* 7 &+ UInt64(c.wrt))
        let seeds = shapes.map { rng.tensor($0) }
        var seedMap: [String: Tensor] = [:]
        for (j, s) in seeds.enumerated() { seedMap["y\(j)"] = s }
        let grad = try ex.gradient(eval, seeds: seedMap)
        #expect(grad.shape == c.inputs[c.wrt].shape)

        let fd = try finiteDifferences(c.op, inputs: c.inputs, wrt: c.wrt, seeds: seeds, eps: c.eps)
        let m = compare(grad.data, fd, rtol: c.rtol, atol: c.atol)
        #expect(m == nil, "\(describe(m))")
    }
}

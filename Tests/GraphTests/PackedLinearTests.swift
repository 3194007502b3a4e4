import Graph
import Testing
import TensorCore
import TestSupport

/// A transformer's MLP as exporters write it: x [N, 5, 40] -> MatMul 40 -> 70 -> Add bias -> exact GELU spelt out
/// (Div by √2, Erf, Add 1, Mul by x, Mul by 0.5) -> MatMul 70 -> 33 -> Add (bias first) -> Mul by a layer scale ->
/// Relu, and a Gemm head (transposed weight, bias C) on the first token's features.
func mlpTestGraph(_ r: inout SeededRandom) throws -> Graph {
    try Graph(
        nodes: [
            Node(name: "fc1", op: .matmul, inputs: ["x", "w1"], outputs: ["h"]),
            Node(name: "b1", op: .binary(.add), inputs: ["h", "b1"], outputs: ["hb"]),
            Node(name: "div", op: .binary(.div), inputs: ["hb", "sqrt2"], outputs: ["d"]),
            Node(name: "erf", op: .activation(.erf), inputs: ["d"], outputs: ["e"]),
            Node(name: "one", op: .binary(.add), inputs: ["e", "one"], outputs: ["f"]),
            Node(name: "mulx", op: .binary(.mul), inputs: ["hb", "f"], outputs: ["g"]),
            Node(name: "half", op: .binary(.mul), inputs: ["g", "half"], outputs: ["a"]),
            Node(name: "fc2", op: .matmul, inputs: ["a", "w2"], outputs: ["o"]),
            Node(name: "b2", op: .binary(.add), inputs: ["b2", "o"], outputs: ["ob"]),
            Node(name: "scale", op: .binary(.mul), inputs: ["ob", "gamma"], outputs: ["os"]),
            Node(name: "relu", op: .activation(.relu), inputs: ["os"], outputs: ["y"]),
            Node(name: "first", op: .slice(starts: [0], ends: [1], axes: [1], steps: nil), inputs: ["y"], outputs: ["t"]),
            Node(name: "flat", op: .flatten(axis: 1), inputs: ["t"], outputs: ["tf"]),
            Node(name: "head", op: .gemm(alpha: 1, beta: 1, transA: false, transB: true), inputs: ["tf", "hw", "hb2"], outputs: ["logits"]),
        ],
        inputs: [GraphInput(name: "x", shape: [nil, 5, 40])], outputs: ["logits"],
        constants: ["w1": r.tensor([40, 70], -0.3, 0.3), "b1": r.tensor([70], -0.2, 0.2), "sqrt2": Tensor(shape: [], data: [1.4142135]),
                    "one": Tensor(shape: [], data: [1]), "half": Tensor(shape: [], data: [0.5]),
                    "w2": r.tensor([70, 33], -0.3, 0.3), "b2": r.tensor([33], -0.2, 0.2), "gamma": r.tensor([33], 0.5, 1.5),
                    "hw": r.tensor([7, 33]), "hb2": r.tensor([7])])
}

@Suite("Packed linear maps and the GELU fusion")
struct PackedLinearTests {
    @Test("the GELU spelt out in five ops becomes one Gelu node with the same outputs")
    func geluFusion() throws {
        var r = SeededRandom(seed: 11)
        let g = try mlpTestGraph(&r)
        let f = g.fused()
        let names = f.nodes.map(\.op.name)
        #expect(names.contains("Gelu"), "\(names)")
        #expect(!names.contains("Erf") && !names.contains("Div"), "\(names)")
        #expect(f.nodes.count == g.nodes.count - 4)
        let x = r.tensor([2, 5, 40], -3, 3)
        let want = try Executor(graph: g, configuration: nchwEngine).run(["x": x]).outputs["logits"]!
        let got = try Executor(graph: f, configuration: nchwEngine).run(["x": x]).outputs["logits"]!
        let m = compare(got.data, want.data, rtol: 1e-5, atol: 1e-6)
        #expect(m == nil, "\(describe(m))")
        // Not fused when an intermediate must stay observable.
        #expect(g.fused(preserving: ["e"]).nodes.map(\.op.name).contains("Erf"))
    }

    @Test("MatMul and Gemm by constant weights become packed linear maps with their bias, scale, GELU and ReLU folded in")
    func rewrite() throws {
        var r = SeededRandom(seed: 12)
        let g = try mlpTestGraph(&r).fused()
        let b = try #require(g.channelBlocked())
        let names = b.nodes.map(\.op.name)
        #expect(names.filter { $0 == "PackedLinear" }.count == 3, "\(names)")
        #expect(!names.contains("Add") && !names.contains("Mul") && !names.contains("Gelu") && !names.contains("Relu"), "\(names)")
        #expect(!names.contains("MatMul") && !names.contains("Gemm"), "\(names)")
        // Every packed weight, the one the layer scale changed too, starts on a 64-byte boundary of its array.
        let packedWeights = b.nodes.filter { $0.op.name == "PackedLinear" }.map { b.constants[$0.inputs[1]]! }
        #expect(packedWeights.count == 3)
        for w in packedWeights {
            #expect(w.data.withUnsafeBufferPointer { Int(bitPattern: alignedWeights($0.baseAddress!)) % 64 == 0 })
        }
        for batch in [1, 3] {
            let x = r.tensor([batch, 5, 40], -3, 3)
            let want = try withKernelISA(.avx2) {
                try Executor(graph: g, configuration: nchwEngine).run(["x": x]).outputs["logits"]!
            }
            for isa in [KernelISA.avx512, .avx2] where isa != .avx512 || cpuKernelISA == .avx512 {
                let got = try withKernelISA(isa) { try Executor(graph: b, configuration: .test).run(["x": x]).outputs["logits"]! }
                #expect(got.shape == [batch, 7])
                let m = compare(got.data, want.data, rtol: 1e-4, atol: 1e-5)
                #expect(m == nil, "batch \(batch) on \(isa): \(describe(m))")
            }
        }
    }

    @Test("a layer scale after the permute back to NCHW moves before it and folds into the linear map; other scales stay",
          arguments: [[6, 1, 1], [1, 6, 1, 1], [1, 1, 5]])
    func layerScaleThroughTranspose(_ scaleShape: [Int]) throws {
        // ConvNeXt's block tail: [N, 4, 5, 8] channels-last -> MatMul 8 -> 6 + bias -> Transpose to NCHW -> Mul by
        // γ -> Add the residual. γ [6, 1, 1] or [1, 6, 1, 1] scales the channels (the MatMul's features); [1, 1, 5]
        // scales the width, which the linear map cannot take.
        var r = SeededRandom(seed: 14)
        let g = try Graph(
            nodes: [
                Node(name: "fc", op: .matmul, inputs: ["x", "w"], outputs: ["h"]),
                Node(name: "b", op: .binary(.add), inputs: ["h", "b"], outputs: ["hb"]),
                Node(name: "perm", op: .transpose(perm: [0, 3, 1, 2]), inputs: ["hb"], outputs: ["t"]),
                Node(name: "scale", op: .binary(.mul), inputs: ["gamma", "t"], outputs: ["s"]),
                Node(name: "res", op: .binary(.add), inputs: ["s", "skip"], outputs: ["y"]),
            ],
            inputs: [GraphInput(name: "x", shape: [nil, 4, 5, 8]), GraphInput(name: "skip", shape: [nil, 6, 4, 5])], outputs: ["y"],
            constants: ["w": r.tensor([8, 6], -0.3, 0.3), "b": r.tensor([6], -0.2, 0.2),
                        "gamma": r.tensor(scaleShape, 0.5, 1.5)])
        let channels = scaleShape.filter { $0 != 1 } == [6]
        let f = g.fused()
        #expect(f.nodes.map(\.op.name) == (channels ? ["MatMul", "Add", "Mul", "Transpose", "Add"] : g.nodes.map(\.op.name)))
        let b = try #require(f.channelBlocked())
        let names = b.nodes.map(\.op.name)
        #expect(names.contains("Mul") == !channels, "\(names)")
        let feeds = ["x": r.tensor([2, 4, 5, 8], -2, 2), "skip": r.tensor([2, 6, 4, 5])]
        let want = try withKernelISA(.avx2) { try Executor(graph: g, configuration: nchwEngine).run(feeds).outputs["y"]! }
        for (graph, label) in [(f, "fused"), (b, "blocked")] {
            for isa in [KernelISA.avx512, .avx2] where isa != .avx512 || cpuKernelISA == .avx512 {
                let got = try withKernelISA(isa) { try Executor(graph: graph, configuration: .test).run(feeds).outputs["y"]! }
                let m = compare(got.data, want.data, rtol: 1e-5, atol: 1e-6)
                #expect(m == nil, "\(label) on \(isa): \(describe(m))")
            }
        }
    }

    @Test("a ConvNeXt block's permutes to channels-last and back become single reorders of the blocked map",
          arguments: [20, 32])
    func channelsLastPermutesAroundBlockedMaps(_ c: Int) throws {
        // Depthwise 3x3 -> Transpose to [N, H, W, C] -> MatMul + bias -> Transpose back -> Add the depthwise output.
        var r = SeededRandom(seed: UInt64(c))
        let g = try Graph(
            nodes: [
                Node(name: "dw", op: .conv(window: Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
                                           groups: c, activation: .identity), inputs: ["x", "dw_w", "dw_b"], outputs: ["d"]),
                Node(name: "to_nhwc", op: .transpose(perm: [0, 2, 3, 1]), inputs: ["d"], outputs: ["t"]),
                Node(name: "fc", op: .matmul, inputs: ["t", "w"], outputs: ["h"]),
                Node(name: "b", op: .binary(.add), inputs: ["h", "b"], outputs: ["hb"]),
                Node(name: "to_nchw", op: .transpose(perm: [0, 3, 1, 2]), inputs: ["hb"], outputs: ["u"]),
                Node(name: "res", op: .binary(.add), inputs: ["u", "d"], outputs: ["y"]),
            ],
            inputs: [GraphInput(name: "x", shape: [nil, c, 5, 6])], outputs: ["y"],
            constants: ["dw_w": r.tensor([c, 1, 3, 3], -0.5, 0.5), "dw_b": r.tensor([c], -0.1, 0.1),
                        "w": r.tensor([c, c], -0.3, 0.3), "b": r.tensor([c], -0.2, 0.2)])
        let b = try #require(g.fused().channelBlocked())
        let names = b.nodes.map(\.op.name)
        #expect(!names.contains("Transpose") && names.contains("FromBlockedToChannelsLast") && names.contains("ToBlockedFromChannelsLast"),
                "\(names)")
        let x = r.tensor([2, c, 5, 6], -2, 2)
        let want = try withKernelISA(.avx2) { try Executor(graph: g, configuration: nchwEngine).run(["x": x]).outputs["y"]! }
        for isa in [KernelISA.avx512, .avx2] where isa != .avx512 || cpuKernelISA == .avx512 {
            let got = try withKernelISA(isa) { try Executor(graph: b, configuration: .test).run(["x": x]).outputs["y"]! }
            let m = compare(got.data, want.data, rtol: 1e-5, atol: 1e-6)
            #expect(m == nil, "\(isa): \(describe(m))")
        }
    }

    @Test("attention's Transposes and scale around its products are read and written in place by them, outputs unchanged",
          arguments: [(false, 9), (false, 130), (true, 7), (true, 130)])
    func attentionTransposesFoldIntoProducts(_ swinLike: Bool, _ tokens: Int) throws {
        // torch's MultiheadAttention export ([tokens, batch·heads, dim] split by Transposes), or Swin's
        // ([windows, heads, tokens, dim] with Kᵀ a swap of the last two axes and heads merged by (0, 2, 1, 3)).
        var r = SeededRandom(seed: UInt64((swinLike ? 21 : 22) + tokens))
        let (shape, qPerm, kPerm, vPerm, outPerm): ([Int?], [Int], [Int], [Int], [Int]) = swinLike
            ? ([nil, 3, tokens, 8], [0, 1, 2, 3], [0, 1, 3, 2], [0, 1, 2, 3], [0, 2, 1, 3])
            : ([tokens, 6, 8], [1, 0, 2], [1, 2, 0], [1, 0, 2], [1, 0, 2])
        let g = try Graph(
            nodes: [
                Node(name: "tq", op: .transpose(perm: qPerm), inputs: ["q"], outputs: ["q2"]),
                Node(name: "tk", op: .transpose(perm: kPerm), inputs: ["k"], outputs: ["kt"]),
                Node(name: "tv", op: .transpose(perm: vPerm), inputs: ["v"], outputs: ["v2"]),
                // The query's 1/√d: a Div after its Transpose (torch), or a Mul with the factor first (Swin's).
                swinLike ? Node(name: "scale", op: .binary(.mul), inputs: ["c", "q2"], outputs: ["q3"])
                    : Node(name: "scale", op: .binary(.div), inputs: ["q2", "c"], outputs: ["q3"]),
                Node(name: "scores", op: .matmul, inputs: ["q3", "kt"], outputs: ["s"]),
                // Swin adds its relative-position bias (broadcast over the windows) before the softmax.
                swinLike ? Node(name: "bias", op: .binary(.add), inputs: ["s", "bias"], outputs: ["s2"])
                    : Node(name: "softmax", op: .softmax(axis: -1, legacy: false), inputs: ["s"], outputs: ["p"]),
                Node(name: swinLike ? "softmax" : "identity", op: swinLike ? .softmax(axis: -1, legacy: false) : .identity,
                     inputs: [swinLike ? "s2" : "p"], outputs: [swinLike ? "p" : "p2"]),
                Node(name: "context", op: .matmul, inputs: [swinLike ? "p" : "p2", "v2"], outputs: ["o"]),
                Node(name: "merge", op: .transpose(perm: outPerm), inputs: ["o"], outputs: ["y"]),
            ],
            inputs: ["q", "k", "v"].map { GraphInput(name: $0, shape: shape) }, outputs: ["y"],
            constants: ["c": Tensor(shape: [1], data: [swinLike ? 0.1767767 : 8]), "bias": r.tensor([3, tokens, tokens], -2, 2)])
        let f = g.fused()
        let names = f.nodes.map(\.op.name)
        #expect(names.filter { $0 == "PermutedMatMul" }.count == 2, "\(names)")
        // Swin's query is not transposed, and torch's is, but it is read in place all the same.
        #expect(!names.contains("Transpose") && !names.contains("Mul") && !names.contains("Div"), "\(names)")
        // The bias and the softmax run in the scores' product when its rows are long (128 and more).
        #expect(names.contains("Softmax") == (tokens < 128) && names.contains("Add") == (swinLike && tokens < 128), "\(names)")
        let concrete = shape.map { $0 ?? 2 }
        let feeds = ["q": r.tensor(concrete, -1, 1), "k": r.tensor(concrete, -1, 1), "v": r.tensor(concrete, -1, 1)]
        let want = try Executor(graph: g, configuration: nchwEngine).run(feeds).outputs["y"]!
        for threads in [1, 2] {
            let got = try withComputeThreads(threads) { try Executor(graph: f, configuration: nchwEngine).run(feeds).outputs["y"]! }
            #expect(got.shape == want.shape)
            let m = compare(got.data, want.data, rtol: 1e-5, atol: 1e-6)
            #expect(m == nil, "\(threads) threads: \(describe(m))")
        }
        // Batch separability sees through the fold: a product reading or writing through a permutation that moves
        // axis 0 mixes the batch, as the Transposes did.
        let moved = try Graph(nodes: [Node(name: "p", op: .permutedMatmul(a: [1, 0, 2], b: [1, 2, 0], out: [1, 0, 2], alpha: 1, softmax: false), inputs: ["q", "k"], outputs: ["y"])],
                              inputs: [GraphInput(name: "q", shape: [nil, 3, 4]), GraphInput(name: "k", shape: [nil, 3, 4])], outputs: ["y"], constants: [:])
        #expect(moved.batchMixing?.contains("moves the batch axis") == true, "\(moved.batchMixing ?? "separable")")
        // A Transpose read by something else as well stays, and so does a product whose result is kept.
        let kept = g.fused(preserving: ["o", "kt"]).nodes.map(\.op.name)
        #expect(kept.filter { $0 == "Transpose" }.count == 2, "\(kept)")
        // A scaled query that is kept keeps its scale (and the Transpose under it).
        let scaleKept = g.fused(preserving: ["q3"]).nodes.map(\.op.name)
        #expect(scaleKept.contains(swinLike ? "Mul" : "Div") && (swinLike || scaleKept.contains("Transpose")), "\(scaleKept)")
    }

    @Test("a bias read by a second node is not folded, and the graph still gives the same outputs")
    func sharedValueNotFolded() throws {
        var r = SeededRandom(seed: 13)
        var g = try mlpTestGraph(&r)
        // "o" (fc2's product) is now also a graph output: the Add must not take it over.
        g = try Graph(nodes: g.nodes, inputs: g.inputs, outputs: ["logits", "o"], constants: g.constants)
        let b = try #require(g.fused().channelBlocked())
        #expect(b.nodes.contains { $0.op.name == "Add" })
        let x = r.tensor([2, 5, 40], -3, 3)
        let want = try Executor(graph: g, configuration: nchwEngine).run(["x": x]).outputs
        let got = try Executor(graph: b, configuration: .test).run(["x": x]).outputs
        for name in ["logits", "o"] {
            let m = compare(got[name]!.data, want[name]!.data, rtol: 1e-4, atol: 1e-5)
            #expect(m == nil, "\(name): \(describe(m))")
        }
    }
}

/// The test engine in the NCHW layout (no rewrite into packed or blocked ops).
private let nchwEngine: EngineConfiguration = {
    var c = EngineConfiguration.test
    c.layout = .nchw
    return c
}()

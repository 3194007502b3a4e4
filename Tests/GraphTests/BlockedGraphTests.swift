import Graph
import Testing
import TensorCore
import TestSupport

/// stem (3 -> 24, clip) -> depthwise 3x3 (relu) -> pointwise 24 -> 40 (clip) -> pointwise 40 -> 24 -> Add with the
/// depthwise output -> GlobalAveragePool -> Flatten -> Gemm, plus a Sigmoid reading the depthwise output (an op with
/// no blocked form) as a second graph output.
func blockedTestGraph(_ r: inout SeededRandom) throws -> Graph {
    let k3 = Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
    let stem = Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padBottom: 1, padRight: 1)
    let pw = Window2D(kernelH: 1, kernelW: 1)
    return try Graph(
        nodes: [
            Node(name: "stem", op: .conv(window: stem, groups: 1, activation: .clip(0, 6)), inputs: ["x", "ws", "bs"], outputs: ["s"]),
            Node(name: "dw", op: .conv(window: k3, groups: 24, activation: .relu), inputs: ["s", "wd", "bd"], outputs: ["d"]),
            Node(name: "expand", op: .conv(window: pw, groups: 1, activation: .clip(0, 6)), inputs: ["d", "we", "be"], outputs: ["e"]),
            Node(name: "project", op: .conv(window: pw, groups: 1, activation: .identity), inputs: ["e", "wp"], outputs: ["p"]),
            Node(name: "add", op: .binary(.add), inputs: ["p", "d"], outputs: ["sum"]),
            Node(name: "gap", op: .globalPool(max: false), inputs: ["sum"], outputs: ["pooled"]),
            Node(name: "flat", op: .flatten(axis: 1), inputs: ["pooled"], outputs: ["features"]),
            Node(name: "fc", op: .gemm(alpha: 1, beta: 1, transA: false, transB: true), inputs: ["features", "fcw", "fcb"], outputs: ["logits"]),
            Node(name: "gate", op: .activation(.sigmoid), inputs: ["d"], outputs: ["gated"]),
        ],
        inputs: [GraphInput(name: "x", shape: [nil, 3, 17, 19])], outputs: ["logits", "gated"],
        constants: ["ws": r.tensor([24, 3, 3, 3]), "bs": r.tensor([24], -0.2, 0.2),
                    "wd": r.tensor([24, 1, 3, 3]), "bd": r.tensor([24], -0.2, 0.2),
                    "we": r.tensor([40, 24, 1, 1]), "be": r.tensor([40], -0.2, 0.2),
                    "wp": r.tensor([24, 40, 1, 1], -0.3, 0.3),
                    "fcw": r.tensor([5, 24]), "fcb": r.tensor([5])])
}

@Suite("Channel-blocked graph")
struct BlockedGraphTests {
    @Test("the blocked graph gives the NCHW graph's outputs at batch 1 and 3")
    func sameOutputs() throws {
        var r = SeededRandom(seed: 5)
        let g = try blockedTestGraph(&r)
        let b = try #require(g.channelBlocked())
        #expect(b.isChannelBlocked)
        #expect(b.channelBlocked() == nil, "a blocked graph is not blocked again")
        let names = b.nodes.map(\.op.name)
        #expect(names.filter { $0.hasPrefix("BlockedConv") }.count == 4, "\(names)")
        #expect(names.contains("BlockedGlobalAveragePool"))
        // The Add is fused into the projection (a pointwise convolution with no activation) as its residual.
        #expect(!names.contains("Add"), "\(names)")
        #expect(b.nodes.first { $0.name == "project" }?.inputs.count == 4)
        // The Sigmoid needs the depthwise output in NCHW: exactly one conversion back, and none to blocked
        // (the stem writes blocked directly).
        #expect(names.filter { $0 == "FromBlocked" }.count == 1, "\(names)")
        #expect(!names.contains("ToBlocked"), "\(names)")
        for batch in [1, 3] {
            let x = r.tensor([batch, 3, 17, 19], -2, 2)
            let ref = try withKernelISA(.avx2) { try Executor(graph: g, configuration: .test).run(["x": x]).outputs }
            for isa in [KernelISA.avx512, .avx2] {
                let got = try withKernelISA(isa) { try Executor(graph: b, configuration: .test).run(["x": x]).outputs }
                for name in ["logits", "gated"] {
                    #expect(got[name]!.shape == ref[name]!.shape)
                    let m = compare(got[name]!.data, ref[name]!.data, rtol: 1e-4, atol: 1e-5)
                    #expect(m == nil, "\(name) at batch \(batch) on \(isa): \(describe(m))")
                }
            }
            // The executor of the original graph takes the blocked path itself for plain runs, and for captures
            // it can make there: "e" is blocked (copied back to NCHW after the run), "d" also exists in NCHW
            // for the Sigmoid. "p" does not exist in the blocked graph (the Add took over its convolution), so
            // capturing it takes the NCHW path.
            let plain = try Executor(graph: g, configuration: .test).run(["x": x]).outputs["logits"]!
            #expect(compare(plain.data, ref["logits"]!.data, rtol: 1e-4, atol: 1e-5) == nil)
            let refCaptures = try withKernelISA(.avx2) { try Executor(graph: g, configuration: .test).run(["x": x], capture: ["e", "d", "p", "s"]).captured }
            for names in [["e"], ["e", "d", "s"], ["p", "e"]] {
                let captured = try Executor(graph: g, configuration: .test).run(["x": x], capture: names)
                #expect(captured.captured["e"]!.shape == [batch, 40, 8, 9])
                #expect(compare(captured.outputs["logits"]!.data, ref["logits"]!.data, rtol: 1e-4, atol: 1e-5) == nil)
                for n in names {
                    #expect(captured.captured[n]?.shape == refCaptures[n]!.shape, "\(n) of \(names)")
                    let m = compare(captured.captured[n]?.data ?? [], refCaptures[n]!.data, rtol: 1e-4, atol: 1e-5)
                    #expect(m == nil, "\(n) of \(names) at batch \(batch): \(describe(m))")
                }
            }
        }
    }

    /// Runs a graph's blocked form at batch 1 and 2 and compares it with the NCHW graph on the portable kernels.
    func expectSameOutputs(_ g: Graph, input: [Int], _ r: inout SeededRandom, _ what: String) throws {
        let b = try #require(g.channelBlocked(), "\(what): nothing converted")
        for batch in [1, 2] {
            let x = r.tensor([batch] + input, -2, 2)
            let ref = try withKernelISA(.avx2) { try Executor(graph: g, configuration: .test).run(["x": x]).outputs }
            let got = try Executor(graph: b, configuration: .test).run(["x": x]).outputs
            for name in g.outputs {
                #expect(got[name]!.shape == ref[name]!.shape, "\(what): \(name) at batch \(batch)")
                let m = compare(got[name]!.data, ref[name]!.data, rtol: 1e-4, atol: 1e-5)
                #expect(m == nil, "\(what): \(name) at batch \(batch): \(describe(m))")
            }
        }
    }

    @Test("Adds that must not fuse, an Add broadcasting over the batch, and duplicate node names")
    func rewriteEdges() throws {
        var r = SeededRandom(seed: 8)
        let pw = Window2D(kernelH: 1, kernelW: 1)
        let k3 = Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        // The projection's output is also read by a Sigmoid (and is a graph output): the Add must not take it over.
        let shared = try Graph(
            nodes: [
                Node(name: "expand", op: .conv(window: pw, groups: 1, activation: .relu), inputs: ["x", "we"], outputs: ["e"]),
                Node(name: "project", op: .conv(window: pw, groups: 1, activation: .identity), inputs: ["e", "wp"], outputs: ["p"]),
                Node(name: "add", op: .binary(.add), inputs: ["p", "x"], outputs: ["sum"]),
                Node(name: "gate", op: .activation(.sigmoid), inputs: ["p"], outputs: ["g"]),
            ],
            inputs: [GraphInput(name: "x", shape: [nil, 16, 6, 7])], outputs: ["sum", "g", "p"],
            constants: ["we": r.tensor([32, 16, 1, 1]), "wp": r.tensor([16, 32, 1, 1])])
        let sb = try #require(shared.channelBlocked())
        #expect(sb.nodes.contains { $0.op == .binary(.add) }, "\(sb.nodes.map(\.op.name))")
        try expectSameOutputs(shared, input: [16, 6, 7], &r, "projection read elsewhere")

        // A residual of batch 1 broadcast over the batch stays a plain NCHW Add (no fused residual).
        let broadcast = try Graph(
            nodes: [
                Node(name: "project", op: .conv(window: pw, groups: 1, activation: .identity), inputs: ["x", "wp"], outputs: ["p"]),
                Node(name: "add", op: .binary(.add), inputs: ["p", "bias_map"], outputs: ["y"]),
            ],
            inputs: [GraphInput(name: "x", shape: [nil, 16, 5, 5])], outputs: ["y"],
            constants: ["wp": r.tensor([16, 16, 1, 1]), "bias_map": r.tensor([1, 16, 5, 5])])
        try expectSameOutputs(broadcast, input: [16, 5, 5], &r, "batch broadcast")

        // Two convolutions with the same node name (ONNX allows it) keep their own weights.
        let dup = try Graph(
            nodes: [
                Node(name: "conv", op: .conv(window: k3, groups: 16, activation: .relu), inputs: ["x", "wd"], outputs: ["d"]),
                Node(name: "conv", op: .conv(window: pw, groups: 1, activation: .clip(0, 6)), inputs: ["d", "wq"], outputs: ["y"]),
            ],
            inputs: [GraphInput(name: "x", shape: [nil, 16, 9, 9])], outputs: ["y"],
            constants: ["wd": r.tensor([16, 1, 3, 3]), "wq": r.tensor([48, 16, 1, 1])])
        try expectSameOutputs(dup, input: [16, 9, 9], &r, "duplicate node names")
        try expectSameOutputs(dup.fused(), input: [16, 9, 9], &r, "duplicate node names, fused")
    }

    @Test("a graph with no convolution a blocked kernel runs is left alone")
    func nothingToBlock() throws {
        var r = SeededRandom(seed: 6)
        let g = try Graph(
            nodes: [Node(name: "full3x3", op: .conv(window: Window2D(kernelH: 3, kernelW: 3), groups: 1, activation: .sigmoid),
                         inputs: ["x", "w"], outputs: ["y"])],
            inputs: [GraphInput(name: "x", shape: [nil, 3, 8, 8])], outputs: ["y"], constants: ["w": r.tensor([4, 3, 3, 3])])
        #expect(g.channelBlocked() == nil)
    }
}

/// Two DenseNet layers: each a pre-activation BatchNormalization + ReLU of everything so far, a 1x1 and a 3x3
/// convolution, and a Concat of the new features onto the old; a final BatchNormalization + ReLU and a pooled head. As
/// torchvision exports it, the first layer reads a Concat of its one input.
func denseTestGraph(_ r: inout SeededRandom) throws -> Graph {
    let k3 = Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
    let pw = Window2D(kernelH: 1, kernelW: 1)
    var nodes = [Node(name: "stem", op: .conv(window: k3, groups: 1, activation: .relu), inputs: ["x", "ws"], outputs: ["c0"]),
                 Node(name: "one", op: .concat(axis: 1), inputs: ["c0"], outputs: ["c0cat"])]
    var consts: [String: Tensor] = ["ws": r.tensor([32, 3, 3, 3], -0.4, 0.4)]
    var channels = 32
    for l in 1...2 {
        let p = "l\(l)"
        nodes += [
            Node(name: p + "bn", op: .channelAffine, inputs: [l == 1 ? "c0cat" : "c\(l - 1)", p + "s", p + "t"], outputs: [p + "b"]),
            Node(name: p + "relu", op: .activation(.relu), inputs: [p + "b"], outputs: [p + "r"]),
            Node(name: p + "pw", op: .conv(window: pw, groups: 1, activation: .relu), inputs: [p + "r", p + "w1", p + "b1"], outputs: [p + "h"]),
            Node(name: p + "k3", op: .conv(window: k3, groups: 1, activation: .identity), inputs: [p + "h", p + "w3"], outputs: [p + "n"]),
            Node(name: p + "cat", op: .concat(axis: 1), inputs: ["c\(l - 1)", p + "n"], outputs: ["c\(l)"]),
        ]
        consts[p + "s"] = r.tensor([channels], 0.5, 1.5); consts[p + "t"] = r.tensor([channels], -0.3, 0.3)
        consts[p + "w1"] = r.tensor([32, channels, 1, 1], -0.3, 0.3); consts[p + "b1"] = r.tensor([32], -0.1, 0.1)
        consts[p + "w3"] = r.tensor([16, 32, 3, 3], -0.2, 0.2)
        channels += 16
    }
    // A transition's pooling, behind the all-zero Pad exporters write (imported as Identity).
    nodes += [
        Node(name: "pad", op: .identity, inputs: ["c2"], outputs: ["c2p"]),
        Node(name: "pool", op: .pool(.average(countIncludePad: false), window: Window2D(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2), ceilMode: false),
             inputs: ["c2p"], outputs: ["c2a"]),
        Node(name: "bn", op: .channelAffine, inputs: ["c2a", "fs", "ft"], outputs: ["fb"]),
        Node(name: "relu", op: .activation(.relu), inputs: ["fb"], outputs: ["fr"]),
        Node(name: "gap", op: .globalPool(max: false), inputs: ["fr"], outputs: ["pooled"]),
        Node(name: "flat", op: .flatten(axis: 1), inputs: ["pooled"], outputs: ["features"]),
        Node(name: "fc", op: .gemm(alpha: 1, beta: 1, transA: false, transB: true), inputs: ["features", "fcw", "fcb"], outputs: ["logits"]),
    ]
    consts["fs"] = r.tensor([channels], 0.5, 1.5); consts["ft"] = r.tensor([channels], -0.3, 0.3)
    consts["fcw"] = r.tensor([5, channels]); consts["fcb"] = r.tensor([5])
    return try Graph(nodes: nodes, inputs: [GraphInput(name: "x", shape: [nil, 3, 9, 11])], outputs: ["logits"], constants: consts)
}

@Suite("Channel-blocked DenseNet layers")
struct BlockedDenseTests {
    @Test("BatchNormalization + ReLU, Concat and the transition's average pooling stay blocked, and the outputs equal the NCHW graph's")
    func denseLayers() throws {
        var r = SeededRandom(seed: 21)
        let g = try denseTestGraph(&r)
        let b = try #require(g.channelBlocked())
        let names = b.nodes.map(\.op.name)
        #expect(names.filter { $0 == "BlockedConcat" }.count == 2, "\(names)")
        #expect(names.filter { $0 == "BlockedBatchNormalization" }.count == 3, "\(names)")
        #expect(!names.contains("Concat") && !names.contains("BatchNormalization") && !names.contains("Relu"), "\(names)")
        #expect(!names.contains("ToBlocked") && !names.contains("FromBlocked") && !names.contains("Identity"), "\(names)")
        #expect(names.contains("BlockedAveragePool"), "\(names)")
        for batch in [1, 2] {
            let x = r.tensor([batch, 3, 9, 11], -2, 2)
            let want = try withKernelISA(.avx2) { try Executor(graph: g, configuration: .test).run(["x": x]).outputs["logits"]! }
            for isa in [KernelISA.avx512, .avx2] where isa != .avx512 || cpuKernelISA == .avx512 {
                let got = try withKernelISA(isa) { try Executor(graph: b, configuration: .test).run(["x": x]).outputs["logits"]! }
                let m = compare(got.data, want.data, rtol: 1e-4, atol: 1e-5)
                #expect(m == nil, "batch \(batch) on \(isa): \(describe(m))")
            }
        }
    }
}

@Suite("Channel-blocked squeeze-and-excitation")
struct BlockedSqueezeExcitationTests {
    @Test("the gate's Mul stays blocked and the outputs equal the NCHW graph's at batch 1 and 3, or a batch fixed at 3",
          arguments: [nil, 3] as [Int?])
    func gate(fixedBatch: Int?) throws {
        var r = SeededRandom(seed: 31)
        let k3 = Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        let pw = Window2D(kernelH: 1, kernelW: 1)
        let g = try Graph(
            nodes: [
                Node(name: "stem", op: .conv(window: k3, groups: 1, activation: .relu), inputs: ["x", "ws"], outputs: ["a"]),
                Node(name: "gap", op: .globalPool(max: false), inputs: ["a"], outputs: ["p"]),
                Node(name: "fc1", op: .conv(window: pw, groups: 1, activation: .relu), inputs: ["p", "w1", "b1"], outputs: ["h"]),
                Node(name: "fc2", op: .conv(window: pw, groups: 1, activation: .identity), inputs: ["h", "w2", "b2"], outputs: ["z"]),
                Node(name: "sig", op: .activation(.sigmoid), inputs: ["z"], outputs: ["gate"]),
                Node(name: "scale", op: .binary(.mul), inputs: ["a", "gate"], outputs: ["s"]),
                Node(name: "proj", op: .conv(window: pw, groups: 1, activation: .identity), inputs: ["s", "wp"], outputs: ["y"]),
            ],
            inputs: [GraphInput(name: "x", shape: [fixedBatch, 3, 7, 9])], outputs: ["y"],
            constants: ["ws": r.tensor([24, 3, 3, 3], -0.4, 0.4), "w1": r.tensor([8, 24, 1, 1]), "b1": r.tensor([8]),
                        "w2": r.tensor([24, 8, 1, 1]), "b2": r.tensor([24]), "wp": r.tensor([16, 24, 1, 1], -0.3, 0.3)])
        let b = try #require(g.channelBlocked())
        let names = b.nodes.map(\.op.name)
        // With a fixed batch the gate is [3, C, 1, 1], one per item.
        #expect(names.contains("BlockedChannelScale") && !names.contains("Mul"), "\(names)")
        for batch in fixedBatch.map({ [$0] }) ?? [1, 3] {
            let x = r.tensor([batch, 3, 7, 9], -2, 2)
            let want = try withKernelISA(.avx2) { try Executor(graph: g, configuration: .test).run(["x": x]).outputs["y"]! }
            for isa in [KernelISA.avx512, .avx2] where isa != .avx512 || cpuKernelISA == .avx512 {
                let got = try withKernelISA(isa) { try Executor(graph: b, configuration: .test).run(["x": x]).outputs["y"]! }
                let m = compare(got.data, want.data, rtol: 1e-4, atol: 1e-5)
                #expect(m == nil, "batch \(batch) on \(isa): \(describe(m))")
            }
        }
    }
}

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
            let ref = try withKernelISA(.avx2) { try Executor(graph: g).run(["x": x]).outputs }
            for isa in [KernelISA.avx512, .avx2] {
                let got = try withKernelISA(isa) { try Executor(graph: b).run(["x": x]).outputs }
                for name in ["logits", "gated"] {
                    #expect(got[name]!.shape == ref[name]!.shape)
                    let m = compare(got[name]!.data, ref[name]!.data, rtol: 1e-4, atol: 1e-5)
                    #expect(m == nil, "\(name) at batch \(batch) on \(isa): \(describe(m))")
                }
            }
            // The executor of the original graph takes the blocked path itself for plain runs, and the NCHW
            // one when a capture needs an intermediate.
            let plain = try Executor(graph: g).run(["x": x]).outputs["logits"]!
            #expect(compare(plain.data, ref["logits"]!.data, rtol: 1e-4, atol: 1e-5) == nil)
            let captured = try Executor(graph: g).run(["x": x], capture: ["e"])
            #expect(captured.captured["e"]!.shape == [batch, 40, 8, 9])
            #expect(compare(captured.outputs["logits"]!.data, ref["logits"]!.data, rtol: 1e-4, atol: 1e-5) == nil)
        }
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

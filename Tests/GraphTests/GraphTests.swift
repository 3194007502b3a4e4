import Foundation
import Graph
import Testing
import TensorCore
import TestSupport

/// conv(x) -> relu -> globalPool -> flatten -> gemm: the path Grad-CAM back-propagates through.
func gradCAMGraph(_ r: inout SeededRandom) throws -> (Graph, fcWeight: Tensor) {
    let fc = r.tensor([3, 4])
    let g = try Graph(
        nodes: [
            Node(name: "conv", op: .conv(window: pad1, groups: 1, activation: .identity), inputs: ["x", "w", "b"], outputs: ["conv_out"]),
            Node(name: "relu", op: .activation(.relu), inputs: ["conv_out"], outputs: ["relu_out"]),
            Node(name: "gap", op: .globalPool(max: false), inputs: ["relu_out"], outputs: ["pooled"]),
            Node(name: "flat", op: .flatten(axis: 1), inputs: ["pooled"], outputs: ["features"]),
            Node(name: "fc", op: .gemm(alpha: 1, beta: 1, transA: false, transB: true), inputs: ["features", "fcw", "fcb"], outputs: ["logits"]),
        ],
        inputs: [GraphInput(name: "x", shape: [nil, 2, 6, 6])], outputs: ["logits"],
        constants: ["w": r.tensor([4, 2, 3, 3]), "b": r.tensor([4], -0.2, 0.2), "fcw": fc, "fcb": r.tensor([3])])
    return (g, fc)
}

@Suite("Graph")
struct GraphTests {
    @Test("gradient at the conv output through relu, global pool, flatten and gemm (Grad-CAM path)", arguments: [false, true])
    func gradCAMChain(_ fusedGraph: Bool) throws {
        var r = SeededRandom(seed: 77)
        let (g0, fc) = try gradCAMGraph(&r)
        let g = fusedGraph ? g0.fused(preserving: ["conv_out"]) : g0
        #expect(g.nodes.count == 5, "preserving conv_out keeps relu out of the conv epilogue")
        let ex = Executor(graph: g, configuration: .test)
        let x = r.tensor([1, 2, 6, 6])
        let eval = try ex.run(["x": x], capture: ["conv_out"], retainForGradientOf: "conv_out")
        let t = try #require(eval.captured["conv_out"])
        let cls = 1
        var seed = Tensor(shape: [1, 3]); seed.data[cls] = 1
        let grad = try ex.gradient(eval, seeds: ["logits": seed])
        #expect(grad.shape == [1, 4, 6, 6])

        // Exact: d logit[cls] / d T[c, i] = relu'(T) * fcw[cls, c] / area.
        let area = 36
        let expected = (0..<t.count).map { i -> Float in t.data[i] > 0 ? fc.data[cls * 4 + i / area] / Float(area) : 0 }
        let m = compare(grad.data, expected, rtol: 1e-5, atol: 1e-7)
        #expect(m == nil, "\(describe(m))")

        // And central differences of the downstream part, away from ReLU's kink.
        let tail = try Graph(nodes: Array(g0.nodes.dropFirst()), inputs: [GraphInput(name: "conv_out", shape: [nil, 4, 6, 6])],
                             outputs: ["logits"], constants: g0.constants.filter { $0.key.hasPrefix("fc") })
        let tailEx = Executor(graph: tail, configuration: .test)
        let eps: Float = 1e-2
        var tp = t
        var checked = 0
        for i in 0..<t.count where abs(t.data[i]) > 2 * eps {
            tp.data[i] = t.data[i] + eps
            let fp = try tailEx.run(["conv_out": tp]).outputs["logits"]!.data[cls]
            tp.data[i] = t.data[i] - eps
            let fm = try tailEx.run(["conv_out": tp]).outputs["logits"]!.data[cls]
            tp.data[i] = t.data[i]
            let d = Float((Double(fp) - Double(fm)) / (2 * Double(eps)))
            let mi = compare([grad.data[i]], [d], rtol: 1e-2, atol: 1e-4)
            #expect(mi == nil, "element \(i): \(describe(mi))")
            checked += 1
        }
        #expect(checked > t.count / 2)
    }

    @Test("gradients from two paths add up (fan-out) and an unseeded output contributes nothing")
    func fanOut() throws {
        let g = try Graph(
            nodes: [
                Node(name: "s", op: .split(axis: 1, sizes: [2, 2], count: 2), inputs: ["x"], outputs: ["lo", "hi"]),
                Node(name: "t", op: .activation(.tanh), inputs: ["x"], outputs: ["tx"]),
                Node(name: "m", op: .binary(.mul), inputs: ["x", "tx"], outputs: ["y"]),
                Node(name: "k", op: .activation(.sigmoid), inputs: ["lo"], outputs: ["z"]),
            ],
            inputs: [GraphInput(name: "x", shape: [2, 4])], outputs: ["y", "z", "hi"], constants: [:])
        var r = SeededRandom(seed: 5)
        let x = r.tensor([2, 4])
        let ex = Executor(graph: g, configuration: .test)
        let eval = try ex.run(["x": x], retainForGradientOf: "x")
        let sy = r.tensor([2, 4]), sz = r.tensor([2, 2])
        let grad = try ex.gradient(eval, seeds: ["y": sy, "z": sz])   // "hi" unseeded
        // d/dx [ sum sy * x tanh x + sum sz * sigmoid(x[:, :2]) ]
        var expected = [Float](repeating: 0, count: 8)
        for i in 0..<8 {
            let v = Double(x.data[i]), t = Foundation.tanh(v)
            var d = Double(sy.data[i]) * (t + v * (1 - t * t))
            if i % 4 < 2 { let s = 1 / (1 + Foundation.exp(-v)); d += Double(sz.data[(i / 4) * 2 + i % 4]) * s * (1 - s) }
            expected[i] = Float(d)
        }
        let m = compare(grad.data, expected, rtol: 1e-5, atol: 1e-6)
        #expect(m == nil, "\(describe(m))")
    }

    @Test("back-propagating into a convolution weight is refused naming the node")
    func noGradient() throws {
        var r = SeededRandom(seed: 6)
        let g = try Graph(nodes: [Node(name: "conv7", op: .conv(window: pad1, groups: 1, activation: .identity), inputs: ["x", "w"], outputs: ["y"])],
                          inputs: [GraphInput(name: "w", shape: [2, 1, 3, 3])], outputs: ["y"], constants: ["x": r.tensor([1, 1, 4, 4])])
        let ex = Executor(graph: g, configuration: .test)
        let eval = try ex.run(["w": r.tensor([2, 1, 3, 3])], retainForGradientOf: "w")
        #expect(throws: GraphError.noGradient(node: "conv7", op: "Conv")) {
            _ = try ex.gradient(eval, seeds: ["y": Tensor(shape: [1, 2, 4, 4], repeating: 1)])
        }
    }

    @Test("a cycle is reported with the nodes on it")
    func cycle() {
        let nodes = [
            Node(name: "stem", op: .activation(.relu), inputs: ["x"], outputs: ["s"]),
            Node(name: "A", op: .binary(.add), inputs: ["s", "c_out"], outputs: ["a_out"]),
            Node(name: "B", op: .activation(.relu), inputs: ["a_out"], outputs: ["b_out"]),
            Node(name: "C", op: .activation(.tanh), inputs: ["b_out"], outputs: ["c_out"]),
        ]
        do {
            _ = try Graph(nodes: nodes, inputs: [GraphInput(name: "x", shape: [1, 2])], outputs: ["c_out"], constants: [:])
            Issue.record("a cyclic graph was accepted")
        } catch let GraphError.cycle(names) {
            #expect(Set(names) == ["A", "B", "C"], "cycle names \(names)")
            let text = GraphError.cycle(nodes: names).description
            #expect(text.contains("A") && text.contains("B") && text.contains("C"), "\(text)")
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test("a tensor that nothing produces is named with the node reading it")
    func undefinedTensor() {
        let nodes = [Node(name: "adder", op: .binary(.add), inputs: ["x", "ghost"], outputs: ["y"])]
        #expect(throws: GraphError.undefinedTensor(name: "ghost", node: "adder")) {
            _ = try Graph(nodes: nodes, inputs: [GraphInput(name: "x", shape: [2])], outputs: ["y"], constants: [:])
        }
        #expect(throws: GraphError.undefinedTensor(name: "nowhere", node: "graph output")) {
            _ = try Graph(nodes: [], inputs: [GraphInput(name: "x", shape: [2])], outputs: ["nowhere"], constants: [:])
        }
        let text = GraphError.undefinedTensor(name: "ghost", node: "adder").description
        #expect(text.contains("'ghost'") && text.contains("adder"))
    }

    struct MismatchCase: CustomTestStringConvertible, Sendable {
        var label: String, op: Op, input: [Int], constant: [Int], mentions: [String]
        var testDescription: String { label }
    }
    static let mismatchCases: [MismatchCase] = [
        MismatchCase(label: "conv weight channels", op: .conv(window: pad1, groups: 1, activation: .identity),
                     input: [1, 2, 8, 8], constant: [4, 3, 3, 3], mentions: ["[4, 3, 3, 3]", "[1, 2, 8, 8]", "axis 1"]),
        MismatchCase(label: "gemm inner axis", op: .gemm(alpha: 1, beta: 0, transA: false, transB: false),
                     input: [2, 5], constant: [4, 3], mentions: ["[2, 5]", "[4, 3]"]),
        MismatchCase(label: "binary broadcast", op: .binary(.add), input: [2, 3], constant: [4, 3], mentions: ["[2, 3]", "[4, 3]", "axis 0"]),
        MismatchCase(label: "concat off-axis extent", op: .concat(axis: 1), input: [2, 3], constant: [3, 3], mentions: ["[2, 3]", "[3, 3]", "axis 0"]),
        MismatchCase(label: "matmul inner axes", op: .matmul, input: [2, 3], constant: [4, 5], mentions: ["[2, 3]", "[4, 5]"]),
    ]

    @Test("shape mismatches name the node and both shapes", arguments: mismatchCases)
    func shapeMismatch(_ c: MismatchCase) throws {
        let g = try Graph(nodes: [Node(name: "bad_node", op: c.op, inputs: ["x", "k"], outputs: ["y"])],
                          inputs: [GraphInput(name: "x", shape: c.input.map { Optional($0) })], outputs: ["y"],
                          constants: ["k": Tensor(shape: c.constant)])
        do {
            _ = try Executor(graph: g, configuration: .test).run(["x": Tensor(shape: c.input)])
            Issue.record("mismatched shapes were accepted")
        } catch let e as GraphError {
            guard case let .shapeMismatch(node, op, _) = e else { Issue.record("unexpected \(e)"); return }
            #expect(node == "bad_node" && op == c.op.name)
            let text = e.description
            #expect(text.contains("bad_node"), "\(text)")
            for s in c.mentions { #expect(text.contains(s), "\(text) should mention \(s)") }
        }
    }

    @Test("wrong input rank, extent or a missing input is badInput")
    func badInput() throws {
        var r = SeededRandom(seed: 3)
        let (g, _) = try gradCAMGraph(&r)
        let ex = Executor(graph: g, configuration: .test)
        for bad in [Tensor(shape: [2, 6, 6]), Tensor(shape: [1, 3, 6, 6]), Tensor(shape: [1, 2, 6, 5])] {
            do {
                _ = try ex.run(["x": bad])
                Issue.record("input \(bad.shape) was accepted")
            } catch let GraphError.badInput(name, detail) {
                #expect(name == "x")
                #expect(detail.contains("\(bad.shape)"), "\(detail)")
            }
        }
        do {
            _ = try ex.run(["y": Tensor(shape: [1, 2, 6, 6])])
            Issue.record("a missing input was accepted")
        } catch let GraphError.badInput(name, detail) {
            #expect(name == "x" && detail.contains("missing"), "\(detail)")
        }
        // The batch axis is free.
        let out = try ex.run(["x": r.tensor([3, 2, 6, 6])]).outputs["logits"]
        #expect(out?.shape == [3, 3])
    }

    @Test("fused conv+BN+relu gives the unfused outputs", arguments: [Activation.relu, .clip(0, 6)])
    func fusion(_ act: Activation) throws {
        var r = SeededRandom(seed: 11)
        let g = try Graph(
            nodes: [
                Node(name: "conv", op: .conv(window: pad1, groups: 1, activation: .identity), inputs: ["x", "w", "b"], outputs: ["c"]),
                Node(name: "bn", op: .channelAffine, inputs: ["c", "scale", "shift"], outputs: ["n"]),
                Node(name: "act", op: .activation(act), inputs: ["n"], outputs: ["a"]),
                Node(name: "dw", op: .conv(window: pad1, groups: 4, activation: .identity), inputs: ["a", "dww"], outputs: ["d"]),
                Node(name: "bn2", op: .channelAffine, inputs: ["d", "scale2", "shift2"], outputs: ["y"]),
            ],
            inputs: [GraphInput(name: "x", shape: [nil, 3, 7, 7])], outputs: ["y"],
            constants: ["w": r.tensor([4, 3, 3, 3]), "b": r.tensor([4]), "scale": r.tensor([4], 0.5, 2), "shift": r.tensor([4], -1, 4),
                        "dww": r.tensor([4, 1, 3, 3]), "scale2": r.tensor([4], 0.5, 2), "shift2": r.tensor([4])])
        let f = g.fused()
        #expect(f.nodes.count == 2, "fused ops: \(f.nodes.map(\.op.name))")
        let x = r.tensor([2, 3, 7, 7], -3, 3)
        let a = try Executor(graph: g, configuration: .test).run(["x": x]).outputs["y"]!
        let b = try Executor(graph: f, configuration: .test).run(["x": x]).outputs["y"]!
        #expect(a.shape == b.shape)
        let m = compare(b.data, a.data, rtol: 1e-4, atol: 1e-5)
        #expect(m == nil, "\(describe(m))")

        // A preserved intermediate stays observable and is not fused away.
        let p = g.fused(preserving: ["n"])
        #expect(p.nodes.contains { $0.outputs == ["n"] })
        let pe = try Executor(graph: p, configuration: .test).run(["x": x], capture: ["n"])
        let ue = try Executor(graph: g, configuration: .test).run(["x": x], capture: ["n"])
        let mn = compare(pe.captured["n"]!.data, ue.captured["n"]!.data, rtol: 1e-4, atol: 1e-5)
        #expect(mn == nil, "\(describe(mn))")
    }
}

/// Einsum through the batched matrix product against its naive twin, on the patterns attention exports and on
/// letters summed out of one operand, transposed outputs and an implicit output.
@Suite struct EinsumTests {
    @Test(arguments: ["bghid,bghjd->bghij", "bghij,bghjd->bghid", "bij,bjk->bik", "ij,kj->ik", "bi,ij->bj", "bij,jk->kbi",
                      "ijk,kl->il", "ij,jk", "i,j->ij", "abc,abc->a"])
    func matchesNaive(_ equation: String) throws {
        let spec = try EinsumSpec(equation)
        var rng = SeededRandom(seed: UInt64(equation.utf8.count))
        let letters = Set(spec.a + spec.b).sorted()
        let extent = Dictionary(uniqueKeysWithValues: letters.enumerated().map { ($0.element, 2 + $0.offset % 4) })
        let x = rng.tensor(spec.a.map { extent[$0]! }), y = rng.tensor(spec.b.map { extent[$0]! })
        let fast = try spec.evaluate(x, y), naive = try spec.evaluateNaive(x, y)
        #expect(fast.shape == naive.shape)
        #expect(compare(fast.data, naive.data, rtol: 1e-5, atol: 1e-6) == nil, "\(equation)")
    }

    @Test(arguments: ["ii,ij->j", "a...,ab->b", "ab,bc,cd->ad", "ab->ba", "ab,bc->z"])
    func unsupportedEquationsSaySo(_ equation: String) {
        #expect(throws: EinsumError.self) { try EinsumSpec(equation) }
    }

    @Test func disagreeingExtentsAreRefused() throws {
        let spec = try EinsumSpec("ij,jk->ik")
        #expect(throws: EinsumError.self) { try spec.outputShape([2, 3], [4, 5]) }
    }
}

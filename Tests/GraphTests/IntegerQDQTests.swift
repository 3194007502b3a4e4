import Foundation
@testable import Graph
import TensorCore
import Testing
import TestSupport

/// The QDQ rewrite into onnxruntime's integer ops, and their straight-through gradients.
@Suite struct IntegerQDQTests {
    static let u8 = (low: 0, high: 255), s8 = (low: -128, high: 127)
    static func q(_ s: Float, _ z: Int, _ r: (low: Int, high: Int) = u8, scales: [Float]? = nil) -> Quantization {
        Quantization(scales: scales ?? [s], zeroPoints: [z], axis: 0, low: r.low, high: r.high)
    }

    /// A QDQ net as quantize_static writes it: two convolutions (one per output channel) into a residual Add,
    /// global average pool, flatten and Gemm, every float op between DequantizeLinear and QuantizeLinear; the weights
    /// are dequantised constants, with the quantisation they were dequantised by.
    static func net() -> (Graph, [String: Quantization]) {
        var rng = SeededRandom(seed: 3)
        var consts: [String: Tensor] = [:], weights: [String: Quantization] = [:]
        func weight(_ name: String, _ shape: [Int], _ wq: Quantization) {
            var t = Tensor(shape: shape)
            let per = t.count / shape[0]
            for i in 0..<t.count {
                let s = wq.scales.count > 1 ? wq.scales[i / per] : wq.scales[0]
                t.data[i] = Float(Int(rng.next() % 255) - 127) * s
            }
            consts[name] = t; weights[name] = wq
        }
        func bias(_ name: String, _ n: Int, _ s: Float) {
            var t = Tensor(shape: [n])
            for i in 0..<n { t.data[i] = Float(Int(rng.next() % 2001) - 1000) * s }
            consts[name] = t; weights[name] = Quantization(scales: [s], zeroPoints: [0], axis: 0, low: Int(Int32.min), high: Int(Int32.max))
        }
        let qx = q(0.04, 128), qa = q(0.06, 120), qb = q(0.05, 130), qs = q(0.08, 125), qp = q(0.02, 10), qy = q(0.05, 100)
        weight("w1", [8, 4, 3, 3], q(0.004, 0, s8)); bias("b1", 8, 0.04 * 0.004)
        weight("w2", [8, 4, 1, 1], q(0, 0, s8, scales: (0..<8).map { 0.003 + 0.001 * Float($0) }))
        weight("wf", [5, 8], q(0.005, 0, s8)); bias("bf", 5, 0.02 * 0.005)
        let wd = Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        let n: [Node] = [
            Node(name: "xq", op: .quantize(qx), inputs: ["x"], outputs: ["x_q"]),
            Node(name: "xdq", op: .dequantize(qx), inputs: ["x_q"], outputs: ["x_dq"]),
            Node(name: "conv1", op: .conv(window: wd, groups: 1, activation: .identity), inputs: ["x_dq", "w1", "b1"], outputs: ["a"]),
            Node(name: "aq", op: .quantize(qa), inputs: ["a"], outputs: ["a_q"]),
            Node(name: "adq", op: .dequantize(qa), inputs: ["a_q"], outputs: ["a_dq"]),
            Node(name: "conv2", op: .conv(window: Window2D(kernelH: 1, kernelW: 1), groups: 1, activation: .identity), inputs: ["x_dq", "w2"], outputs: ["b"]),
            Node(name: "bq", op: .quantize(qb), inputs: ["b"], outputs: ["b_q"]),
            Node(name: "bdq", op: .dequantize(qb), inputs: ["b_q"], outputs: ["b_dq"]),
            Node(name: "add", op: .binary(.add), inputs: ["a_dq", "b_dq"], outputs: ["s"]),
            Node(name: "sq", op: .quantize(qs), inputs: ["s"], outputs: ["s_q"]),
            Node(name: "sdq", op: .dequantize(qs), inputs: ["s_q"], outputs: ["s_dq"]),
            Node(name: "gap", op: .globalPool(max: false), inputs: ["s_dq"], outputs: ["p"]),
            Node(name: "pq", op: .quantize(qp), inputs: ["p"], outputs: ["p_q"]),
            Node(name: "pdq", op: .dequantize(qp), inputs: ["p_q"], outputs: ["p_dq"]),
            Node(name: "flatten", op: .flatten(axis: 1), inputs: ["p_dq"], outputs: ["f"]),
            Node(name: "fq", op: .quantize(qp), inputs: ["f"], outputs: ["f_q"]),
            Node(name: "fdq", op: .dequantize(qp), inputs: ["f_q"], outputs: ["f_dq"]),
            Node(name: "fc", op: .gemm(alpha: 1, beta: 1, transA: false, transB: true), inputs: ["f_dq", "wf", "bf"], outputs: ["y"]),
            Node(name: "yq", op: .quantize(qy), inputs: ["y"], outputs: ["y_q"]),
            Node(name: "ydq", op: .dequantize(qy), inputs: ["y_q"], outputs: ["out"]),
        ]
        return (try! Graph(nodes: n, inputs: [GraphInput(name: "x", shape: [nil, 4, 6, 6])], outputs: ["out"], constants: consts), weights)
    }

    @Test func rewriteFusesEachPattern() {
        let (g, w) = Self.net()
        let (r, fused) = g.integerQDQ(weights: w)
        #expect(fused.sorted() == ["add", "conv1", "conv2", "fc", "gap"])
        #expect(r.opCounts["QuantizeLinear"] == 2)   // the input's and the Flatten's (float on 8-bit values)
        #expect(r.opCounts["QLinearConv"] == 2 && r.opCounts["QLinearAdd"] == 1 && r.opCounts["QGemm"] == 1)
        #expect(r.opCounts["QLinearGlobalAveragePool"] == 1 && r.opCounts["Flatten"] == 1)
        #expect(r.constants["w1"] == nil)   // the float weights are gone, their integers stay
        // A float output read by something else besides the QuantizeLinear is not fused.
        var nodes = g.nodes
        nodes.append(Node(name: "peek", op: .activation(.relu), inputs: ["a"], outputs: ["peek"]))
        let g2 = try! Graph(nodes: nodes, inputs: g.inputs, outputs: g.outputs + ["peek"], constants: g.constants)
        #expect(!g2.integerQDQ(weights: w).fused.contains("conv1"))
        // A Relu before a QuantizeLinear whose zero point is 0 (uint8) changes nothing: dropped, and the convolution fuses.
        var withRelu = g.nodes.map { n -> Node in
            var n = n
            if n.name == "aq" { n.inputs = ["a_relu"] }
            return n
        }
        withRelu.append(Node(name: "relu", op: .activation(.relu), inputs: ["a"], outputs: ["a_relu"]))
        var zeroA = Self.q(0.06, 0)
        withRelu = withRelu.map { n in
            var n = n
            if n.name == "aq" { n.op = .quantize(zeroA) } else if n.name == "adq" { n.op = .dequantize(zeroA) }
            return n
        }
        let g3 = try! Graph(nodes: withRelu, inputs: g.inputs, outputs: g.outputs, constants: g.constants)
        let r3 = g3.integerQDQ(weights: w)
        #expect(r3.fused.contains("conv1") && r3.graph.opCounts["Relu"] == nil)
        // With zero point 120 the Relu clips values the QuantizeLinear would keep: it stays, the convolution is float.
        zeroA = Self.q(0.06, 120)
        let g4 = try! Graph(nodes: withRelu.map { n in
            var n = n
            if n.name == "aq" { n.op = .quantize(zeroA) } else if n.name == "adq" { n.op = .dequantize(zeroA) }
            return n
        }, inputs: g.inputs, outputs: g.outputs, constants: g.constants)
        #expect(!g4.integerQDQ(weights: w).fused.contains("conv1") && g4.integerQDQ(weights: w).graph.opCounts["Relu"] == 1)
        // A weight that is not a dequantised constant is not fused.
        #expect(!g.integerQDQ(weights: w.filter { $0.key != "w2" }).fused.contains("conv2"))
    }

    /// The integer graph gives the float QDQ graph's outputs within a step (they differ only where the float
    /// evaluation's rounding lands on the other side of a rounding boundary), and the straight-through gradient of
    /// every integer op equals the float op's straight-through gradient on the dequantised values.
    @Test func integerGraphAgreesWithFloatQDQ() throws {
        let (g, w) = Self.net()
        let r = g.integerQDQ(weights: w).graph
        var rng = SeededRandom(seed: 9)
        let x = rng.tensor([2, 4, 6, 6], -4, 4)
        let ef = Executor(graph: g, configuration: .test), ei = Executor(graph: r, configuration: .test)
        let yf = try ef.run(["x": x]).outputs["out"]!, yi = try ei.run(["x": x]).outputs["out"]!
        #expect(compare(yi.data, yf.data, rtol: 0, atol: 0.05 * 1.001) == nil)
        var seed = Tensor(shape: yf.shape)
        for i in 0..<seed.count { seed.data[i] = rng.float() }
        let evf = try ef.run(["x": x], retainForGradientOf: "x_dq"), evi = try ei.run(["x": x], retainForGradientOf: "x_dq")
        let gf = try ef.gradient(evf, seeds: ["out": seed]), gi = try ei.gradient(evi, seeds: ["out": seed])
        #expect(gi.shape == gf.shape)
        let m = compare(gi.data, gf.data, rtol: 1e-3, atol: 1e-3 * (gf.data.map(abs).max() ?? 1))
        #expect(m == nil, "\(m.map { "\($0)" } ?? "")")
        #expect(gi.data.contains { $0 != 0 })
    }
}

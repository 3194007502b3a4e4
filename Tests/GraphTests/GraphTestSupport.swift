import Graph
import Testing
import TensorCore
import TestSupport

/// One op, its inputs, and which input the gradient is taken with respect to (the others are constants).
struct VJPCase: CustomTestStringConvertible, Sendable {
    var label: String
    var op: Op
    var inputs: [Tensor]
    var wrt = 0
    /// Finite-difference step.
    var eps: Float = 1e-2
    var rtol: Float = 1e-3, atol: Float = 1e-3
    var testDescription: String { label }

    /// Tolerances for ops that are not linear in the perturbed input (float32 central differences).
    func nonlinear() -> VJPCase { var c = self; c.rtol = 1e-2; c.atol = 1e-3; return c }
    func withRespectTo(_ i: Int) -> VJPCase { var c = self; c.wrt = i; c.label += " d/input\(i)"; return c }
}

/// A graph of one node: input `wrt` is the graph input "x", the rest are constants "c<i>"; outputs "y<j>".
func singleOpGraph(_ op: Op, inputs: [Tensor], wrt: Int, outputCount: Int) throws -> Graph {
    var consts: [String: Tensor] = [:]
    var names: [String] = []
    for (i, t) in inputs.enumerated() {
        if i == wrt { names.append("x") } else { names.append("c\(i)"); consts["c\(i)"] = t }
    }
    let outs = (0..<outputCount).map { "y\($0)" }
    return try Graph(nodes: [Node(name: "node", op: op, inputs: names, outputs: outs)],
                     inputs: [GraphInput(name: "x", shape: inputs[wrt].shape.map { Optional($0) })],
                     outputs: outs, constants: consts)
}

/// Central differences of `sum_j <seeds[j], op(inputs)_j>` with respect to every element of input `wrt`,
/// evaluating the op on Float and summing in double; divides by the step actually taken in float.
func finiteDifferences(_ op: Op, inputs: [Tensor], wrt: Int, seeds: [Tensor], eps: Float) throws -> [Float] {
    var xs = inputs
    func objective() throws -> Double {
        let ys = try op.run(xs)
        var s = 0.0
        for (y, g) in zip(ys, seeds) { s += dot(y.data, g.data) }
        return s
    }
    var fd = [Float](repeating: 0, count: inputs[wrt].count)
    for i in 0..<fd.count {
        let v = inputs[wrt].data[i]
        let hi = v + eps, lo = v - eps
        xs[wrt].data[i] = hi
        let fp = try objective()
        xs[wrt].data[i] = lo
        let fm = try objective()
        xs[wrt].data[i] = v
        fd[i] = Float((fp - fm) / (Double(hi) - Double(lo)))
    }
    return fd
}

import TensorCore

/// A two-operand Einsum equation without ellipsis or repeated letters, run as one batched matrix product.
///
/// Letters fall into five groups: batch (both operands and the output), contracted (both operands, not the
/// output), free in A or in B (one operand and the output) and summed in A or in B (one operand only, summed out
/// first). A is permuted to `[batch, freeA, contracted]`, B to `[batch, contracted, freeB]`, multiplied, and the
/// product permuted to the output's letter order. Attention's `bghid,bghjd->bghij` is A Bᵀ over batch `bgh`.
public struct EinsumSpec: Sendable, Equatable, CustomStringConvertible {
    public let a: [Character], b: [Character], out: [Character]

    /// Parses `equation` (spaces ignored; without `->` the output is the letters used once, sorted).
    /// - Throws: `EinsumError` saying what is not supported.
    public init(_ equation: String) throws {
        let eq = equation.filter { !$0.isWhitespace }
        let sides = eq.components(separatedBy: "->")
        guard sides.count <= 2 else { throw EinsumError("equation '\(equation)' has more than one '->'") }
        let ops = sides[0].split(separator: ",", omittingEmptySubsequences: false).map { Array($0) }
        guard ops.count == 2 else { throw EinsumError("equation '\(equation)' has \(ops.count) operands; Vigil runs Einsum with two") }
        for o in ops + (sides.count == 2 ? [Array(sides[1])] : []) {
            guard o.allSatisfy({ $0.isLetter && $0.isASCII }) else { throw EinsumError("equation '\(equation)' uses '...' or characters other than letters, which Vigil does not support") }
            guard Set(o).count == o.count else { throw EinsumError("equation '\(equation)' repeats a letter within one term (a diagonal), which Vigil does not support") }
        }
        a = ops[0]; b = ops[1]
        if sides.count == 2 {
            out = Array(sides[1])
            for ch in out where !a.contains(ch) && !b.contains(ch) { throw EinsumError("output letter '\(ch)' of '\(equation)' is in no operand") }
        } else {
            let all = a + b
            out = Set(all).filter { ch in all.filter { $0 == ch }.count == 1 }.sorted()
        }
    }

    public var description: String { String(a) + "," + String(b) + "->" + String(out) }

    var batch: [Character] { out.filter { a.contains($0) && b.contains($0) } }
    var contracted: [Character] { a.filter { b.contains($0) && !out.contains($0) } }
    var freeA: [Character] { out.filter { a.contains($0) && !b.contains($0) } }
    var freeB: [Character] { out.filter { b.contains($0) && !a.contains($0) } }
    var summedA: [Character] { a.filter { !b.contains($0) && !out.contains($0) } }
    var summedB: [Character] { b.filter { !a.contains($0) && !out.contains($0) } }

    /// The extent of every letter, checking that both operands agree.
    func extents(_ sa: [Int], _ sb: [Int]) throws -> [Character: Int] {
        guard sa.count == a.count, sb.count == b.count else {
            throw EinsumError("operand shapes \(sa) and \(sb) do not have the ranks of '\(self)'")
        }
        var e: [Character: Int] = [:]
        for (ch, d) in zip(a + b, sa + sb) {
            if let prior = e[ch], prior != d { throw EinsumError("letter '\(ch)' of '\(self)' has extents \(prior) and \(d) (shapes \(sa) and \(sb)); Vigil does not broadcast in Einsum") }
            e[ch] = d
        }
        return e
    }

    /// The output shape for operand shapes `sa`, `sb`.
    public func outputShape(_ sa: [Int], _ sb: [Int]) throws -> [Int] {
        let e = try extents(sa, sb)
        return out.map { e[$0]! }
    }

    /// The product, `[out...]`.
    public func evaluate(_ x: Tensor, _ y: Tensor) throws -> Tensor {
        let e = try extents(x.shape, y.shape)
        func size(_ l: [Character]) -> Int { l.reduce(1) { $0 * e[$1]! } }
        func prepared(_ t: Tensor, _ letters: [Character], summed: [Character], order: [Character]) -> Tensor {
            var t = t, letters = letters
            if !summed.isEmpty {
                let axes = summed.map { letters.firstIndex(of: $0)! }.sorted()
                t = TensorCore.reduce(.sum, t, axes: axes)
                t = t.reshaped(t.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
                letters = letters.filter { !summed.contains($0) }
            }
            let perm = order.map { letters.firstIndex(of: $0)! }
            return perm == Array(0..<perm.count) ? t : TensorCore.transpose(t, perm: perm)
        }
        let bl = batch, kl = contracted, fa = freeA, fb = freeB
        let ap = prepared(x, a, summed: summedA, order: bl + fa + kl).reshaped([size(bl), size(fa), size(kl)])
        let bp = prepared(y, b, summed: summedB, order: bl + kl + fb).reshaped([size(bl), size(kl), size(fb)])
        let product = matmulTensor(ap, bp, outShape: [size(bl), size(fa), size(fb)])
        let natural = bl + fa + fb
        let full = product.reshaped(natural.map { e[$0]! })
        let perm = out.map { natural.firstIndex(of: $0)! }
        return perm == Array(0..<perm.count) ? full : TensorCore.transpose(full, perm: perm)
    }

    /// Reference twin of `evaluate`: every output element summed directly over the letters not in the output.
    public func evaluateNaive(_ x: Tensor, _ y: Tensor) throws -> Tensor {
        let e = try extents(x.shape, y.shape)
        let outShape = out.map { e[$0]! }
        let summed = Set(a + b).subtracting(out).sorted()
        let sumShape = summed.map { e[$0]! }
        let xs = contiguousStrides(x.shape), ys = contiguousStrides(y.shape)
        var result = [Float](repeating: 0, count: shapeCount(outShape))
        var value: [Character: Int] = [:]
        func walk(_ letters: [Character], _ extents: [Int], _ body: () -> Void) {
            func go(_ i: Int) {
                if i == letters.count { body(); return }
                for v in 0..<extents[i] { value[letters[i]] = v; go(i + 1) }
            }
            go(0)
        }
        var o = 0
        walk(out, outShape) {
            var acc = 0.0
            walk(summed, sumShape) {
                var xi = 0, yi = 0
                for (k, ch) in a.enumerated() { xi += value[ch]! * xs[k] }
                for (k, ch) in b.enumerated() { yi += value[ch]! * ys[k] }
                acc += Double(x.data[xi]) * Double(y.data[yi])
            }
            result[o] = Float(acc)
            o += 1
        }
        return Tensor(shape: outShape, data: result)
    }

    /// The equation giving the gradient of operand A (`forA`) or B from the output's gradient and the other operand,
    /// or nil when the operand had summed-out letters (its gradient would need a broadcast).
    func gradientSpec(forA: Bool) -> EinsumSpec? {
        let (mine, other, summed) = forA ? (a, b, summedA) : (b, a, summedB)
        guard summed.isEmpty else { return nil }
        return EinsumSpec(a: out, b: other, out: mine)
    }

    init(a: [Character], b: [Character], out: [Character]) { self.a = a; self.b = b; self.out = out }
}

/// Why an Einsum equation cannot run.
public struct EinsumError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}

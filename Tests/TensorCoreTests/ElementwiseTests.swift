import Testing
import TensorCore
import TestSupport

struct BinaryCase: CustomTestStringConvertible, Sendable {
    var op: BinaryOp, a: [Int], b: [Int]
    var testDescription: String { "\(op) \(a) with \(b)" }
}

/// Same shapes (small, and large enough to be split over the threads in chunks of several slices), trailing/leading broadcasts on either
/// side, scalars, both sides broadcasting at once.
let broadcastPairs: [([Int], [Int])] = [
    ([2, 3, 4], [2, 3, 4]), ([2, 64, 56, 57], [2, 64, 56, 57]), ([2, 3, 4], [4]), ([4], [2, 3, 4]), ([2, 3, 4], [3, 1]), ([2, 3, 1], [1, 1, 5]),
    ([1, 3, 1], [2, 1, 4]), ([], [2, 3]), ([2, 3], []), ([2, 1, 4, 1], [3, 1, 5]), ([1, 4, 1, 1], [2, 4, 3, 3]),
    ([2, 4, 3, 3], [1, 4, 1, 1]), ([7], [1]), ([3, 1, 6], [3, 5, 1]),
]
let binaryCases: [BinaryCase] = [BinaryOp.add, .sub, .mul, .div, .max, .min, .pow, .prelu].flatMap { op in
    broadcastPairs.map { BinaryCase(op: op, a: $0.0, b: $0.1) }
}

@Suite("Elementwise")
struct ElementwiseTests {
    @Test("binary matches binaryNaive", arguments: binaryCases)
    func matchesNaive(_ c: BinaryCase) throws {
        var rng = SeededRandom(seed: UInt64(c.a.count * 31 + c.b.count))
        // pow needs a positive base; div a divisor away from zero.
        let a = c.op == .pow ? rng.tensor(c.a, 0.25, 2) : rng.tensor(c.a, -2, 2)
        var b = rng.tensor(c.b, 0.5, 2)
        if c.op != .pow { for i in 0..<b.count where rng.next() % 2 == 0 { b.data[i] = -b.data[i] } }
        let outShape = try broadcastShapes(c.a, c.b)
        var fast = [Float](repeating: .nan, count: shapeCount(outShape))
        var naive = fast
        binary(c.op, a: a.data, aShape: a.shape, b: b.data, bShape: b.shape, out: &fast, outShape: outShape)
        binaryNaive(c.op, a: a.data, aShape: a.shape, b: b.data, bShape: b.shape, out: &naive, outShape: outShape)
        let m = compare(fast, naive, rtol: 1e-6, atol: 0)
        #expect(m == nil, "\(describe(m))")
    }

    @Test("broadcastShapes rejects incompatible shapes naming both")
    func broadcastError() {
        do {
            _ = try broadcastShapes([2, 3], [4, 3])
            Issue.record("expected a ShapeError")
        } catch let e as ShapeError {
            #expect(e.description.contains("[2, 3]") && e.description.contains("[4, 3]"), "\(e)")
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test("sumToShape is the adjoint of broadcasting", arguments: broadcastPairs)
    func sumToShapeAdjoint(_ pair: ([Int], [Int])) throws {
        let outShape = try broadcastShapes(pair.0, pair.1)
        var rng = SeededRandom(seed: 17)
        let x = rng.tensor(pair.0)
        let y = rng.tensor(outShape)
        // A x = x broadcast to outShape.
        var ax = [Float](repeating: 0, count: y.count)
        binaryNaive(.add, a: x.data, aShape: x.shape, b: [Float](repeating: 0, count: y.count), bShape: outShape,
                    out: &ax, outShape: outShape)
        let aty = sumToShape(y, x.shape)
        #expect(aty.shape == x.shape)
        let m = adjointMismatch(ax: ax, y: y.data, x: x.data, aty: aty.data)
        #expect(m == nil, "\(describe(m))")
    }

    @Test("channelAffine matches its definition")
    func channelAffineDefinition() {
        var rng = SeededRandom(seed: 8)
        let x = rng.tensor([2, 3, 4, 5])
        let scale = rng.tensor([3]).data, shift = rng.tensor([3]).data
        var y = [Float](repeating: .nan, count: x.count)
        channelAffine(x.data, batch: 2, channels: 3, area: 20, scale: scale, shift: shift, y: &y)
        let expected = (0..<x.count).map { (i: Int) -> Float in
            let ch: Int = (i / 20) % 3
            return x.data[i] * scale[ch] + shift[ch]
        }
        let m = compare(y, expected, rtol: 1e-6, atol: 0)
        #expect(m == nil, "\(describe(m))")
    }
}

@Suite("Elementwise over whole activations")
struct WholeActivationTests {
    @Test("ReLU and Clip over an activation equal Swift.max(x, lo) then Swift.min(·, hi) bit for bit (NaN kept; -0 and infinities), on one and two threads",
          arguments: [Activation.relu, .clip(0, 6), .clip(-0.5, 0.25), .clip(0, 0)])
    func clamps(_ act: Activation) {
        var rng = SeededRandom(seed: 11)
        var x = rng.tensor([100_003], -8, 8).data
        x[0] = .nan; x[1] = -0.0; x[2] = 0; x[3] = .infinity; x[4] = -.infinity; x[99_999] = .nan; x[100_002] = -0.0
        let (lo, hi) = act.clampBounds!
        let want = x.map { Swift.min(Swift.max($0, lo), hi) }
        for threads in [1, 2] {
            var y = x
            withComputeThreads(threads) { y.withUnsafeMutableBufferPointer { act.apply($0.baseAddress!, count: $0.count) } }
            #expect(zip(y, want).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }, "\(threads) thread(s)")
        }
    }

    @Test("channelAffine equals x · scale + shift per channel, on one and two threads", arguments: [(1, 3, 5), (2, 64, 3136), (3, 7, 1)])
    func affine(_ shape: (Int, Int, Int)) {
        let (batch, channels, area) = shape
        var rng = SeededRandom(seed: 5)
        let x = rng.tensor([batch, channels, area]).data, s = rng.tensor([channels]).data, t = rng.tensor([channels]).data
        var want = x
        for n in 0..<batch { for c in 0..<channels { for i in 0..<area { let o = (n * channels + c) * area + i; want[o] = x[o] * s[c] + t[c] } } }
        for threads in [1, 2] {
            var y = [Float](repeating: .nan, count: x.count)
            withComputeThreads(threads) { channelAffine(x, batch: batch, channels: channels, area: area, scale: s, shift: t, y: &y) }
            #expect(y == want, "\(threads) thread(s)")
        }
    }
}

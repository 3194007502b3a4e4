import Testing
import TensorCore
import TestSupport

/// Each backward kernel is the transpose of its (linear) forward kernel: <A x, y> == <x, A^T y>,
/// with both inner products summed in double.
@Suite("Adjoint identities")
struct AdjointTests {
    @Test("conv2dBackwardInput is the adjoint of conv2d", arguments: convCases)
    func convBackwardInput(_ c0: ConvCase) {
        var c = c0
        c.activation = .identity; c.bias = false   // the linear part only
        let s = c.shape
        var rng = SeededRandom(seed: 21)
        let (x, w, _) = convOperands(c, seed: 22)
        let ax = runConv(c, x, w, nil, naive: false)                           // [N, M, outH, outW]
        let y = rng.tensor([s.batch, s.outC, s.outH, s.outW]).data
        var aty = [Float](repeating: .nan, count: x.count)                     // [N, C, H, W]
        var scratch = [Float](repeating: .nan, count: s.colRows * s.outH * s.outW)
        conv2dBackwardInput(y, weight: w, shape: s, dx: &aty, scratch: &scratch)
        let m = adjointMismatch(ax: ax, y: y, x: x, aty: aty)
        #expect(m == nil, "\(describe(m))")
    }

    @Test("col2im is the adjoint of im2col", arguments: convCases)
    func col2imAdjoint(_ c: ConvCase) {
        let s = c.shape, ch = s.inCPerGroup
        var rng = SeededRandom(seed: 23)
        let x = rng.tensor([ch, s.inH, s.inW]).data                          // [C_g, H, W]
        var ax = [Float](repeating: .nan, count: s.colRows * s.outH * s.outW) // [C_g*kh*kw, outH*outW]
        im2col(x, channels: ch, h: s.inH, w: s.inW, window: s.window, outH: s.outH, outW: s.outW, col: &ax)
        let y = rng.tensor([ax.count]).data
        var aty = [Float](repeating: 0, count: x.count)                       // col2im accumulates
        col2im(y, channels: ch, h: s.inH, w: s.inW, window: s.window, outH: s.outH, outW: s.outW, dx: &aty)
        let m = adjointMismatch(ax: ax, y: y, x: x, aty: aty)
        #expect(m == nil, "\(describe(m))")
    }

    @Test("pool2dBackward is the adjoint of pool2d", arguments: poolCases)
    func poolBackward(_ c: PoolCase) {
        var rng = SeededRandom(seed: 24)
        let x = rng.tensor([c.planes, c.h, c.w]).data
        var ax = [Float](repeating: .nan, count: c.planes * c.outH * c.outW)
        var arg = [Int32](repeating: -1, count: ax.count)
        pool2d(c.kind, x: x, planes: c.planes, h: c.h, w: c.w, window: c.window, outH: c.outH, outW: c.outW, y: &ax, argmax: &arg)
        let y = rng.tensor([ax.count]).data
        var aty = [Float](repeating: .nan, count: x.count)
        pool2dBackward(c.kind, dy: y, planes: c.planes, h: c.h, w: c.w, window: c.window, outH: c.outH, outW: c.outW,
                       argmax: arg, dx: &aty)
        // Max pooling is linear once the argmax is fixed: A x gathers x at the chosen cells.
        let m = adjointMismatch(ax: ax, y: y, x: x, aty: aty)
        #expect(m == nil, "\(describe(m))")
    }

    @Test("resize2dBackward is the adjoint of resize2d", arguments: resize2dCases)
    func resizeBackward(_ c: Resize2DCase) {
        var rng = SeededRandom(seed: 25)
        let planes = 2
        let (ty, tx) = taps(c)
        let x = rng.tensor([planes, c.inH, c.inW]).data
        var ax = [Float](repeating: .nan, count: planes * c.outH * c.outW)
        resize2d(x, planes: planes, inH: c.inH, inW: c.inW, ty: ty, tx: tx, y: &ax)
        let y = rng.tensor([ax.count]).data
        var aty = [Float](repeating: .nan, count: x.count)
        resize2dBackward(y, planes: planes, inH: c.inH, inW: c.inW, ty: ty, tx: tx, dx: &aty)
        let m = adjointMismatch(ax: ax, y: y, x: x, aty: aty)
        #expect(m == nil, "\(describe(m))")
    }

    static let sliceCases: [([Int], [Int], [Int], [Int]?, [Int]?)] = [
        ([5, 6], [1, 0], [4, 6], nil, nil),
        ([5, 6], [0, 1], [5, 6], nil, [2, 2]),
        ([4, 5, 6], [-1, 4], [-5, 0], [0, 2], [-1, -2]),
        ([3, 4, 7], [1], [100], [2], [3]),
        ([6, 2], [5], [-100], [0], [-2]),
        ([4, 4], [2], [2], [1], nil),
    ]

    @Test("sliceBackward is the adjoint of slice", arguments: sliceCases)
    func sliceAdjoint(_ c: ([Int], [Int], [Int], [Int]?, [Int]?)) throws {
        let spec = try SliceSpec.resolve(shape: c.0, starts: c.1, ends: c.2, axes: c.3, steps: c.4)
        var rng = SeededRandom(seed: 26)
        let x = rng.tensor(c.0)
        let ax = slice(x, spec)
        let y = rng.tensor(ax.shape)
        let aty = sliceBackward(y, inputShape: x.shape, spec)
        #expect(aty.shape == x.shape)
        let m = adjointMismatch(ax: ax.data, y: y.data, x: x.data, aty: aty.data)
        #expect(m == nil, "\(describe(m))")
    }

    @Test("padBackward is the adjoint of pad",
          arguments: [PadMode.constant, .reflect, .edge],
                     [([3, 4], [1, 2], [2, 1]), ([2, 3, 5], [0, 2, 3], [1, 1, 4]), ([2, 6, 5], [0, -1, 2], [0, 1, -2])])
    func padAdjoint(_ mode: PadMode, _ g: ([Int], [Int], [Int])) {
        var rng = SeededRandom(seed: 27)
        let x = rng.tensor(g.0)
        let ax = pad(x, before: g.1, after: g.2, mode: mode, value: 0)   // value 0 keeps constant mode linear
        let y = rng.tensor(ax.shape)
        let aty = padBackward(y, inputShape: x.shape, before: g.1, mode: mode)
        let m = adjointMismatch(ax: ax.data, y: y.data, x: x.data, aty: aty.data)
        #expect(m == nil, "\(describe(m))")
    }

    @Test("transpose by the inverse permutation is the adjoint of transpose",
          arguments: [[1, 0], [0, 2, 1], [2, 0, 1], [3, 1, 0, 2]])
    func transposeAdjoint(_ perm: [Int]) {
        var rng = SeededRandom(seed: 28)
        let x = rng.tensor(Array([2, 3, 4, 5].prefix(perm.count)))
        let ax = transpose(x, perm: perm)
        let y = rng.tensor(ax.shape)
        let aty = transpose(y, perm: inversePermutation(perm))
        #expect(aty.shape == x.shape)
        let m = adjointMismatch(ax: ax.data, y: y.data, x: x.data, aty: aty.data)
        #expect(m == nil, "\(describe(m))")
        // Transposing back is the identity.
        #expect(transpose(ax, perm: inversePermutation(perm)) == x)
    }

    @Test("split is the adjoint (and inverse) of concat", arguments: [0, 1, 2])
    func concatSplit(_ axis: Int) {
        var rng = SeededRandom(seed: 29)
        var shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
        for (i, n) in [1, 3, 2].enumerated() { shapes[i][axis] = n }
        let parts = shapes.map { rng.tensor($0) }
        let joined = concat(parts, axis: axis)
        let back = split(joined, axis: axis, sizes: [1, 3, 2])
        #expect(back == parts)
        let y = rng.tensor(joined.shape)
        let aty = split(y, axis: axis, sizes: [1, 3, 2])
        let m = adjointMismatch(ax: joined.data, y: y.data, x: parts.flatMap(\.data), aty: aty.flatMap(\.data))
        #expect(m == nil, "\(describe(m))")
    }

    @Test("reduceBackward is the adjoint of reduce for sum and mean",
          arguments: [ReduceKind.sum, .mean], [[0], [1], [0, 2], [0, 1, 2]])
    func reduceAdjoint(_ kind: ReduceKind, _ axes: [Int]) {
        var rng = SeededRandom(seed: 30)
        let x = rng.tensor([3, 4, 5])
        let ax = reduce(kind, x, axes: axes)
        let y = rng.tensor(ax.shape)
        let aty = reduceBackward(kind, x: x, y: ax, dy: y, axes: axes)
        let m = adjointMismatch(ax: ax.data, y: y.data, x: x.data, aty: aty.data)
        #expect(m == nil, "\(describe(m))")
    }
}

import Testing
import TensorCore
import TestSupport

struct PoolCase: CustomTestStringConvertible, Sendable {
    var label: String
    var kind: PoolKind
    var planes = 3, h: Int, w: Int
    var window: Window2D
    var ceil = false
    var testDescription: String { "\(label) \(kind)" }
    var outH: Int { window.outH(h, ceil: ceil) }
    var outW: Int { window.outW(w, ceil: ceil) }
}

let poolGeometries: [(String, Int, Int, Window2D, Bool)] = [
    ("2x2 stride 2", 8, 8, Window2D(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2), false),
    ("3x3 stride 1 pad 1", 6, 7, Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), false),
    ("3x3 stride 2 pad 1", 9, 10, Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), false),
    ("3x3 stride 2 ceil", 8, 8, Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2), true),
    ("3x3 stride 2 pad 1 ceil", 10, 7, Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), true),
    ("2x3 asymmetric pads", 7, 9, Window2D(kernelH: 2, kernelW: 3, strideH: 1, strideW: 2, padTop: 0, padLeft: 2, padBottom: 1, padRight: 0), false),
    ("3x3 dilation 2 pad 2", 9, 9, Window2D(kernelH: 3, kernelW: 3, dilationH: 2, dilationW: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2), false),
    ("whole plane", 5, 6, Window2D(kernelH: 5, kernelW: 6), false),
]
let poolCases: [PoolCase] = [PoolKind.max, .average(countIncludePad: false), .average(countIncludePad: true)].flatMap { k in
    poolGeometries.map { PoolCase(label: $0.0, kind: k, h: $0.1, w: $0.2, window: $0.3, ceil: $0.4) }
}

/// The definition of pooling, one window at a time: max or mean of the cells inside the input; with
/// count_include_pad the divisor counts every window position inside the padded extent
/// `[-padTop, h + padBottom)` (so ceil-mode windows hanging past it are clipped, as in ONNX and PyTorch).
func poolReference(_ c: PoolCase, _ x: [Float]) -> [Float] {
    let wd = c.window
    var y: [Float] = []
    for p in 0..<c.planes {
        for oy in 0..<c.outH {
            for ox in 0..<c.outW {
                var vals: [Double] = []
                var padded = 0
                for ky in 0..<wd.kernelH {
                    let iy = oy * wd.strideH - wd.padTop + ky * wd.dilationH
                    for kx in 0..<wd.kernelW {
                        let ix = ox * wd.strideW - wd.padLeft + kx * wd.dilationW
                        if iy < c.h + wd.padBottom && ix < c.w + wd.padRight { padded += 1 }
                        if iy >= 0 && iy < c.h && ix >= 0 && ix < c.w { vals.append(Double(x[(p * c.h + iy) * c.w + ix])) }
                    }
                }
                switch c.kind {
                case .max: y.append(Float(vals.max() ?? -.infinity))
                case let .average(includePad):
                    let div = includePad ? padded : vals.count
                    y.append(div == 0 ? 0 : Float(vals.reduce(0, +) / Double(div)))
                }
            }
        }
    }
    return y
}

@Suite("Pooling")
struct PoolingTests {
    @Test("pool2d matches the definition", arguments: poolCases)
    func matchesReference(_ c: PoolCase) {
        var rng = SeededRandom(seed: UInt64(c.h * 100 + c.w))
        let x = rng.tensor([c.planes, c.h, c.w]).data               // [planes, H, W]
        var y = [Float](repeating: .nan, count: c.planes * c.outH * c.outW)  // [planes, outH, outW]
        var arg = [Int32](repeating: -2, count: y.count)
        pool2d(c.kind, x: x, planes: c.planes, h: c.h, w: c.w, window: c.window, outH: c.outH, outW: c.outW, y: &y, argmax: &arg)
        let m = compare(y, poolReference(c, x), rtol: 1e-5, atol: 1e-6)
        #expect(m == nil, "\(describe(m))")
        if c.kind == .max {
            // argmax names the cell holding the maximum, within its plane.
            let plane = c.outH * c.outW
            for i in 0..<y.count where arg[i] >= 0 {
                #expect(x[(i / plane) * c.h * c.w + Int(arg[i])] == y[i], "argmax at output \(i)")
            }
        }
    }

    @Test("globalPool matches mean and max", arguments: [false, true])
    func globalPoolReference(_ useMax: Bool) {
        var rng = SeededRandom(seed: 4)
        let planes = 6, area = 37
        let x = rng.tensor([planes, area]).data
        var y = [Float](repeating: .nan, count: planes)
        globalPool(max: useMax, x: x, planes: planes, area: area, y: &y)
        let expected = (0..<planes).map { p -> Float in
            let s = x[(p * area)..<((p + 1) * area)]
            return useMax ? s.max()! : Float(s.reduce(0.0) { $0 + Double($1) } / Double(area))
        }
        let m = compare(y, expected, rtol: 1e-5, atol: 1e-6)
        #expect(m == nil, "\(describe(m))")
    }

    @Test("pool2d equals its naive twin bit for bit, on one and two threads (many planes, NaN and infinities included)",
          arguments: poolCases)
    func matchesNaive(_ c: PoolCase) {
        var rng = SeededRandom(seed: UInt64(c.h * 31 + c.w))
        let planes = 37
        var x = rng.tensor([planes, c.h, c.w]).data
        x[3] = .nan; x[c.h * c.w + 1] = .infinity; x[2 * c.h * c.w] = -.infinity
        var naive = [Float](repeating: 7, count: planes * c.outH * c.outW)
        pool2dNaive(c.kind, x: x, planes: planes, h: c.h, w: c.w, window: c.window, outH: c.outH, outW: c.outW, y: &naive)
        for threads in [1, 2] {
            var fast = [Float](repeating: 7, count: naive.count)
            withComputeThreads(threads) {
                pool2d(c.kind, x: x, planes: planes, h: c.h, w: c.w, window: c.window, outH: c.outH, outW: c.outW, y: &fast)
            }
            #expect(zip(fast, naive).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(threads) thread(s)")
        }
    }
}

import Foundation
import Testing
import TensorCore

/// Distance in units in the last place between two finite floats of the same sign (0 when equal).
func ulps(_ a: Float, _ b: Float) -> Int {
    if a == b { return 0 }
    if a.sign != b.sign { return Int.max }
    return abs(Int(a.bitPattern) - Int(b.bitPattern))
}

@Suite("Vectorised exp, erf and softmax")
struct VectorMathTests {
    /// Every float step of 1/4096 over the range, and the edges.
    static func grid(_ lo: Float, _ hi: Float) -> [Float] {
        stride(from: lo, through: hi, by: 1.0 / 4096).map { $0 } + [0, -0, .leastNormalMagnitude, 1e-30, -1e-30, lo, hi]
    }

    /// `act` over `xs` on the vectorised kernels: the AVX-512 and AVX2 compilations of the same code give the same
    /// floats (one path on a CPU without AVX-512).
    static func vectorised(_ act: Activation, _ xs: [Float]) -> [Float] {
        func on(_ isa: KernelISA) -> [Float] {
            var ys = xs
            withKernelISA(isa) { ys.withUnsafeMutableBufferPointer { act.apply($0.baseAddress!, count: $0.count) } }
            return ys
        }
        let wide = on(.avx512), narrow = on(.avx2)
        #expect(zip(wide, narrow).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }, "AVX-512 and AVX2 differ")
        return wide
    }

    @Test("Exp is within 2 ulp of Foundation.exp on [-87, 88], saturates outside, keeps NaN")
    func exp() {
        let xs = Self.grid(-87, 88)
        let ys = Self.vectorised(.exp, xs)
        var worst = 0
        for (x, y) in zip(xs, ys) { worst = max(worst, ulps(y, Foundation.exp(x))) }
        #expect(worst <= 2, "worst \(worst) ulp")
        let edge = Self.vectorised(.exp, [-200, -88, 88.7, 89, 1000, .infinity, -.infinity, .nan, 0, 1, -1, 0.5, 10, -10, 20, 88.5, 3])
        #expect(edge[0] == 0 && edge[1] >= 0 && edge[1] < 1e-37)
        #expect(edge[2].isFinite && ulps(edge[2], Foundation.exp(88.7)) <= 2)
        #expect(edge[3] == .infinity && edge[4] == .infinity && edge[5] == .infinity && edge[6] == 0 && edge[7].isNaN)
        #expect(edge[8] == 1 && ulps(edge[15], Foundation.exp(88.5)) <= 2)
    }

    @Test("Erf is within 2 ulp (or 1e-9 absolute) of Foundation.erf, odd, ±1 far out, keeps NaN")
    func erf() {
        let xs = Self.grid(-10, 10)
        let ys = Self.vectorised(.erf, xs)
        var worst = 0
        for (x, y) in zip(xs, ys) {
            let want = Foundation.erf(x)
            if abs(y - want) > 1e-9 { worst = max(worst, ulps(y, want)) }
        }
        #expect(worst <= 2, "worst \(worst) ulp")
        let edge = Self.vectorised(.erf, [.infinity, -.infinity, .nan, 0, 1e-20, -1e-20, 30, -30, 0.4999, 0.5, 0.5001, 3, -3, 5, 1e-38, 2])
        #expect(edge[0] == 1 && edge[1] == -1 && edge[2].isNaN && edge[3] == 0 && edge[6] == 1 && edge[7] == -1)
        #expect(edge[4] > 0 && edge[5] < 0)
    }

    @Test("GELU is within 4 ulp of x (1 + erf(x / √2)) / 2 in double (1e-9, or |x|·2^-23 for x < 0, absolute), 0 far left, x far right, keeps NaN")
    func gelu() {
        let xs = Self.grid(-12, 12)
        let ys = Self.vectorised(.gelu, xs)
        var worst = 0
        for (x, y) in zip(xs, ys) {
            let want = Float(0.5 * Double(x) * (1 + Foundation.erf(Double(x) / 2.0.squareRoot())))
            // For x < 0, 1 + erf(x / √2) cancels in float32 (as in onnxruntime's Gelu): an absolute error up to
            // |x| · 2^-23 is the formula's, not the kernel's.
            if abs(y - want) > max(1e-9, x < 0 ? abs(x) * 1.2e-7 : 0) { worst = max(worst, ulps(y, want)) }
            #expect(abs(y - Activation.gelu.apply(x)) <= 1e-6 * max(1, abs(x)), "x \(x): vectorised \(y), scalar \(Activation.gelu.apply(x))")
        }
        #expect(worst <= 4, "worst \(worst) ulp")
        let edge = Self.vectorised(.gelu, [.infinity, .nan, 0, -30, 30, 1e-30, -1e-30])
        #expect(edge[0] == .infinity && edge[1].isNaN && edge[2] == 0 && edge[3] == 0 && edge[4] == 30)
    }

    @Test("Sigmoid is within 4 ulp of 1 / (1 + exp(-x))")
    func sigmoid() {
        let xs = Self.grid(-20, 20)
        let ys = Self.vectorised(.sigmoid, xs)
        var worst = 0
        for (x, y) in zip(xs, ys) { worst = max(worst, ulps(y, Activation.sigmoid.apply(x))) }
        #expect(worst <= 4, "worst \(worst) ulp")
    }

    @Test("softmax along the last axis matches a double-precision softmax, rows of every length, also in place",
          arguments: [1, 7, 15, 16, 17, 31, 49, 197, 1000])
    func softmaxRows(_ len: Int) {
        var rng = SystemRandomNumberGenerator()
        let rows = 5
        let x = (0..<(rows * len)).map { _ in Float.random(in: -30...30, using: &rng) }
        var y = [Float](repeating: .nan, count: x.count)
        withKernelISA(.avx512) { softmax(x, outer: rows, axisLen: len, rest: 1, y: &y) }
        var narrow = [Float](repeating: .nan, count: x.count)
        withKernelISA(.avx2) { softmax(x, outer: rows, axisLen: len, rest: 1, y: &narrow) }
        #expect(narrow == y, "AVX2 and AVX-512 differ")
        // In place (the output over the input): every value is read before it is overwritten.
        var inPlace = x
        withKernelISA(.avx512) {
            inPlace.withUnsafeMutableBufferPointer { p in softmax(p.baseAddress!, outer: rows, axisLen: len, rest: 1, y: p.baseAddress!) }
        }
        #expect(inPlace == y)
        for r in 0..<rows {
            let row = x[(r * len)..<((r + 1) * len)].map(Double.init)
            let m = row.max()!, s = row.map { Foundation.exp($0 - m) }.reduce(0, +)
            for i in 0..<len {
                let want = Foundation.exp(row[i] - m) / s
                #expect(abs(Double(y[r * len + i]) - want) <= 4e-7 * max(want, 1e-30) + 1e-12, "row \(r) item \(i)")
            }
        }
    }
}

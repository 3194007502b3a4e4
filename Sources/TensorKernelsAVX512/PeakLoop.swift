/// A register-only loop of independent multiply-adds on `V` (twelve accumulators: enough to fill two FMA pipes at
/// their latency, few enough for sixteen 256-bit registers): what one core can do at most, for benchmarks to report
/// a share of peak. `@_transparent`, so each entry point compiles it for its own instruction set
/// (`fmaPeakLoopAVX512` here on 16-lane zmm vectors, TensorCore's `fmaPeakLoopAVX2` on 8-lane ymm ones).
///
/// - Parameter iterations: loop trips; each does 12 vector FMAs (24 · lanes flops).
/// - Returns: a value depending on every accumulator, so the loop cannot be removed.
/// - Complexity: 24 · `V.scalarCount` · iterations flops.
@_transparent public func fmaPeakLoop<V: SIMD>(iterations: Int, _: V.Type) -> Float where V.Scalar == Float {
    // a = y + a * x converges to y / (1 - x) = 0.1: no overflow, no denormals.
    let x = V(repeating: 0.999_999), y = V(repeating: 1e-7)
    var a0 = V(repeating: 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
    var a8 = a0, a9 = a0, a10 = a0, a11 = a0
    for _ in 0..<iterations {
        a0 = y.addingProduct(a0, x); a1 = y.addingProduct(a1, x)
        a2 = y.addingProduct(a2, x); a3 = y.addingProduct(a3, x)
        a4 = y.addingProduct(a4, x); a5 = y.addingProduct(a5, x)
        a6 = y.addingProduct(a6, x); a7 = y.addingProduct(a7, x)
        a8 = y.addingProduct(a8, x); a9 = y.addingProduct(a9, x)
        a10 = y.addingProduct(a10, x); a11 = y.addingProduct(a11, x)
    }
    var s = a0 + a1
    s += a2 + a3; s += a4 + a5; s += a6 + a7; s += a8 + a9; s += a10 + a11
    return s.sum()
}

/// `fmaPeakLoop` on 16-lane vectors, for AVX-512 (384 flops an iteration).
@inline(never)
public func fmaPeakLoopAVX512(iterations: Int) -> Float { fmaPeakLoop(iterations: iterations, F16.self) }

/// A register-only loop of independent 16-lane multiply-adds (24 accumulators, enough to fill two FMA
/// pipes at their latency): what one core can do at most, for benchmarks to report a share of peak.
///
/// - Parameter iterations: loop trips; each does 24 vector FMAs (768 flops).
/// - Returns: a value depending on every accumulator, so the loop cannot be removed.
/// - Complexity: 768 · iterations flops.
@inline(never)
public func fmaPeakLoopAVX512(iterations: Int) -> Float {
    // a = y + a * x converges to y / (1 - x) = 0.1: no overflow, no denormals.
    let x = F16(repeating: 0.999_999), y = F16(repeating: 1e-7)
    var a0 = F16(repeating: 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
    var a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0
    var a16 = a0, a17 = a0, a18 = a0, a19 = a0, a20 = a0, a21 = a0, a22 = a0, a23 = a0
    for _ in 0..<iterations {
        a0 = y.addingProduct(a0, x); a1 = y.addingProduct(a1, x)
        a2 = y.addingProduct(a2, x); a3 = y.addingProduct(a3, x)
        a4 = y.addingProduct(a4, x); a5 = y.addingProduct(a5, x)
        a6 = y.addingProduct(a6, x); a7 = y.addingProduct(a7, x)
        a8 = y.addingProduct(a8, x); a9 = y.addingProduct(a9, x)
        a10 = y.addingProduct(a10, x); a11 = y.addingProduct(a11, x)
        a12 = y.addingProduct(a12, x); a13 = y.addingProduct(a13, x)
        a14 = y.addingProduct(a14, x); a15 = y.addingProduct(a15, x)
        a16 = y.addingProduct(a16, x); a17 = y.addingProduct(a17, x)
        a18 = y.addingProduct(a18, x); a19 = y.addingProduct(a19, x)
        a20 = y.addingProduct(a20, x); a21 = y.addingProduct(a21, x)
        a22 = y.addingProduct(a22, x); a23 = y.addingProduct(a23, x)
    }
    var s: F16 = a0 + a1
    s += a2 + a3; s += a4 + a5; s += a6 + a7; s += a8 + a9; s += a10 + a11
    s += a12 + a13; s += a14 + a15; s += a16 + a17; s += a18 + a19; s += a20 + a21; s += a22 + a23
    return s.sum()
}

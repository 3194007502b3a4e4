// exp and erf on sixteen floats at a time: the transcendental parts of softmax, GELU (erf), sigmoid and Exp,
// which run over every attention score and every MLP activation of a transformer. The scalar Foundation
// functions are their naive twins (TensorCore's `Activation.apply(_:)`).
//
// Everything here but the two AVX-512 entry points is `@_transparent`: the code is compiled where it is inlined, so
// TensorCore's AVX2 entry points (`elementwiseAVX2`, `softmaxRowsAVX2`), compiled for AVX2, run the same arithmetic on
// pairs of 256-bit registers, with the same results. Nothing they inline may call a function of this module (it
// would run AVX-512 instructions).

/// Cephes' expf reduction for |v| <= 88.7: v = n·ln2 + r with |r| <= ln2/2, e^r by a degree-7 polynomial.
/// Returns e^r and n; the callers put 2^n into exponent bits.
@usableFromInline @_transparent func vexpReduced(_ v: F16) -> (F16, SIMD16<Int32>) {
    // n = round(v / ln2) by the 1.5·2^23 trick: the sum's low mantissa bits hold n, no float-to-int conversion.
    let magic = F16(repeating: 12582912)
    let t = v * 1.44269504088896341 + magic
    let n = t - magic
    let ni = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
    let r = v - n * 0.693359375 + n * 2.12194440e-4
    var p = F16(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    return (p, ni)
}

/// e^x, within 2 ulp of `Foundation.exp` for x in [-87, 88] (`vexpReduced`, then 2^n). Below -87.3 the result is 0,
/// above 88.7 +inf; NaN stays NaN.
@usableFromInline @_transparent func vexp(_ x: F16) -> F16 {
    var v = x
    let hiMask = v .> 88.72283, loMask = v .< -87.33654
    v.replace(with: 0, where: hiMask .| loMask .| (v .!= v))
    let (p, ni) = vexpReduced(v)
    // 2^n as 2^(n/2) · 2^(n - n/2), both normal: n reaches 128 at the top and -126 at the bottom.
    let n1 = ni &>> 1, n2 = ni &- n1
    var y = p * unsafeBitCast((n1 &+ 127) &<< 23, to: F16.self) * unsafeBitCast((n2 &+ 127) &<< 23, to: F16.self)
    y.replace(with: .infinity, where: hiMask)
    y.replace(with: 0, where: loMask)
    y.replace(with: x, where: x .!= x)
    return y
}

/// e^x where x cannot overflow (x <= 88: a softmax's values less their row's max, erf's exponent): `vexp` without
/// its overflow and NaN blends, with 2^n made in one step (-126 <= n <= 127 here). Below -87.3 the result is 0; NaN
/// stays NaN (it runs through the arithmetic). Same polynomial and one exact scaling, so the same values as `vexp`.
@usableFromInline @_transparent func vexpNoOverflow(_ x: F16) -> F16 {
    let loMask = x .< -87.33654
    let (p, ni) = vexpReduced(x.replacing(with: 0, where: loMask))
    let y = p * unsafeBitCast((ni &+ 127) &<< 23, to: F16.self)
    return y.replacing(with: 0, where: loMask)
}

/// erf(x), within 1 ulp of `Foundation.erf` (the faithfully rounded erff of N. Juffa, the algorithm onnxruntime's
/// MLAS uses too): an odd polynomial for |x| <= 0.9277, else 1 - exp(P(|x|)) with the sign of x; no division.
/// Both branches are computed and blended; constants are explicit vectors (scalar operands made the compiler
/// splat them inside the loop).
@usableFromInline @_transparent func verf(_ x: F16) -> F16 {
    @inline(__always) func c(_ v: Float) -> F16 { F16(repeating: v) }
    let signBit = unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x8000_0000
    let t = unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: F16.self)
    let s = x * x
    // |x| <= 0.927734375: x + x·R(x²).
    var r = c(-5.96761703e-4)
    r = c(4.99119423e-3).addingProduct(r, s)
    r = c(-2.67681349e-2).addingProduct(r, s)
    r = c(1.12819925e-1).addingProduct(r, s)
    r = c(-3.76125336e-1).addingProduct(r, s)
    r = c(1.28379166e-1).addingProduct(r, s)
    let small = x.addingProduct(r, x)
    // Beyond: 1 - exp(P(|x|)), signed. P is negative there and small on the lanes the branch above takes: no overflow.
    var q = c(3.83197126e-4).addingProduct(c(-1.72853470e-5), t)
    let u = c(2.42546219e-2).addingProduct(c(-3.88396438e-3), t)
    q = u.addingProduct(q, s)
    q = c(-1.06777877e-1).addingProduct(q, t)
    q = c(-6.34846687e-1).addingProduct(q, t)
    q = c(-1.28717512e-1).addingProduct(q, t)
    q = (-t).addingProduct(q, t)
    let large = unsafeBitCast(unsafeBitCast(c(1) - vexpNoOverflow(q), to: SIMD16<UInt32>.self) | signBit, to: F16.self)
    var y = large.replacing(with: small, where: t .<= c(0.927734375))
    y.replace(with: x, where: x .!= x)
    return y
}

/// Exact GELU, x · (1 + erf(x / √2)) / 2, through `verf`.
@usableFromInline @_transparent func vgelu(_ x: F16) -> F16 {
    let h = x * F16(repeating: 0.5)
    return h.addingProduct(h, verf(x * F16(repeating: 0.70710678118654752)))
}

/// Which elementwise function `elementwiseAVX512` applies.
@frozen public enum VectorFunction: Sendable {
    case exp, erf, sigmoid, gelu
}

/// `f` on sixteen floats.
@usableFromInline @_transparent func vapply(_ f: VectorFunction, _ v: F16) -> F16 {
    switch f {
    case .exp: return vexp(v)
    case .erf: return verf(v)
    case .sigmoid: return 1 / (1 + vexp(-v))
    case .gelu: return vgelu(v)
    }
}

/// `f` over `count` floats from `x` into `y` (may alias), sixteen at a time, the tail through a padded vector, then
/// clamped to [lo, hi] when `clamps`. No closure: one that took a vector, not inlined, had its argument split into
/// four 128-bit parts by the calling convention and computed in them, at a quarter of the width.
@usableFromInline @_transparent func mapVector(_ f: VectorFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                                 clamps: Bool = false, lo: Float = -.infinity, hi: Float = .infinity) {
    var i = 0
    while i + 16 <= count {
        let r = vapply(f, load16(x + i))
        store16(clamps ? clamped(r, lo, hi) : r, y + i)
        i += 16
    }
    if i < count {
        var v = F16()
        for j in 0..<(count - i) { v[j] = x[i + j] }
        var r = vapply(f, v)
        if clamps { r = clamped(r, lo, hi) }
        for j in 0..<(count - i) { y[i + j] = r[j] }
    }
}

/// y = f(x) over `count` floats (`y` may be `x`), within 2 ulp of Foundation's exp and erf (sigmoid as
/// 1 / (1 + exp(-x))).
public func elementwiseAVX512(_ f: VectorFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    vectorElementwise(f, x, y, count: count)
}

/// `elementwiseAVX512`'s body, inlined where it is compiled (see the top of the file).
@_transparent public func vectorElementwise(_ f: VectorFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    // One loop per function, each with its function inlined.
    switch f {
    case .exp: mapVector(.exp, x, y, count: count)
    case .erf: mapVector(.erf, x, y, count: count)
    case .sigmoid: mapVector(.sigmoid, x, y, count: count)
    case .gelu: mapVector(.gelu, x, y, count: count)
    }
}

/// The sum of a vector's lanes by halving (three vector adds, one scalar): `SIMD.sum()` adds the lanes one after
/// another, a chain of sixteen dependent adds. The halves are spelt out lane by lane (shuffles): `lowHalf` and
/// `highHalf` stayed calls here.
@usableFromInline @_transparent func hsum16(_ v: F16) -> Float {
    let h8 = SIMD8<Float>(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]) + SIMD8<Float>(v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15])
    let h4 = SIMD4<Float>(h8[0], h8[1], h8[2], h8[3]) + SIMD4<Float>(h8[4], h8[5], h8[6], h8[7])
    return (h4[0] + h4[2]) + (h4[1] + h4[3])
}

/// The largest lane by halving (NaN lanes are passed over, as the softmax's running max does).
@usableFromInline @_transparent func hmax16(_ v: F16) -> Float {
    let a8 = SIMD8<Float>(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]), b8 = SIMD8<Float>(v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15])
    let h8 = a8.replacing(with: b8, where: b8 .> a8)
    let a4 = SIMD4<Float>(h8[0], h8[1], h8[2], h8[3]), b4 = SIMD4<Float>(h8[4], h8[5], h8[6], h8[7])
    let h4 = a4.replacing(with: b4, where: b4 .> a4)
    let m0 = h4[2] > h4[0] ? h4[2] : h4[0], m1 = h4[3] > h4[1] ? h4[3] : h4[1]
    return m1 > m0 ? m1 : m0
}

/// Softmax of `rows` contiguous rows of `length` floats (the last axis): max, exponentials and their sum, scale.
public func softmaxRowsAVX512(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Range<Int>, length: Int) {
    vectorSoftmaxRows(x, y, rows: rows, length: length)
}

/// `softmaxRowsAVX512`'s body, inlined where it is compiled (see the top of the file).
@_transparent public func vectorSoftmaxRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Range<Int>, length: Int) {
    if length < 16 {
        for row in rows { softmaxShortRow(x + row * length, y + row * length, length: length) }
        return
    }
    // Rows of 16 or more end on one more whole vector, the row's last sixteen values, which overlaps the last full
    // vector: the max takes it as it is, the sum only its `rem` new lanes, and its exponentials and quotients are the
    // same values the full vector computed for the lanes they share. (Element by element, the tails of Swin's rows
    // of 49 took most of the time.) Every value of x the tail needs is read before y is written (y may be x).
    let full = length / 16 * 16, rem = length - full, tail = length - 16
    var lane = F16()
    for j in 0..<16 { lane[j] = Float(j) }
    let fresh = lane .>= F16(repeating: Float(16 - rem))
    for row in rows {
        let x = x + row * length, y = y + row * length
        var mv = F16(repeating: -.infinity)
        var i = 0
        while i < full {
            let v = load16(x + i)
            mv.replace(with: v, where: v .> mv)
            i += 16
        }
        let xt = load16(x + tail)
        if rem > 0 { mv.replace(with: xt, where: xt .> mv) }
        let mm = F16(repeating: hmax16(mv))
        var sv = F16()
        let et = vexpNoOverflow(xt - mm)
        if rem > 0 { sv += et.replacing(with: 0, where: .!fresh) }
        i = 0
        while i < full {
            let e = vexpNoOverflow(load16(x + i) - mm)
            store16(e, y + i)
            sv += e
            i += 16
        }
        if rem > 0 { store16(et, y + tail) }
        let inv = F16(repeating: 1 / hsum16(sv))
        let qt = load16(y + tail) * inv
        i = 0
        while i < full { store16(load16(y + i) * inv, y + i); i += 16 }
        if rem > 0 { store16(qt, y + tail) }
    }
}

/// One softmax row shorter than a vector, through a padded vector.
@usableFromInline @_transparent func softmaxShortRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, length: Int) {
    var v = F16(repeating: -.infinity)
    for j in 0..<length { v[j] = x[j] }
    let e = vexpNoOverflow(v - F16(repeating: hmax16(v)))
    let q = e * F16(repeating: 1 / hsum16(e))
    for j in 0..<length { y[j] = q[j] }
}

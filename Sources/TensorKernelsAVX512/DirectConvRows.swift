/// Up to eight output rows of one channel of a direct convolution, 16 output columns per vector, read from
/// the zero-padded, stride-phase-split input buffer that TensorCore's `directConv2d` builds (every tap of
/// every output vector is one unaligned load, with no bounds tests).
///
/// Output (r, ox..<ox+16) = clamp(bias + sum over taps t of weights[t] * buf[r * rowStep + tapOffsets[t] + ox ...], lo, hi).
/// All eight rows are computed (the buffer must hold eight rows' worth past `buf`, and its rows at least
/// the output width rounded up to 16 plus the widest tap shift); only the first `rows` are stored.
///
/// - Parameters:
///   - buf: the padded input at the first output row's origin.
///   - tapOffsets: `[taps]` float offsets of each tap from an output position's origin.
///   - weights: `[taps]`, this output channel's filter in tap order.
///   - rowStep: floats between the origins of consecutive output rows.
///   - y: `[rows, outW]`, written.
/// - Complexity: 8·outW·taps multiply-adds (rounded up to 16 columns).
public func directConvRowsAVX512(buf: UnsafePointer<Float>, tapOffsets: UnsafePointer<Int>,
                                 weights: UnsafePointer<Float>, taps: Int, rowStep rs: Int, rows: Int,
                                 outW: Int, bias: Float, lo: Float, hi: Float, y: UnsafeMutablePointer<Float>) {
    let bq = F16(repeating: bias)
    let e = Epilogue(bias: nil, lo: lo, hi: hi)
    var ox = 0
    while ox < outW {
        var a0 = bq, a1 = bq, a2 = bq, a3 = bq, a4 = bq, a5 = bq, a6 = bq, a7 = bq
        let p = buf + ox
        for t in 0..<taps {
            let w = F16(repeating: weights[t])
            let q = p + tapOffsets[t]
            a0.addProduct(w, load16(q))
            a1.addProduct(w, load16(q + rs))
            a2.addProduct(w, load16(q + 2 * rs))
            a3.addProduct(w, load16(q + 3 * rs))
            a4.addProduct(w, load16(q + 4 * rs))
            a5.addProduct(w, load16(q + 5 * rs))
            a6.addProduct(w, load16(q + 6 * rs))
            a7.addProduct(w, load16(q + 7 * rs))
        }
        e.storeRows(a0, a1, a2, a3, a4, a5, a6, a7, rows: rows, cols: min(16, outW - ox), y + ox, outW)
        ox += 16
    }
}

/// Four output rows of four output channels at once (16 accumulators), for convolutions whose groups have
/// several output channels reading the same input (the RGB stem): each input vector loaded feeds four
/// channels, so the kernel is bound by multiply-adds rather than by loads. Same buffer layout as
/// `directConvRowsAVX512`; the buffer must hold four rows' worth past `buf`.
///
/// - Parameters:
///   - weights: `[4, taps]`, the four channels' filters in tap order.
///   - bias: `[4]` values or nil; lo, hi: clamp bounds.
///   - y: the four channels' first output rows, `yChannelStride` floats apart; rows `outW` apart.
///   - rows: output rows stored (1...4).
/// - Complexity: 4·4·outW·taps multiply-adds (rounded up to 16 columns).
public func directConvRows4x4AVX512(buf: UnsafePointer<Float>, tapOffsets: UnsafePointer<Int>,
                                    weights: UnsafePointer<Float>, taps: Int, rowStep rs: Int, rows: Int,
                                    outW: Int, bias: UnsafePointer<Float>?, lo: Float, hi: Float,
                                    y: UnsafeMutablePointer<Float>, yChannelStride: Int) {
    let e = Epilogue(bias: nil, lo: lo, hi: hi)
    let w0 = weights, w1 = weights + taps, w2 = weights + 2 * taps, w3 = weights + 3 * taps
    let q0 = F16(repeating: bias?[0] ?? 0), q1 = F16(repeating: bias?[1] ?? 0)
    let q2 = F16(repeating: bias?[2] ?? 0), q3 = F16(repeating: bias?[3] ?? 0)
    var ox = 0
    while ox < outW {
        // a<channel><row>
        var a00 = q0, a01 = q0, a02 = q0, a03 = q0, a10 = q1, a11 = q1, a12 = q1, a13 = q1
        var a20 = q2, a21 = q2, a22 = q2, a23 = q2, a30 = q3, a31 = q3, a32 = q3, a33 = q3
        let p = buf + ox
        for t in 0..<taps {
            let q = p + tapOffsets[t]
            let r0 = load16(q), r1 = load16(q + rs), r2 = load16(q + 2 * rs), r3 = load16(q + 3 * rs)
            var w = F16(repeating: w0[t])
            a00.addProduct(w, r0); a01.addProduct(w, r1); a02.addProduct(w, r2); a03.addProduct(w, r3)
            w = F16(repeating: w1[t])
            a10.addProduct(w, r0); a11.addProduct(w, r1); a12.addProduct(w, r2); a13.addProduct(w, r3)
            w = F16(repeating: w2[t])
            a20.addProduct(w, r0); a21.addProduct(w, r1); a22.addProduct(w, r2); a23.addProduct(w, r3)
            w = F16(repeating: w3[t])
            a30.addProduct(w, r0); a31.addProduct(w, r1); a32.addProduct(w, r2); a33.addProduct(w, r3)
        }
        let cols = min(16, outW - ox)
        withUnsafeTemporaryAllocation(of: F16.self, capacity: 16) { t in
            t[0] = a00; t[1] = a01; t[2] = a02; t[3] = a03; t[4] = a10; t[5] = a11; t[6] = a12; t[7] = a13
            t[8] = a20; t[9] = a21; t[10] = a22; t[11] = a23; t[12] = a30; t[13] = a31; t[14] = a32; t[15] = a33
            for ch in 0..<4 {
                for r in 0..<rows { e.putPartial(t[ch * 4 + r], count: cols, y + ch * yChannelStride + r * outW + ox) }
            }
        }
        ox += 16
    }
}

/// `directConvRowsAVX512` for a 3x3 filter at stride 1 and dilation 1 with one input channel (depthwise),
/// blocked over rows: each of the ten input rows the eight output rows read is loaded once per column
/// shift and feeds up to three output rows, with the nine weights held in registers (30 loads per 72
/// multiply-adds instead of 72). Same buffer layout and arguments (`taps` is 9, the tap offsets are
/// `ky * rowStep + kx`).
public func directConv3x3RowsAVX512(buf: UnsafePointer<Float>, weights w: UnsafePointer<Float>, rowStep rs: Int, rows: Int,
                                    outW: Int, bias: Float, lo: Float, hi: Float, y: UnsafeMutablePointer<Float>) {
    let bq = F16(repeating: bias)
    let e = Epilogue(bias: nil, lo: lo, hi: hi)
    // Filter rows 0, 1, 2 as broadcast vectors.
    let k0 = (F16(repeating: w[0]), F16(repeating: w[1]), F16(repeating: w[2]))
    let k1 = (F16(repeating: w[3]), F16(repeating: w[4]), F16(repeating: w[5]))
    let k2 = (F16(repeating: w[6]), F16(repeating: w[7]), F16(repeating: w[8]))
    var ox = 0
    while ox < outW {
        var a0 = bq, a1 = bq, a2 = bq, a3 = bq, a4 = bq, a5 = bq, a6 = bq, a7 = bq
        let p = buf + ox
        // Input row i feeds output rows i, i-1 and i-2 through filter rows 0, 1 and 2.
        @inline(__always) func row(_ i: Int) -> (F16, F16, F16) {
            let q = p + i * rs
            return (load16(q), load16(q + 1), load16(q + 2))
        }
        @inline(__always) func fma3(_ a: inout F16, _ v: (F16, F16, F16), _ k: (F16, F16, F16)) {
            a.addProduct(k.0, v.0); a.addProduct(k.1, v.1); a.addProduct(k.2, v.2)
        }
        var v = row(0); fma3(&a0, v, k0)
        v = row(1); fma3(&a1, v, k0); fma3(&a0, v, k1)
        v = row(2); fma3(&a2, v, k0); fma3(&a1, v, k1); fma3(&a0, v, k2)
        v = row(3); fma3(&a3, v, k0); fma3(&a2, v, k1); fma3(&a1, v, k2)
        v = row(4); fma3(&a4, v, k0); fma3(&a3, v, k1); fma3(&a2, v, k2)
        v = row(5); fma3(&a5, v, k0); fma3(&a4, v, k1); fma3(&a3, v, k2)
        v = row(6); fma3(&a6, v, k0); fma3(&a5, v, k1); fma3(&a4, v, k2)
        v = row(7); fma3(&a7, v, k0); fma3(&a6, v, k1); fma3(&a5, v, k2)
        v = row(8); fma3(&a7, v, k1); fma3(&a6, v, k2)
        v = row(9); fma3(&a7, v, k2)
        e.storeRows(a0, a1, a2, a3, a4, a5, a6, a7, rows: rows, cols: min(16, outW - ox), y + ox, outW)
        ox += 16
    }
}

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
    let e = Epilogue(bias: nil, lo: lo, hi: hi, clamps: lo > -.infinity || hi < .infinity, accumulate: false)
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
        let cols = min(16, outW - ox)
        withUnsafeTemporaryAllocation(of: F16.self, capacity: 8) { t in
            t[0] = a0; t[1] = a1; t[2] = a2; t[3] = a3; t[4] = a4; t[5] = a5; t[6] = a6; t[7] = a7
            for r in 0..<rows { e.putPartial(t[r], count: cols, y + r * outW + ox) }
        }
        ox += 16
    }
}

/// One output plane of a direct convolution, 16 output columns by 8 output rows per step, read from the
/// zero-padded, stride-phase-split input buffer that TensorCore's `directConv2d` builds (so every tap of
/// every output vector is one unaligned load, with no bounds tests).
///
/// Output (oy, ox..<ox+16) = bias + sum over taps t of weights[t] * buf[oy * rowStep + tapOffsets[t] + ox ...].
/// The buffer must hold 7 * rowStep floats past the last real output row (the phantom rows of a partial
/// step are computed and dropped) and its rows must be at least the output width rounded up to 16 plus the
/// widest tap shift.
///
/// - Parameters:
///   - buf: the padded input buffer.
///   - tapOffsets: `[taps]` float offsets of each tap from an output position's origin.
///   - weights: `[taps]`, the filter of this output channel in tap order.
///   - rowStep: floats between the origins of consecutive output rows.
///   - y: `[outH, outW]`, written without activation.
/// - Complexity: outH·outW·taps multiply-adds.
public func directConvPlaneAVX512(buf: UnsafePointer<Float>, tapOffsets: UnsafePointer<Int>,
                                  weights: UnsafePointer<Float>, taps: Int, rowStep: Int,
                                  outH: Int, outW: Int, bias: Float, y: UnsafeMutablePointer<Float>) {
    let bq = F16(repeating: bias)
    let rs = rowStep
    var oy = 0
    while oy < outH {
        let rows = min(8, outH - oy)
        let in0 = buf + oy * rowStep
        let y0 = y + oy * outW
        var ox = 0
        while ox < outW {
            var a0 = bq, a1 = bq, a2 = bq, a3 = bq, a4 = bq, a5 = bq, a6 = bq, a7 = bq
            let p = in0 + ox
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
            withUnsafeTemporaryAllocation(of: F16.self, capacity: 8) { t in
                t[0] = a0; t[1] = a1; t[2] = a2; t[3] = a3; t[4] = a4; t[5] = a5; t[6] = a6; t[7] = a7
                let yr = y0 + ox
                if ox + 16 <= outW {
                    for r in 0..<rows { store16(t[r], yr + r * outW) }
                } else {
                    let cols = outW - ox
                    let raw = UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: Float.self)
                    for r in 0..<rows { (yr + r * outW).update(from: raw + 16 * r, count: cols) }
                }
            }
            ox += 16
        }
        oy += 8
    }
}

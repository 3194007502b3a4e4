/// Transposes a 16x16 block in place: four rounds of "unzip" (even lanes of a pair of rows, then odd
/// lanes) rotate the 8-bit (row, column) index by one bit each, so four of them swap row and column. The
/// rounds run on sixteen values held in registers.
@usableFromInline @inline(__always)
func transpose16(_ r: UnsafeMutablePointer<F16>) {
    @inline(__always) func unzip(_ a: F16, _ b: F16) -> (F16, F16) {
        (F16(lowHalf: a.evenHalf, highHalf: b.evenHalf), F16(lowHalf: a.oddHalf, highHalf: b.oddHalf))
    }
    var v = (r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15])
    for _ in 0..<4 {
        let (o0, o8) = unzip(v.0, v.1), (o1, o9) = unzip(v.2, v.3), (o2, o10) = unzip(v.4, v.5), (o3, o11) = unzip(v.6, v.7)
        let (o4, o12) = unzip(v.8, v.9), (o5, o13) = unzip(v.10, v.11), (o6, o14) = unzip(v.12, v.13), (o7, o15) = unzip(v.14, v.15)
        v = (o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11, o12, o13, o14, o15)
    }
    r[0] = v.0; r[1] = v.1; r[2] = v.2; r[3] = v.3; r[4] = v.4; r[5] = v.5; r[6] = v.6; r[7] = v.7
    r[8] = v.8; r[9] = v.9; r[10] = v.10; r[11] = v.11; r[12] = v.12; r[13] = v.13; r[14] = v.14; r[15] = v.15
}

/// A 16 x 16 block transposed: row j of `dst` (`dstStride` floats apart) gets column j of the 16 rows of `src`
/// (`srcStride` apart).
public func transposeTile16AVX512(_ src: UnsafePointer<Float>, srcStride: Int, _ dst: UnsafeMutablePointer<Float>, dstStride: Int) {
    withUnsafeTemporaryAllocation(of: F16.self, capacity: 16) { t in
        let r = t.baseAddress!
        for i in 0..<16 { r[i] = load16(src + i * srcStride) }
        transpose16(r)
        for j in 0..<16 { store16(r[j], dst + j * dstStride) }
    }
}

/// Loads `count` (0...16) floats from `p` into the low lanes of a vector, zeros above.
@inline(__always)
func loadPartial16(_ p: UnsafePointer<Float>, _ count: Int) -> F16 {
    if count >= 16 { return load16(p) }
    return withUnsafeTemporaryAllocation(of: F16.self, capacity: 1) { t in
        t[0] = F16()
        UnsafeMutableRawPointer(t.baseAddress!).copyMemory(from: p, byteCount: 4 * count)
        return t[0]
    }
}

/// Depthwise convolution (one input channel per output channel) of up to 16 channels at once, vectorised
/// across the channels: for planes too narrow to fill a vector along a row (7x7 maps, occlusion tiles).
///
/// The channels' planes are transposed 16 pixels at a time into a zero-padded pixel-major buffer
/// (`[padH, padW, 16]`: every pixel is one aligned vector holding the 16 channels), each output pixel is
/// then `sum over taps of w[tap] * buf[pixel + tap]` with eight pixels' accumulators in flight, ReLU/clip
/// are applied in registers, and the results are transposed back into the channels' output planes.
///
/// - Parameters:
///   - count: channels (1...16); channel j reads `x + j * xChannelStride` and writes `y + j * yChannelStride`.
///   - x: each channel `[inH, inW]`.
///   - weights: `[count, kernelH * kernelW]`; bias: `[count]` or nil.
///   - y: each channel `[outH, outW]`.
/// - Complexity: outH·outW·kernelH·kernelW vector multiply-adds, plus two 16x16 transposes per 16 pixels.
public func depthwiseChannelsAVX512(count: Int, x: UnsafePointer<Float>, xChannelStride: Int, inH: Int, inW: Int,
                                    kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                                    dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int,
                                    weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, lo: Float, hi: Float,
                                    y: UnsafeMutablePointer<Float>, yChannelStride: Int, outH: Int, outW: Int) {
    if count <= 0 || outH <= 0 || outW <= 0 { return }
    let taps = kernelH * kernelW
    // The padded region the outputs read, in input coordinates shifted by the pads.
    let padH = (outH - 1) * strideH + (kernelH - 1) * dilationH + 1
    let padW = (outW - 1) * strideW + (kernelW - 1) * dilationW + 1
    let outPixels = outH * outW, inPixels = inH * inW
    let total = padH * padW + outPixels + taps + 1 + 16
    let mem = UnsafeMutableRawPointer.allocate(byteCount: total * 64, alignment: 64)
    defer { mem.deallocate() }
    let buf = mem.bindMemory(to: F16.self, capacity: total)
    let outBuf = buf + padH * padW
    let wq = outBuf + outPixels
    let blockA = wq + taps + 1
    buf.initialize(repeating: F16(), count: padH * padW)
    // Weights by tap, channels across lanes; bias likewise (scalar stores into memory: inserting lanes one
    // at a time into a vector register is a long dependency chain).
    wq.initialize(repeating: F16(), count: taps + 1)
    let wf = UnsafeMutableRawPointer(wq).assumingMemoryBound(to: Float.self)
    for j in 0..<count { for t in 0..<taps { wf[t * 16 + j] = weights[j * taps + t] } }
    if let bias { for j in 0..<count { wf[taps * 16 + j] = bias[j] } }
    let bq = wq[taps]
    // Transpose in: 16 consecutive input pixels of all channels at a time; (iy, ix) follows pixel p0 + q.
    var p0 = 0, iy = 0, ix = 0
    while p0 < inPixels {
        let n = min(16, inPixels - p0)
        for j in 0..<16 { blockA[j] = j < count ? loadPartial16(x + j * xChannelStride + p0, n) : F16() }
        transpose16(blockA)
        for q in 0..<n {
            let py = iy + padTop, px = ix + padLeft
            if py >= 0 && py < padH && px >= 0 && px < padW { buf[py * padW + px] = blockA[q] }
            ix += 1
            if ix == inW { ix = 0; iy += 1 }
        }
        p0 += 16
    }
    // Output pixels, eight at a time (a partial last group repeats its last pixel).
    let lq = F16(repeating: lo), hq = F16(repeating: hi)
    let clamps = lo > -.infinity || hi < .infinity
    withUnsafeTemporaryAllocation(of: Int.self, capacity: taps + 8) { scratch in
        let tapOff = scratch.baseAddress!, base = scratch.baseAddress! + taps
        for ky in 0..<kernelH { for kx in 0..<kernelW { tapOff[ky * kernelW + kx] = ky * dilationH * padW + kx * dilationW } }
        var p = 0, oy = 0, ox = 0                              // (oy, ox) is output pixel p
        while p < outPixels {
            let n = min(8, outPixels - p)
            for i in 0..<n {
                base[i] = oy * strideH * padW + ox * strideW
                ox += 1
                if ox == outW { ox = 0; oy += 1 }
            }
            for i in n..<8 { base[i] = base[n - 1] }
            let b0 = buf + base[0], b1 = buf + base[1], b2 = buf + base[2], b3 = buf + base[3]
            let b4 = buf + base[4], b5 = buf + base[5], b6 = buf + base[6], b7 = buf + base[7]
            var a0 = bq, a1 = bq, a2 = bq, a3 = bq, a4 = bq, a5 = bq, a6 = bq, a7 = bq
            for t in 0..<taps {
                let w = wq[t], o = tapOff[t]
                a0.addProduct(w, b0[o]); a1.addProduct(w, b1[o]); a2.addProduct(w, b2[o]); a3.addProduct(w, b3[o])
                a4.addProduct(w, b4[o]); a5.addProduct(w, b5[o]); a6.addProduct(w, b6[o]); a7.addProduct(w, b7[o])
            }
            let o = outBuf + p
            o[0] = a0
            if n > 1 { o[1] = a1 }
            if n > 2 { o[2] = a2 }
            if n > 3 { o[3] = a3 }
            if n > 4 { o[4] = a4 }
            if n > 5 { o[5] = a5 }
            if n > 6 { o[6] = a6 }
            if n > 7 { o[7] = a7 }
            if clamps {
                for i in 0..<n {
                    var v = o[i]
                    v.replace(with: lq, where: v .< lq)
                    v.replace(with: hq, where: v .> hq)
                    o[i] = v
                }
            }
            p += 8
        }
    }
    // Transpose out: 16 output pixels of all channels at a time.
    p0 = 0
    while p0 < outPixels {
        let n = min(16, outPixels - p0)
        for q in 0..<16 { blockA[q] = q < n ? outBuf[p0 + q] : F16() }
        transpose16(blockA)
        for j in 0..<count {
            let dst = y + j * yChannelStride + p0
            if n == 16 { store16(blockA[j], dst) } else { for q in 0..<n { dst[q] = blockA[j][q] } }
        }
        p0 += 16
    }
}

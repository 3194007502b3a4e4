import TensorKernelsAVX512

/// Per-channel affine maps and channel concatenation on channel-blocked tensors (`[N, ceil(C/16), H, W, 16]`):
/// DenseNet's pre-activation BatchNormalization + ReLU and its Concat of every earlier layer's features, which
/// otherwise leave the blocked layout at every layer.

/// The scale and shift of a per-channel affine map (BatchNormalization folded) as `blocks * 16` floats each, zero
/// past `channels` (so padding channels stay zero).
public func packBlockedAffine(scale: [Float], shift: [Float], channels: Int) -> [Float] {
    let padded = ChannelBlocks.count(channels) * 16
    var out = [Float](repeating: 0, count: 2 * padded)   // [scale padded, shift padded]
    for c in 0..<channels { out[c] = scale[c]; out[padded + c] = shift[c] }
    return out
}

/// y = clamp(x · scale[c] + shift[c], lo, hi) over blocked `[batch, blocks, pixels, 16]`; `packed` holds the scale
/// then the shift, `blocks * 16` each (`packBlockedAffine`). Split over `computeThreads` by (image, block).
/// - Precondition: lo <= 0 <= hi, so padding channels (scale and shift zero) stay zero.
public func blockedAffine(_ x: UnsafePointer<Float>, packed: UnsafePointer<Float>, batch: Int, blocks: Int, pixels: Int,
                          lo: Float, hi: Float, y: UnsafeMutablePointer<Float>) {
    nonisolated(unsafe) let x = x, y = y, packed = packed
    parallelChunks(batch * blocks, minItemsPerChunk: max(1, 4096 / max(1, pixels))) { r in
        let l = SIMD16<Float>(repeating: lo), h = SIMD16<Float>(repeating: hi)
        for u in r {
            let b = u % blocks
            let s = load16(packed + b * 16)
            let t = load16(packed + (blocks + b) * 16)
            let xp = x + u * pixels * 16, yp = y + u * pixels * 16
            for p in 0..<pixels {
                let v = load16(xp + p * 16)
                // v * s + t, not addingProduct: SIMD's addingProduct compiles to scalar code.
                store16(blendClamped(v * s + t, l, h), yp + p * 16)
            }
        }
    }
}

/// Naive twin of `blockedAffine`: unblocks, applies the map channel by channel, blocks the result.
public func blockedAffineNaive(_ x: UnsafePointer<Float>, scale: [Float], shift: [Float], batch: Int, channels: Int, pixels: Int,
                               lo: Float, hi: Float, y: UnsafeMutablePointer<Float>) {
    var planar = [Float](repeating: 0, count: batch * channels * pixels)
    fromChannelBlocked(x, batch: batch, channels: channels, pixels: pixels, y: &planar)
    for n in 0..<batch {
        for c in 0..<channels {
            for p in 0..<pixels {
                let i = (n * channels + c) * pixels + p
                planar[i] = min(max(planar[i] * scale[c] + shift[c], lo), hi)
            }
        }
    }
    toChannelBlocked(planar, batch: batch, channels: channels, pixels: pixels, y: y)
}

/// Concatenates blocked tensors along the channels: input i is `[batch, blocks[i], pixels, 16]` (its channels a
/// whole number of blocks, so the result has no padding inside), the output `[batch, sum(blocks), pixels, 16]`.
/// Split over `computeThreads` by image and input.
public func blockedConcat(_ xs: [UnsafePointer<Float>], blocks: [Int], batch: Int, pixels: Int, y: UnsafeMutablePointer<Float>) {
    let total = blocks.reduce(0, +)
    var offsets: [Int] = [], o = 0
    for b in blocks { offsets.append(o); o += b }
    nonisolated(unsafe) let xs = xs, y = y
    parallelChunks(batch * xs.count) { r in
        for u in r {
            let n = u / xs.count, i = u % xs.count
            let count = blocks[i] * pixels * 16
            (y + (n * total + offsets[i]) * pixels * 16).update(from: xs[i] + n * count, count: count)
        }
    }
}

/// y = x · s[c] over blocked `[batch, blocks, pixels, 16]`, with `s` a plain `[batch or 1, channels]` tensor (a
/// squeeze-and-excitation gate, `[N, C, 1, 1]` in NCHW); `sItemStride` is `channels`, or 0 when one gate serves every
/// image. Padding channels stay zero. Split over `computeThreads` by (image, block).
public func blockedChannelScale(_ x: UnsafePointer<Float>, scale s: UnsafePointer<Float>, sItemStride: Int, batch: Int, channels: Int,
                                pixels: Int, y: UnsafeMutablePointer<Float>) {
    let blocks = ChannelBlocks.count(channels)
    nonisolated(unsafe) let x = x, y = y, s = s
    parallelChunks(batch * blocks, minItemsPerChunk: max(1, 4096 / max(1, pixels))) { r in
        for u in r {
            let n = u / blocks, b = u % blocks
            var g = SIMD16<Float>()
            for l in 0..<min(16, channels - b * 16) { g[l] = s[n * sItemStride + b * 16 + l] }
            let xp = x + u * pixels * 16, yp = y + u * pixels * 16
            for p in 0..<pixels {
                let v = load16(xp + p * 16)
                store16(v * g, yp + p * 16)
            }
        }
    }
}

/// Naive twin of `blockedChannelScale`: unblocks, multiplies channel by channel, blocks the result.
public func blockedChannelScaleNaive(_ x: UnsafePointer<Float>, scale s: UnsafePointer<Float>, sItemStride: Int, batch: Int, channels: Int,
                                     pixels: Int, y: UnsafeMutablePointer<Float>) {
    var planar = [Float](repeating: 0, count: batch * channels * pixels)
    fromChannelBlocked(x, batch: batch, channels: channels, pixels: pixels, y: &planar)
    for n in 0..<batch { for c in 0..<channels { for p in 0..<pixels { planar[(n * channels + c) * pixels + p] *= s[n * sItemStride + c] } } }
    toChannelBlocked(planar, batch: batch, channels: channels, pixels: pixels, y: y)
}

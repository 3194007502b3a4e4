/// NCHW planes `[channels, pixels]` of one image into the channel-blocked `[ceil(channels/16), pixels, 16]`
/// (padding channels zero): sixteen pixels of sixteen channels at a time, transposed in registers. Writes the
/// blocks `blocks`.
public func toChannelBlockedAVX512(_ x: UnsafePointer<Float>, channels: Int, pixels: Int, y: UnsafeMutablePointer<Float>,
                                   blocks: Range<Int>) {
    withUnsafeTemporaryAllocation(of: F16.self, capacity: 16) { t in
        let t = t.baseAddress!
        for b in blocks {
            let live = min(16, channels - b * 16)
            let xb = x + b * 16 * pixels, yb = y + b * pixels * 16
            var p = 0
            while p < pixels {
                let n = min(16, pixels - p)
                for j in 0..<16 { t[j] = j < live ? loadPartial16(xb + j * pixels + p, n) : F16() }
                transpose16(t)
                for q in 0..<n { store16(t[q], yb + (p + q) * 16) }
                p += 16
            }
        }
    }
}

/// The channel-blocked `[ceil(channels/16), pixels, 16]` of one image back into NCHW planes `[channels, pixels]`,
/// the channels of blocks `blocks`.
public func fromChannelBlockedAVX512(_ x: UnsafePointer<Float>, channels: Int, pixels: Int, y: UnsafeMutablePointer<Float>,
                                     blocks: Range<Int>) {
    withUnsafeTemporaryAllocation(of: F16.self, capacity: 16) { t in
        let t = t.baseAddress!
        for b in blocks {
            let live = min(16, channels - b * 16)
            let xb = x + b * pixels * 16, yb = y + b * 16 * pixels
            var p = 0
            while p < pixels {
                let n = min(16, pixels - p)
                for q in 0..<16 { t[q] = q < n ? load16(xb + (p + q) * 16) : F16() }
                transpose16(t)
                for j in 0..<live {
                    let dst = yb + j * pixels + p
                    if n == 16 { store16(t[j], dst) } else { for q in 0..<n { dst[q] = t[j][q] } }
                }
                p += 16
            }
        }
    }
}

/// Packed weights in a plain `[Float]` whose vector loads do not straddle cache lines.
///
/// Swift array storage starts at no particular 64-byte boundary (a large array 48 bytes past one), so a kernel's
/// 64-byte weight vectors would straddle two lines: twice the lines in cache for the same weights (a 256-step block
/// of a GEMM panel, sized to fill L1 exactly, would overflow it). So the array starts with up to 16 floats of slack,
/// the first holding where the weights start, chosen 64-byte aligned in the array's own storage. A copy of the array
/// reads the same weights (the start is an index), though not necessarily aligned: to change weights, build a new
/// array with `makeAlignedWeights` from the old one's `alignedWeights`.
///
/// Layout: `[start, slack..., w0, w1, ...]`, `count + alignedWeightsSlack` floats, `start` in 1...16.
public func makeAlignedWeights(count: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    var out = [Float](repeating: 0, count: count + alignedWeightsSlack)
    out.withUnsafeMutableBufferPointer { buf in
        let base = buf.baseAddress!
        // First float after the marker whose address is a multiple of 64 bytes (1...16 floats in).
        let misalign = Int(bitPattern: base + 1) & 63
        let start = 1 + (misalign == 0 ? 0 : (64 - misalign) / 4)
        base[0] = Float(start)
        fill(base + start)
    }
    return out
}

/// Floats an array made by `makeAlignedWeights` holds besides its weights.
public let alignedWeightsSlack = 16

/// Where the weights start in an array made by `makeAlignedWeights`.
@inlinable public func alignedWeights(_ packed: UnsafePointer<Float>) -> UnsafePointer<Float> { packed + Int(packed[0]) }

/// How a resize computes each output pixel from the source.
///
/// All filters use pixel-centre alignment (`align_corners = false`): output pixel `i` of `n` over a source
/// window `[start, start + length)` samples the source at `start + (i + 0.5) * length / n`, where source pixel
/// `k` covers `[k, k + 1)`. Reads beyond the picture repeat its edge pixels. None of the filters antialias when
/// shrinking except `.area`, which averages.
public enum ResampleFilter: String, Sendable, CaseIterable, Codable {
    /// The source pixel under the sampling point (PIL's NEAREST, OpenCV's INTER_NEAREST_EXACT).
    case nearest
    /// Linear interpolation between the two nearest pixels on each axis (OpenCV's INTER_LINEAR).
    case bilinear
    /// Keys cubic convolution with a = -0.5 over 4 x 4 pixels (PIL's BICUBIC without antialiasing).
    case bicubic
    /// The mean of the source area each output pixel covers, weighted by overlap (OpenCV's INTER_AREA when
    /// shrinking; pixel mixing when enlarging).
    case area
}

extension ResampleFilter {
    /// Keys' cubic convolution kernel with a = -0.5 at distance `x` (in source pixels).
    @inlinable
    static func keys(_ x: Double) -> Double {
        let a = -0.5
        let t = abs(x)
        if t <= 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
        if t < 2 { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a }
        return 0
    }
}

/// Precomputed one-axis resampling weights: for every output index, `taps` source indices (already clamped
/// into the picture) and their weights.
///
/// Layout: `index[o * taps + k]`, `weight[o * taps + k]` for output `o` in `0..<count`, tap `k` in `0..<taps`.
struct AxisWeights {
    /// Number of outputs.
    let count: Int
    /// Source pixels read per output.
    let taps: Int
    /// Clamped source indices, `count * taps`.
    var index: [Int32]
    /// Weights, `count * taps`; each output's weights sum to 1.
    var weight: [Float]

    /// Weights for sampling the source window `[start, start + length)` of a `size`-pixel axis at `count`
    /// evenly spaced pixel centres.
    init(filter: ResampleFilter, start: Double, length: Double, size: Int, count: Int) {
        precondition(size > 0 && count > 0 && length > 0, "AxisWeights: empty axis (size \(size), count \(count), length \(length))")
        let scale = length / Double(count)
        self.count = count
        switch filter {
        case .nearest: taps = 1
        case .bilinear: taps = 2
        case .bicubic: taps = 4
        case .area: taps = Int(scale.rounded(.up)) + 1
        }
        index = [Int32](repeating: 0, count: count * taps)
        weight = [Float](repeating: 0, count: count * taps)
        let last = size - 1
        func clamp(_ i: Int) -> Int32 { Int32(min(max(i, 0), last)) }
        for o in 0..<count {
            let base = o * taps
            let centre = start + (Double(o) + 0.5) * scale
            switch filter {
            case .nearest:
                index[base] = clamp(Int(centre.rounded(.down)))
                weight[base] = 1
            case .bilinear:
                let s = centre - 0.5
                let x0 = s.rounded(.down)
                let f = s - x0
                index[base] = clamp(Int(x0)); index[base + 1] = clamp(Int(x0) + 1)
                weight[base] = Float(1 - f); weight[base + 1] = Float(f)
            case .bicubic:
                let s = centre - 0.5
                let x0 = s.rounded(.down)
                let f = s - x0
                var w = [ResampleFilter.keys(1 + f), ResampleFilter.keys(f), ResampleFilter.keys(1 - f), ResampleFilter.keys(2 - f)]
                let sum = w[0] + w[1] + w[2] + w[3]
                for k in 0..<4 {
                    w[k] /= sum
                    index[base + k] = clamp(Int(x0) - 1 + k)
                    weight[base + k] = Float(w[k])
                }
            case .area:
                let lo = start + Double(o) * scale, hi = lo + scale
                let first = Int(lo.rounded(.down))
                for k in 0..<taps {
                    let p = Double(first + k)
                    let overlap = max(0, min(hi, p + 1) - max(lo, p))
                    index[base + k] = clamp(first + k)
                    weight[base + k] = Float(overlap / scale)
                }
            }
        }
    }
}

/// The weight of source pixel `p` for an output sampled at `centre` with window `scale`, computed directly
/// from the filter definition (the reference the weight tables are tested against through the naive twins).
func referenceWeight(_ filter: ResampleFilter, centre: Double, scale: Double, pixel p: Int) -> Double {
    switch filter {
    case .nearest:
        return Int(centre.rounded(.down)) == p ? 1 : 0
    case .bilinear:
        return max(0, 1 - abs(Double(p) + 0.5 - centre))
    case .bicubic:
        // Normalised over the 4 taps the kernel touches (their sum is 1 for a = -0.5 anyway).
        return ResampleFilter.keys(Double(p) + 0.5 - centre)
    case .area:
        let lo = centre - scale / 2, hi = centre + scale / 2
        return max(0, min(hi, Double(p) + 1) - max(lo, Double(p))) / scale
    }
}

/// Source pixels that can have a non-zero reference weight around `centre` (unclamped).
func referenceSupport(_ filter: ResampleFilter, centre: Double, scale: Double) -> ClosedRange<Int> {
    switch filter {
    case .nearest: let i = Int(centre.rounded(.down)); return i...i
    case .bilinear: let i = Int((centre - 0.5).rounded(.down)); return i...(i + 1)
    case .bicubic: let i = Int((centre - 0.5).rounded(.down)); return (i - 1)...(i + 2)
    case .area: return Int((centre - scale / 2).rounded(.down))...Int((centre + scale / 2).rounded(.up))
    }
}

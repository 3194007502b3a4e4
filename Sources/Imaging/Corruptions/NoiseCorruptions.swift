/// The ImageNet-C noise family: gaussian_noise, shot_noise, impulse_noise (imagecorruptions' formulas, in
/// 0...1 units, clipped, truncated to bytes).
enum NoiseCorruptions {
    static let gaussianScale = [0.08, 0.12, 0.18, 0.26, 0.38]
    static let shotPhotons = [60.0, 25, 12, 5, 3]
    static let impulseAmount = [0.03, 0.06, 0.09, 0.17, 0.27]

    /// `clip(x + N(0, c), 0, 1)`.
    static func gaussian(_ image: RGBImage, level: Int, rng: inout SplitMix64) -> RGBImage {
        let c = gaussianScale[level]
        return map(image) { x in x + c * rng.normal() }
    }

    /// `clip(Poisson(x * c) / c, 0, 1)`: photon noise with `c` photons at full white.
    static func shot(_ image: RGBImage, level: Int, rng: inout SplitMix64) -> RGBImage {
        let c = shotPhotons[level]
        let samplers = (0..<256).map { PoissonSampler(Double($0) / 255 * c) }
        var out = image
        out.pixels.withUnsafeMutableBufferPointer { p in
            for i in p.indices {
                let v = samplers[Int(p[i])].draw(&rng) / c
                p[i] = UInt8((v > 0 ? min(v, 1) : 0) * 255)
            }
        }
        return out
    }

    /// skimage's salt-and-pepper: each byte independently, with probability `amount`, becomes 0 or 1 (even odds).
    static func impulse(_ image: RGBImage, level: Int, rng: inout SplitMix64) -> RGBImage {
        let amount = impulseAmount[level]
        return map(image) { x in
            let flipped = rng.uniform() < amount
            let salted = rng.uniform() < 0.5
            return flipped ? (salted ? 1 : 0) : x
        }
    }

    /// Applies `f` to every byte in 0...1 units (in memory order) and clips and truncates the result.
    @inline(__always)
    static func map(_ image: RGBImage, _ f: (Double) -> Double) -> RGBImage {
        var out = image
        out.pixels.withUnsafeMutableBufferPointer { p in
            for i in p.indices {
                let v = f(Double(p[i]) / 255)
                p[i] = UInt8((v > 0 ? min(v, 1) : 0) * 255)
            }
        }
        return out
    }
}

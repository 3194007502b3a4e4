import Foundation

/// Corruptions of surveillance cameras: low_light, rain, camera_shake. Their reference formulas are in
/// `scripts/corruption_references.py` (numpy); these follow them draw for draw in distribution.
enum SurveillanceCorruptions {
    /// (exposure, photons at full white, read-noise sd)
    static let lowLight: [(Double, Double, Double)] = [(0.6, 200, 0.004), (0.45, 120, 0.006), (0.3, 80, 0.008),
                                                       (0.2, 50, 0.010), (0.12, 30, 0.012)]
    /// (drop probability per pixel, streak length, streak opacity, scene darkening)
    static let rain: [(Double, Int, Double, Double)] = [(0.002, 10, 0.5, 0.9), (0.004, 14, 0.6, 0.85), (0.006, 18, 0.7, 0.8),
                                                        (0.009, 22, 0.75, 0.75), (0.012, 26, 0.8, 0.7)]
    /// Farthest point of the shake path from its mean, in pixels.
    static let shakeAmplitude = [1.5, 3.0, 4.5, 6.0, 8.0]
    static let shakeSteps = 16

    /// Under-exposure: linearise (gamma 2.2), scale by the exposure, count photons (Poisson), add Gaussian
    /// read noise, re-apply the gamma.
    static func lowLight(_ image: RGBImage, level: Int, rng: inout SplitMix64) -> RGBImage {
        let (gain, photons, read) = lowLight[level]
        // Linear light per byte value, scaled to expected photons.
        let samplers = (0..<256).map { PoissonSampler(pow(Double($0) / 255, 2.2) * gain * photons) }
        var out = image
        out.pixels.withUnsafeMutableBufferPointer { p in
            for i in p.indices {
                let v = samplers[Int(p[i])].draw(&rng) / photons + read * rng.normal()
                p[i] = UInt8(pow(min(max(v, 0), 1), 1 / 2.2) * 255)
            }
        }
        return out
    }

    /// Rain: drops (one per pixel with the given probability) drawn as straight streaks of `length` pixels at
    /// an angle within 10 degrees of vertical (-100...-80), screen-blended over the darkened scene.
    static func rain(_ image: RGBImage, level: Int, rng: inout SplitMix64) -> RGBImage {
        let (density, length, opacity, dark) = rain[level]
        let w = image.width, h = image.height, n = w * h
        var drops = [Double](repeating: 0, count: n)
        for i in 0..<n where rng.uniform() < density { drops[i] = 1 }
        let streaks = lineSum(drops, count: 1, width: w, height: h, weights: [Double](repeating: 1, count: length),
                              angle: rng.uniform(-100, -80))
        var x = CorruptionPlanes(image, scale: 1.0 / 255)
        for c in 0..<3 {
            for i in 0..<n {
                let s = min(streaks[i], 1) * opacity
                x.data[c * n + i] = 1 - (1 - x.data[c * n + i] * dark) * (1 - s)
            }
        }
        return x.image(limit: 1)
    }

    /// Camera shake: the mean of the picture shifted along a seeded smooth random path of 16 points (a damped
    /// random walk, velocity 0.7 v + N(0, 1) per axis) centred on its mean and scaled so its farthest point is
    /// the amplitude away; bilinear shifts, edges repeated.
    static func cameraShake(_ image: RGBImage, level: Int, rng: inout SplitMix64) -> RGBImage {
        let amplitude = shakeAmplitude[level]
        var path = [(Double, Double)]()
        var vy = 0.0, vx = 0.0, py = 0.0, px = 0.0
        for _ in 0..<shakeSteps {
            vy = 0.7 * vy + rng.normal(); vx = 0.7 * vx + rng.normal()
            py += vy; px += vx
            path.append((py, px))
        }
        let my = path.map(\.0).reduce(0, +) / Double(shakeSteps), mx = path.map(\.1).reduce(0, +) / Double(shakeSteps)
        var far = 1e-9
        for (py, px) in path {
            let dy: Double = py - my, dx: Double = px - mx
            far = max(far, (dy * dy + dx * dx).squareRoot())
        }
        let k = amplitude / far
        let x = CorruptionPlanes(image, scale: 1)
        let w = x.width, h = x.height, n = w * h
        var acc = [Double](repeating: 0, count: 3 * n)
        var x0 = [Int](repeating: 0, count: w), x1 = [Int](repeating: 0, count: w), fx = [Double](repeating: 0, count: w)
        for (py, px) in path {
            let dy = (py - my) * k, dx = (px - mx) * k
            for xx in 0..<w {
                let s: Double = min(max(Double(xx) + dx, 0), Double(w - 1))
                let f: Double = s.rounded(.down)
                x0[xx] = Int(f); x1[xx] = min(Int(f) + 1, w - 1); fx[xx] = s - f
            }
            for y in 0..<h {
                let s: Double = min(max(Double(y) + dy, 0), Double(h - 1))
                let f: Double = s.rounded(.down)
                let y0 = Int(f), y1 = min(y0 + 1, h - 1), fy: Double = s - f
                for c in 0..<3 {
                    let r0 = c * n + y0 * w, r1 = c * n + y1 * w, o = c * n + y * w
                    for xx in 0..<w {
                        let a = x.data[r0 + x0[xx]] + fx[xx] * (x.data[r0 + x1[xx]] - x.data[r0 + x0[xx]])
                        let b = x.data[r1 + x0[xx]] + fx[xx] * (x.data[r1 + x1[xx]] - x.data[r1 + x0[xx]])
                        acc[o + xx] += a + fy * (b - a)
                    }
                }
            }
        }
        for i in acc.indices { acc[i] /= Double(shakeSteps) }
        return CorruptionPlanes(width: w, height: h, data: acc).image(limit: 255)
    }
}

import Foundation

/// The ImageNet-C weather family: snow, frost, fog.
enum WeatherCorruptions {
    /// (flake mean, flake sd, zoom, threshold, blur radius, blur sigma, scene weight)
    static let snow: [(Double, Double, Double, Double, Int, Double, Double)] = [
        (0.1, 0.3, 3, 0.5, 10, 4, 0.8), (0.2, 0.3, 2, 0.5, 12, 4, 0.7), (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
        (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65), (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55)]
    /// (scene weight, frost weight)
    static let frost: [(Double, Double)] = [(1, 0.4), (0.8, 0.6), (0.7, 0.7), (0.65, 0.7), (0.6, 0.75)]
    /// (fog strength, fractal decay)
    static let fog: [(Double, Double)] = [(1.5, 2), (2, 2), (2.5, 1.7), (2.5, 1.5), (3, 1.4)]

    /// Snow (imagecorruptions' formula): a zoomed, thresholded normal field of flakes, motion-blurred at an
    /// angle in -135...-45 degrees and rounded to bytes, added twice (as is and turned 180 degrees) to the
    /// scene brightened towards `max(x, 1.5 gray + 0.5)`.
    static func snow(_ image: RGBImage, level: Int, rng: inout SplitMix64) -> RGBImage {
        let (loc, scale, zoom, threshold, radius, sigma, weight) = snow[level]
        let w = image.width, h = image.height, n = w * h
        // layer: 1 x h x w
        var layer = [Double](repeating: 0, count: n)
        for i in 0..<n { layer[i] = loc + scale * rng.normal() }
        layer = clippedZoom(layer, count: 1, width: w, height: h, zoom: zoom)
        for i in 0..<n { layer[i] = layer[i] < threshold ? 0 : min(layer[i], 1) }
        layer = lineSum(layer, count: 1, width: w, height: h, weights: motionBlurWeights(radius: radius, sigma: sigma),
                        angle: rng.uniform(-135, -45))
        for i in 0..<n { layer[i] = (layer[i] * 255).rounded(.toNearestOrEven) / 255 }
        var x = CorruptionPlanes(image, scale: 1.0 / 255)
        x.data.withUnsafeMutableBufferPointer { d in
            for i in 0..<n {
                let gray = 0.299 * d[i] + 0.587 * d[n + i] + 0.114 * d[2 * n + i]
                let flakes = layer[i] + layer[n - 1 - i]
                for c in 0..<3 {
                    let v = d[c * n + i]
                    d[c * n + i] = weight * v + (1 - weight) * max(v, gray * 1.5 + 0.5) + flakes
                }
            }
        }
        return x.image(limit: 1)
    }

    /// Frost: `clip(a x + b F, 0, 255)` over bytes, imagecorruptions' formula and weights, with `F` a
    /// procedural frost texture (see `frostTexture`) instead of the package's photographs.
    static func frost(_ image: RGBImage, level: Int, rng: inout SplitMix64) -> RGBImage {
        let (a, b) = frost[level]
        var x = CorruptionPlanes(image, scale: 1)
        let f = frostTexture(width: x.width, height: x.height, rng: &rng)
        for i in x.data.indices { x.data[i] = a * x.data[i] + b * f[i] }
        return x.image(limit: 255)
    }

    /// Mean and standard deviation (red, green, blue; 0...255) of imagecorruptions' five frost photographs
    /// (frost1.png to frost5.jpg; the package draws one of these five), measured over each whole photograph.
    static let frostLooks: [(mean: (Double, Double, Double), sd: (Double, Double, Double))] = [
        ((77.7, 149.1, 165.7), (26.9, 16.5, 15.3)), ((200.8, 205.4, 214.5), (21.4, 22.1, 22.6)),
        ((200.8, 205.4, 214.5), (21.4, 22.1, 22.6)), ((137.6, 152.8, 165.2), (28.5, 28.5, 29.9)),
        ((112.4, 123.4, 134.8), (44.4, 43.3, 41.7))]

    /// A procedural frost layer, 3 x height x width in 0...255: one of the package's five photographs' colour
    /// statistics (drawn at random as the package draws a photograph) applied to a rough fractal (diamond-square,
    /// decay 1.6) with thin bright crystal needles, standardised so each channel has the photograph's mean and sd.
    static func frostTexture(width: Int, height: Int, rng: inout SplitMix64) -> [Double] {
        let look = frostLooks[rng.int(0, frostLooks.count)]
        let size = nextPowerOfTwo(max(width, height, 3))
        let map = plasmaFractal(size: size, decay: 1.6, rng: &rng)
        let n = width * height
        var t = [Double](repeating: 0, count: n)
        for y in 0..<height { for x in 0..<width { t[y * width + x] = map[y * size + x] } }
        // Crystal needles: short bright straight strokes at random angles.
        let needles = max(1, n / 400)
        for _ in 0..<needles {
            var px = rng.uniform(0, Double(width)), py = rng.uniform(0, Double(height))
            let angle = rng.uniform(0, 2 * Double.pi), length = rng.uniform(3, 12)
            let sx = cos(angle), sy = sin(angle)
            for _ in 0..<Int(length) {
                let ix = Int(px), iy = Int(py)
                if ix >= 0 && ix < width && iy >= 0 && iy < height { t[iy * width + ix] += 0.5 }
                px += sx; py += sy
            }
        }
        var mean = 0.0
        for v in t { mean += v }
        mean /= Double(max(n, 1))
        var variance = 0.0
        for v in t { variance += (v - mean) * (v - mean) }
        let sd = max((variance / Double(max(n, 1))).squareRoot(), 1e-9)
        var out = [Double](repeating: 0, count: 3 * n)
        let means = [look.mean.0, look.mean.1, look.mean.2], sds = [look.sd.0, look.sd.1, look.sd.2]
        for c in 0..<3 { for i in 0..<n { out[c * n + i] = min(max(means[c] + sds[c] * (t[i] - mean) / sd, 0), 255) } }
        return out
    }

    /// Fog (imagecorruptions' formula): a diamond-square fractal added to every channel, rescaled by
    /// `max / (max + strength)` so the brightest pixel keeps its value.
    static func fog(_ image: RGBImage, level: Int, rng: inout SplitMix64) -> RGBImage {
        let (strength, decay) = fog[level]
        var x = CorruptionPlanes(image, scale: 1.0 / 255)
        let w = x.width, h = x.height, n = w * h
        let size = nextPowerOfTwo(max(w, h, 3))
        let map = plasmaFractal(size: size, decay: decay, rng: &rng)
        let maxValue = x.data.max() ?? 0
        let k = maxValue / (maxValue + strength)
        for c in 0..<3 { for y in 0..<h { for xx in 0..<w {
            let i = c * n + y * w + xx
            x.data[i] = (x.data[i] + strength * map[y * size + xx]) * k
        } } }
        return x.image(limit: 1)
    }
}

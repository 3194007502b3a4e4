import Foundation

/// The ImageNet-C digital family: brightness, contrast, elastic_transform, pixelate (jpeg_compression's
/// quality table is here; its codec is `jpegRoundTrip`).
enum DigitalCorruptions {
    static let brightness = [0.1, 0.2, 0.3, 0.4, 0.5]
    static let contrast = [0.4, 0.3, 0.2, 0.1, 0.05]
    static let elasticAlpha = [250 * 0.05, 250 * 0.065, 250 * 0.085, 250 * 0.1, 250 * 0.12]
    static let pixelate = [0.6, 0.5, 0.4, 0.3, 0.25]
    static let jpegQuality = [25, 18, 15, 10, 7]

    /// Brightness: HSV value raised by `c` and clipped, as skimage's `rgb2hsv` / `hsv2rgb` compute it.
    static func brightness(_ image: RGBImage, level: Int) -> RGBImage {
        let c = brightness[level]
        var x = CorruptionPlanes(image, scale: 1.0 / 255)
        let n = x.plane
        x.data.withUnsafeMutableBufferPointer { d in
            for i in 0..<n {
                let r = d[i], g = d[n + i], b = d[2 * n + i]
                let v = max(r, g, b), delta = v - min(r, g, b)
                let s = v == 0 ? 0 : delta / v
                var h: Double
                if delta == 0 { h = 0 } else {
                    // skimage's order: the last matching maximum wins (blue over green over red).
                    if b == v { h = 4 + (r - g) / delta } else if g == v { h = 2 + (b - r) / delta } else { h = (g - b) / delta }
                    h = (h / 6).truncatingRemainder(dividingBy: 1)
                    if h < 0 { h += 1 }
                }
                let v2 = min(max(v + c, 0), 1)
                let hi = (h * 6).rounded(.down), f = h * 6 - hi
                let p = v2 * (1 - s), q = v2 * (1 - f * s), t = v2 * (1 - (1 - f) * s)
                let rgb: (Double, Double, Double)
                switch Int(hi) % 6 {
                case 0: rgb = (v2, t, p)
                case 1: rgb = (q, v2, p)
                case 2: rgb = (p, v2, t)
                case 3: rgb = (p, q, v2)
                case 4: rgb = (t, p, v2)
                default: rgb = (v2, p, q)
                }
                d[i] = rgb.0; d[n + i] = rgb.1; d[2 * n + i] = rgb.2
            }
        }
        return x.image(limit: 1)
    }

    /// Contrast: each channel pulled towards its mean, `(x - mean) c + mean`.
    static func contrast(_ image: RGBImage, level: Int) -> RGBImage {
        let c = contrast[level]
        var x = CorruptionPlanes(image, scale: 1.0 / 255)
        let n = x.plane
        for ch in 0..<3 {
            var mean = 0.0
            for i in 0..<n { mean += x.data[ch * n + i] }
            mean /= Double(n)
            for i in 0..<n { x.data[ch * n + i] = (x.data[ch * n + i] - mean) * c + mean }
        }
        return x.image(limit: 1)
    }

    /// Elastic transform (imagecorruptions' formula): uniform noise in +-0.005 h smoothed by a Gaussian of
    /// 0.01 (h, w) (reflect border, truncate 3) and scaled by `alpha` gives each pixel's displacement; the
    /// picture is resampled there bilinearly (scipy `map_coordinates(order=1, mode='reflect')`).
    static func elastic(_ image: RGBImage, level: Int, rng: inout SplitMix64) -> RGBImage {
        let alpha = elasticAlpha[level]
        let w = image.width, h = image.height, n = w * h
        let maxD = Double(h) * 0.005
        // field: 2 x h x w, dx then dy.
        var field = [Double](repeating: 0, count: 2 * n)
        for i in 0..<(2 * n) { field[i] = rng.uniform(-maxD, maxD) }
        gaussianFilter(&field, count: 2, width: w, height: h, sigmaY: Double(h) * 0.01, sigmaX: Double(w) * 0.01,
                       truncate: 3, border: .reflect)
        let x = CorruptionPlanes(image, scale: 1.0 / 255)
        var out = CorruptionPlanes(width: w, height: h)
        x.data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    for xx in 0..<w {
                        let i = y * w + xx
                        let sx = Double(xx) + Double(Float(field[i] * alpha))
                        let sy = Double(y) + Double(Float(field[n + i] * alpha))
                        let fx0 = sx.rounded(.down), fy0 = sy.rounded(.down)
                        let fx = sx - fx0, fy = sy - fy0
                        let x0 = Border.reflect.index(Int(fx0), w), x1 = Border.reflect.index(Int(fx0) + 1, w)
                        let y0 = Border.reflect.index(Int(fy0), h), y1 = Border.reflect.index(Int(fy0) + 1, h)
                        for c in 0..<3 {
                            let p = c * n
                            let a = src[p + y0 * w + x0] * (1 - fx) + src[p + y0 * w + x1] * fx
                            let b = src[p + y1 * w + x0] * (1 - fx) + src[p + y1 * w + x1] * fx
                            dst[p + i] = a * (1 - fy) + b * fy
                        }
                    }
                }
            }
        }
        return out.image(limit: 1)
    }

    /// Pixelate: PIL's BOX reduction to `c` of the size (fixed-point, 22 fraction bits, horizontal pass
    /// first), then PIL's NEAREST enlargement back.
    static func pixelate(_ image: RGBImage, level: Int) -> RGBImage {
        let c = pixelate[level]
        let w = image.width, h = image.height
        let sw = max(Int(Double(w) * c), 1), sh = max(Int(Double(h) * c), 1)
        let small = pilBoxReduce(image, width: sw, height: sh)
        var out = RGBImage(width: w, height: h)
        let ax = (0..<w).map { min(Int((Double($0) + 0.5) * Double(sw) / Double(w)), sw - 1) }
        for y in 0..<h {
            let sy = min(Int((Double(y) + 0.5) * Double(sh) / Double(h)), sh - 1)
            for x in 0..<w {
                let s = (sy * sw + ax[x]) * 3, d = (y * w + x) * 3
                out.pixels[d] = small.pixels[s]; out.pixels[d + 1] = small.pixels[s + 1]; out.pixels[d + 2] = small.pixels[s + 2]
            }
        }
        return out
    }

    /// PIL's `resize(..., Image.BOX)` of an 8-bit picture: per-axis box weights normalised in double, rounded
    /// to 22-bit fixed point, each pass rounded and clamped to bytes; the horizontal pass runs first.
    static func pilBoxReduce(_ image: RGBImage, width ow: Int, height oh: Int) -> RGBImage {
        func coefficients(_ inSize: Int, _ outSize: Int) -> [(start: Int, k: [Int])] {
            let scale = Double(inSize) / Double(outSize)
            let filterScale = max(scale, 1), support = 0.5 * filterScale
            return (0..<outSize).map { o in
                let center = (Double(o) + 0.5) * scale
                let xmin = max(Int(center - support + 0.5), 0), xmax = min(Int(center + support + 0.5), inSize)
                var k = [Double]()
                for x in xmin..<max(xmax, xmin) {
                    let t = (Double(x) - center + 0.5) / filterScale
                    k.append(t > -0.5 && t <= 0.5 ? 1 : 0)
                }
                let s = k.reduce(0, +)
                return (xmin, k.map { v in Int((s == 0 ? 0 : v / s) * Double(1 << 22) + 0.5) })
            }
        }
        func clip8(_ v: Int) -> UInt8 { UInt8(min(max(v >> 22, 0), 255)) }
        let w = image.width, h = image.height
        let cx = coefficients(w, ow), cy = coefficients(h, oh)
        var mid = [UInt8](repeating: 0, count: ow * h * 3)
        for y in 0..<h { for o in 0..<ow { for c in 0..<3 {
            var s = 1 << 21
            for (j, k) in cx[o].k.enumerated() { s += Int(image.pixels[(y * w + cx[o].start + j) * 3 + c]) * k }
            mid[(y * ow + o) * 3 + c] = clip8(s)
        } } }
        var out = [UInt8](repeating: 0, count: ow * oh * 3)
        for o in 0..<oh { for x in 0..<ow { for c in 0..<3 {
            var s = 1 << 21
            for (j, k) in cy[o].k.enumerated() { s += Int(mid[((cy[o].start + j) * ow + x) * 3 + c]) * k }
            out[(o * ow + x) * 3 + c] = clip8(s)
        } } }
        return RGBImage(width: ow, height: oh, pixels: out)
    }
}

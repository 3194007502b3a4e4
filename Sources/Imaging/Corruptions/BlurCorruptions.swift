import Foundation

/// The ImageNet-C blur family: defocus_blur, glass_blur, motion_blur, zoom_blur (imagecorruptions' formulas).
enum BlurCorruptions {
    /// (disk radius, anti-alias sigma)
    static let defocus: [(Int, Double)] = [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)]
    /// (sigma, max shift, iterations)
    static let glass: [(Double, Int, Int)] = [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)]
    /// (radius, sigma)
    static let motion: [(Int, Double)] = [(10, 3), (15, 5), (15, 8), (15, 12), (20, 15)]
    /// numpy `arange(1, stop, step)`: (step, count)
    static let zoom: [(Double, Int)] = [(0.01, 12), (0.01, 16), (0.02, 11), (0.02, 13), (0.03, 11)]

    /// imagecorruptions' `disk`: the pixels within `radius` of the centre of a `(2L+1)^2` square (L = 8, or
    /// the radius when larger), normalised, then smoothed by OpenCV's GaussianBlur (3x3, or 5x5 past radius 8).
    /// - Returns: The kernel, `size x size`, row-major.
    static func diskKernel(radius: Int, aliasBlur: Double) -> (kernel: [Double], size: Int) {
        let l = max(8, radius), size = 2 * l + 1, k = radius <= 8 ? 3 : 5
        var disk = [Double](repeating: 0, count: size * size)
        for y in 0..<size { for x in 0..<size where (x - l) * (x - l) + (y - l) * (y - l) <= radius * radius { disk[y * size + x] = 1 } }
        let total = disk.reduce(0, +)
        for i in disk.indices { disk[i] /= total }
        // OpenCV's Gaussian kernel for sigma > 0: exp(-(i - (k-1)/2)^2 / (2 sigma^2)), normalised.
        var g = (0..<k).map { i in exp(-pow(Double(i) - Double(k - 1) / 2, 2) / (2 * aliasBlur * aliasBlur)) }
        let gs = g.reduce(0, +)
        for i in g.indices { g[i] /= gs }
        var planes = disk
        let r = k / 2
        var tmp = planes
        for y in 0..<size { for x in 0..<size {
            var s = 0.0
            for i in 0..<k { s += g[i] * planes[y * size + Border.reflect101.index(x + i - r, size)] }
            tmp[y * size + x] = s
        } }
        for y in 0..<size { for x in 0..<size {
            var s = 0.0
            for i in 0..<k { s += g[i] * tmp[Border.reflect101.index(y + i - r, size) * size + x] }
            planes[y * size + x] = s
        } }
        return (planes, size)
    }

    /// Defocus: every channel correlated with the anti-aliased disk (OpenCV filter2D, reflect-101 border).
    static func defocus(_ image: RGBImage, level: Int) -> RGBImage {
        let (radius, alias) = defocus[level]
        let (k, size) = diskKernel(radius: radius, aliasBlur: alias)
        let x = CorruptionPlanes(image, scale: 1.0 / 255)
        let out = filter2D(x.data, count: 3, width: x.width, height: x.height, kernel: k, size: size)
        return CorruptionPlanes(width: x.width, height: x.height, data: out).image(limit: 1)
    }

    /// Glass: Gaussian blur (stored as bytes), then `iterations` passes that give each pixel the value of a
    /// random neighbour up to `max shift` away (bottom-right to top-left, as the package's loops run), then blur
    /// again.
    ///
    /// The package means to swap the two pixels, but its numpy tuple assignment of two row views copies the
    /// neighbour into the pixel and writes the pixel's new value back to the neighbour, so nothing is swapped:
    /// the pixel is overwritten. This follows what the package computes.
    static func glass(_ image: RGBImage, level: Int, rng: inout SplitMix64) -> RGBImage {
        let (sigma, d, iterations) = glass[level]
        let w = image.width, h = image.height
        var x = CorruptionPlanes(image, scale: 1.0 / 255)
        gaussianFilter(&x.data, count: 3, width: w, height: h, sigmaY: sigma, sigmaX: sigma)
        var bytes = x.image(limit: 1)
        bytes.pixels.withUnsafeMutableBufferPointer { p in
            for _ in 0..<iterations {
                for y in stride(from: h - d, to: d, by: -1) {
                    for xx in stride(from: w - d, to: d, by: -1) {
                        let dx = rng.int(-d, d), dy = rng.int(-d, d)
                        let a = (y * w + xx) * 3, b = ((y + dy) * w + xx + dx) * 3
                        for c in 0..<3 { p[a + c] = p[b + c] }
                    }
                }
            }
        }
        var y = CorruptionPlanes(bytes, scale: 1.0 / 255)
        gaussianFilter(&y.data, count: 3, width: w, height: h, sigmaY: sigma, sigmaX: sigma)
        return y.image(limit: 1)
    }

    /// Motion: the half-Gaussian line kernel of imagecorruptions' `_motion_blur` at `angle` degrees, on bytes.
    ///
    /// imagecorruptions 1.1.2 computes this in numpy (integer shifts along the angle, edges repeated), not with
    /// ImageMagick's `motion_blur` as the original ImageNet-C code did; this follows the package.
    /// - Parameter angle: Degrees; the corruption draws it uniformly from -45...45.
    static func motion(_ image: RGBImage, level: Int, angle: Double) -> RGBImage {
        let (radius, sigma) = motion[level]
        let x = CorruptionPlanes(image, scale: 1)
        let out = lineSum(x.data, count: 3, width: x.width, height: x.height,
                          weights: motionBlurWeights(radius: radius, sigma: sigma), angle: angle)
        return CorruptionPlanes(width: x.width, height: x.height, data: out).image(limit: 255)
    }

    /// Zoom: the mean of the picture and its centre zoomed by each factor `1 + i * step`.
    static func zoom(_ image: RGBImage, level: Int) -> RGBImage {
        let (step, count) = zoom[level]
        let x = CorruptionPlanes(image, scale: 1.0 / 255)
        var acc = [Double](repeating: 0, count: x.data.count)
        for i in 0..<count {
            let layer = clippedZoom(x.data, count: 3, width: x.width, height: x.height, zoom: 1 + Double(i) * step)
            for j in acc.indices { acc[j] += layer[j] }
        }
        for j in acc.indices { acc[j] = (x.data[j] + acc[j]) / Double(count + 1) }
        return CorruptionPlanes(width: x.width, height: x.height, data: acc).image(limit: 1)
    }
}

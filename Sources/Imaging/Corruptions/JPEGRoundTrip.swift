import Foundation

/// What baseline JPEG at `quality` does to a picture, without the bitstream: libjpeg's pipeline as PIL
/// drives it (`save(quality=q)` then decode), simulated stage by stage.
///
/// Encoder: libjpeg's fixed-point RGB -> YCbCr; 4:2:0 chroma by 2x2 means with libjpeg's alternating 1, 2
/// rounding bias; edges repeated to whole blocks; 8x8 DCT; quantisation by the IJG tables scaled for
/// `quality` (`5000 / q` below 50, `200 - 2q` above, clamped to 1...255), rounded half away from zero.
/// Decoder: dequantise, inverse DCT, +128 clamped to bytes, libjpeg's "fancy" (triangle) chroma upsampling,
/// fixed-point YCbCr -> RGB. Entropy coding is lossless and left out.
///
/// It differs from libjpeg in one place: the DCTs here are exact (double precision), libjpeg's are its
/// 13-bit fixed-point `islow` ones, so a coefficient lying within about 1/8 of a quantisation step of a rounding
/// boundary can round the other way (see the tests for what that costs in PSNR).
/// - Complexity: O(width * height * 16) for the separable DCTs; buffers per plane, none per pixel.
func jpegRoundTrip(_ image: RGBImage, quality: Int) -> RGBImage {
    let w = image.width, h = image.height
    if w == 0 || h == 0 { return image }
    let q = max(1, min(quality, 100))
    let scale = q < 50 ? 5000 / q : 200 - 2 * q
    func table(_ base: [Int]) -> [Double] { base.map { Double(min(max(($0 * scale + 50) / 100, 1), 255)) } }
    let lumaQ = table(jpegLumaBase), chromaQ = table(jpegChromaBase)

    // Colour conversion (jccolor.c): 16-bit fixed point.
    func fix(_ v: Double) -> Int { Int(v * 65536 + 0.5) }
    let half = 1 << 15, cbcrOffset = 128 << 16
    let cw = (w + 1) / 2, ch = (h + 1) / 2
    // Full-resolution planes padded (edges repeated) to the chroma block grid: pw x ph.
    let cbw = (cw + 7) / 8, cbh = (ch + 7) / 8
    let pw = cbw * 16, ph = cbh * 16
    var yPlane = [Double](repeating: 0, count: pw * ph)
    var cbFull = [Int](repeating: 0, count: pw * ph), crFull = [Int](repeating: 0, count: pw * ph)
    for y in 0..<ph {
        let sy = min(y, h - 1)
        for x in 0..<pw {
            let s = (sy * w + min(x, w - 1)) * 3
            let r = Int(image.pixels[s]), g = Int(image.pixels[s + 1]), b = Int(image.pixels[s + 2])
            yPlane[y * pw + x] = Double((fix(0.29900) * r + fix(0.58700) * g + fix(0.11400) * b + half) >> 16)
            cbFull[y * pw + x] = (-fix(0.16874) * r - fix(0.33126) * g + fix(0.5) * b + cbcrOffset + half - 1) >> 16
            crFull[y * pw + x] = (fix(0.5) * r - fix(0.41869) * g - fix(0.08131) * b + cbcrOffset + half - 1) >> 16
        }
    }
    // 2x2 downsampling (jcsample.c h2v2_downsample): bias 1, 2, 1, 2, ... along each row.
    let dw = cbw * 8, dh = cbh * 8
    var cb = [Double](repeating: 0, count: dw * dh), cr = [Double](repeating: 0, count: dw * dh)
    for y in 0..<dh {
        var bias = 1
        for x in 0..<dw {
            let a = 2 * y * pw + 2 * x, b = a + pw
            cb[y * dw + x] = Double((cbFull[a] + cbFull[a + 1] + cbFull[b] + cbFull[b + 1] + bias) >> 2)
            cr[y * dw + x] = Double((crFull[a] + crFull[a + 1] + crFull[b] + crFull[b + 1] + bias) >> 2)
            bias ^= 3
        }
    }
    // Luma only needs whole 8x8 blocks over the picture.
    let yw = (w + 7) / 8 * 8, yh = (h + 7) / 8 * 8
    let yDecoded = jpegBlocks(yPlane, stride: pw, width: yw, height: yh, quant: lumaQ)
    let cbDecoded = jpegBlocks(cb, stride: dw, width: dw, height: dh, quant: chromaQ)
    let crDecoded = jpegBlocks(cr, stride: dw, width: dw, height: dh, quant: chromaQ)
    let cbUp = fancyUpsample(cbDecoded, stride: dw, width: cw, height: ch, outWidth: w, outHeight: h)
    let crUp = fancyUpsample(crDecoded, stride: dw, width: cw, height: ch, outWidth: w, outHeight: h)

    // YCbCr -> RGB (jdcolor.c).
    var out = RGBImage(width: w, height: h)
    for y in 0..<h {
        for x in 0..<w {
            let yy = yDecoded[y * yw + x], cbv = cbUp[y * w + x] - 128, crv = crUp[y * w + x] - 128
            let r = yy + ((fix(1.40200) * crv + half) >> 16)
            let g = yy + ((-fix(0.34414) * cbv + half - fix(0.71414) * crv) >> 16)
            let b = yy + ((fix(1.77200) * cbv + half) >> 16)
            let d = (y * w + x) * 3
            out.pixels[d] = UInt8(min(max(r, 0), 255)); out.pixels[d + 1] = UInt8(min(max(g, 0), 255)); out.pixels[d + 2] = UInt8(min(max(b, 0), 255))
        }
    }
    return out
}

/// IJG's example quantisation tables (JPEG standard Annex K), in natural (row-major) order.
let jpegLumaBase = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
                    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
                    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
let jpegChromaBase = [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
                      47, 66, 99, 99, 99, 99, 99, 99] + [Int](repeating: 99, count: 32)

/// cos((2x + 1) u pi / 16) * C(u) / 2, `dctBasis[u * 8 + x]`, the orthonormal 8-point DCT-II.
let dctBasis: [Double] = (0..<64).map { i in
    let u = i / 8, x = i % 8
    return (u == 0 ? (0.125).squareRoot() : 0.5) * cos(Double(2 * x + 1) * Double(u) * Double.pi / 16)
}

/// Level shift, DCT, quantise, dequantise, inverse DCT, +128, round and clamp every 8x8 block of a plane.
/// - Parameters:
///   - plane: Samples 0...255 with row stride `stride`; `width` and `height` are multiples of 8.
/// - Returns: `height x width` decoded samples (ints as bytes would hold them).
func jpegBlocks(_ plane: [Double], stride: Int, width: Int, height: Int, quant: [Double]) -> [Int] {
    var out = [Int](repeating: 0, count: width * height)
    var block = [Double](repeating: 0, count: 64), tmp = [Double](repeating: 0, count: 64)
    for by in Swift.stride(from: 0, to: height, by: 8) {
        for bx in Swift.stride(from: 0, to: width, by: 8) {
            for y in 0..<8 { for x in 0..<8 { block[y * 8 + x] = plane[(by + y) * stride + bx + x] - 128 } }
            // forward: tmp[v][x] = sum_y B[v][y] f[y][x]; F[v][u] = sum_x tmp[v][x] B[u][x]
            for v in 0..<8 { for x in 0..<8 { var s = 0.0; for y in 0..<8 { s += dctBasis[v * 8 + y] * block[y * 8 + x] }; tmp[v * 8 + x] = s } }
            for v in 0..<8 { for u in 0..<8 {
                var s = 0.0
                for x in 0..<8 { s += tmp[v * 8 + x] * dctBasis[u * 8 + x] }
                let qv = quant[v * 8 + u]
                // libjpeg rounds |F| / q half up and restores the sign.
                let level = (abs(s) / qv + 0.5).rounded(.down)
                block[v * 8 + u] = (s < 0 ? -level : level) * qv
            } }
            // inverse: tmp[y][u] = sum_v B[v][y] F[v][u]; f[y][x] = sum_u tmp[y][u] B[u][x]
            for y in 0..<8 { for u in 0..<8 { var s = 0.0; for v in 0..<8 { s += dctBasis[v * 8 + y] * block[v * 8 + u] }; tmp[y * 8 + u] = s } }
            for y in 0..<8 { for x in 0..<8 {
                var s = 0.0
                for u in 0..<8 { s += tmp[y * 8 + u] * dctBasis[u * 8 + x] }
                out[(by + y) * width + bx + x] = min(max(Int((s + 128).rounded()), 0), 255)
            } }
        }
    }
    return out
}

/// libjpeg's h2v2 "fancy" upsampling (jdsample.c): each output sample is 9/16, 3/16, 3/16, 1/16 of the four
/// nearest chroma samples (rounding bias 8 then 7 along a row), edges repeated.
/// - Parameters:
///   - plane: Decoded chroma, row stride `stride`, of which `width x height` is real.
/// - Returns: `outHeight x outWidth` samples (the first rows and columns of the 2x result).
func fancyUpsample(_ plane: [Int], stride: Int, width: Int, height: Int, outWidth: Int, outHeight: Int) -> [Int] {
    var out = [Int](repeating: 0, count: outWidth * outHeight)
    var colsum = [Int](repeating: 0, count: width)
    for oy in 0..<outHeight {
        let r = oy / 2
        let near = r, far = oy % 2 == 0 ? max(r - 1, 0) : min(r + 1, height - 1)
        for c in 0..<width { colsum[c] = 3 * plane[near * stride + c] + plane[far * stride + c] }
        for ox in 0..<outWidth {
            let c = ox / 2
            let v: Int
            if ox % 2 == 0 {
                v = c == 0 ? (colsum[0] * 4 + 8) >> 4 : (colsum[c] * 3 + colsum[c - 1] + 8) >> 4
            } else {
                v = c == width - 1 ? (colsum[c] * 4 + 7) >> 4 : (colsum[c] * 3 + colsum[c + 1] + 7) >> 4
            }
            out[oy * outWidth + ox] = v
        }
    }
    return out
}

/// Convolution over stacks of tiles in channel-major layout, used by incremental occlusion: one tile per
/// occluded copy, all tiles the same size, stored `[C, K, h, w]` ("CKHW") so that a 1x1 convolution over every
/// tile is a single GEMM and a k x k one is im2col + one GEMM.

/// Shape of a tile convolution (no padding: the caller gathers padded input tiles).
public struct TileConvShape: Sendable, Equatable {
    /// Tiles (occluded copies).
    public var tiles: Int
    public var inC: Int, inH: Int, inW: Int
    public var outC: Int
    public var groups: Int
    public var kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, dilationH: Int, dilationW: Int
    public init(tiles: Int, inC: Int, inH: Int, inW: Int, outC: Int, groups: Int, window w: Window2D) {
        self.tiles = tiles; self.inC = inC; self.inH = inH; self.inW = inW; self.outC = outC; self.groups = groups
        kernelH = w.kernelH; kernelW = w.kernelW; strideH = w.strideH; strideW = w.strideW; dilationH = w.dilationH; dilationW = w.dilationW
    }
    public var outH: Int { (inH - (dilationH * (kernelH - 1) + 1)) / strideH + 1 }
    public var outW: Int { (inW - (dilationW * (kernelW - 1) + 1)) / strideW + 1 }
    public var isDepthwise: Bool { groups == inC && groups > 1 && outC % groups == 0 }
    /// Scratch floats `tileConv2d` needs.
    public var scratchCount: Int {
        if isDepthwise { return 0 }
        if kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 { return 0 }
        return inC * kernelH * kernelW * tiles * outH * outW
    }
}

/// Convolution of every tile, bias and activation fused.
///
/// - Parameters:
///   - x: `[inC, tiles, inH, inW]`.
///   - weight: `[outC, inC/groups, kh, kw]` (groups must be 1 or depthwise).
///   - y: `[outC, tiles, outH, outW]`.
public func tileConv2d(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, shape s: TileConvShape,
                       activation: Activation, y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>?) {
    let oh = s.outH, ow = s.outW, kk = s.kernelH * s.kernelW
    let outPlane = s.tiles * oh * ow
    if s.isDepthwise && s.outC == s.inC {
        // Every (channel, tile) plane is its own unpadded depthwise plane: run them through `directConv2d`
        // as one image of C*K channels with each channel's filter repeated K times.
        let taps = s.kernelH * s.kernelW
        var wRep = [Float](repeating: 0, count: s.outC * s.tiles * taps)      // [C*K, 1, kh, kw]
        var bRep = [Float](repeating: 0, count: s.outC * s.tiles)             // [C*K]
        for c in 0..<s.outC {
            for t in 0..<s.tiles {
                for q in 0..<taps { wRep[(c * s.tiles + t) * taps + q] = weight[c * taps + q] }
                bRep[c * s.tiles + t] = bias?[c] ?? 0
            }
        }
        let planes = s.outC * s.tiles
        let shape = ConvShape(batch: 1, inC: planes, inH: s.inH, inW: s.inW, outC: planes, groups: planes,
                              window: Window2D(kernelH: s.kernelH, kernelW: s.kernelW, strideH: s.strideH, strideW: s.strideW,
                                               dilationH: s.dilationH, dilationW: s.dilationW))
        bRep.withUnsafeBufferPointer { bp in
            directConv2d(x, weight: wRep, bias: bias == nil ? nil : bp.baseAddress, shape: shape, activation: activation, y: y)
        }
        return
    }
    if s.isDepthwise {
        let mult = s.outC / s.inC
        parallelChunks(s.outC, minItemsPerChunk: 8) { range in
        for m in range {
            let c = m / mult
            let wk = weight + m * kk
            let b = bias?[m] ?? 0
            for t in 0..<s.tiles {
                let xp = x + (c * s.tiles + t) * s.inH * s.inW
                let yp = y + (m * s.tiles + t) * oh * ow
                yp.update(repeating: b, count: oh * ow)
                for oy in 0..<oh {
                    let yr = yp + oy * ow
                    for ky in 0..<s.kernelH {
                        let xr = xp + (oy * s.strideH + ky * s.dilationH) * s.inW
                        for kx in 0..<s.kernelW {
                            let wv = wk[ky * s.kernelW + kx]
                            let src = xr + kx * s.dilationW
                            if s.strideW == 1 { for ox in 0..<ow { yr[ox] += wv * src[ox] } }
                            else { for ox in 0..<ow { yr[ox] += wv * src[ox * s.strideW] } }
                        }
                    }
                }
            }
            activation.apply(y + m * outPlane, count: outPlane)
        }
        }
        return
    }
    precondition(s.groups == 1, "tileConv2d: grouped convolution other than depthwise is not supported")
    if s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 && s.strideW == 1 {
        gemmBiasActivationParallel(m: s.outC, n: outPlane, k: s.inC, a: weight, lda: s.inC, b: x, ldb: outPlane, c: y, ldc: outPlane,
                                   bias: bias, activation: activation)
    } else {
        // im2col over all tiles: col[(c*kh+ky)*kw+kx, t*oh*ow + oy*ow + ox].
        let col = scratch!
        var row = 0
        for c in 0..<s.inC {
            for ky in 0..<s.kernelH {
                for kx in 0..<s.kernelW {
                    let dst = col + row * outPlane
                    row += 1
                    for t in 0..<s.tiles {
                        let xp = x + (c * s.tiles + t) * s.inH * s.inW
                        for oy in 0..<oh {
                            let src = xp + (oy * s.strideH + ky * s.dilationH) * s.inW + kx * s.dilationW
                            let d = dst + (t * oh + oy) * ow
                            if s.strideW == 1 { d.update(from: src, count: ow) } else { for ox in 0..<ow { d[ox] = src[ox * s.strideW] } }
                        }
                    }
                }
            }
        }
        gemmBiasActivationParallel(m: s.outC, n: outPlane, k: s.inC * kk, a: weight, lda: s.inC * kk, b: col, ldb: outPlane,
                                   c: y, ldc: outPlane, bias: bias, activation: activation)
    }
}

/// Naive twin of `tileConv2d`: the definition, accumulating in double.
public func tileConv2dNaive(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, shape s: TileConvShape,
                            activation: Activation, y: UnsafeMutablePointer<Float>) {
    let oh = s.outH, ow = s.outW
    let cg = s.inC / s.groups, mg = s.outC / s.groups
    for m in 0..<s.outC {
        let g = m / mg
        for t in 0..<s.tiles {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var acc = Double(bias?[m] ?? 0)
                    for ci in 0..<cg {
                        let c = g * cg + ci
                        for ky in 0..<s.kernelH {
                            for kx in 0..<s.kernelW {
                                let iy = oy * s.strideH + ky * s.dilationH, ix = ox * s.strideW + kx * s.dilationW
                                acc += Double(x[((c * s.tiles + t) * s.inH + iy) * s.inW + ix]) * Double(weight[((m * cg + ci) * s.kernelH + ky) * s.kernelW + kx])
                            }
                        }
                    }
                    y[((m * s.tiles + t) * oh + oy) * ow + ox] = activation.apply(Float(acc))
                }
            }
        }
    }
}

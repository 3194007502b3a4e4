/// Geometry of a 2-D convolution or pooling window.
public struct Window2D: Sendable, Equatable, Hashable {
    public var kernelH: Int, kernelW: Int
    public var strideH: Int = 1, strideW: Int = 1
    public var dilationH: Int = 1, dilationW: Int = 1
    public var padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0

    public init(kernelH: Int, kernelW: Int, strideH: Int = 1, strideW: Int = 1, dilationH: Int = 1, dilationW: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0) {
        self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
        self.dilationH = dilationH; self.dilationW = dilationW
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
    }

    /// Output extent along H for input extent `h` (floor mode).
    @inlinable public func outH(_ h: Int, ceil: Bool = false) -> Int {
        Window2D.out(h, k: kernelH, s: strideH, d: dilationH, p0: padTop, p1: padBottom, ceil: ceil)
    }
    /// Output extent along W for input extent `w` (floor mode).
    @inlinable public func outW(_ w: Int, ceil: Bool = false) -> Int {
        Window2D.out(w, k: kernelW, s: strideW, d: dilationW, p0: padLeft, p1: padRight, ceil: ceil)
    }
    @inlinable static func out(_ n: Int, k: Int, s: Int, d: Int, p0: Int, p1: Int, ceil: Bool) -> Int {
        let span = n + p0 + p1 - (d * (k - 1) + 1)
        if span < 0 { return 0 }
        var o = (ceil ? (span + s - 1) / s : span / s) + 1
        // A window must start inside the input or the left padding (ONNX/PyTorch ceil_mode rule).
        if ceil && (o - 1) * s >= n + p0 { o -= 1 }
        return o
    }
    /// True when the window is 1x1 with unit stride and no padding.
    public var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }
}

/// Shape of one convolution call.
public struct ConvShape: Sendable, Equatable {
    public var batch: Int, inC: Int, inH: Int, inW: Int
    public var outC: Int, outH: Int, outW: Int
    public var groups: Int
    public var window: Window2D
    public init(batch: Int, inC: Int, inH: Int, inW: Int, outC: Int, groups: Int, window: Window2D) {
        self.batch = batch; self.inC = inC; self.inH = inH; self.inW = inW; self.outC = outC; self.groups = groups
        self.window = window
        self.outH = window.outH(inH); self.outW = window.outW(inW)
    }
    /// Channels per group on the input side.
    public var inCPerGroup: Int { inC / groups }
    /// Channels per group on the output side.
    public var outCPerGroup: Int { outC / groups }
    /// Length of one im2col column: input channels per group x kernel area.
    public var colRows: Int { inCPerGroup * window.kernelH * window.kernelW }
    /// True for depthwise convolution (one input channel per group).
    public var isDepthwise: Bool { groups == inC && groups > 1 && outC % groups == 0 && inCPerGroup == 1 }
    /// Scratch floats `conv2d` needs.
    public var scratchCount: Int { (window.isPointwise || isDepthwise) ? 0 : colRows * outH * outW }
    /// Multiply-accumulates per call.
    public var macs: Int { batch * outC * outH * outW * colRows }
}

/// Unfolds one image's group of channels into columns: col[(c*kh+ky)*kw+kx, oy*outW+ox].
///
/// - Parameters:
///   - x: `[C_g, H, W]` for the group.
///   - col: `[C_g*kh*kw, outH*outW]`.
@inlinable
public func im2col(_ x: UnsafePointer<Float>, channels: Int, h: Int, w: Int, window wd: Window2D,
                   outH: Int, outW: Int, col: UnsafeMutablePointer<Float>) {
    let plane = outH * outW
    var row = 0
    for c in 0..<channels {
        let xc = x + c * h * w
        for ky in 0..<wd.kernelH {
            for kx in 0..<wd.kernelW {
                let dst = col + row * plane
                row += 1
                let offX = kx * wd.dilationW - wd.padLeft
                // Range of ox whose input column lies inside [0, w).
                var oxLo = 0, oxHi = outW
                if wd.strideW == 1 {
                    oxLo = max(0, -offX); oxHi = min(outW, w - offX)
                } else {
                    while oxLo < outW && oxLo * wd.strideW + offX < 0 { oxLo += 1 }
                    while oxHi > oxLo && (oxHi - 1) * wd.strideW + offX >= w { oxHi -= 1 }
                }
                if oxHi < oxLo { oxHi = oxLo }
                for oy in 0..<outH {
                    let iy = oy * wd.strideH + ky * wd.dilationH - wd.padTop
                    let d = dst + oy * outW
                    if iy < 0 || iy >= h { d.update(repeating: 0, count: outW); continue }
                    let src = xc + iy * w
                    if oxLo > 0 { d.update(repeating: 0, count: oxLo) }
                    if wd.strideW == 1 {
                        (d + oxLo).update(from: src + oxLo + offX, count: oxHi - oxLo)
                    } else {
                        for ox in oxLo..<oxHi { d[ox] = src[ox * wd.strideW + offX] }
                    }
                    if oxHi < outW { (d + oxHi).update(repeating: 0, count: outW - oxHi) }
                }
            }
        }
    }
}

/// Adds columns back into an image (the adjoint of `im2col`): dx[c, iy, ix] += col[...].
public func col2im(_ col: UnsafePointer<Float>, channels: Int, h: Int, w: Int, window wd: Window2D,
                   outH: Int, outW: Int, dx: UnsafeMutablePointer<Float>) {
    var row = 0
    for c in 0..<channels {
        let xc = dx + c * h * w
        for ky in 0..<wd.kernelH {
            for kx in 0..<wd.kernelW {
                let src = col + row * outH * outW
                row += 1
                for oy in 0..<outH {
                    let iy = oy * wd.strideH + ky * wd.dilationH - wd.padTop
                    if iy < 0 || iy >= h { continue }
                    for ox in 0..<outW {
                        let ix = ox * wd.strideW + kx * wd.dilationW - wd.padLeft
                        if ix < 0 || ix >= w { continue }
                        xc[iy * w + ix] += src[oy * outW + ox]
                    }
                }
            }
        }
    }
}

/// 2-D convolution, NCHW, with bias and a fused activation.
///
/// - Parameters:
///   - x: `[N, C, H, W]`.
///   - weight: `[M, C/groups, kh, kw]`.
///   - bias: `[M]` or nil.
///   - y: `[N, M, outH, outW]`.
///   - scratch: at least `shape.scratchCount` floats (im2col columns).
/// - Complexity: `shape.macs` multiply-adds; 1x1 unit-stride runs as one GEMM per image with no im2col,
///   depthwise runs a direct kernel, everything else im2col + `cblas_sgemm` per image and group.
public func conv2d(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                   shape s: ConvShape, activation: Activation, y: UnsafeMutablePointer<Float>,
                   scratch: UnsafeMutablePointer<Float>?) {
    let inPlane = s.inH * s.inW, outPlane = s.outH * s.outW
    if s.isDepthwise {
        depthwiseConv2d(x, weight: weight, bias: bias, shape: s, activation: activation, y: y)
        return
    }
    let mg = s.outCPerGroup, cg = s.inCPerGroup, kdim = s.colRows
    for n in 0..<s.batch {
        for g in 0..<s.groups {
            let xg = x + (n * s.inC + g * cg) * inPlane
            let yg = y + (n * s.outC + g * mg) * outPlane
            let wg = weight + g * mg * kdim
            if s.window.isPointwise {
                gemm(m: mg, n: outPlane, k: cg, a: wg, lda: cg, b: xg, ldb: inPlane, c: yg, ldc: outPlane)
            } else {
                im2col(xg, channels: cg, h: s.inH, w: s.inW, window: s.window, outH: s.outH, outW: s.outW, col: scratch!)
                gemm(m: mg, n: outPlane, k: kdim, a: wg, lda: kdim, b: scratch!, ldb: outPlane, c: yg, ldc: outPlane)
            }
        }
        let yn = y + n * s.outC * outPlane
        for m in 0..<s.outC {
            let p = yn + m * outPlane
            if let bias { let b = bias[m]; for i in 0..<outPlane { p[i] += b } }
            activation.apply(p, count: outPlane)
        }
    }
}

/// Depthwise convolution (groups == C, one input channel per group, M = C * multiplier), direct.
///
/// - Parameters: as `conv2d`; `weight` is `[M, 1, kh, kw]`.
/// - Complexity: N·M·outH·outW·kh·kw multiply-adds; the inner loop runs over contiguous output columns
///   with the valid range precomputed so it vectorises.
public func depthwiseConv2d(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                            shape s: ConvShape, activation: Activation, y: UnsafeMutablePointer<Float>) {
    let wd = s.window
    let inPlane = s.inH * s.inW, outPlane = s.outH * s.outW
    let mult = s.outC / s.inC
    let kArea = wd.kernelH * wd.kernelW
    // Valid ox range per kx.
    var oxLo = [Int](repeating: 0, count: wd.kernelW), oxHi = [Int](repeating: 0, count: wd.kernelW)
    for kx in 0..<wd.kernelW {
        let off = kx * wd.dilationW - wd.padLeft
        var lo = 0, hi = s.outW
        while lo < s.outW && lo * wd.strideW + off < 0 { lo += 1 }
        while hi > lo && (hi - 1) * wd.strideW + off >= s.inW { hi -= 1 }
        oxLo[kx] = lo; oxHi[kx] = max(lo, hi)
    }
    for n in 0..<s.batch {
        for m in 0..<s.outC {
            let c = m / mult
            let xc = x + (n * s.inC + c) * inPlane
            let yc = y + (n * s.outC + m) * outPlane
            let wk = weight + m * kArea
            let b: Float = bias?[m] ?? 0
            yc.update(repeating: b, count: outPlane)
            for oy in 0..<s.outH {
                let yr = yc + oy * s.outW
                for ky in 0..<wd.kernelH {
                    let iy = oy * wd.strideH + ky * wd.dilationH - wd.padTop
                    if iy < 0 || iy >= s.inH { continue }
                    let xr = xc + iy * s.inW
                    for kx in 0..<wd.kernelW {
                        let wv = wk[ky * wd.kernelW + kx]
                        let off = kx * wd.dilationW - wd.padLeft
                        let lo = oxLo[kx], hi = oxHi[kx]
                        if wd.strideW == 1 {
                            let src = xr + off
                            for ox in lo..<hi { yr[ox] += wv * src[ox] }
                        } else if wd.strideW == 2 {
                            let src = xr + off
                            for ox in lo..<hi { yr[ox] += wv * src[2 * ox] }
                        } else {
                            for ox in lo..<hi { yr[ox] += wv * xr[ox * wd.strideW + off] }
                        }
                    }
                }
            }
            activation.apply(yc, count: outPlane)
        }
    }
}

/// Naive twin of `conv2d`: the definition, one output at a time, accumulating in double.
public func conv2dNaive(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        shape s: ConvShape, activation: Activation, y: UnsafeMutablePointer<Float>) {
    let wd = s.window
    let cg = s.inCPerGroup, mg = s.outCPerGroup
    for n in 0..<s.batch {
        for m in 0..<s.outC {
            let g = m / mg
            for oy in 0..<s.outH {
                for ox in 0..<s.outW {
                    var acc = Double(bias?[m] ?? 0)
                    for ci in 0..<cg {
                        let c = g * cg + ci
                        for ky in 0..<wd.kernelH {
                            let iy = oy * wd.strideH + ky * wd.dilationH - wd.padTop
                            if iy < 0 || iy >= s.inH { continue }
                            for kx in 0..<wd.kernelW {
                                let ix = ox * wd.strideW + kx * wd.dilationW - wd.padLeft
                                if ix < 0 || ix >= s.inW { continue }
                                let xv = x[((n * s.inC + c) * s.inH + iy) * s.inW + ix]
                                let wv = weight[((m * cg + ci) * wd.kernelH + ky) * wd.kernelW + kx]
                                acc += Double(xv) * Double(wv)
                            }
                        }
                    }
                    y[((n * s.outC + m) * s.outH + oy) * s.outW + ox] = activation.apply(Float(acc))
                }
            }
        }
    }
}

/// Gradient of a (pre-activation) convolution with respect to its input: dx = conv_transpose(dy, W).
///
/// - Parameters:
///   - dy: `[N, M, outH, outW]` gradient at the convolution output (activation already back-propagated).
///   - dx: `[N, C, H, W]`, overwritten.
///   - scratch: `shape.colRows * outH * outW` floats.
public func conv2dBackwardInput(_ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>, shape s: ConvShape,
                                dx: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
    let inPlane = s.inH * s.inW, outPlane = s.outH * s.outW
    let mg = s.outCPerGroup, cg = s.inCPerGroup, kdim = s.colRows
    dx.update(repeating: 0, count: s.batch * s.inC * inPlane)
    for n in 0..<s.batch {
        for g in 0..<s.groups {
            let dyg = dy + (n * s.outC + g * mg) * outPlane
            let dxg = dx + (n * s.inC + g * cg) * inPlane
            let wg = weight + g * mg * kdim
            // col[kdim, outPlane] = W_g^T [kdim, mg] * dy_g [mg, outPlane]
            gemm(transA: true, m: kdim, n: outPlane, k: mg, a: wg, lda: kdim, b: dyg, ldb: outPlane,
                 c: scratch, ldc: outPlane)
            col2im(scratch, channels: cg, h: s.inH, w: s.inW, window: s.window, outH: s.outH, outW: s.outW, dx: dxg)
        }
    }
}

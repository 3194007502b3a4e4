/// Kind of spatial pooling.
public enum PoolKind: Sendable, Equatable, Hashable {
    case max
    /// Average; `countIncludePad` divides by the full window (padding counted as zeros).
    case average(countIncludePad: Bool)
}

/// 2-D max or average pooling over NCHW planes, split over `computeThreads` by planes. Each window's taps inside the
/// input are visited row by row in the same order as `pool2dNaive` (the first one starts a max, later ones replace
/// it only when greater; an average sums them in that order), so the results are its results bit for bit; the
/// bounds are worked out once per output row and column range instead of per tap (ResNet-50's max pool took 11 ms
/// a pass tap by tap on one thread).
///
/// - Parameters:
///   - x: `[planes, H, W]` (N*C planes).
///   - y: `[planes, outH, outW]`.
///   - argmax: for `.max`, optional `[planes, outH, outW]` receiving the flat in-plane input index chosen
///     (-1 when the window holds only padding); used by the backward pass (through `pool2dNaive`).
public func pool2d(_ kind: PoolKind, x: UnsafePointer<Float>, planes: Int, h: Int, w: Int, window wd: Window2D,
                   outH: Int, outW: Int, y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>? = nil) {
    if argmax != nil || outH <= 0 || outW <= 0 {
        pool2dNaive(kind, x: x, planes: planes, h: h, w: w, window: wd, outH: outH, outW: outW, y: y, argmax: argmax)
        return
    }
    // Valid taps along one axis for each output index: ky in lo..<hi keeps iy = o·stride - pad + ky·dilation inside.
    func taps(_ n: Int, _ outN: Int, _ k: Int, _ stride: Int, _ pad: Int, _ dil: Int) -> [(lo: Int, hi: Int)] {
        (0..<outN).map { o in
            let start = o * stride - pad
            let lo = start >= 0 ? 0 : (-start + dil - 1) / dil
            let hi = start >= n ? 0 : min(k, (n - start + dil - 1) / dil)
            return (lo, max(lo, hi))
        }
    }
    let rows = taps(h, outH, wd.kernelH, wd.strideH, wd.padTop, wd.dilationH)
    let cols = taps(w, outW, wd.kernelW, wd.strideW, wd.padLeft, wd.dilationW)
    nonisolated(unsafe) let x = x, y = y
    parallelChunks(planes, minItemsPerChunk: max(1, 16_384 / max(1, outH * outW * wd.kernelH * wd.kernelW))) { range in
        for p in range {
            let xp = x + p * h * w, yp = y + p * outH * outW
            for oy in 0..<outH {
                let (ky0, ky1) = rows[oy], y0 = oy * wd.strideH - wd.padTop
                for ox in 0..<outW {
                    let (kx0, kx1) = cols[ox], x0 = ox * wd.strideW - wd.padLeft
                    let out = yp + oy * outW + ox
                    switch kind {
                    case .max:
                        if ky0 == ky1 || kx0 == kx1 { out.pointee = -.infinity; continue }
                        var best = xp[(y0 + ky0 * wd.dilationH) * w + x0 + kx0 * wd.dilationW]
                        for ky in ky0..<ky1 {
                            let row = xp + (y0 + ky * wd.dilationH) * w + x0
                            for kx in (ky == ky0 ? kx0 + 1 : kx0)..<kx1 {
                                let v = row[kx * wd.dilationW]
                                if v > best { best = v }
                            }
                        }
                        out.pointee = best
                    case let .average(includePad):
                        var sum: Float = 0
                        for ky in ky0..<ky1 {
                            let row = xp + (y0 + ky * wd.dilationH) * w + x0
                            for kx in kx0..<kx1 { sum += row[kx * wd.dilationW] }
                        }
                        let n = (ky1 - ky0) * (kx1 - kx0)
                        let div = includePad ? averageDivisor(oy: oy, ox: ox, h: h, w: w, window: wd) : n
                        out.pointee = div > 0 ? sum / Float(div) : 0
                    }
                }
            }
        }
    }
}

/// Naive twin of `pool2d`: every tap of every window checked against the input's bounds, one plane after another.
public func pool2dNaive(_ kind: PoolKind, x: UnsafePointer<Float>, planes: Int, h: Int, w: Int, window wd: Window2D,
                        outH: Int, outW: Int, y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>? = nil) {
    for p in 0..<planes {
        let xp = x + p * h * w, yp = y + p * outH * outW
        for oy in 0..<outH {
            let y0 = oy * wd.strideH - wd.padTop
            for ox in 0..<outW {
                let x0 = ox * wd.strideW - wd.padLeft
                switch kind {
                case .max:
                    var best = -Float.infinity, bi: Int32 = -1
                    for ky in 0..<wd.kernelH {
                        let iy = y0 + ky * wd.dilationH
                        if iy < 0 || iy >= h { continue }
                        for kx in 0..<wd.kernelW {
                            let ix = x0 + kx * wd.dilationW
                            if ix < 0 || ix >= w { continue }
                            let v = xp[iy * w + ix]
                            if v > best || bi < 0 { best = v; bi = Int32(iy * w + ix) }
                        }
                    }
                    yp[oy * outW + ox] = best
                    argmax?[p * outH * outW + oy * outW + ox] = bi
                case let .average(includePad):
                    var sum: Float = 0, n = 0
                    for ky in 0..<wd.kernelH {
                        let iy = y0 + ky * wd.dilationH
                        if iy < 0 || iy >= h { continue }
                        for kx in 0..<wd.kernelW {
                            let ix = x0 + kx * wd.dilationW
                            if ix < 0 || ix >= w { continue }
                            sum += xp[iy * w + ix]; n += 1
                        }
                    }
                    let div = includePad ? averageDivisor(oy: oy, ox: ox, h: h, w: w, window: wd) : n
                    yp[oy * outW + ox] = div > 0 ? sum / Float(div) : 0
                }
            }
        }
    }
}

/// Window size counted with padding but clipped to the padded extent (ONNX/PyTorch count_include_pad with ceil_mode).
@inlinable func averageDivisor(oy: Int, ox: Int, h: Int, w: Int, window wd: Window2D) -> Int {
    let y0 = oy * wd.strideH - wd.padTop, x0 = ox * wd.strideW - wd.padLeft
    let y1 = min(y0 + (wd.kernelH - 1) * wd.dilationH + 1, h + wd.padBottom)
    let x1 = min(x0 + (wd.kernelW - 1) * wd.dilationW + 1, w + wd.padRight)
    let ny = (y1 - y0 + wd.dilationH - 1) / wd.dilationH, nx = (x1 - x0 + wd.dilationW - 1) / wd.dilationW
    return ny * nx
}

/// Adjoint of `pool2d`: accumulates dy into dx (dx is overwritten).
public func pool2dBackward(_ kind: PoolKind, dy: UnsafePointer<Float>, planes: Int, h: Int, w: Int, window wd: Window2D,
                           outH: Int, outW: Int, argmax: UnsafePointer<Int32>?, dx: UnsafeMutablePointer<Float>) {
    dx.update(repeating: 0, count: planes * h * w)
    for p in 0..<planes {
        let dxp = dx + p * h * w, dyp = dy + p * outH * outW
        for oy in 0..<outH {
            let y0 = oy * wd.strideH - wd.padTop
            for ox in 0..<outW {
                let g = dyp[oy * outW + ox]
                switch kind {
                case .max:
                    let i = Int(argmax![p * outH * outW + oy * outW + ox])
                    if i >= 0 { dxp[i] += g }
                case let .average(includePad):
                    let x0 = ox * wd.strideW - wd.padLeft
                    var n = 0
                    for ky in 0..<wd.kernelH { let iy = y0 + ky * wd.dilationH; if iy < 0 || iy >= h { continue }
                        for kx in 0..<wd.kernelW { let ix = x0 + kx * wd.dilationW; if ix >= 0 && ix < w { n += 1 } } }
                    let div = includePad ? averageDivisor(oy: oy, ox: ox, h: h, w: w, window: wd) : n
                    if div == 0 { continue }
                    let share = g / Float(div)
                    for ky in 0..<wd.kernelH { let iy = y0 + ky * wd.dilationH; if iy < 0 || iy >= h { continue }
                        for kx in 0..<wd.kernelW { let ix = x0 + kx * wd.dilationW; if ix >= 0 && ix < w { dxp[iy * w + ix] += share } } }
                }
            }
        }
    }
}

/// Global average (or max) over each plane: y[p] = mean(x[p, :, :]).
/// - Parameters: `x` is `[planes, area]`, `y` is `[planes]`.
public func globalPool(max useMax: Bool, x: UnsafePointer<Float>, planes: Int, area: Int, y: UnsafeMutablePointer<Float>) {
    for p in 0..<planes {
        let xp = x + p * area
        if useMax {
            var m = -Float.infinity
            for i in 0..<area { m = Swift.max(m, xp[i]) }
            y[p] = m
        } else {
            var s: Float = 0
            for i in 0..<area { s += xp[i] }
            y[p] = s / Float(area)
        }
    }
}

import TensorKernelsAVX512

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
public struct ConvShape: Sendable, Equatable, Hashable {
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
///   - y: `[N, M, outH, outW]`; every element is written (it may start uninitialised).
///   - scratch: at least `shape.scratchCount` floats (im2col columns).
/// - Complexity: `shape.macs` multiply-adds; 1x1 unit-stride runs as one GEMM per image and group with no
///   im2col, depthwise and few-channel convs (`prefersDirectConv`) run `directConv2d`, everything else im2col and a GEMM with its epilogue (`gemmBiasActivation`: AVX-512 or OpenBLAS) per image and group.
///   Work is split over `computeThreads`: whole (image, group) GEMMs per thread when there are enough of
///   them, else each GEMM is cut into row or column panels. Bias and activation run on each panel right
///   after its GEMM, while it is still in cache.
public func conv2d(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                   shape s: ConvShape, activation: Activation, y: UnsafeMutablePointer<Float>,
                   scratch: UnsafeMutablePointer<Float>?) {
    if prefersDirectConv(s) {
        directConv2d(x, weight: weight, bias: bias, shape: s, activation: activation, y: y)
        return
    }
    let inPlane = s.inH * s.inW, outPlane = s.outH * s.outW
    let mg = s.outCPerGroup, cg = s.inCPerGroup, kdim = s.colRows
    let pointwise = s.window.isPointwise
    let tasks = s.batch * s.groups
    let threads = computeThreads
    if pointwise && s.groups == 1 && kernels.isa == .avx512 && (s.batch >= threads || 2 * s.macs < 400_000) {
        // Whole images per thread, each thread's images in one call: their remainder columns share panels.
        parallelChunks(s.batch) { r in
            gemmBiasActivation(items: r.count, m: s.outC, n: outPlane, k: s.inC, a: weight, lda: s.inC,
                               b: x + r.lowerBound * s.inC * inPlane, bItemStride: s.inC * inPlane, ldb: inPlane,
                               c: y + r.lowerBound * s.outC * outPlane, cItemStride: s.outC * outPlane, ldc: outPlane,
                               bias: bias, activation: activation)
        }
        return
    }
    if tasks >= threads || 2 * s.macs < 400_000 {
        // Whole (image, group) GEMMs per thread; each thread unfolds into its own columns.
        parallelChunks(tasks) { r in
            var own: UnsafeMutablePointer<Float>? = nil
            if !pointwise { own = r.lowerBound == 0 ? scratch! : .allocate(capacity: s.scratchCount) }
            defer { if let own, own != scratch { own.deallocate() } }
            for t in r {
                let n = t / s.groups, g = t % s.groups
                let xg = x + (n * s.inC + g * cg) * inPlane
                let yg = y + (n * s.outC + g * mg) * outPlane
                let wg = weight + g * mg * kdim
                let gb = bias.map { $0 + g * mg }
                if pointwise {
                    gemmBiasActivation(m: mg, n: outPlane, k: cg, a: wg, lda: cg, b: xg, ldb: inPlane, c: yg, ldc: outPlane,
                                       bias: gb, activation: activation)
                } else {
                    im2col(xg, channels: cg, h: s.inH, w: s.inW, window: s.window, outH: s.outH, outW: s.outW, col: own!)
                    gemmBiasActivation(m: mg, n: outPlane, k: kdim, a: wg, lda: kdim, b: own!, ldb: outPlane, c: yg, ldc: outPlane,
                                       bias: gb, activation: activation)
                }
            }
        }
        return
    }
    // Few GEMMs: cut each into panels along its longer side, except that 1x1 convolutions with 64 or more
    // output channels always split by channels (rows), so each thread writes whole planes, as the
    // depthwise convolution that usually follows reads them.
    for t in 0..<tasks {
        let n = t / s.groups, g = t % s.groups
        let xg = x + (n * s.inC + g * cg) * inPlane
        let yg = y + (n * s.outC + g * mg) * outPlane
        let wg = weight + g * mg * kdim
        let b: UnsafePointer<Float>, ldb: Int, kk: Int
        if pointwise {
            b = xg; ldb = inPlane; kk = cg
        } else {
            im2col(xg, channels: cg, h: s.inH, w: s.inW, window: s.window, outH: s.outH, outW: s.outW, col: scratch!)
            b = UnsafePointer(scratch!); ldb = outPlane; kk = kdim
        }
        gemmBiasActivationParallel(m: mg, n: outPlane, k: kk, a: wg, lda: kk, b: b, ldb: ldb, c: yg, ldc: outPlane,
                                   bias: bias.map { $0 + g * mg }, activation: activation,
                                   splitRows: mg >= outPlane || (pointwise && mg >= 64))
    }
}

/// Writes bias[r] into every y[r, c] and returns the GEMM beta that accumulates onto it (1), or 0 with
/// nothing written when there is no bias: OpenBLAS then clears C itself, so either way C costs one pass
/// before the GEMM and the bias needs no pass after it.
///
/// - Parameters:
///   - y: `[rows, cols]` with leading dimension `ld`.
///   - bias: `[rows]` or nil.
@inlinable
public func prefillBias(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, bias: UnsafePointer<Float>?) -> Float {
    guard let bias else { return 0 }
    for r in 0..<rows { (y + r * ld).update(repeating: bias[r], count: cols) }
    return 1
}

/// Conv epilogue in place: y[r, c] = act(y[r, c] + bias[r]).
///
/// - Parameters:
///   - y: `[rows, cols]` with leading dimension `ld`.
///   - bias: `[rows]` or nil.
@inlinable
public func biasActivation(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int,
                           bias: UnsafePointer<Float>?, activation: Activation) {
    for r in 0..<rows {
        let p = y + r * ld
        let b: Float = bias?[r] ?? 0
        switch activation {
        case .identity:
            if b != 0 { for i in 0..<cols { p[i] += b } }
        case .relu:
            for i in 0..<cols { p[i] = max(p[i] + b, 0) }
        case let .clip(lo, hi):
            for i in 0..<cols { p[i] = min(max(p[i] + b, lo), hi) }
        default:
            if b != 0 { for i in 0..<cols { p[i] += b } }
            activation.apply(p, count: cols)
        }
    }
}

/// Depthwise convolution (groups == C, one input channel per group, M = C * multiplier), direct and
/// vectorised over output columns: `directConv2d` with one input channel per group.
///
/// - Parameters: as `conv2d`; `weight` is `[M, 1, kh, kw]`; `y` may start uninitialised.
/// - Complexity: N·M·outH·outW·kh·kw multiply-adds, planes split over `computeThreads`.
public func depthwiseConv2d(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                            shape s: ConvShape, activation: Activation, y: UnsafeMutablePointer<Float>) {
    directConv2d(x, weight: weight, bias: bias, shape: s, activation: activation, y: y)
}

/// True when `conv2d` runs `shape` as a direct convolution: depthwise, or few input channels per group
/// with a spatial kernel (e.g. the 3-channel stem), where im2col + a GEMM with K <= 36 wastes most of
/// the GEMM's packing and the im2col pass costs as much as the multiply.
@inlinable
public func prefersDirectConv(_ s: ConvShape) -> Bool {
    s.isDepthwise || (!s.window.isPointwise && s.colRows <= 36 && s.inCPerGroup <= 4)
}

/// Direct grouped convolution for few input channels per group (depthwise, the RGB stem), vectorised
/// over output columns.
///
/// A group's input channels are copied into zero-padded buffers whose rows are split into `strideW`
/// phases (phase p holds padded columns p, p+strideW, ...), so every tap of every stride reads a
/// contiguous run. Eight output rows are computed per step (each weight broadcast feeds eight vectors, and
/// eight independent accumulators cover the FMA latency); bias is the initial value and ReLU/clip are applied
/// in registers before the store. Work is split over `computeThreads` in one of two ways:
/// - one output channel (plane) per task when each group has one output channel (depthwise): the task
///   fills its channel's buffer and computes the plane;
/// - bands of output rows when a group has several output channels (the stem): the task fills only the
///   input rows of its band and computes every channel of the group one 8-row step at a time, so all of
///   them read the step's input rows from L1.
///
/// - Parameters: as `conv2d`; `weight` is `[M, C/groups, kh, kw]`; `y` may start uninitialised.
/// - Complexity: N·M·outH·outW·(C/groups)·kh·kw multiply-adds; scratch of one task's padded rows per thread.
public func directConv2d(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                         shape s: ConvShape, activation: Activation, y: UnsafeMutablePointer<Float>) {
    let wd = s.window
    let inPlane = s.inH * s.inW, outPlane = s.outH * s.outW
    if outPlane == 0 || s.batch == 0 { return }
    // Outputs per vector: 16 through the AVX-512 step kernel when rows are wide enough to fill it (a 7-wide
    // plane would leave most of 16 lanes idle), else 8.
    let table = kernels
    let wideRows = s.outW >= 12 ? table.directRowsWide : nil
    let wide = wideRows != nil
    let vw = wide ? 16 : 8
    let cg = s.inCPerGroup, mg = s.outCPerGroup
    let nTaps = cg * wd.kernelH * wd.kernelW
    let sW = wd.strideW, sH = wd.strideH
    let maxShift = ((wd.kernelW - 1) * wd.dilationW) / sW
    let rowLen = (s.outW + vw - 1) / vw * vw + maxShift            // L: floats per phase row
    let rowStep = sH * sW * rowLen                                 // floats between consecutive output rows
    // Tap (c, ky, kx) reads buf[c*chanLen + (oy*sH + ky*dH) * sW*L + phase*L + shift + ox].
    func tapOffsets(chanLen: Int) -> [Int] {
        var t = [Int](repeating: 0, count: nTaps)
        for c in 0..<cg {
            for ky in 0..<wd.kernelH {
                for kx in 0..<wd.kernelW {
                    let d = kx * wd.dilationW
                    t[(c * wd.kernelH + ky) * wd.kernelW + kx] = c * chanLen + (ky * wd.dilationH * sW + d % sW) * rowLen + d / sW
                }
            }
        }
        return t
    }
    // Buffer rows (padded input rows) a band of output rows reads, with the phantom rows of a partial last step.
    func bufferRows(outRows: Int) -> Int { (outRows - 1) * sH + (wd.kernelH - 1) * wd.dilationH + 1 + 7 * sH }
    // Input columns that land inside a phase row: padded column pc = ix + padLeft, kept while pc / sW < L.
    let ixLo = max(0, -wd.padLeft), ixHi = min(s.inW, rowLen * sW - wd.padLeft)
    // ReLU/clip in the kernels' registers; any other activation in a pass after.
    let bounds = activation.clampBounds
    let lo = bounds?.lo ?? -.infinity, hi = bounds?.hi ?? .infinity, after = bounds == nil
    // Fills buffer rows [0, rows) of channel `c` of image n / group g with padded input rows from
    // pr0 = band's first output row * sH on (rows that are padding are zeroed; pad columns stay zero).
    @inline(__always) func fill(_ bc: UnsafeMutablePointer<Float>, _ xc: UnsafePointer<Float>, pr0: Int, rows: Int) {
        for b in 0..<rows {
            let iy = pr0 + b - wd.padTop
            let dst = bc + b * sW * rowLen
            if iy >= 0 && iy < s.inH {
                fillPhaseRow(xc + iy * s.inW, ixLo: ixLo, ixHi: ixHi, padLeft: wd.padLeft, strideW: sW, rowLen: rowLen, dst: dst)
            } else {
                dst.update(repeating: 0, count: sW * rowLen)
            }
        }
    }
    // One input channel, 3x3, stride 1, no dilation: the row-blocked kernel applies.
    let plain3x3 = cg == 1 && wd.kernelH == 3 && wd.kernelW == 3 && sH == 1 && sW == 1 && wd.dilationH == 1 && wd.dilationW == 1
    // Output rows [oy, oy + rows) (rows <= 8) of one output channel from a filled buffer.
    @inline(__always) func step(_ in0: UnsafePointer<Float>, _ taps: UnsafePointer<Int>, _ m: Int, rows: Int,
                                _ y0: UnsafeMutablePointer<Float>) {
        let wk = weight + m * nTaps, b = bias?[m] ?? 0
        if let wideRows {
            wideRows(in0, taps, wk, nTaps, rowStep, rows, s.outW, b, lo, hi, y0, plain3x3)
        } else {
            directConvRowsAVX2(buf: in0, tapOffsets: taps, weights: wk, taps: nTaps, rowStep: rowStep, rows: rows,
                               outW: s.outW, bias: b, lo: lo, hi: hi, y: y0)
        }
        if after { activation.apply(y0, count: rows * s.outW) }
    }
    if cg == 1 && mg == 1, let depthwiseChannels = table.depthwiseChannels, prefersChannelVectorised(outW: s.outW, taps: nTaps, strideW: sW) {
        // Narrow planes, or large filters on mid-sized ones: 16 channels per task, vectorised across channels.
        let blocks = (s.outC + 15) / 16
        parallelChunks(s.batch * blocks) { r in
            for task in r {
                let n = task / blocks, c0 = (task % blocks) * 16
                let count = min(16, s.outC - c0)
                let yc = y + (n * s.outC + c0) * outPlane
                depthwiseChannels(count, x + (n * s.inC + c0) * inPlane, inPlane, s, weight + c0 * nTaps, bias.map { $0 + c0 }, lo, hi,
                                  yc, outPlane)
                if after { activation.apply(yc, count: count * outPlane) }
            }
        }
        return
    }
    if mg == 1 {
        // One task per output plane; the plane's whole input channel is in the buffer.
        let rows = bufferRows(outRows: s.outH)
        let chanLen = rows * sW * rowLen
        let taps = tapOffsets(chanLen: chanLen)
        let planes = s.batch * s.outC
        let minPlanes = max(1, 16_384 / max(1, outPlane * nTaps))
        taps.withUnsafeBufferPointer { tp in
            parallelChunks(planes, minItemsPerChunk: minPlanes) { r in
                let buf = UnsafeMutablePointer<Float>.allocate(capacity: cg * chanLen)
                defer { buf.deallocate() }
                buf.initialize(repeating: 0, count: cg * chanLen)
                for plane in r {
                    let n = plane / s.outC, m = plane % s.outC
                    let g = m / mg
                    for c in 0..<cg { fill(buf + c * chanLen, x + (n * s.inC + g * cg + c) * inPlane, pr0: 0, rows: rows) }
                    let yc = y + plane * outPlane
                    var oy = 0
                    while oy < s.outH {
                        step(buf + oy * rowStep, tp.baseAddress!, m, rows: min(8, s.outH - oy), yc + oy * s.outW)
                        oy += 8
                    }
                }
            }
        }
        return
    }
    // Bands of eight output rows (one step), every channel of the group per band (many small tasks balance
    // two threads; the rows shared by neighbouring bands are filled twice).
    let bands = (s.outH + 7) / 8
    let rows = bufferRows(outRows: 8)
    let chanLen = rows * sW * rowLen
    let taps = tapOffsets(chanLen: chanLen)
    taps.withUnsafeBufferPointer { tp in
        parallelChunks(s.batch * s.groups * bands) { r in
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: cg * chanLen)
            defer { buf.deallocate() }
            buf.initialize(repeating: 0, count: cg * chanLen)
            for task in r {
                let band = task % bands, ng = task / bands
                let n = ng / s.groups, g = ng % s.groups
                let oy0 = band * 8, oy1 = min(s.outH, oy0 + 8)
                let need = min(rows, bufferRows(outRows: oy1 - oy0))
                for c in 0..<cg { fill(buf + c * chanLen, x + (n * s.inC + g * cg + c) * inPlane, pr0: oy0 * sH, rows: need) }
                var oy = oy0
                while oy < oy1 {
                    let in0 = buf + (oy - oy0) * rowStep
                    var m = g * mg
                    if wide, let rows4x4 = table.directRows4x4 {
                        // Four channels at a time, four rows per call.
                        while m + 4 <= (g + 1) * mg {
                            var r = 0
                            while r < min(8, oy1 - oy) {
                                let yr = y + (n * s.outC + m) * outPlane + (oy + r) * s.outW
                                rows4x4(in0 + r * rowStep, tp.baseAddress!, weight + m * nTaps, nTaps, rowStep, min(4, oy1 - oy - r), s.outW,
                                        bias.map { $0 + m }, lo, hi, yr, outPlane)
                                r += 4
                            }
                            if after { for c in m..<(m + 4) { activation.apply(y + (n * s.outC + c) * outPlane + oy * s.outW, count: min(8, oy1 - oy) * s.outW) } }
                            m += 4
                        }
                    }
                    while m < (g + 1) * mg {
                        step(in0, tp.baseAddress!, m, rows: min(8, oy1 - oy), y + (n * s.outC + m) * outPlane + oy * s.outW)
                        m += 1
                    }
                    oy += 8
                }
            }
        }
    }
}

/// `directConv2d`'s rows on AVX-512 (`KernelTable.avx512`): the row-blocked kernel for one channel's plain 3x3,
/// else the general one.
func directConvRowsWideAVX512(buf: UnsafePointer<Float>, tapOffsets: UnsafePointer<Int>, weights: UnsafePointer<Float>, taps: Int,
                              rowStep: Int, rows: Int, outW: Int, bias: Float, lo: Float, hi: Float, y: UnsafeMutablePointer<Float>,
                              plain3x3: Bool) {
    if plain3x3 {
        directConv3x3RowsAVX512(buf: buf, weights: weights, rowStep: rowStep, rows: rows, outW: outW, bias: bias, lo: lo, hi: hi, y: y)
    } else {
        directConvRowsAVX512(buf: buf, tapOffsets: tapOffsets, weights: weights, taps: taps, rowStep: rowStep, rows: rows,
                             outW: outW, bias: bias, lo: lo, hi: hi, y: y)
    }
}

/// `directConv2d`'s depthwise convolution of `count` (up to 16) channels vectorised across them, on AVX-512.
func depthwiseChannelsNCHWAVX512(count: Int, x: UnsafePointer<Float>, xChannelStride: Int, shape s: ConvShape,
                                 weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, lo: Float, hi: Float,
                                 y: UnsafeMutablePointer<Float>, yChannelStride: Int) {
    let wd = s.window
    depthwiseChannelsAVX512(count: count, x: x, xChannelStride: xChannelStride, inH: s.inH, inW: s.inW,
                            kernelH: wd.kernelH, kernelW: wd.kernelW, strideH: wd.strideH, strideW: wd.strideW,
                            dilationH: wd.dilationH, dilationW: wd.dilationW, padTop: wd.padTop, padLeft: wd.padLeft,
                            weights: weights, bias: bias, lo: lo, hi: hi, y: y, yChannelStride: yChannelStride, outH: s.outH, outW: s.outW)
}

/// Output rows [0, rows) (rows <= 8) of one channel of `directConv2d`, eight SIMD8 accumulators per
/// 8-column step; the portable twin of `directConvRowsAVX512` (same buffer layout and arguments).
///
/// - Parameters:
///   - buf: padded, phase-split input at the first output row's origin.
///   - tapOffsets: `[taps]` float offsets of each tap; weights: `[taps]`.
///   - rowStep: floats between consecutive output rows' origins; the buffer holds 8 rows' worth.
///   - y: `[rows, outW]` output rows, clamped to lo...hi.
@inline(__always)
func directConvRowsAVX2(buf: UnsafePointer<Float>, tapOffsets: UnsafePointer<Int>, weights: UnsafePointer<Float>,
                        taps: Int, rowStep rs: Int, rows: Int, outW: Int, bias: Float, lo: Float, hi: Float,
                        y: UnsafeMutablePointer<Float>) {
    typealias V = SIMD8<Float>
    let bq = V(repeating: bias), lq = V(repeating: lo), hq = V(repeating: hi)
    let clamps = lo > -.infinity || hi < .infinity
    var ox = 0
    while ox < outW {
        var a0 = bq, a1 = bq, a2 = bq, a3 = bq, a4 = bq, a5 = bq, a6 = bq, a7 = bq
        let p = UnsafeRawPointer(buf + ox)
        for t in 0..<taps {
            let w = V(repeating: weights[t]), o = tapOffsets[t] * 4, r4 = rs * 4
            a0 = a0.addingProduct(w, p.loadUnaligned(fromByteOffset: o, as: V.self))
            a1 = a1.addingProduct(w, p.loadUnaligned(fromByteOffset: o + r4, as: V.self))
            a2 = a2.addingProduct(w, p.loadUnaligned(fromByteOffset: o + 2 * r4, as: V.self))
            a3 = a3.addingProduct(w, p.loadUnaligned(fromByteOffset: o + 3 * r4, as: V.self))
            a4 = a4.addingProduct(w, p.loadUnaligned(fromByteOffset: o + 4 * r4, as: V.self))
            a5 = a5.addingProduct(w, p.loadUnaligned(fromByteOffset: o + 5 * r4, as: V.self))
            a6 = a6.addingProduct(w, p.loadUnaligned(fromByteOffset: o + 6 * r4, as: V.self))
            a7 = a7.addingProduct(w, p.loadUnaligned(fromByteOffset: o + 7 * r4, as: V.self))
        }
        let cols = min(8, outW - ox)
        withUnsafeTemporaryAllocation(of: V.self, capacity: 8) { t in
            t[0] = a0; t[1] = a1; t[2] = a2; t[3] = a3; t[4] = a4; t[5] = a5; t[6] = a6; t[7] = a7
            for r in 0..<rows {
                var v = t[r]
                if clamps { v.replace(with: lq, where: v .< lq); v.replace(with: hq, where: v .> hq) }
                let yr = y + r * outW + ox
                if cols == 8 {
                    UnsafeMutableRawPointer(yr).storeBytes(of: v, as: V.self)
                } else {
                    for q in 0..<cols { yr[q] = v[q] }
                }
            }
        }
        ox += 8
    }
}

/// True when a depthwise convolution runs vectorised across channels on AVX-512 CPUs (`depthwiseChannelsAVX512`)
/// rather than along rows: planes up to 14 wide, and 5x5 or larger filters at stride 1 on planes up to 28 wide,
/// where the two transposes cost less than the lanes a row kernel leaves idle or its split loads (measured
/// with `vigil-bench kernels`: 5x5 on 7x7 1.6x, 5x5 on 14x14 1.3x, 3x3 on 14x14 1.1x faster; 3x3 on 56x56 and
/// 5x5 at stride 2 onto 28x28 slower).
func prefersChannelVectorised(outW: Int, taps: Int, strideW: Int) -> Bool {
    outW <= 14 || (taps >= 25 && outW <= 28 && strideW == 1)
}

/// Scatters one input row into its `strideW` phase rows: padded column pc = ix + padLeft goes to
/// dst[(pc % strideW) * rowLen + pc / strideW].
///
/// - Parameters:
///   - src: `[W]`, read over `ixLo..<ixHi`.
///   - dst: `[strideW, rowLen]`.
@inline(__always)
func fillPhaseRow(_ src: UnsafePointer<Float>, ixLo: Int, ixHi: Int, padLeft: Int, strideW sW: Int, rowLen: Int,
                  dst: UnsafeMutablePointer<Float>) {
    if ixHi <= ixLo { return }
    if sW == 1 {
        (dst + ixLo + padLeft).update(from: src + ixLo, count: ixHi - ixLo)
    } else if sW == 2 {
        var ix = ixLo
        if (ix + padLeft) & 1 == 1 {                               // odd padded column: phase 1
            dst[rowLen + ((ix + padLeft) >> 1)] = src[ix]; ix += 1
        }
        // Now ix + padLeft is even: pairs (even, odd) go to phase 0 and phase 1 at the same index.
        let d0 = dst + ((ix + padLeft) >> 1), d1 = dst + rowLen + ((ix + padLeft) >> 1)
        var j = 0
        while ix + 16 <= ixHi {
            let v = load16(src + ix)
            store8(v.evenHalf, d0 + j)
            store8(v.oddHalf, d1 + j)
            ix += 16; j += 8
        }
        while ix + 2 <= ixHi { d0[j] = src[ix]; d1[j] = src[ix + 1]; ix += 2; j += 1 }
        if ix < ixHi { d0[j] = src[ix] }
    } else {
        for ix in ixLo..<ixHi {
            let pc = ix + padLeft
            dst[(pc % sW) * rowLen + pc / sW] = src[ix]
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

import TensorKernelsAVX512

/// The channel-blocked layout ("NCHW16c"): a `[N, C, H, W]` tensor stored as `[N, ceil(C/16), H, W, 16]`, the
/// sixteen channels of a block at one pixel side by side, channels past C zero.
///
/// Why: a depthwise convolution in NCHW works on one plane at a time and, on small maps, has to transpose
/// channels into vectors and back; in this layout every pixel of a block is one vector, so depthwise filters
/// need no transposes and pointwise ones broadcast one input value against sixteen output channels.
/// The graph runs plain forward passes in it on AVX-512 (see `Graph.channelBlocked`).
public enum ChannelBlocks {
    /// Channels per block.
    public static let width = 16
    /// Blocks holding `channels` channels.
    @inlinable public static func count(_ channels: Int) -> Int { (channels + 15) / 16 }
}

/// Runs `body(image, block)` for every block of every image, split over `computeThreads` (small maps in chunks
/// of about 4096 pixels' worth).
func forEachBlock(batch: Int, blocks: Int, pixels: Int, _ body: (Int, Int) -> Void) {
    parallelChunks(batch * blocks, minItemsPerChunk: max(1, 4096 / max(1, pixels))) { r in
        for u in r { body(u / blocks, u % blocks) }
    }
}

/// NCHW `[batch, channels, pixels]` into the channel-blocked `[batch, blocks, pixels, 16]` (padding channels zero).
public func toChannelBlocked(_ x: UnsafePointer<Float>, batch: Int, channels: Int, pixels: Int, y: UnsafeMutablePointer<Float>) {
    kernels.toBlocked(x, batch, channels, pixels, y)
}

/// `toChannelBlocked` on AVX-512, blocks split over the threads (`KernelTable.avx512`).
func toChannelBlockedParallel(_ x: UnsafePointer<Float>, batch: Int, channels: Int, pixels: Int, y: UnsafeMutablePointer<Float>) {
    let blocks = ChannelBlocks.count(channels)
    forEachBlock(batch: batch, blocks: blocks, pixels: pixels) { n, b in
        toChannelBlockedAVX512(x + n * channels * pixels, channels: channels, pixels: pixels, y: y + n * blocks * pixels * 16,
                               blocks: b..<(b + 1))
    }
}

/// `toChannelBlocked` on the portable table.
func toChannelBlockedPortable(_ x: UnsafePointer<Float>, batch: Int, channels: Int, pixels: Int, y: UnsafeMutablePointer<Float>) {
    let blocks = ChannelBlocks.count(channels)
    for n in 0..<batch {
        let xn = x + n * channels * pixels, yn = y + n * blocks * pixels * 16
        for b in 0..<blocks {
            let yb = yn + b * pixels * 16
            let live = min(16, channels - b * 16)
            if live < 16 { yb.update(repeating: 0, count: pixels * 16) }
            for j in 0..<live {
                let src = xn + (b * 16 + j) * pixels
                for p in 0..<pixels { yb[p * 16 + j] = src[p] }
            }
        }
    }
}

/// The channel-blocked `[batch, blocks, pixels, 16]` back into NCHW `[batch, channels, pixels]`.
public func fromChannelBlocked(_ x: UnsafePointer<Float>, batch: Int, channels: Int, pixels: Int, y: UnsafeMutablePointer<Float>) {
    kernels.fromBlocked(x, batch, channels, pixels, y)
}

/// `fromChannelBlocked` on AVX-512, blocks split over the threads (`KernelTable.avx512`).
func fromChannelBlockedParallel(_ x: UnsafePointer<Float>, batch: Int, channels: Int, pixels: Int, y: UnsafeMutablePointer<Float>) {
    let blocks = ChannelBlocks.count(channels)
    forEachBlock(batch: batch, blocks: blocks, pixels: pixels) { n, b in
        fromChannelBlockedAVX512(x + n * blocks * pixels * 16, channels: channels, pixels: pixels, y: y + n * channels * pixels,
                                 blocks: b..<(b + 1))
    }
}

/// `fromChannelBlocked` on the portable table.
func fromChannelBlockedPortable(_ x: UnsafePointer<Float>, batch: Int, channels: Int, pixels: Int, y: UnsafeMutablePointer<Float>) {
    let blocks = ChannelBlocks.count(channels)
    for n in 0..<batch {
        let xn = x + n * blocks * pixels * 16, yn = y + n * channels * pixels
        for c in 0..<channels {
            let src = xn + (c / 16) * pixels * 16 + c % 16, dst = yn + c * pixels
            for p in 0..<pixels { dst[p] = src[p * 16] }
        }
    }
}

/// Channels-last `[batch, pixels, channels]` (NHWC) into the channel-blocked `[batch, blocks, pixels, 16]` (padding
/// channels zero): a ConvNeXt block's way back from its channels-last layers, one copy of sixteen channels at a time
/// where a transpose to NCHW and a reorder were two passes over the map. Blocks split over `computeThreads`.
public func channelsLastToBlocked(_ x: UnsafePointer<Float>, batch: Int, channels: Int, pixels: Int, y: UnsafeMutablePointer<Float>) {
    let blocks = ChannelBlocks.count(channels)
    forEachBlock(batch: batch, blocks: blocks, pixels: pixels) { n, b in
        let live = min(16, channels - b * 16)
        let src = x + n * pixels * channels + b * 16, dst = y + (n * blocks + b) * pixels * 16
        if live == 16 {
            for p in 0..<pixels { copy16(src + p * channels, dst + p * 16) }
            return
        }
        for p in 0..<pixels {
            let d = dst + p * 16
            d.update(from: src + p * channels, count: live)
            (d + live).update(repeating: 0, count: 16 - live)
        }
    }
}

/// Sixteen floats from `src` to `dst`, one vector (a copy call per sixteen floats took 1.6 times as long).
@inline(__always) private func copy16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
    store16(load16(src), dst)
}

/// The channel-blocked `[batch, blocks, pixels, 16]` into channels-last `[batch, pixels, channels]` (NHWC): a ConvNeXt
/// block's way into its channels-last layers (the inverse of `channelsLastToBlocked`).
public func blockedToChannelsLast(_ x: UnsafePointer<Float>, batch: Int, channels: Int, pixels: Int, y: UnsafeMutablePointer<Float>) {
    let blocks = ChannelBlocks.count(channels)
    forEachBlock(batch: batch, blocks: blocks, pixels: pixels) { n, b in
        let live = min(16, channels - b * 16)
        let src = x + (n * blocks + b) * pixels * 16, dst = y + n * pixels * channels + b * 16
        if live == 16 {
            for p in 0..<pixels { copy16(src + p * 16, dst + p * channels) }
        } else {
            for p in 0..<pixels { (dst + p * channels).update(from: src + p * 16, count: live) }
        }
    }
}

/// Global average pooling of a channel-blocked `[batch, blocks, pixels, 16]` into NCHW `[batch, channels]`.
public func blockedGlobalAveragePool(_ x: UnsafePointer<Float>, batch: Int, channels: Int, pixels: Int, y: UnsafeMutablePointer<Float>) {
    let blocks = ChannelBlocks.count(channels)
    let scale = 1 / Float(pixels)
    forEachBlock(batch: batch, blocks: blocks, pixels: pixels) { n, b in
        let xb = x + (n * blocks + b) * pixels * 16
        var acc = SIMD16<Float>()
        for p in 0..<pixels { acc += load16(xb + p * 16) }
        for j in 0..<min(16, channels - b * 16) { y[n * channels + b * 16 + j] = acc[j] * scale }
    }
}

/// Which channel-blocked convolution a node runs, fixed when its weights are packed.
public enum BlockedConvKind: String, Sendable, Equatable {
    /// 1x1, stride 1, no padding, groups 1; blocked input and output.
    case pointwise
    /// One input channel per output channel; blocked input and output.
    case depthwise
    /// Groups 1 from a planar NCHW input (few channels, the RGB stem) to a blocked output.
    case planarInput
    /// Any other window (3x3, strided 1x1, 7x7), groups 1 or groups of whole blocks (RegNets' and ResNeXts' 16
    /// and 32 channels per group); blocked input and output.
    case direct
    /// 3x3, stride 1, dilation 1, groups 1, at least `winogradMinInputChannels` channels in,
    /// `winogradMinOutputChannels` out and `winogradMinTiles` 2x2 tiles per map: Winograd F(2x2, 3x3) (sixteen
    /// GEMMs over 2x2 output tiles, 16 products per input channel where a direct convolution takes 36); blocked input
    /// and output.
    case winograd
    /// Groups of 4 channels in and out (ResNeXt-50 32x4d's first stage), any window: each block holds four groups,
    /// and an output lane sums its group's four input lanes, broadcast within the vector's 128-bit lanes; blocked
    /// input and output.
    case quadGroups
}

/// Input channels from which a 3x3 stride-1 convolution runs as `.winograd`: below, its GEMMs are too short
/// (K = input channels) to beat the direct kernel.
public let winogradMinInputChannels = 64
/// Output channels from which a 3x3 stride-1 convolution runs as `.winograd` (its GEMMs' width): DenseNet-121's
/// 128 -> 32 layers gain (the model went from 30.1 to 26.6 ms at batch 1).
public let winogradMinOutputChannels = 32
/// 2x2 tiles per map from which a convolution runs as `.winograd`. Its transformed weights are 16/9 the size of the
/// weights and every unit of tiles reads them all, so a small map does not pay for them: ResNet-50's 7x7 maps
/// (16 tiles, 512 channels) took 1.74 ms as Winograd against 1.12 ms direct, its 14x14 ones (49 tiles) 0.69 against 1.05.
public let winogradMinTiles = 25

extension BlockedConvKind {
    /// The kind that runs a convolution of this shape, or nil when none does.
    ///
    /// - Parameter blockedInput: whether the input is already channel-blocked (planar inputs only suit `planarInput`).
    public static func choose(_ s: ConvShape, blockedInput: Bool) -> BlockedConvKind? {
        let wd = s.window
        if blockedInput {
            if s.groups == 1 && wd.isPointwise { return .pointwise }
            if s.groups == 1 && wd.kernelH == 3 && wd.kernelW == 3 && wd.strideH == 1 && wd.strideW == 1 && wd.dilationH == 1 && wd.dilationW == 1
                && s.inC >= winogradMinInputChannels && s.outC >= winogradMinOutputChannels
                && ((s.outH + 1) / 2) * ((s.outW + 1) / 2) >= winogradMinTiles { return .winograd }
            if s.isDepthwise && s.outC == s.inC { return .depthwise }
            if s.groups > 1 && s.inCPerGroup == 4 && s.outCPerGroup == 4 && s.inC % 16 == 0 { return .quadGroups }
            if s.groups == 1 || (s.inCPerGroup % 16 == 0 && (s.outC / s.groups) % 16 == 0) { return .direct }
            return nil
        }
        return s.groups == 1 && s.inC <= 4 ? .planarInput : nil
    }

    /// The weights `[M, C/groups, kh, kw]` rearranged for the kernel (zero where blocks pad the channels).
    /// - pointwise: `[ceil(M/32), ceil(C/16)·16, 32]`, a panel per pair of output blocks whose row `ic` holds
    ///   the pair's 32 output channels' weights for input channel `ic`.
    /// - depthwise: `[ceil(C/16), kh·kw, 16]`.
    /// - planarInput: `[ceil(M/16), C·kh·kw, 16]`.
    /// - direct: per group, `[ceil(Mg/32), kh·kw, ceil(Cg/16)·16, 32]` (Mg, Cg: a group's output and input
    ///   channels), a panel per pair of the group's output blocks whose row (tap, ic) holds the pair's 32 output
    ///   channels' weights.
    /// - winograd: the weights `[M, C, 3, 3]` as given (for the naive twin), then from `winogradTransformedOffset` the
    ///   sixteen positions' transformed weights `U = G g Gᵀ`, each packed as a GEMM's B (`PackedPanels`' layout,
    ///   K = ceil(C/16)·16 rows, N = ceil(M/16)·16 columns).
    /// - quadGroups: `[C/16, kh·kw, 4, 16]`: for each block and tap, row o holds the weight of each output lane's
    ///   group's input channel o.
    ///
    /// The array is laid out by `makeAlignedWeights` (the weights from `alignedWeights` on, 64-byte aligned).
    public func packWeights(_ w: UnsafePointer<Float>, shape s: ConvShape) -> [Float] {
        let taps = s.window.kernelH * s.window.kernelW
        let mb = ChannelBlocks.count(s.outC), cb = ChannelBlocks.count(s.inC)
        let count: Int
        switch self {
        case .pointwise: count = (mb + 1) / 2 * cb * 16 * 32
        case .depthwise: count = cb * taps * 16
        case .planarInput: count = mb * s.inC * taps * 16
        case .direct:
            let d = DirectGroups(s)
            count = s.groups * d.pairs * taps * d.inBlocks * 16 * 32
        case .winograd:
            count = winogradTransformedOffset(s) + 16 * WinogradPanels(s).positionStride
        case .quadGroups: count = s.outC * taps * 4
        }
        return makeAlignedWeights(count: count) { o in
            forEachWeight(shape: s) { packed, source in o[packed] = w[source] }
            if self == .winograd { packWinogradWeights(w, shape: s, into: o + winogradTransformedOffset(s)) }
        }
    }

    /// Calls `body(packed, source)` for every weight: its index after `packWeights`' marker and its index in
    /// `[M, C/groups, kh, kw]` (the one mapping both packing and its naive twin's unpacking use).
    func forEachWeight(shape s: ConvShape, _ body: (Int, Int) -> Void) {
        let taps = s.window.kernelH * s.window.kernelW
        // Row r (a channel) of `rows`, tap t of `k`, in a `[ceil(rows/16), k, 16]` layout.
        func blockMajor(_ r: Int, _ t: Int, _ k: Int) -> Int { ((r / 16) * k + t) * 16 + r % 16 }
        switch self {
        case .pointwise:
            let cb = ChannelBlocks.count(s.inC)
            for m in 0..<s.outC { for c in 0..<s.inC { body((m / 32 * cb * 16 + c) * 32 + m % 32, m * s.inC + c) } }
        case .depthwise:
            for c in 0..<s.inC { for t in 0..<taps { body(blockMajor(c, t, taps), c * taps + t) } }
        case .planarInput:
            let k = s.inC * taps
            for m in 0..<s.outC { for t in 0..<k { body(blockMajor(m, t, k), m * k + t) } }
        case .quadGroups:
            for m in 0..<s.outC { for o in 0..<4 { for t in 0..<taps { body(((m / 16 * taps + t) * 4 + o) * 16 + m % 16, (m * 4 + o) * taps + t) } } }
        case .winograd:
            // [M, ceil(C/16)·16, 3, 3]: the same indices whether `s` counts the padding channels or not.
            let rows = ChannelBlocks.count(s.inC) * 16
            for m in 0..<s.outC { for c in 0..<s.inC { for t in 0..<taps { body((m * rows + c) * taps + t, (m * s.inC + c) * taps + t) } } }
        case .direct:
            let d = DirectGroups(s), rows = d.inBlocks * 16, mg = s.outC / s.groups, cg = s.inCPerGroup
            for m in 0..<s.outC {
                let g = m / mg, ml = m % mg
                for c in 0..<cg { for t in 0..<taps {
                    body((((g * d.pairs + ml / 32) * taps + t) * rows + c) * 32 + ml % 32, (m * cg + c) * taps + t)
                } }
            }
        }
    }
}

/// A direct convolution's groups in blocks: input and output blocks per group, and pairs of output blocks per
/// group (groups of one block each, or one group of the padded channels).
struct DirectGroups {
    let inBlocks: Int, outBlocks: Int, pairs: Int
    init(_ s: ConvShape) {
        inBlocks = s.groups == 1 ? ChannelBlocks.count(s.inC) : s.inCPerGroup / 16
        outBlocks = s.groups == 1 ? ChannelBlocks.count(s.outC) : s.outC / s.groups / 16
        pairs = (outBlocks + 1) / 2
    }
}

/// The bias `[M]` (or none) as `[ceil(M/16)·16]`, zero past M.
public func packBlockedBias(_ bias: UnsafePointer<Float>?, channels: Int) -> [Float] {
    var out = [Float](repeating: 0, count: ChannelBlocks.count(channels) * 16)
    if let bias { for i in 0..<channels { out[i] = bias[i] } }
    return out
}

/// A convolution in the channel-blocked layout, split over `computeThreads`.
///
/// - Parameters:
///   - kind: the kernel (see `BlockedConvKind`); `packedWeights` come from `kind.packWeights`.
///   - x: blocked `[N, ceil(C/16), H, W, 16]`, or planar `[N, C, H, W]` for `.planarInput`.
///   - bias: `[ceil(M/16)·16]` from `packBlockedBias`.
///   - y: blocked `[N, ceil(M/16), outH, outW, 16]`, overwritten. Padding channels come out as clamp(0) (plus the
///     residual's padding): finite, and never read into a real channel, since packed weights are zero there.
///   - activation: a clamp (`clampBounds` not nil).
///   - residual: nil, or (pointwise only) a blocked tensor shaped as y added before the clamp: a residual Add fused
///     in. It must not alias y (partial sums over chunks of input channels pass through y first).
///   - windowOrigins: where each item's output sits in a larger map it is a window of (incremental occlusion's
///     windows), or nil when the items are whole maps. Only `.winograd` reads it: its 2x2 tiles then fall where the
///     whole map's do, so the window's outputs are bit for bit the map's.
/// Both kernel tables run it (`blockedConv2dTiled`), on their own instruction set's tiles.
public func blockedConv2d(_ kind: BlockedConvKind, _ x: UnsafePointer<Float>, packedWeights w: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>, shape s: ConvShape, activation: Activation,
                          residual: UnsafePointer<Float>? = nil, y: UnsafeMutablePointer<Float>,
                          windowOrigins: [(y: Int, x: Int)]? = nil) {
    precondition(activation.clampBounds != nil, "blockedConv2d: \(activation) is not a clamp")
    precondition(residual == nil || kind == .pointwise, "blockedConv2d: only pointwise convolutions take a residual")
    precondition(windowOrigins == nil || windowOrigins!.count == s.batch, "blockedConv2d: one window origin per item")
    kernels.blockedConv(kind, x, w, bias, s, activation, residual, y, windowOrigins)
}

/// A grouped convolution of 8 channels per group (ResNeXt-50's second stage) as the same convolution with groups of
/// 16 channels: each block's 16 output channels see its 16 input channels through weights that are zero between
/// different original groups. Every output is the same sum plus zero terms, and the convolution
/// runs in the blocked layout (`.direct`) instead of in NCHW between two layout conversions, at 16 / width times the
/// multiply-adds. nil unless the groups have 8 channels in and out and the channels fill whole blocks: at 8 (twice
/// the multiply-adds) ResNeXt-50's layers at batch 8 took 2.7 ms against 3.6 in NCHW with the two conversions, and
/// 3.2 against 9.3 for the strided one; at 4 channels (four times) 5.1 against 4.6, so those stay in NCHW.
///
/// - Parameter w: `[M, C/groups, kh, kw]`.
/// - Returns: the weights `[M, 16, kh, kw]` and the shape with `C/16` groups.
public func widenedToBlockGroups(_ w: [Float], shape s: ConvShape) -> (weights: [Float], shape: ConvShape)? {
    let g = s.inCPerGroup
    guard s.groups > 1, g == 8, s.outCPerGroup == g, s.inC == s.outC, s.inC % 16 == 0,
          w.count == s.outC * g * s.window.kernelH * s.window.kernelW else { return nil }
    let taps = s.window.kernelH * s.window.kernelW
    var wide = [Float](repeating: 0, count: s.outC * 16 * taps)
    for m in 0..<s.outC {
        // Output m's group starts at input channel (m / g) * g, which is block (m / 16)'s lane (m % 16) / g * g.
        let lane0 = (m % 16) / g * g
        for c in 0..<g { for t in 0..<taps { wide[(m * 16 + lane0 + c) * taps + t] = w[(m * g + c) * taps + t] } }
    }
    var wideShape = s
    wideShape.groups = s.inC / 16
    return (wide, wideShape)
}

/// The sixteen GEMMs' B of a `.winograd` convolution: K = ceil(C/16)·16 input channels by N = ceil(M/16)·16 output
/// channels, in 32-column panels; `positionStride` floats per position.
struct WinogradPanels {
    let k: Int, n: Int, panels: Int
    var positionStride: Int { panels * k * 32 }
    init(_ s: ConvShape) {
        k = ChannelBlocks.count(s.inC) * 16; n = ChannelBlocks.count(s.outC) * 16; panels = (n + 31) / 32
    }
}

/// Where a `.winograd` kind's transformed weights start after `alignedWeights`: past the `[M, ceil(C/16)·16, 3, 3]`
/// weights as given, rounded up to 16 floats so that they stay 64-byte aligned.
func winogradTransformedOffset(_ s: ConvShape) -> Int { (s.outC * ChannelBlocks.count(s.inC) * 16 * 9 + 15) / 16 * 16 }

/// Writes `U = G g Gᵀ` for every (output, input) channel pair of `w` `[M, C, 3, 3]` into `dst`, position p
/// (row-major over the 4x4 tile) at `p * positionStride`, packed by `packGEMMPanels` as B `[K, M]` (rows past C zero);
/// G = [[1,0,0],[½,½,½],[½,-½,½],[0,0,1]]. Each transformed weight is computed in double precision and rounded once.
func packWinogradWeights(_ w: UnsafePointer<Float>, shape s: ConvShape, into dst: UnsafeMutablePointer<Float>) {
    let p = WinogradPanels(s)
    let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
    // The sixteen positions' B, `[16, K, M]` row-major, before packing.
    var u = [Float](repeating: 0, count: 16 * p.k * s.outC)
    var gk = [Double](repeating: 0, count: 12)   // G k (4 x 3)
    for m in 0..<s.outC {
        for c in 0..<s.inC {
            let k = w + (m * s.inC + c) * 9
            for i in 0..<4 { for j in 0..<3 { gk[i * 3 + j] = (0..<3).reduce(0.0) { $0 + g[i][$1] * Double(k[$1 * 3 + j]) } } }
            for i in 0..<4 {
                for j in 0..<4 { u[((i * 4 + j) * p.k + c) * s.outC + m] = Float((0..<3).reduce(0.0) { $0 + gk[i * 3 + $1] * g[j][$1] }) }
            }
        }
    }
    u.withUnsafeBufferPointer { ub in
        for pos in 0..<16 {
            packGEMMPanels(ub.baseAddress! + pos * p.k * s.outC, ldb: s.outC, k: p.k, n: s.outC, transposed: false,
                           into: dst + pos * p.positionStride, panels: 0..<p.panels)
        }
    }
}

/// `blockedConv2d`'s work cut into units over the threads, per kind: on `TensorKernelsAVX512`'s kernels when `wide`
/// (`KernelTable.avx512`), else on the same kernels compiled for AVX2 with tiles that fit its sixteen registers
/// (`KernelTable.portable`; pointwise and direct convolutions then run `blockedRunsAVX2`).
func blockedConv2dTiled(wide: Bool, _ kind: BlockedConvKind, _ x: UnsafePointer<Float>, packedWeights w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>, shape s: ConvShape, activation: Activation,
                        residual: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, windowOrigins: [(y: Int, x: Int)]?) {
    if !wide && (kind == .pointwise || kind == .direct) {
        blockedRunsConvAVX2(kind, x, packedWeights: w, bias: bias, shape: s, activation: activation, residual: residual, y: y)
        return
    }
    let (lo, hi) = activation.clampBounds!
    let w = alignedWeights(w)
    let wd = s.window
    let cb = ChannelBlocks.count(s.inC), mb = ChannelBlocks.count(s.outC)
    let inPixels = s.inH * s.inW, outPixels = s.outH * s.outW
    let xItem = kind == .planarInput ? s.inC * inPixels : cb * inPixels * 16
    let yItem = mb * outPixels * 16
    switch kind {
    case .pointwise:
        // Units: (chunk of 16 runs of 7 pixels across the batch, two pairs of output blocks), chunk-major, so
        // consecutive units of a thread share a chunk's input (7 KB per 16 input channels) in L1/L2 while the
        // pairs' weights stream; a pair's weights serve every run of the chunk, and an odd last run is done
        // once for both pairs.
        let pairs = (mb + 1) / 2, couples = (pairs + 1) / 2
        let runs = s.batch * ((outPixels + 6) / 7)
        // Smaller chunks when there would be too few units to share out (a 7x7 map at batch 1 is one chunk, and
        // 1152 -> 192 channels three couples: two threads would split them 2 + 1). Even sizes keep runs paired.
        let wanted = computeThreads * chunksPerThread
        var chunk = 16
        if couples * ((runs + chunk - 1) / chunk) < wanted {
            let split = (wanted + couples - 1) / couples
            chunk = max(2, ((runs + split - 1) / split + 1) / 2 * 2)
        }
        // Chunks of (nearly) equal size: 28 runs as 14 + 14, not 16 + 12.
        let count = (runs + chunk - 1) / chunk
        chunk = max(2, ((runs + count - 1) / count + 1) / 2 * 2)
        let chunks = (runs + chunk - 1) / chunk
        parallelChunks(chunks * couples) { r in
            for u in r {
                let c = u / couples, couple = u % couples
                blockedPointwiseAVX512(x: x, xItemStride: xItem, inBlocks: cb, pixels: outPixels, w: w, outBlocks: mb, bias: bias,
                                       lo: lo, hi: hi, y: y, yItemStride: yItem, residual: residual,
                                       pairs: (2 * couple)..<min(pairs, 2 * couple + 2), runs: (c * chunk)..<min(runs, (c + 1) * chunk))
            }
        }
    case .depthwise:
        // Units: (image, block, band of 8 output rows); one band-copy buffer per chunk of units.
        let bands = (s.outH + 7) / 8
        let scratchBytes = blockedDepthwiseScratchBytes(rows: 8, outW: s.outW, kernelH: wd.kernelH, kernelW: wd.kernelW,
                                                        strideH: wd.strideH, strideW: wd.strideW,
                                                        dilationH: wd.dilationH, dilationW: wd.dilationW)
        parallelChunks(s.batch * cb * bands) { r in
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
            defer { scratch.deallocate() }
            for u in r {
                let n = u / (cb * bands), b = u / bands % cb, band = u % bands
                (wide ? blockedDepthwiseAVX512 : blockedDepthwiseAVX2)(x + n * xItem, s.inH, s.inW, wd.kernelH, wd.kernelW,
                                       wd.strideH, wd.strideW, wd.dilationH, wd.dilationW,
                                       wd.padTop, wd.padLeft, w, bias, lo, hi,
                                       y + n * yItem, s.outH, s.outW,
                                       b..<(b + 1), (band * 8)..<min(s.outH, band * 8 + 8), scratch)
            }
        }
    case .direct:
        // Units: (image, band of output rows, group, two pairs of the group's output blocks), band-major, so
        // consecutive units of a thread copy the same input band while the pairs' weights stream. A band holds
        // about 16 runs of 7 pixels, fewer when there would be too few units to share out (a 7x7 map at batch 1).
        let d = DirectGroups(s), groups = s.groups
        let couples = (d.pairs + 1) / 2
        let panel = wd.kernelH * wd.kernelW * d.inBlocks * 16 * 32
        let runsPerRow = (s.outW + 6) / 7
        var bandRows = max(1, min(s.outH, 16 / runsPerRow))
        let wanted = computeThreads * chunksPerThread
        while bandRows > 1 && s.batch * ((s.outH + bandRows - 1) / bandRows) * groups * couples < wanted { bandRows = (bandRows + 1) / 2 }
        // Bands of equal height where the rows allow: 14 rows as 7 + 7, not 8 + 6.
        let bands = (s.outH + bandRows - 1) / bandRows
        bandRows = (s.outH + bands - 1) / bands
        let scratchBytes = blockedDirectScratchBytes(inBlocks: d.inBlocks, rows: bandRows, outW: s.outW, kernelH: wd.kernelH, kernelW: wd.kernelW,
                                                     strideH: wd.strideH, strideW: wd.strideW,
                                                     dilationH: wd.dilationH, dilationW: wd.dilationW)
        let inPlane = s.inH * s.inW * 16, outPlane = s.outH * s.outW * 16
        parallelChunks(s.batch * bands * groups * couples) { r in
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
            defer { scratch.deallocate() }
            var copied = -1   // the (image, band, group) the scratch holds
            for u in r {
                let n = u / (bands * groups * couples), band = u / (groups * couples) % bands
                let g = u / couples % groups, couple = u % couples
                defer { copied = u / couples }
                blockedDirectAVX512(x: x + n * xItem + g * d.inBlocks * inPlane, inBlocks: d.inBlocks, inH: s.inH, inW: s.inW,
                                    kernelH: wd.kernelH, kernelW: wd.kernelW,
                                    strideH: wd.strideH, strideW: wd.strideW, dilationH: wd.dilationH, dilationW: wd.dilationW,
                                    padTop: wd.padTop, padLeft: wd.padLeft, w: w + g * d.pairs * panel, outBlocks: d.outBlocks,
                                    bias: bias + g * d.outBlocks * 16, lo: lo, hi: hi,
                                    y: y + n * yItem + g * d.outBlocks * outPlane, outH: s.outH, outW: s.outW,
                                    pairs: (2 * couple)..<min(d.pairs, 2 * couple + 2),
                                    rows: (band * bandRows)..<min(s.outH, band * bandRows + bandRows), scratch: scratch,
                                    copyBand: copied != u / couples)
            }
        }
    case .winograd:
        winogradConv(wide: wide, x, weights: w, bias: bias, shape: s, lo: lo, hi: hi, y: y, windowOrigins: windowOrigins)
    case .quadGroups:
        // Units: (image, block, band of 8 output rows).
        let taps = wd.kernelH * wd.kernelW, bands = (s.outH + 7) / 8
        let inPlane = s.inH * s.inW * 16, outPlane = s.outH * s.outW * 16
        parallelChunks(s.batch * cb * bands) { r in
            for u in r {
                let n = u / (cb * bands), b = u / bands % cb, band = u % bands
                (wide ? blockedQuadGroupsAVX512 : blockedQuadGroupsAVX2)(x + n * xItem + b * inPlane, s.inH, s.inW, wd.kernelH, wd.kernelW,
                                        wd.strideH, wd.strideW, wd.dilationH, wd.dilationW,
                                        wd.padTop, wd.padLeft, w + b * taps * 64, bias + b * 16, lo, hi,
                                        y + n * yItem + b * outPlane, s.outH, s.outW,
                                        (band * 8)..<min(s.outH, band * 8 + 8))
            }
        }
    case .planarInput:
        // Units: (image, band of 4 output rows).
        let bands = (s.outH + 3) / 4
        parallelChunks(s.batch * bands) { r in
            for u in r {
                let n = u / bands, band = u % bands
                (wide ? blockedFromPlanarAVX512 : blockedFromPlanarAVX2)(x + n * xItem, s.inC, s.inH, s.inW,
                                        wd.kernelH, wd.kernelW, wd.strideH, wd.strideW,
                                        wd.dilationH, wd.dilationW, wd.padTop, wd.padLeft,
                                        w, mb, bias, lo, hi, y + n * yItem,
                                        s.outH, s.outW, (band * 4)..<min(s.outH, band * 4 + 4))
            }
        }
    }
}

/// Naive twin of `blockedConv2d`: unpacks the weights and the input to NCHW, runs `conv2dNaive`, and blocks the
/// result (adding the residual, then clamping, when there is one).
public func blockedConv2dNaive(_ kind: BlockedConvKind, _ x: UnsafePointer<Float>, packedWeights w: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>, shape s: ConvShape, activation: Activation,
                               residual: UnsafePointer<Float>? = nil, y: UnsafeMutablePointer<Float>) {
    let w = alignedWeights(w)
    let taps = s.window.kernelH * s.window.kernelW
    let mb = ChannelBlocks.count(s.outC)
    let inPixels = s.inH * s.inW, outPixels = s.outH * s.outW
    // Unpack the weights to [M, C/groups, kh, kw].
    var weights = [Float](repeating: 0, count: s.outC * s.inCPerGroup * taps)
    kind.forEachWeight(shape: s) { packed, source in weights[source] = w[packed] }
    var planarX = [Float](repeating: 0, count: s.batch * s.inC * inPixels)
    if kind == .planarInput { planarX.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: x, count: $0.count) } }
    else { fromChannelBlocked(x, batch: s.batch, channels: s.inC, pixels: inPixels, y: &planarX) }
    var planarY = [Float](repeating: 0, count: s.batch * s.outC * outPixels)
    conv2dNaive(planarX, weight: weights, bias: bias, shape: s, activation: residual == nil ? activation : .identity, y: &planarY)
    toChannelBlocked(planarY, batch: s.batch, channels: s.outC, pixels: outPixels, y: y)
    if let residual {
        for i in 0..<(s.batch * mb * 16 * outPixels) { y[i] = activation.apply(y[i] + residual[i]) }
        return
    }
    // Padding channels: clamp(0), as the kernels produce.
    let pad = activation.apply(0)
    if pad != 0 {
        for n in 0..<s.batch { for c in s.outC..<(mb * 16) { for p in 0..<outPixels { y[((n * mb + c / 16) * outPixels + p) * 16 + c % 16] = pad } } }
    }
}

/// A `.winograd` convolution (weights after `alignedWeights`). Units: runs of consecutive 2x2 tiles across the items
/// (at most 112, so that a unit's transformed inputs and products stay near 2 MiB), split over the threads. Each
/// unit transforms its tiles' inputs, runs the sixteen GEMMs (rows: tiles, K: input channels) and transforms the
/// products back, so its intermediate values never leave the thread's caches for long.
func winogradConv(wide: Bool, _ x: UnsafePointer<Float>, weights w: UnsafePointer<Float>, bias: UnsafePointer<Float>, shape s: ConvShape,
                  lo: Float, hi: Float, y: UnsafeMutablePointer<Float>, windowOrigins: [(y: Int, x: Int)]?) {
    let wd = s.window, p = WinogradPanels(s)
    let cb = p.k / 16, mb = p.n / 16
    let transformed = w + winogradTransformedOffset(s)
    let xItem = cb * s.inH * s.inW * 16, yItem = mb * s.outH * s.outW * 16
    let tilings = (0..<s.batch).map { n -> WinogradTiling in
        let o = windowOrigins?[n] ?? (y: 0, x: 0)
        return WinogradTiling(outH: s.outH, outW: s.outW, inH: s.inH, inW: s.inW, padTop: wd.padTop, padLeft: wd.padLeft,
                              phaseY: (o.y % 2 + 2) % 2, phaseX: (o.x % 2 + 2) % 2)
    }
    // First tile of each item in the run of all items' tiles.
    var firstTile = [0]
    for t in tilings { firstTile.append(firstTile.last! + t.tiles) }
    let total = firstTile.last!
    if total == 0 { return }
    let perTile = 16 * (p.k + p.n) * 4
    let largest = max(14, min(112, (2 << 20) / perTile))
    var units = (total + largest - 1) / largest
    units = max(units, min(computeThreads, (total + 13) / 14))
    // A multiple of the thread count, so that no thread is left a unit longer than the other (ResNet-50's 56x56
    // maps: 784 tiles in 7 units ran as 4 + 3, in 8 they run as 4 + 4 units of 98 tiles).
    if units > computeThreads { units = (units + computeThreads - 1) / computeThreads * computeThreads }
    let chunk = (total + units - 1) / units
    nonisolated(unsafe) let x = x, y = y, u = transformed, bias = bias
    parallelChunks(units) { r in
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * chunk * (p.k + p.n))
        // AVX2's GEMM packs its A (the transformed inputs) into micro-panels; AVX-512's reads it in place.
        let packing = wide ? nil : UnsafeMutablePointer<Float>.allocate(capacity: gemmPackedScratchCount(k: p.k))
        defer { v.deallocate(); packing?.deallocate() }
        let m = v + 16 * chunk * p.k
        for unit in r {
            let g0 = unit * chunk, g1 = min(total, g0 + chunk)
            if g0 >= g1 { continue }
            // The items the unit's tiles belong to, with their local tile ranges and rows in the unit.
            func forEachItem(_ body: (Int, Range<Int>, Int) -> Void) {
                var n = firstTile.lastIndex { $0 <= g0 }!
                while n < s.batch && firstTile[n] < g1 {
                    let a = max(g0, firstTile[n]), b = min(g1, firstTile[n + 1])
                    if a < b { body(n, (a - firstTile[n])..<(b - firstTile[n]), a - g0) }
                    n += 1
                }
            }
            forEachItem { n, tiles, row in
                (wide ? winogradInputTransformAVX512 : winogradInputTransformAVX2)(x + n * xItem, cb, tilings[n], tiles,
                                                                                   v + row * p.k, p.k, chunk * p.k)
            }
            let rows = g1 - g0
            for pos in 0..<16 {
                let a = v + pos * chunk * p.k, b = u + pos * p.positionStride, c = m + pos * chunk * p.n
                if let packing {
                    gemmPackedAVX2(m: rows, n: p.n, k: p.k, a: a, lda: p.k, packed: b, c: c, ldc: p.n, rows: 0..<rows, panels: 0..<p.panels,
                                   accumulate: false, bias: nil, lo: -.infinity, hi: .infinity, gelu: false, scratch: packing)
                } else {
                    // A read in place: the kernel's packing scratch goes unused.
                    gemmPackedAVX512(m: rows, n: p.n, k: p.k, a: a, lda: p.k, packed: b, c: c, ldc: p.n, rows: 0..<rows, panels: 0..<p.panels,
                                     accumulate: false, bias: nil, lo: -.infinity, hi: .infinity, gelu: false, packA: false, scratch: v)
                }
            }
            forEachItem { n, tiles, row in
                (wide ? winogradOutputTransformAVX512 : winogradOutputTransformAVX2)(m + row * p.n, p.n, chunk * p.n, mb, tilings[n],
                                                                                     tiles, bias, lo, hi, y + n * yItem)
            }
        }
    }
}

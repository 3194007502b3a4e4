import CCPUFeatures
import Foundation
import TensorKernelsAVX512

/// The instruction set the hand-written kernels use on this machine.
public enum KernelISA: String, Sendable {
    /// Portable path: OpenBLAS for GEMMs whose B is not packed once, AVX2 + FMA for everything else.
    case avx2
    /// `TensorKernelsAVX512`'s kernels (GEMM with a fused bias and clamp epilogue).
    case avx512
}

/// The CPU's best `KernelISA`, found once (an `EngineConfiguration` chooses among what the CPU has).
public let cpuKernelISA: KernelISA = vigil_cpu_has_avx512() != 0 ? .avx512 : .avx2

/// The kernels an engine calls where the CPU offers a choice, filled once per instruction set (as onnxruntime's
/// MLAS fills its platform table once): `KernelTable.avx512` holds `TensorKernelsAVX512`'s kernels and their
/// drivers, `KernelTable.portable` OpenBLAS and TensorCore's AVX2 code. An `EngineConfiguration` picks one
/// (`kernelTable`), `apply` installs it on the calling thread and `parallelChunks` carries it to the worker
/// threads, so every kernel of one engine's pass reads the same table on every thread while another engine in the
/// same process uses another. An optional entry that is nil has no kernel in that set: the caller takes its
/// general path.
public final class KernelTable: Sendable {
    /// The instruction set the table's kernels need.
    public let isa: KernelISA

    /// C = act(A · B + bias) for `items` (B, C) pairs sharing A (see `gemmBiasActivation`).
    let gemmEpilogue: @Sendable (_ items: Int, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int,
                                 _ b: UnsafePointer<Float>, _ bItemStride: Int, _ ldb: Int,
                                 _ c: UnsafeMutablePointer<Float>, _ cItemStride: Int, _ ldc: Int,
                                 _ bias: UnsafePointer<Float>?, _ activation: Activation) -> Void
    /// y[rows] = alpha · W[rows, K] · x + beta · y, W's rows `ldw` apart (`gemm`'s single row with B transposed).
    let rowDots: (@Sendable (_ w: UnsafePointer<Float>, _ ldw: Int, _ k: Int, _ x: UnsafePointer<Float>, _ alpha: Float,
                             _ beta: Float, _ y: UnsafeMutablePointer<Float>, _ n: Int) -> Void)?
    /// `gemmPacked` over B packed in 32-column panels, split over the threads, activation applied.
    let packedGEMM: @Sendable (_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ packed: UnsafePointer<Float>,
                               _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool,
                               _ bias: UnsafePointer<Float>?, _ activation: Activation) -> Void
    /// `gemm` on `threads` threads (`gemmParallel`'s split included) over B packed for the call; nil: OpenBLAS.
    let generalGEMM: (@Sendable (_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                                 _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
                                 _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ threads: Int) -> Void)?
    /// exp, erf, sigmoid or GELU in place over `count` floats, split over the threads.
    let vectorFunction: (@Sendable (_ f: VectorFunction, _ p: UnsafeMutablePointer<Float>, _ count: Int) -> Void)?
    /// Softmax of `outer` contiguous rows of `length`, split over the threads.
    let softmaxRows: (@Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ outer: Int, _ length: Int) -> Void)?
    /// `directConv2d`'s row kernel over 16 outputs per vector (used for rows at least 12 wide); nil: 8 per vector
    /// through `directConvRowsAVX2`. The last argument says the filter is one channel's plain 3x3.
    let directRowsWide: (@Sendable (_ buf: UnsafePointer<Float>, _ tapOffsets: UnsafePointer<Int>, _ weights: UnsafePointer<Float>,
                                    _ taps: Int, _ rowStep: Int, _ rows: Int, _ outW: Int, _ bias: Float, _ lo: Float, _ hi: Float,
                                    _ y: UnsafeMutablePointer<Float>, _ plain3x3: Bool) -> Void)?
    /// `directConv2d`'s kernel for four output channels at once (four rows per call).
    let directRows4x4: (@Sendable (_ buf: UnsafePointer<Float>, _ tapOffsets: UnsafePointer<Int>, _ weights: UnsafePointer<Float>,
                                   _ taps: Int, _ rowStep: Int, _ rows: Int, _ outW: Int, _ bias: UnsafePointer<Float>?,
                                   _ lo: Float, _ hi: Float, _ y: UnsafeMutablePointer<Float>, _ yChannelStride: Int) -> Void)?
    /// Depthwise convolution of up to 16 NCHW channels vectorised across the channels.
    let depthwiseChannels: (@Sendable (_ count: Int, _ x: UnsafePointer<Float>, _ xChannelStride: Int, _ s: ConvShape,
                                       _ weights: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ lo: Float, _ hi: Float,
                                       _ y: UnsafeMutablePointer<Float>, _ yChannelStride: Int) -> Void)?
    /// A 16 x 16 block transposed (`src` rows `srcStride` apart into `dst` rows `dstStride` apart).
    let transposeTile16: (@Sendable (_ src: UnsafePointer<Float>, _ srcStride: Int, _ dst: UnsafeMutablePointer<Float>, _ dstStride: Int) -> Void)?
    /// NCHW `[batch, channels, pixels]` to the channel-blocked layout, and back.
    let toBlocked: @Sendable (_ x: UnsafePointer<Float>, _ batch: Int, _ channels: Int, _ pixels: Int, _ y: UnsafeMutablePointer<Float>) -> Void
    let fromBlocked: @Sendable (_ x: UnsafePointer<Float>, _ batch: Int, _ channels: Int, _ pixels: Int, _ y: UnsafeMutablePointer<Float>) -> Void
    /// `blockedConv2d` (arguments checked by it).
    let blockedConv: @Sendable (_ kind: BlockedConvKind, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                                _ s: ConvShape, _ activation: Activation, _ residual: UnsafePointer<Float>?,
                                _ y: UnsafeMutablePointer<Float>, _ windowOrigins: [(y: Int, x: Int)]?) -> Void

    private init(isa: KernelISA, gemmEpilogue: @escaping @Sendable (Int, Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, Int,
                                                                     UnsafeMutablePointer<Float>, Int, Int, UnsafePointer<Float>?, Activation) -> Void,
                 rowDots: (@Sendable (UnsafePointer<Float>, Int, Int, UnsafePointer<Float>, Float, Float, UnsafeMutablePointer<Float>, Int) -> Void)?,
                 packedGEMM: @escaping @Sendable (Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int,
                                                  Bool, UnsafePointer<Float>?, Activation) -> Void,
                 generalGEMM: (@Sendable (Bool, Bool, Int, Int, Int, Float, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, Float,
                                          UnsafeMutablePointer<Float>, Int, Int) -> Void)?,
                 vectorFunction: (@Sendable (VectorFunction, UnsafeMutablePointer<Float>, Int) -> Void)?,
                 softmaxRows: (@Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void)?,
                 directRowsWide: (@Sendable (UnsafePointer<Float>, UnsafePointer<Int>, UnsafePointer<Float>, Int, Int, Int, Int, Float, Float, Float,
                                             UnsafeMutablePointer<Float>, Bool) -> Void)?,
                 directRows4x4: (@Sendable (UnsafePointer<Float>, UnsafePointer<Int>, UnsafePointer<Float>, Int, Int, Int, Int, UnsafePointer<Float>?,
                                            Float, Float, UnsafeMutablePointer<Float>, Int) -> Void)?,
                 depthwiseChannels: (@Sendable (Int, UnsafePointer<Float>, Int, ConvShape, UnsafePointer<Float>, UnsafePointer<Float>?, Float, Float,
                                                UnsafeMutablePointer<Float>, Int) -> Void)?,
                 transposeTile16: (@Sendable (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, Int) -> Void)?,
                 toBlocked: @escaping @Sendable (UnsafePointer<Float>, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void,
                 fromBlocked: @escaping @Sendable (UnsafePointer<Float>, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void,
                 blockedConv: @escaping @Sendable (BlockedConvKind, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, ConvShape,
                                                   Activation, UnsafePointer<Float>?, UnsafeMutablePointer<Float>, [(y: Int, x: Int)]?) -> Void) {
        self.isa = isa; self.gemmEpilogue = gemmEpilogue; self.rowDots = rowDots; self.packedGEMM = packedGEMM
        self.generalGEMM = generalGEMM
        self.vectorFunction = vectorFunction; self.softmaxRows = softmaxRows; self.directRowsWide = directRowsWide
        self.directRows4x4 = directRows4x4; self.depthwiseChannels = depthwiseChannels; self.transposeTile16 = transposeTile16
        self.toBlocked = toBlocked; self.fromBlocked = fromBlocked; self.blockedConv = blockedConv
    }

    /// OpenBLAS and TensorCore's own AVX2 code (with `TensorKernelsAVX512`'s vector math, packed-GEMM driver and
    /// channel-blocked convolution bodies inlined into it and compiled for AVX2, on tiles cut to its sixteen
    /// registers): runs on any x86-64 CPU with AVX2 and FMA.
    public static let portable = KernelTable(
        isa: .avx2, gemmEpilogue: gemmBiasActivationBLAS, rowDots: nil, packedGEMM: gemmPackedTiledAVX2, generalGEMM: nil,
        vectorFunction: elementwiseInPlaceAVX2, softmaxRows: softmaxRowsParallelAVX2, directRowsWide: nil, directRows4x4: nil, depthwiseChannels: nil, transposeTile16: nil,
        toBlocked: toChannelBlockedPortable, fromBlocked: fromChannelBlockedPortable, blockedConv: { kind, x, w, b, s, a, r, y, o in
            blockedConv2dTiled(wide: false, kind, x, packedWeights: w, bias: b, shape: s, activation: a, residual: r, y: y, windowOrigins: o)
        })

    /// `TensorKernelsAVX512`'s kernels. Only install it on a CPU that has AVX-512 (`table(for:)` checks).
    public static let avx512 = KernelTable(
        isa: .avx512, gemmEpilogue: gemmBiasActivationAVX512,
        rowDots: { w, ldw, k, x, alpha, beta, y, n in rowDotsAVX512(w: w, ldw: ldw, k: k, x: x, alpha: alpha, beta: beta, y: y, rows: 0..<n) },
        packedGEMM: gemmPackedTiled,
        generalGEMM: { ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads in
            gemmRepackedAVX512(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                               c: c, ldc: ldc, threads: threads)
        },
        vectorFunction: elementwiseInPlaceAVX512, softmaxRows: softmaxRowsParallelAVX512,
        directRowsWide: directConvRowsWideAVX512, directRows4x4: directConvRows4x4AVX512, depthwiseChannels: depthwiseChannelsNCHWAVX512,
        transposeTile16: transposeTile16AVX512,
        toBlocked: toChannelBlockedParallel, fromBlocked: fromChannelBlockedParallel, blockedConv: { kind, x, w, b, s, a, r, y, o in
            blockedConv2dTiled(wide: true, kind, x, packedWeights: w, bias: b, shape: s, activation: a, residual: r, y: y, windowOrigins: o)
        })

    /// The table for `isa` on this CPU (`.portable` when `isa` needs AVX-512 and the CPU lacks it).
    public static func table(for isa: KernelISA) -> KernelTable {
        isa == .avx512 && cpuKernelISA == .avx512 ? .avx512 : .portable
    }
}

/// The table installed on this thread (an unretained `KernelTable`; the two tables live for the process).
private let kernelTableKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// Runs `body` with `table` as this thread's kernels (`parallelChunks` hands it on to its worker threads).
public func withKernels<R>(_ table: KernelTable, _ body: () throws -> R) rethrows -> R {
    let old = pthread_getspecific(kernelTableKey)
    pthread_setspecific(kernelTableKey, Unmanaged.passUnretained(table).toOpaque())
    defer { pthread_setspecific(kernelTableKey, old) }
    return try body()
}

/// Runs `body` with the table for `isa` on this thread (an ISA the CPU lacks falls back to `.avx2`).
public func withKernelISA<R>(_ isa: KernelISA, _ body: () throws -> R) rethrows -> R {
    try withKernels(KernelTable.table(for: isa), body)
}

/// The kernels of this thread: a `withKernels` choice, else the CPU's best.
public var kernels: KernelTable {
    if let p = pthread_getspecific(kernelTableKey) { return Unmanaged<KernelTable>.fromOpaque(p).takeUnretainedValue() }
    return KernelTable.table(for: cpuKernelISA)
}

/// The instruction set of this thread's kernels.
public var kernelISA: KernelISA { kernels.isa }

/// `fmaPeakLoop` on 8-lane vectors, compiled for AVX2 (192 flops an iteration).
@inline(never)
public func fmaPeakLoopAVX2(iterations: Int) -> Float { fmaPeakLoop(iterations: iterations, SIMD8<Float>.self) }

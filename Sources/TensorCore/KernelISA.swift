import CCPUFeatures
import Foundation

/// The instruction set the hand-written kernels use on this machine.
public enum KernelISA: String, Sendable {
    /// Portable path: OpenBLAS for GEMMs, AVX2 + FMA for TensorCore's own kernels.
    case avx2
    /// `TensorKernelsAVX512`'s kernels (GEMM with a fused bias and clamp epilogue).
    case avx512
}

/// The CPU's best `KernelISA`, found once (an `EngineConfiguration` chooses among what the CPU has).
public let cpuKernelISA: KernelISA = vigil_cpu_has_avx512() != 0 ? .avx512 : .avx2

/// Per-thread override set by `withKernelISA` (stored as raw value + 1; 0 = none).
private let kernelISAOverrideKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// Runs `body` with the kernels it starts on this thread using `isa` (an ISA the CPU lacks falls back to
/// `.avx2`). Kernels read the choice once on the calling thread and hand it to their worker threads.
public func withKernelISA<R>(_ isa: KernelISA, _ body: () throws -> R) rethrows -> R {
    let usable: KernelISA = isa == .avx512 && cpuKernelISA == .avx512 ? .avx512 : .avx2
    let old = pthread_getspecific(kernelISAOverrideKey)
    pthread_setspecific(kernelISAOverrideKey, UnsafeRawPointer(bitPattern: usable == .avx512 ? 2 : 1))
    defer { pthread_setspecific(kernelISAOverrideKey, old) }
    return try body()
}

/// The kernels in use on this thread: a `withKernelISA` choice, else `cpuKernelISA`.
public var kernelISA: KernelISA {
    if let p = pthread_getspecific(kernelISAOverrideKey) { return Int(bitPattern: p) == 2 ? .avx512 : .avx2 }
    return cpuKernelISA
}

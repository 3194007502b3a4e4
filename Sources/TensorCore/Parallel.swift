import COpenBLAS
import Dispatch
import Foundation
import Synchronization

/// Threads the kernels may use for one call (process-wide). 0 until set: then the active processor count.
private let computeThreadSetting = Atomic<Int>(0)

/// OpenBLAS is pinned to one thread the first time a kernel runs: the kernels split work themselves, so
/// BLAS threads would only spin and yield against ours (and against a second executor).
@usableFromInline let blasSingleThreaded: Void = { openblas_set_num_threads(1) }()

/// The OpenBLAS core in use, e.g. "SkylakeX" (for report provenance).
public var blasCoreName: String {
    _ = blasSingleThreaded
    guard let p = openblas_get_corename() else { return "unknown" }
    return String(cString: p)
}

/// Sets how many threads one kernel call may use (process-wide; clamped to at least 1).
///
/// Several executors may run at once on different threads; each kernel call then splits its work into
/// at most this many chunks, and Dispatch's pool shares the cores between them. Set 1 when the caller
/// already runs one executor per core.
public func setComputeThreads(_ n: Int) {
    _ = blasSingleThreaded
    computeThreadSetting.store(max(1, n), ordering: .relaxed)
}

/// Per-thread override of `computeThreads` (stored as n + 1; 0 = none), set by `withComputeThreads`.
private let threadOverrideKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// Runs `body` with kernels on this thread limited to `n` threads (for callers that already run one
/// independent piece of work per core, e.g. one batch item per thread).
public func withComputeThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
    let old = pthread_getspecific(threadOverrideKey)
    pthread_setspecific(threadOverrideKey, UnsafeRawPointer(bitPattern: max(1, n) + 1))
    defer { pthread_setspecific(threadOverrideKey, old) }
    return try body()
}

/// Threads one kernel call may use: a `withComputeThreads` limit on this thread, else the value given to
/// `setComputeThreads`, else the active processor count.
public var computeThreads: Int {
    _ = blasSingleThreaded
    if let p = pthread_getspecific(threadOverrideKey) { return Int(bitPattern: p) - 1 }
    let n = computeThreadSetting.load(ordering: .relaxed)
    return n > 0 ? n : max(1, ProcessInfo_activeProcessorCount)
}

private let ProcessInfo_activeProcessorCount = ProcessInfo.processInfo.activeProcessorCount

/// Chunks per thread `parallelChunks` makes: a thread that the OS starts late (other processes on
/// the cores) then finds most chunks already taken instead of holding the whole op back.
public let chunksPerThread = 3

/// Runs `body` over `0..<count` cut into contiguous chunks, on up to `computeThreads` threads.
///
/// The calling thread takes part; chunks are handed out dynamically (up to `chunksPerThread` per thread).
/// - Parameters:
///   - count: number of work items.
///   - minItemsPerChunk: do not make chunks smaller than this (small work runs inline).
///   - body: called once per chunk with its item range; chunks never overlap and cover `0..<count`.
public func parallelChunks(_ count: Int, minItemsPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    if count <= 0 { return }
    let threads = computeThreads
    let chunks = min(threads * chunksPerThread, max(1, count / max(1, minItemsPerChunk)))
    if chunks <= 1 || threads <= 1 { body(0..<count); return }
    let next = Atomic<Int>(0)
    withoutActuallyEscaping(body) { body in
        // Chunks touch disjoint ranges; the caller's closure is only shared for the duration of this call.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: min(threads, chunks)) { _ in
            while true {
                let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if c >= chunks { break }
                let lo = count * c / chunks, hi = count * (c + 1) / chunks
                if lo < hi { body(lo..<hi) }
            }
        }
    }
}

import COpenBLAS
import Dispatch
import Foundation
import Synchronization


/// OpenBLAS is pinned to one thread the first time a kernel runs: the kernels split work themselves, so
/// BLAS threads would only spin and yield against ours (and against a second executor).
@usableFromInline let blasSingleThreaded: Void = { openblas_set_num_threads(1) }()

/// The OpenBLAS core in use, e.g. "SkylakeX" (for report provenance).
public var blasCoreName: String {
    _ = blasSingleThreaded
    guard let p = openblas_get_corename() else { return "unknown" }
    return String(cString: p)
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

/// Threads one kernel call may use: the `withComputeThreads` limit on this thread (an executor sets its
/// configuration's), else the active processor count.
public var computeThreads: Int {
    _ = blasSingleThreaded
    if let p = pthread_getspecific(threadOverrideKey) { return Int(bitPattern: p) - 1 }
    return max(1, ProcessInfo_activeProcessorCount)
}

private let ProcessInfo_activeProcessorCount = ProcessInfo.processInfo.activeProcessorCount

/// Chunks per thread `parallelChunks` makes: a thread that the OS starts late (other processes on
/// the cores) then finds most chunks already taken instead of holding the whole op back.
public let chunksPerThread = 3

/// Runs `body` over `0..<count` cut into contiguous chunks, on up to `computeThreads` threads.
///
/// The calling thread takes part; chunks are handed out dynamically (up to `chunksPerThread` per thread), and
/// run with the caller's `kernels`.
/// Regions run on `SpinPool`'s threads, which spin briefly between regions so the next op starts at
/// once (Dispatch's parked workers took ~20 us to wake per region, about 2 ms of a batch-1 forward);
/// when the pool is busy (another executor on another thread) Dispatch's `concurrentPerform` runs the
/// region instead.
/// - Parameters:
///   - count: number of work items.
///   - minItemsPerChunk: do not make chunks smaller than this (small work runs inline).
///   - body: called once per chunk with its item range; chunks never overlap and cover `0..<count`.
public func parallelChunks(_ count: Int, minItemsPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    if count <= 0 { return }
    let threads = computeThreads
    var wanted = min(threads * chunksPerThread, max(1, count / max(1, minItemsPerChunk)))
    if wanted <= 1 || threads <= 1 { body(0..<count); return }
    if count % wanted != 0 && count / wanted < 16 {
        // Few items: equal chunks, a multiple of the threads, where the count allows (14 items as 2 x 7, not
        // 2,2,3,2,2,3, of which one thread would get an item more than the other).
        if let even = stride(from: wanted, through: threads, by: -1).first(where: { $0 % threads == 0 && count % $0 == 0 }) { wanted = even }
    }
    let chunks = wanted
    // The caller's kernel table goes with its chunks to the worker threads.
    let table = kernels
    withoutActuallyEscaping(body) { body in
        // Chunks touch disjoint ranges; the caller's closure is only shared for the duration of this call.
        nonisolated(unsafe) let body = body
        nonisolated(unsafe) let run: (Int) -> Void = { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { withKernels(table) { body(lo..<hi) } }
        }
        if SpinPool.shared.run(chunks: chunks, run) { return }
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: min(threads, chunks)) { _ in
            while true {
                let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if c >= chunks { break }
                run(c)
            }
        }
    }
}

/// Persistent worker threads for `parallelChunks`, one region at a time.
///
/// A region is published as a generation in the high half of `state` (the low half is the next chunk
/// index); a thread owns chunk i of generation g only by moving `state` from (g, i) to (g, i+1), so a
/// late thread can never run a chunk of a region it did not see. The submitter waits until every chunk
/// of its region is done before it returns or publishes another. Workers spin for a short while after a
/// region (consecutive ops follow within microseconds), then sleep on a condition variable.
final class SpinPool: @unchecked Sendable {
    static let shared = SpinPool(workers: max(1, ProcessInfo.processInfo.activeProcessorCount - 1))

    private let state = Atomic<UInt64>(0)
    private let chunks = Atomic<Int>(0)
    private let done = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// Written only by the submitter holding `busy`, before the region is published.
    private var body: ((Int) -> Void)? = nil
    private let cond = NSCondition()
    private var sleepers = 0
    /// How long a worker spins after a region before it sleeps. Short spins (about 20 us) let the virtual
    /// CPU go idle between forward passes, and on this VM the host then often kept it for tens of
    /// milliseconds: batch-1 passes on two threads ran at one thread's speed (2.4-5.2 ms instead of 2.4
    /// ms, measured with 100 ms pauses between blocks of passes). Half a millisecond of spinning keeps
    /// it, and costs nothing measurable in `vigil analyze` (8.0-8.1 s vs 8.1-8.7 s on 20 s of vtest).
    private let spinNanoseconds: UInt64 = 500_000

    init(workers: Int) {
        for i in 0..<workers {
            let t = Thread { [unowned self] in
                // Kernels called from a chunk run single-threaded here.
                withComputeThreads(1) { self.workerLoop() }
            }
            t.name = "vigil-compute-\(i)"
            t.start()
        }
    }

    /// Runs chunks `0..<n` of `work` on the pool and the calling thread; false (nothing run) when the
    /// pool is already running a region.
    func run(chunks n: Int, _ work: @escaping (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        body = work
        chunks.store(n, ordering: .relaxed)
        done.store(0, ordering: .relaxed)
        let gen = (state.load(ordering: .relaxed) >> 32) &+ 1
        state.store(gen << 32, ordering: .releasing)
        cond.lock()
        if sleepers > 0 { cond.broadcast() }
        cond.unlock()
        withComputeThreads(1) { runChunks(gen) }
        while done.load(ordering: .acquiring) < n { spinHint() }
        body = nil
        busy.store(false, ordering: .releasing)
        return true
    }

    private func runChunks(_ gen: UInt64) {
        while true {
            let s = state.load(ordering: .acquiring)
            if s >> 32 != gen { return }
            let i = Int(s & 0xFFFF_FFFF)
            if i >= chunks.load(ordering: .relaxed) { return }
            // Owning (gen, i) proves the region is still open: its body and chunk count are current.
            guard state.compareExchange(expected: s, desired: s + 1, ordering: .acquiringAndReleasing).exchanged else { continue }
            body!(i)
            done.wrappingAdd(1, ordering: .releasing)
        }
    }

    private func workerLoop() {
        var seen: UInt64 = 0
        while true {
            var spins = 0
            var since = DispatchTime.now().uptimeNanoseconds
            var g = state.load(ordering: .acquiring) >> 32
            while g == seen {
                spins += 1
                if spins & 1023 != 0 || DispatchTime.now().uptimeNanoseconds - since < spinNanoseconds {
                    spinHint()
                } else {
                    cond.lock()
                    sleepers += 1
                    while state.load(ordering: .acquiring) >> 32 == seen { cond.wait() }
                    sleepers -= 1
                    cond.unlock()
                    since = DispatchTime.now().uptimeNanoseconds
                }
                g = state.load(ordering: .acquiring) >> 32
            }
            seen = g
            runChunks(g)
        }
    }
}

/// A pause in a spin loop (a relaxed atomic load keeps it from being optimised away).
@inline(__always) private func spinHint() { _ = spinSink.load(ordering: .relaxed) }
private let spinSink = Atomic<Int>(0)

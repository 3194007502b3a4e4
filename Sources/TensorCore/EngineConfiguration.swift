import Foundation

/// Where an engine's per-op times go when it profiles (`VIGIL_PROFILE=1` in the CLI and benchmarks).
public final class EngineProfile: @unchecked Sendable {
    /// Also split convolutions by input and weight shape (`VIGIL_PROFILE=shapes`).
    public let byShape: Bool
    private var totals: [String: (ms: Double, count: Int)] = [:]
    private let lock = NSLock()

    public init(byShape: Bool = false) { self.byShape = byShape }

    /// Adds `ms` to the row `key`.
    public func record(_ key: String, ms: Double) {
        lock.lock(); let v = totals[key] ?? (0, 0); totals[key] = (v.ms + ms, v.count + 1); lock.unlock()
    }

    /// Time per row so far, largest first.
    public func report() -> String {
        lock.lock(); defer { lock.unlock() }
        return totals.sorted { $0.value.ms > $1.value.ms }.map { String(format: "%8.1f ms %6d x  %@", $0.value.ms, $0.value.count, $0.key) }
            .joined(separator: "\n")
    }
}

/// How an engine runs: which kernels, which activation layout, how many threads per kernel call, and whether it
/// profiles. A value passed to each `Executor` (and from it to the engines it makes), so engines with different
/// settings live side by side in one process; nothing is read from the environment by the library. The CLI and the
/// benchmarks build it from their flags and `fromEnvironment`.
public struct EngineConfiguration: Sendable {
    /// How activations are laid out for plain forward passes and incremental occlusion.
    public enum Layout: String, Sendable, CaseIterable {
        /// Channel-blocked (16 channels per vector) where ops convert; the fast path.
        case blocked
        /// NCHW throughout (to compare the layouts).
        case nchw
    }

    /// The kernels asked for (`.avx512` on a CPU without it runs `.avx2`); nil takes the calling thread's choice
    /// (`withKernelISA`, else the CPU's best).
    public var kernels: KernelISA?
    public var layout: Layout
    /// Threads one kernel call may use (at least 1).
    public var threads: Int
    /// Where per-op times go; nil: no profiling.
    public var profile: EngineProfile?

    public init(kernels: KernelISA? = nil, layout: Layout = .blocked, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                profile: EngineProfile? = nil) {
        self.kernels = kernels; self.layout = layout; self.threads = max(1, threads); self.profile = profile
    }

    /// The best kernels of this CPU, blocked layout, all cores, no profiling.
    public static var standard: EngineConfiguration { EngineConfiguration() }

    /// The kernels that run on this thread: those asked for (or the thread's choice), when the CPU has them.
    public var effectiveKernels: KernelISA {
        let k = kernels ?? kernelISA
        return k == .avx512 && cpuKernelISA == .avx512 ? .avx512 : .avx2
    }

    /// The kernel table this configuration's engines call (filled once per instruction set).
    public var kernelTable: KernelTable { KernelTable.table(for: effectiveKernels) }

    /// Whether plain forward passes run on the channel-blocked graph.
    public var usesBlockedLayout: Bool { layout == .blocked }

    /// Runs `body` with this configuration's kernel table and thread count for the kernel calls made on this thread
    /// (`parallelChunks` hands the table to its worker threads).
    public func apply<R>(_ body: () throws -> R) rethrows -> R {
        try withKernels(kernelTable) { try withComputeThreads(threads) { try body() } }
    }

    /// The same with another thread count.
    public func with(threads n: Int) -> EngineConfiguration { var c = self; c.threads = max(1, n); return c }

    /// From the variables the CLI and the benchmarks honour: `VIGIL_KERNELS=avx2` (the portable kernels),
    /// `VIGIL_LAYOUT=nchw`, `VIGIL_PROFILE=1` or `shapes` (a fresh `EngineProfile`).
    public static func fromEnvironment(_ env: [String: String], threads: Int) -> EngineConfiguration {
        var c = EngineConfiguration(threads: threads)
        if env["VIGIL_KERNELS"]?.lowercased() == "avx2" { c.kernels = .avx2 }
        if env["VIGIL_LAYOUT"]?.lowercased() == "nchw" { c.layout = .nchw }
        if let p = env["VIGIL_PROFILE"] { c.profile = EngineProfile(byShape: p == "shapes") }
        return c
    }
}

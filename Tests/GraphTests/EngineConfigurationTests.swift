import Foundation
import Synchronization
import Graph
import ONNXImport
import TensorCore
import Testing
import TestSupport

/// Engines are configured by a value, not by process-wide state: two executors of one graph with different
/// kernels, layouts, thread counts and profiles run side by side in one process, each as its configuration says.
@Suite struct EngineConfigurationTests {
    @Test func twoDifferentlyConfiguredEnginesRunSideBySide() throws {
        let g = try ONNXModel.load(path: FixturePaths.defaultModel).graph.fused()
        let input = try FixturePaths.floats("Fixtures/models/golden/efficientnet_lite0__skimage_chelsea.input.f32")
        let expected = try FixturePaths.floats("Fixtures/models/golden/efficientnet_lite0__skimage_chelsea.logits.f32")
        let feeds = [g.inputs[0].name: Tensor(shape: [1, 3, 224, 224], data: input)]
        let portableProfile = EngineProfile(), fastProfile = EngineProfile()
        let portable = Executor(graph: g, configuration: EngineConfiguration(kernels: .avx2, layout: .nchw, threads: 1, profile: portableProfile))
        let fast = Executor(graph: g, configuration: EngineConfiguration(kernels: .avx512, layout: .blocked, threads: 2, profile: fastProfile))
        #expect(portable.configuration.effectiveKernels == .avx2 && !portable.configuration.usesBlockedLayout)
        // Both at once, on two threads, several times.
        nonisolated(unsafe) var outputs: [[Float]] = [[], []]
        nonisolated(unsafe) var failure: Error? = nil
        nonisolated(unsafe) let engines = [portable, fast]
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let e = engines[i]
            do { for _ in 0..<3 { outputs[i] = try e.run(feeds).outputs[g.outputs[0]]!.data } } catch { failure = error }
        }
        if let failure { throw failure }
        for (i, o) in outputs.enumerated() {
            let m = compare(o, expected, rtol: 1e-3, atol: 1e-3)
            #expect(m == nil, "engine \(i): \(describe(m))")
        }
        // Each profiled only its own runs, in its own layout.
        let p = portableProfile.report(), f = fastProfile.report()
        #expect(!p.isEmpty && !f.isEmpty)
        #expect(!p.lowercased().contains("blocked"), "the NCHW engine ran no blocked op:\n\(p)")
        #expect(f.lowercased().contains("blocked"), "the blocked engine ran blocked ops:\n\(f)")
        // A configuration's thread count and kernels hold inside its runs whatever the calling thread set.
        withKernelISA(.avx512) { withComputeThreads(7) {
            EngineConfiguration(kernels: .avx2, threads: 3).apply {
                #expect(kernelISA == .avx2 && computeThreads == 3)
            }
            EngineConfiguration(threads: 2).apply { #expect(kernelISA == cpuKernelISA && computeThreads == 2) }
        } }
    }

    @Test func kernelTableReachesTheWorkerThreads() {
        // Every chunk of a kernel's parallel region, on whichever thread runs it, calls the caller's table: the
        // portable engine's chunks must not pick up the CPU's AVX-512 kernels on the pool's threads.
        for isa in [KernelISA.avx2, .avx512] {
            let seen = Mutex<Set<String>>([])
            EngineConfiguration(kernels: isa, threads: 2).apply {
                for _ in 0..<20 {
                    parallelChunks(64) { _ in
                        let name = kernels.isa.rawValue
                        Thread.sleep(forTimeInterval: 0.0002)
                        seen.withLock { _ = $0.insert(name) }
                    }
                }
            }
            let expected = KernelTable.table(for: isa).isa.rawValue
            #expect(seen.withLock { $0 } == [expected], "\(isa): chunks ran \(seen.withLock { $0 })")
        }
        #expect(KernelTable.table(for: .avx2) === KernelTable.portable)
        #expect(KernelTable.table(for: .avx512) === (cpuKernelISA == .avx512 ? KernelTable.avx512 : KernelTable.portable))
    }

    @Test func environmentIsReadOnlyWhenAskedFor() {
        let c = EngineConfiguration.fromEnvironment(["VIGIL_KERNELS": "avx2", "VIGIL_LAYOUT": "NCHW", "VIGIL_PROFILE": "shapes"], threads: 0)
        #expect(c.kernels == .avx2 && c.layout == .nchw && c.threads == 1 && c.profile?.byShape == true)
        let d = EngineConfiguration.fromEnvironment([:], threads: 4)
        #expect(d.kernels == nil && d.layout == .blocked && d.threads == 4 && d.profile == nil)
    }
}

/// A result does not depend on how many threads share the work: a fleet task on one CPU and a desktop run on two
/// write the same report. Every value of the bundled model's portable forward pass, on one thread and on two.
@Suite struct ThreadInvarianceTests {
    @Test func portableForwardPassIsTheSameOnOneAndTwoThreads() throws {
        let g = try ONNXModel.load(path: FixturePaths.defaultModel).graph.fused()
        let input = try FixturePaths.floats("Fixtures/models/golden/efficientnet_lite0__skimage_chelsea.input.f32")
        let feeds = [g.inputs[0].name: Tensor(shape: [1, 3, 224, 224], data: input)]
        let names = g.nodes.flatMap(\.outputs)
        func values(_ threads: Int) throws -> [String: Tensor] {
            let e = Executor(graph: g, configuration: EngineConfiguration(kernels: .avx2, layout: .nchw, threads: threads))
            return try e.run(feeds, capture: names).captured
        }
        let one = try values(1), two = try values(2)
        for n in g.nodes {
            guard let o = n.outputs.first, let a = one[o], let b = two[o] else { continue }
            let same = a.data == b.data
            #expect(same, "\(n.op.name) \(o) \(a.shape) differs between one and two threads")
            if !same { break }
        }
    }

    /// The channel-blocked engine on each kernel path: the threads split the work of every kind (pointwise, direct,
    /// Winograd, depthwise, planar input) differently, and the outputs stay the same, bit for bit.
    @Test(arguments: ["Fixtures/models/efficientnet_lite0.onnx", "Fixtures/models/random/resnet18_random.onnx"])
    func blockedForwardPassIsTheSameOnAnyThreadCount(_ path: String) throws {
        let m = try ONNXModel.load(path: FixturePaths.path(path))
        let g = m.graph.fused()
        var rng = SeededRandom(seed: 3)
        let feeds = [g.inputs[0].name: rng.tensor([2, 3, 224, 224])]
        for isa in cpuKernelISA == .avx512 ? [KernelISA.avx512, .avx2] : [.avx2] {
            func logits(_ threads: Int) throws -> [Float] {
                let e = Executor(graph: g, configuration: EngineConfiguration(kernels: isa, layout: .blocked, threads: threads))
                return try e.run(feeds).outputs[g.outputs[0]]!.data
            }
            let one = try logits(1)
            for threads in [2, 3] {
                let same = try logits(threads) == one
                #expect(same, "\(path) on \(isa.rawValue): \(threads) threads differ from one")
            }
        }
    }
}

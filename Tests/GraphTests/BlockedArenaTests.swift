@testable import Graph
import ONNXImport
import Testing
import TensorCore
import TestSupport

/// Checks an executor's arena plan at `batch`: 64-byte aligned offsets, and no two values sharing storage
/// while both are live (from the node that writes one to the last node reading it, inclusive).
func expectSoundArenaPlan(_ e: Executor, batch: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let plan = try #require(e.arenaPlan(batch: batch), sourceLocation: sourceLocation)
    var spans: [(v: Int, def: Int, last: Int, lo: Int, hi: Int)] = []
    for (k, outs) in e.nodeOutputs.enumerated() {
        for v in outs where e.arenaValues[v] {
            let lo = plan.offsets[v]
            #expect(lo >= 0 && lo % 16 == 0, "value \(v) at offset \(lo)", sourceLocation: sourceLocation)
            let hi = lo + shapeCount(plan.shapes[v]!)
            #expect(hi <= plan.floats, sourceLocation: sourceLocation)
            spans.append((v, k, max(k, e.lastUse[v]), lo, hi))
        }
    }
    #expect(!spans.isEmpty, sourceLocation: sourceLocation)
    for (i, a) in spans.enumerated() {
        for b in spans[(i + 1)...] where a.def <= b.last && b.def <= a.last {
            #expect(a.hi <= b.lo || b.hi <= a.lo,
                    "values \(a.v) (nodes \(a.def)...\(a.last), floats \(a.lo)..<\(a.hi)) and \(b.v) (nodes \(b.def)...\(b.last), floats \(b.lo)..<\(b.hi)) overlap",
                    sourceLocation: sourceLocation)
        }
    }
    #expect(Int(bitPattern: e.arena.reserve(plan.floats)) % 64 == 0, "arena not 64-byte aligned", sourceLocation: sourceLocation)
}

@Suite("Blocked arena")
struct BlockedArenaTests {
    @Test("the plan keeps live values apart and aligned, and shares storage between dead ones")
    func planIsSound() throws {
        var r = SeededRandom(seed: 21)
        let g = try blockedTestGraph(&r)
        let e = Executor(graph: try #require(g.channelBlocked()), configuration: .test)
        for batch in [1, 3] { try expectSoundArenaPlan(e, batch: batch) }
        // The stem's output is dead once the depthwise convolution has run, so later values reuse its space.
        let plan = try #require(e.arenaPlan(batch: 1))
        let total = e.nodeOutputs.joined().filter { e.arenaValues[$0] }.map { (shapeCount(plan.shapes[$0]!) + 15) / 16 * 16 }.reduce(0, +)
        #expect(plan.floats < total)
        // The original (NCHW) graph has no arena.
        #expect(Executor(graph: g, configuration: .test).arenaPlan(batch: 1) == nil)
    }

    @Test("EfficientNet-Lite0's plan is sound at batch 1 and 16 and holds far less than its values")
    func realModel() throws {
        let g = try ONNXModel.load(path: FixturePaths.defaultModel).graph.fused()
        let e = Executor(graph: try #require(g.channelBlocked()), configuration: .test)
        for batch in [1, 16] { try expectSoundArenaPlan(e, batch: batch) }
        let plan = try #require(e.arenaPlan(batch: 1))
        let total = e.nodeOutputs.joined().filter { e.arenaValues[$0] }.map { shapeCount(plan.shapes[$0]!) }.reduce(0, +)
        // Dead values' space is reused: the arena is a small part of the sum of all blocked values.
        #expect(plan.floats < total / 3, "\(plan.floats) of \(total)")
    }

    @Test("whole-batch runs on the arena, with an unfused Add, match the NCHW graph")
    func wholeBatchMatches() throws {
        var r = SeededRandom(seed: 22)
        let pw = Window2D(kernelH: 1, kernelW: 1)
        let k5 = Window2D(kernelH: 5, kernelW: 5, strideH: 2, strideW: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2)
        // The Add reads the projection, which two other nodes read, and a convolution with a ReLU: neither can
        // take it over as a residual, so it stays an Add of two arena values.
        let g = try Graph(
            nodes: [
                Node(name: "expand", op: .conv(window: pw, groups: 1, activation: .relu), inputs: ["x", "we"], outputs: ["e"]),
                Node(name: "dw", op: .conv(window: k5, groups: 40, activation: .clip(0, 6)), inputs: ["e", "wd"], outputs: ["d"]),
                Node(name: "project", op: .conv(window: pw, groups: 1, activation: .identity), inputs: ["d", "wp"], outputs: ["p"]),
                Node(name: "again", op: .conv(window: pw, groups: 1, activation: .relu), inputs: ["p", "wq"], outputs: ["q"]),
                Node(name: "add", op: .binary(.add), inputs: ["p", "q"], outputs: ["sum"]),
                Node(name: "gate", op: .activation(.sigmoid), inputs: ["p"], outputs: ["g"]),
            ],
            inputs: [GraphInput(name: "x", shape: [nil, 20, 13, 11])], outputs: ["sum", "g"],
            constants: ["we": r.tensor([40, 20, 1, 1]), "wd": r.tensor([40, 1, 5, 5]), "wp": r.tensor([24, 40, 1, 1]),
                        "wq": r.tensor([24, 24, 1, 1], -0.3, 0.3)])
        let b = try #require(g.channelBlocked())
        #expect(b.nodes.contains { $0.op == .binary(.add) }, "\(b.nodes.map(\.op.name))")
        let e = Executor(graph: b, configuration: .test)
        for batch in [1, 3] {
            try expectSoundArenaPlan(e, batch: batch)
            let x = r.tensor([batch, 20, 13, 11], -2, 2)
            let ref = try withKernelISA(.avx2) { try Executor(graph: g, configuration: .test).run(["x": x]).outputs }
            // Twice: the second run reuses the arena, whose storage then holds the first run's values.
            for _ in 0..<2 {
                let got = try e.run(["x": x], wholeBatch: true).outputs
                for name in g.outputs {
                    #expect(got[name]!.shape == ref[name]!.shape)
                    let m = compare(got[name]!.data, ref[name]!.data, rtol: 1e-4, atol: 1e-5)
                    #expect(m == nil, "\(name) at batch \(batch): \(describe(m))")
                }
            }
        }
    }
}

@Suite("Downstream graph")
struct DownstreamGraphTests {
    /// x -> conv "a" -> relu "r" (the root) -> Add(r, a) -> GlobalAveragePool -> Flatten -> Gemm "logits": the
    /// Add also reads "a", made before the root, so the downstream graph is fed both.
    func graph(_ r: inout SeededRandom) throws -> Graph {
        let k3 = Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        return try Graph(
            nodes: [
                Node(name: "conv", op: .conv(window: k3, groups: 1, activation: .identity), inputs: ["x", "w"], outputs: ["a"]),
                Node(name: "relu", op: .activation(.relu), inputs: ["a"], outputs: ["r"]),
                Node(name: "add", op: .binary(.add), inputs: ["r", "a"], outputs: ["s"]),
                Node(name: "gap", op: .globalPool(max: false), inputs: ["s"], outputs: ["g"]),
                Node(name: "flat", op: .flatten(axis: 1), inputs: ["g"], outputs: ["f"]),
                Node(name: "fc", op: .gemm(alpha: 1, beta: 1, transA: false, transB: true), inputs: ["f", "fcw", "fcb"], outputs: ["logits"]),
            ],
            inputs: [GraphInput(name: "x", shape: [nil, 3, 6, 5])], outputs: ["logits"],
            constants: ["w": r.tensor([4, 3, 3, 3]), "fcw": r.tensor([7, 4]), "fcb": r.tensor([7])])
    }

    @Test("fed the whole graph's values, it gives the same output and the same gradient at the root")
    func sameOutputAndGradient() throws {
        var r = SeededRandom(seed: 31)
        let g = try graph(&r)
        let head = try #require(g.downstream(of: "r", output: "logits"))
        #expect(head.nodes.map(\.name) == ["add", "gap", "flat", "fc"])
        #expect(head.inputs.map(\.name) == ["r", "a"])
        #expect(head.inputs.allSatisfy { $0.shape.first! == nil })
        #expect(g.downstream(of: "logits", output: "logits") == nil)
        #expect(g.downstream(of: "g", output: "a") == nil, "a is upstream of g")
        let x = r.tensor([2, 3, 6, 5])
        let whole = Executor(graph: g, configuration: .test)
        let full = try whole.run(["x": x], capture: ["r", "a"], retainForGradientOf: "r")
        let part = Executor(graph: head, configuration: .test)
        let e = try part.run(["r": full.captured["r"]!, "a": full.captured["a"]!], retainForGradientOf: "r")
        #expect(e.outputs["logits"]! == full.outputs["logits"]!)
        var seed = Tensor(shape: [2, 7]); seed.data[3] = 1; seed.data[7 + 5] = -2
        #expect(try part.gradient(e, seeds: ["logits": seed]) == (try whole.gradient(full, seeds: ["logits": seed])))
    }
}

@Suite("Storage sharing") struct StorageSharersTests {
    @Test("an array goes back for reuse only when the last value holding it is freed, and never a graph input's")
    func recycledOnlyWhenUnshared() {
        let made = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let reshaped = Tensor(shape: [6], data: made.data)     // a Reshape's output: the same array
        let other = Tensor(shape: [6], data: [1, 2, 3, 4, 5, 6])
        let input = Tensor(shape: [6], data: [0, 0, 0, 0, 0, 0])
        let inputView = Tensor(shape: [3, 2], data: input.data)
        var s = StorageSharers()
        s.addForeign(input)
        for t in [made, reshaped, other, inputView] { s.add(t) }
        let released = [made, other, reshaped, inputView, reshaped].map { s.release($0) }
        // The reshape's array is free once both values are gone; the input's never; a second release of the same
        // value finds the array unknown and is never recycled twice.
        #expect(released == [false, true, true, false, false])
    }
}

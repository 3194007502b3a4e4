import Foundation
import Graph
import ONNXImport
import TensorCore
import Testing
import TestSupport

/// Incremental occlusion must equal a full recomputation of every occluded copy: max |difference| <= 1e-4 on every
/// output of every patch, over the real model, the random-weight models and every small op model with an image input.
@Suite struct IncrementalOcclusionTests {
    /// Runs both ways and returns the worst absolute difference.
    static func worstDifference(graph: Graph, input: String, output: String, shape: [Int], patches: Int, side: (Int, Int), seed: UInt64,
                                fillRandom: Bool) throws -> (Float, IncrementalOcclusion) {
        var rng = SeededRandom(seed: seed)
        let clean = rng.tensor(shape)
        let c = shape[1], h = shape[2], w = shape[3]
        var inputs: [OcclusionPatchInput] = []
        var batch: [Float] = []
        for _ in 0..<patches {
            let ph = min(h, side.0 + Int(rng.next() % UInt64(side.1 - side.0 + 1))), pw = min(w, side.0 + Int(rng.next() % UInt64(side.1 - side.0 + 1)))
            let y = Int(rng.next() % UInt64(h - ph + 1)), x = Int(rng.next() % UInt64(w - pw + 1))
            let values = (0..<(c * ph * pw)).map { _ in fillRandom ? rng.float() : 0 }
            inputs.append(OcclusionPatchInput(y: y, x: x, height: ph, width: pw, values: values))
            var copy = clean.data
            for cc in 0..<c { for yy in 0..<ph { for xx in 0..<pw { copy[(cc * h + y + yy) * w + x + xx] = values[(cc * ph + yy) * pw + xx] } } }
            batch += copy
        }
        let inc = IncrementalOcclusion(graph: graph, input: input, output: output, configuration: .test)
        let got = try inc.run(cleanInput: clean, patches: inputs)
        let exec = Executor(graph: graph, configuration: .test)
        let want = try exec.run([input: Tensor(shape: [patches] + shape.dropFirst(), data: batch)]).outputs[output]!
        #expect(got.shape == want.shape)
        var worst: Float = 0
        for i in 0..<min(got.count, want.count) { worst = max(worst, abs(got.data[i] - want.data[i])) }
        return (worst, inc)
    }

    @Test(arguments: [
        ("Fixtures/models/efficientnet_lite0.onnx", 28, 56),
        ("Fixtures/models/random/squeezenet1_1_random.onnx", 28, 56),
        ("Fixtures/models/random/resnet18_random.onnx", 20, 40),
    ])
    func realModels(path: String, lo: Int, hi: Int) throws {
        let m = try ONNXModel.load(path: FixturePaths.path(path))
        let g = m.graph.fused()
        let (worst, inc) = try Self.worstDifference(graph: g, input: m.graph.inputs[0].name, output: m.graph.outputs[0], shape: [1, 3, 224, 224],
                                                    patches: 6, side: (lo, hi), seed: 9, fillRandom: true)
        #expect(worst <= 1e-4, "\(path): max |logit difference| \(worst)")
        #expect(inc.lastMACs.incremental + inc.lastMACs.full < inc.lastMACs.reference, "\(path): no work saved \(inc.lastMACs)")
        // These run on the channel-blocked engine (each model has convolutions with a blocked form), on either kernel
        // path; scripts/test runs them again on the NCHW engine (`VIGIL_LAYOUT=nchw`).
        #expect(inc.usesBlockedLayout == (EngineConfiguration.test.layout == .blocked), "\(path)")
    }

    /// Every small op model whose input is an image (rank 4 with a spatial plane of at least 4x4).
    @Test func opModels() throws {
        let root = FixturePaths.path("Fixtures/models/cases/ops")
        var tested = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: root).sorted() {
            let path = root + "/" + name + "/model.onnx"
            guard let m = try? ONNXModel.load(path: path), m.graph.inputs.count == 1 else { continue }
            let gi = m.graph.inputs[0]
            guard gi.shape.count == 4, let h = gi.shape[2], let w = gi.shape[3], h >= 4, w >= 4, let c = gi.shape[1] else { continue }
            // Free the batch axis (the cases fix it) so K copies can run as one batch.
            var free = m.graph
            free.inputs = free.inputs.map { GraphInput(name: $0.name, shape: [nil] + $0.shape.dropFirst()) }
            // Skip models that bake the batch size into a reshape or resize target.
            guard (try? Executor(graph: free, configuration: .test).run([gi.name: Tensor(shape: [5, c, h, w])])) != nil else { continue }
            for fused in [false, true] {
                let g = fused ? free.fused() : free
                let (worst, _) = try Self.worstDifference(graph: g, input: gi.name, output: m.graph.outputs[0], shape: [1, c, h, w],
                                                          patches: 5, side: (1, max(1, min(h, w) / 3)), seed: 3, fillRandom: true)
                #expect(worst <= 1e-4, "\(name) (fused \(fused)): max |difference| \(worst)")
            }
            tested += 1
        }
        #expect(tested > 30, "only \(tested) op models had an image input")
    }
}

/// Reusing the activations of an executor's clean pass gives exactly what the engine's own clean pass gives.
@Test func reusedCleanPassIsIdentical() throws {
    let m = try ONNXModel.load(path: FixturePaths.defaultModel)
    let g = m.graph.fused()
    var rng = SeededRandom(seed: 21)
    let clean = rng.tensor([1, 3, 224, 224])
    let patches = (0..<4).map { i in OcclusionPatchInput(y: 20 * i, x: 30 * i, height: 28, width: 28, values: [Float](repeating: 0, count: 3 * 28 * 28)) }
    let inc = IncrementalOcclusion(graph: g, input: "input", output: "logits", configuration: .test)
    let own = try inc.run(cleanInput: clean, patches: patches)
    let captured = try Executor(graph: g, configuration: .test).run(["input": clean], capture: inc.nodeOutputNames).captured
    let reused = try inc.run(cleanInput: clean, patches: patches, cleanValues: captured)
    #expect(own.data == reused.data)
}

/// The blocked engine's clean pass, run ahead (as Grad-CAM's forward pass), gives the model's outputs and NCHW
/// copies of what is asked; `run` on the same input reuses it, and on another input makes its own.
@Test func sharedCleanPass() throws {
    let m = try ONNXModel.load(path: FixturePaths.defaultModel)
    let g = m.graph.fused()
    var rng = SeededRandom(seed: 23)
    let a = rng.tensor([1, 3, 224, 224]), b = rng.tensor([1, 3, 224, 224])
    let patches = (0..<5).map { i in OcclusionPatchInput(y: 30 * i, x: 40 * i, height: 33, width: 33, values: [Float](repeating: 0.5, count: 3 * 33 * 33)) }
    // The CAM layer: the input of the global pooling.
    let cam = try #require(g.nodes.first { $0.op == .globalPool(max: false) }?.inputs[0])
    let inc = IncrementalOcclusion(graph: g, input: "input", output: "logits", configuration: .test)
    guard inc.usesBlockedLayout else {
        #expect(try inc.cleanPass(a, capture: [cam]) == nil)
        return
    }
    let fresh = try inc.run(cleanInput: a, patches: patches)
    let ahead = try #require(try inc.cleanPass(a, capture: [cam, "input"]))
    let ref = try withKernelISA(.avx2) { try Executor(graph: g, configuration: .test).run(["input": a], capture: [cam]) }
    #expect(compare(ahead["logits"]!.data, ref.outputs["logits"]!.data, rtol: 1e-4, atol: 1e-4) == nil)
    #expect(ahead[cam]!.shape == ref.captured[cam]!.shape)
    #expect(compare(ahead[cam]!.data, ref.captured[cam]!.data, rtol: 1e-4, atol: 1e-4) == nil)
    #expect(ahead["input"]! == a)
    #expect(try inc.run(cleanInput: a, patches: patches) == fresh)
    // A projection whose output a residual Add took over has no blocked form: no values, but the pass is made.
    let adds = g.nodes.filter { $0.op == .binary(.add) }.flatMap(\.inputs)
    let readers = Dictionary(g.nodes.flatMap(\.inputs).map { ($0, 1) }, uniquingKeysWith: +)
    let projection = try #require(g.nodes.first {
        if case .conv = $0.op { return adds.contains($0.outputs[0]) && readers[$0.outputs[0]] == 1 } else { return false }
    })
    #expect(try inc.cleanPass(b, capture: [projection.outputs[0]]) == nil)
    let other = try inc.run(cleanInput: b, patches: patches)
    #expect(other == (try IncrementalOcclusion(graph: g, input: "input", output: "logits", configuration: .test).run(cleanInput: b, patches: patches)))
    #expect(other != fresh)
}

/// The blocked kinds this round added, in one small network: a Winograd 3x3 (64 channels on a 32x32 map), groups of
/// 4 channels (their own kernel) and groups of 8 (widened to blocks). Incremental occlusion over it must give what
/// a full pass over every occluded copy gives, exactly: the Winograd windows' tiles sit on the map's grid, and
/// every kernel sums each output in one order wherever it lies.
@Test func newBlockedKindsStayExact() throws {
    var rng = SeededRandom(seed: 31)
    let k3 = Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
    func conv(_ name: String, _ x: String, _ inC: Int, _ outC: Int, groups: Int) -> (Node, [String: Tensor]) {
        let w = rng.tensor([outC, inC / groups, 3, 3], -0.3, 0.3), b = rng.tensor([outC], -0.1, 0.1)
        return (Node(name: name, op: .conv(window: k3, groups: groups, activation: .relu), inputs: [x, name + ".w", name + ".b"], outputs: [name]),
                [name + ".w": w, name + ".b": b])
    }
    let layers = [conv("stem", "input", 3, 64, groups: 1), conv("wino", "stem", 64, 64, groups: 1),
                  conv("quad", "wino", 64, 64, groups: 16), conv("eight", "quad", 64, 64, groups: 8)]
    let pool = Node(name: "pool", op: .globalPool(max: false), inputs: ["eight"], outputs: ["pooled"])
    let flat = Node(name: "flat", op: .flatten(axis: 1), inputs: ["pooled"], outputs: ["logits"])
    let g = try Graph(nodes: layers.map(\.0) + [pool, flat], inputs: [GraphInput(name: "input", shape: [nil, 3, 32, 32])],
                      outputs: ["logits"], constants: layers.reduce(into: [:]) { $0.merge($1.1) { a, _ in a } })
    let inc = IncrementalOcclusion(graph: g, input: "input", output: "logits", configuration: .test)
    if EngineConfiguration.test.layout == .blocked {
        #expect(inc.usesBlockedLayout)
        let kinds = try #require(g.channelBlocked(packing: PackedWeights())).nodes.compactMap { n -> BlockedConvKind? in
            if case let .blocked(.conv(kind, _, _, _, _)) = n.op { return kind } else { return nil }
        }
        #expect(kinds == [.planarInput, .winograd, .quadGroups, .direct], "\(kinds)")
    }
    let (worst, run) = try IncrementalOcclusionTests.worstDifference(graph: g, input: "input", output: "logits", shape: [1, 3, 32, 32],
                                                                     patches: 6, side: (3, 9), seed: 5, fillRandom: true)
    if EngineConfiguration.test.layout == .blocked {
        #expect(worst == 0, "max |difference| \(worst)")
    } else {
        // The NCHW engine runs its windows through GEMMs of other shapes: equal within rounding.
        #expect(worst <= 1e-4, "max |difference| \(worst)")
    }
    #expect(run.lastMACs.incremental > 0, "no layer ran on windows: \(run.lastMACs)")
}

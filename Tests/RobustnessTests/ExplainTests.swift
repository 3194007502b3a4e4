import Foundation
@testable import Robustness
import TensorCore
import Testing
import TestSupport

/// Grad-CAM of the real model: the session runs a plain forward pass and back-propagates through the head (the
/// graph downstream of the CAM layer) alone; that must equal back-propagating through the whole graph.
@Suite struct ExplainTests {
    @Test("Grad-CAM through the head alone equals back-propagation through the whole graph", arguments: [nil, 285] as [Int?])
    func headMatchesWholeGraph(target: Int?) throws {
        let c = try Classifier(modelPath: FixturePaths.defaultModel)
        let input = try FixturePaths.floats("Fixtures/models/golden/efficientnet_lite0__skimage_chelsea.input.f32")
        for isa in [KernelISA.avx512, .avx2] where isa != .avx512 || cpuKernelISA == .avx512 {
            try withKernelISA(isa) {
                let s = c.makeSession(configuration: .test)
                #expect(s.head?.graph.inputs.map(\.name) == [c.camLayer])
                let viaHead = try s.explain(input, target: target)
                // Asking for another tensor back takes the whole-graph pass.
                let whole = try s.explain(input, target: target, keep: [c.inputName])
                #expect(viaHead.target == whole.target)
                #expect(target == nil || viaHead.target == target)
                #expect(compare(viaHead.probs, whole.probs, rtol: 1e-4, atol: 1e-6) == nil, "\(isa)")
                let m = compare(viaHead.maps[0].values, whole.maps[0].values, rtol: 1e-3, atol: 1e-5 * (whole.maps[0].values.max() ?? 1))
                #expect(m == nil, "\(isa): \(describe(m))")
                #expect(viaHead.maps[0].values.contains { $0 > 0 })
            }
        }
    }
}

import Foundation
import Graph
import ONNXImport
import TensorCore
import Testing
import TestSupport

/// One float op between QuantizeLinear/DequantizeLinear nodes, with onnxruntime's output under its default graph
/// optimisations (its integer kernels), made by `scripts/make-qdq-cases`.
struct QDQCase: CustomTestStringConvertible, Sendable {
    let name: String
    var testDescription: String { name }
    var dir: String { FixturePaths.path("Fixtures/models/cases/qdq/" + name) }
    static let all: [QDQCase] = ((try? FileManager.default.contentsOfDirectory(atPath: FixturePaths.path("Fixtures/models/cases/qdq"))) ?? [])
        .sorted().map { QDQCase(name: $0) }
}

@Suite struct QDQCaseTests {
    @Test func casesArePresent() { #expect(QDQCase.all.count >= 12) }

    /// Each pattern runs as onnxruntime's integer kernel and gives its output exactly (the `_ties` cases are built so
    /// that onnxruntime's float QDQ evaluation differs from its integer kernels on hundreds of values).
    @Test(arguments: QDQCase.all)
    func equalsOnnxruntimeIntegerKernels(_ c: QDQCase) throws {
        let model = try ONNXModel.load(path: c.dir + "/model.onnx")
        #expect(model.integerOpCounts.values.reduce(0, +) == 1, "\(c.name): \(model.graph.opCounts)")
        for r in try BackendTestCase(directory: c.dir).run(rtol: 0, atol: 0, configuration: .test) {
            #expect(r.passed, "\(c.name): max abs \(r.maxAbsDiff) at [\(r.worstIndex)] got \(r.actual) expected \(r.expected) \(r.message ?? "")")
        }
    }
}

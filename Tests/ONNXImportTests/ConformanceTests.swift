import Foundation
import ONNXImport
import TensorCore
import Testing

/// ONNX's own backend test cases from Debian's libonnx-testdata.
@Suite struct ConformanceTests {
    static let root = "/usr/share/libonnx-testdata/data"

    @Test func backendSuite() throws {
        guard FileManager.default.fileExists(atPath: Self.root) else {
            Issue.record("libonnx-testdata is not installed; run scripts/setup")
            return
        }
        var runnable = 0, passed = 0
        var skippedOps: [String: Int] = [:]
        var skipped = 0
        var failures: [String] = []
        for group in ["node", "pytorch-converted", "pytorch-operator", "simple"] {
            let dir = Self.root + "/" + group
            guard let cases = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            for name in cases.sorted() {
                let c = BackendTestCase(directory: dir + "/" + name)
                guard FileManager.default.fileExists(atPath: c.modelPath) else { continue }
                if let why = try c.unrunnableReason() {
                    skipped += 1
                    skippedOps["(non-float32: \(why.split(separator: " ").last ?? ""))", default: 0] += 1
                    continue
                }
                do {
                    let results = try c.run(configuration: .test)
                    runnable += 1
                    if results.allSatisfy(\.passed) { passed += 1 } else {
                        let r = results.first { !$0.passed }!
                        failures.append("\(group)/\(name): max abs \(r.maxAbsDiff) at \(r.worstOutput)[\(r.worstIndex)] got \(r.actual) expected \(r.expected) \(r.message ?? "")")
                    }
                } catch let e as ModelError where e.isUnsupported {
                    skipped += 1
                    let key: String
                    switch e {
                    case let .unsupportedOp(_, op, _, _, _): key = op
                    case .needsConstant: key = "(run-time shape input)"
                    case .unsupportedVersion: key = "(opset/IR version)"
                    default: key = "(unsupported attribute or form)"
                    }
                    skippedOps[key, default: 0] += 1
                } catch {
                    runnable += 1
                    failures.append("\(group)/\(name): \(error)")
                }
            }
        }
        print("conformance: \(passed) passed of \(runnable) runnable, \(skipped) skipped")
        print("skipped op types: " + skippedOps.sorted { $0.value > $1.value }.map { "\($0.key) x\($0.value)" }.joined(separator: ", "))
        for f in failures { print("conformance failure: \(f)") }
        #expect(failures.isEmpty, "\(failures.count) runnable conformance cases failed")
        #expect(runnable > 200)
    }
}

import ArgumentParser
import Foundation
import TensorCore
import ONNXImport

/// `vigil check`: runs ONNX backend-style test cases and reports the worst difference of each.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run ONNX test cases (model.onnx plus test_data_set_*/input_*.pb, output_*.pb) and compare outputs.",
        discussion: """
            Each CASE_DIR is a folder in ONNX's backend-test layout. Prints PASS or FAIL per case with the worst \
            absolute and relative difference and where it occurred. Exit status: 0 when every case passes, \
            1 when any fails, \(ExitStatus.inputError.rawValue) when a case cannot be read or uses an unsupported op.
            """)

    @Argument(help: "Test case folders.")
    var cases: [String]

    @Option(help: "Relative tolerance.")
    var rtol: Float = 1e-4

    @Option(help: "Absolute tolerance.")
    var atol: Float = 1e-5

    func run() throws {
        var failed = 0, broken = 0
        for dir in cases {
            let name = (dir as NSString).lastPathComponent
            do {
                for r in try BackendTestCase(directory: dir).run(rtol: rtol, atol: atol, configuration: .cli) {
                    let verdict = r.passed ? "PASS" : "FAIL"
                    var line = "\(verdict) \(name)/\(r.dataSet): max abs diff \(r.maxAbsDiff), max rel diff \(r.maxRelDiff)"
                    if r.worstIndex >= 0 { line += " (worst at \(r.worstOutput)[\(r.worstIndex)]: got \(r.actual), expected \(r.expected))" }
                    if let m = r.message { line += "; \(m)" }
                    print(line)
                    if !r.passed { failed += 1 }
                }
            } catch {
                print("ERROR \(name): \(error)")
                broken += 1
            }
        }
        if broken > 0 { throw ExitCode(ExitStatus.inputError.rawValue) }
        if failed > 0 { throw ExitCode(ExitStatus.failed.rawValue) }
    }
}

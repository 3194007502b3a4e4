import ArgumentParser
import Robustness

/// `--cam` and `--faithfulness`, shared by analyze and compare.
struct ExplainerOptions: ParsableArguments {
    @Option(name: .customLong("cam"), help: ArgumentHelp("CAM methods, comma-separated: \(CAMMethods.names.joined(separator: ", ")). The overlay shows the first; the report holds all. scorecam runs one forward pass per channel of the CAM layer (about 1,280 per frame on the bundled model).", valueName: "methods"))
    var cam: String = "gradcam"

    @Flag(help: "Measure how faithful each map is: deletion and insertion curves with their AUC against a random pixel order, and the CAM multiplication confidence change. Opt-in: it costs 31 forward passes per method per frame, plus 31 for the random order.")
    var faithfulness = false

    func validate() throws {
        do { _ = try CAMMethods.parse(cam) } catch { throw ValidationError("--cam: \(error).") }
    }

    /// Sets the methods and faithfulness on `p`.
    func apply(to p: inout AnalysisParameters) throws {
        p.cams = try CAMMethods.parse(cam).map(\.name)
        p.faithfulness = faithfulness
    }
}

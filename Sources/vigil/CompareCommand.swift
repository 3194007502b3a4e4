import ArgumentParser
import Foundation
import Pipeline
import Reporting
import Robustness
import TensorCore

/// `vigil compare CLIP... --model A --model B`: candidate models on the same frames and patches.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run several models on the same frames with the same patches and compare their robustness.",
        discussion: """
            Writes OUT/compare.json, compare.html and compare.csv: per model the metrics of analyze and its speed \
            (ms per frame); per pair the paired difference in mean retention with a paired moving-block bootstrap \
            interval, top-1 agreement by label name, Grad-CAM similarity on a common 7x7 grid, the labels they do not \
            share, and the frames where they disagree most (both overlays side by side in the HTML). Each model uses \
            its own card (input size, preprocessing, labels).

            Exit status: 0 success; 1 --fail-if-worse: a candidate is worse than --baseline by more than the margin \
            with 95% confidence (stderr says which model and metric); 64 usage error; 65 a clip or a model could \
            not be read, or no frame was analysed; 73 the outputs cannot be written.
            """)

    @Argument(help: ArgumentHelp("Video files or URLs to run every model on.", valueName: "clip"))
    var clips: [String]

    @Option(name: .customLong("model"), help: ArgumentHelp("An ONNX model to compare (give two or more); its card beside it gives its preprocessing and labels.", valueName: "path"))
    var models: [String] = []

    @Option(help: ArgumentHelp("Output folder for compare.json, compare.html and compare.csv.", valueName: "dir"))
    var out: String = "Reports/compare"

    @Option(parsing: .unconditional, help: ArgumentHelp("Analyse every Nth frame.", valueName: "n"))
    var every: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Analyse at this many frames per second of clip time instead of --every.", valueName: "f"))
    var fps: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this many frames of each clip.", valueName: "n"))
    var maxFrames: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Occlusion patches per analysed frame (the same patches for every model).", valueName: "k"))
    var patches: Int = 16

    @Option(help: ArgumentHelp("Patch side as a fraction of each model's input side; a range like 0.125-0.25 draws sizes uniformly.", valueName: "fraction"))
    var patchSize: String = "0.25"

    @Option(help: ArgumentHelp("What hides the pixels under a patch: gray (the mean), black, blur or noise.", valueName: "fill"))
    var fill: PatchFill = .gray

    @Option(help: ArgumentHelp("Seed for patch positions and the bootstrap.", valueName: "s"))
    var seed: UInt64 = 0

    @Option(help: CorruptionFlags.listHelp)
    var corruptions: String?

    @Option(help: ArgumentHelp("Corruption severities: one (3), a range (1-5), a list (1,3,5) or all.", valueName: "s"))
    var severity: String = "3"

    @OptionGroup var explainerOptions: ExplainerOptions

    @Option(help: ArgumentHelp("The model the others are gated against (its path, its name, or its position from 1).", valueName: "model"))
    var baseline: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --baseline: exit 1 when a candidate's mean retention is lower than the baseline's by more than MARGIN with 95% confidence.", valueName: "margin"))
    var failIfWorse: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Network read timeout in seconds for URLs.", valueName: "seconds"))
    var timeout: Double = 10

    func validate() throws {
        guard !clips.isEmpty else { throw ValidationError("Give at least one clip to compare the models on.") }
        guard models.count >= 2 else { throw ValidationError("Give two or more models to compare, each with --model PATH (got \(models.count)).") }
        try Analyze.validateSelection(every: every, fps: fps, maxFrames: maxFrames)
        guard (1...4096).contains(patches) else { throw ValidationError("--patches must be between 1 and 4096, got \(patches).") }
        _ = try Analyze.parsePatchSize(patchSize)
        if let failIfWorse, !(failIfWorse >= 0 && failIfWorse <= 1) { throw ValidationError("--fail-if-worse takes a retention margin between 0 and 1, got \(failIfWorse).") }
        if failIfWorse != nil && baseline == nil { throw ValidationError("--fail-if-worse needs --baseline MODEL, the model the others must not be worse than.") }
        guard timeout > 0 && timeout <= 86_400 else { throw ValidationError("--timeout must be more than 0 and at most 86400 seconds, got \(timeout).") }
        _ = try CorruptionFlags.parse(corruptions, severity: severity)
    }

    func run() throws {
        var classifiers: [Classifier] = []
        for m in models {
            do { classifiers.append(try Classifier(modelPath: m)) } catch {
                printError(error)
                throw ExitCode(ExitStatus.inputError.rawValue)
            }
        }
        // Names: the card's, else the file's; made unique.
        var names: [String] = []
        for (i, c) in classifiers.enumerated() {
            var name = c.card.name ?? ((models[i] as NSString).lastPathComponent as NSString).deletingPathExtension
            if names.contains(name) { name += " (\(i + 1))" }
            names.append(name)
        }
        var o = CompareOptions()
        o.outDirectory = out
        o.every = every ?? 1
        o.fps = fps
        o.maxFrames = maxFrames
        var p = AnalysisParameters()
        p.patches = patches
        (p.patchSizeLow, p.patchSizeHigh) = try Analyze.parsePatchSize(patchSize)
        p.fill = fill
        p.seed = seed
        (p.corruptions, p.severities) = try CorruptionFlags.parse(corruptions, severity: severity)
        try explainerOptions.apply(to: &p)
        o.parameters = p
        o.networkTimeout = timeout
        o.failIfWorse = failIfWorse
        o.engine = .cli
        o.commandLine = (["vigil"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        if let baseline {
            guard let b = models.firstIndex(of: baseline) ?? names.firstIndex(of: baseline) ?? Int(baseline).flatMap({ (1...models.count).contains($0) ? $0 - 1 : nil }) else {
                printError(ValidationError("--baseline '\(baseline)' is none of the --model paths or names (\(names.joined(separator: ", "))) nor a position from 1 to \(models.count)."))
                throw ExitCode(ExitStatus.usage.rawValue)
            }
            o.baseline = b
        }
        let cancel = CancellationFlag()
        let signals = SignalTrap(cancel: cancel)
        defer { signals.restore() }
        let tty = isatty(STDERR_FILENO) != 0
        let result: CompareResult
        do {
            result = try CompareRunner(classifiers: classifiers, names: names, options: o, cancel: cancel).run(clips: clips) { line in
                if tty { FileHandle.standardError.write(Data("\r  \(line)   ".utf8)) }
            }
        } catch let e as ReportingError {
            printError(e); throw ExitCode(ExitStatus.outputError.rawValue)
        } catch {
            printError(error); throw ExitCode(ExitStatus.inputError.rawValue)
        }
        if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        var lines: [String] = []
        for m in result.models {
            lines.append(String(format: "%@: mean retention %.3f [%.3f, %.3f] over %d frames, %.1f ms per frame", m.name, m.meanRetention,
                                m.retentionInterval.low, m.retentionInterval.high, m.analysedFrames, m.msPerFrame))
            if let f = m.faithfulness {
                lines.append("  faithfulness, insertion - deletion AUC: " + f.enumerated().map { i, s in
                    String(format: "%@%@ %.3f", s.method == "random" ? "" : "\(i + 1). ", s.method, s.score.mean) }.joined(separator: ", "))
            }
        }
        for pr in result.pairs {
            lines.append(String(format: "%@ - %@: retention %+.3f [%+.3f, %+.3f], top-1 agreement %.2f", names[pr.b], names[pr.a], pr.retentionDifference,
                                pr.differenceInterval.low, pr.differenceInterval.high, pr.top1Agreement))
        }
        if let g = result.gate { lines += g.passed ? ["PASS: no candidate is worse than \(names[g.baseline]) by more than \(g.margin)"] : g.failures.map { "FAIL: " + $0 } }
        lines.append("-> \((out as NSString).appendingPathComponent("compare.html"))")
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        if cancel.isCancelled { throw ExitCode(ExitStatus.interrupted.rawValue) }
        if result.gate?.passed == false { throw ExitCode(ExitStatus.failed.rawValue) }
    }
}

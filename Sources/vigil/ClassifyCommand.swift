import ArgumentParser
import Foundation
import TensorCore
import MediaIO
import Robustness

/// `vigil classify`: top-k labels for images and clips.
struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the top-k labels and probabilities for images (PNG, JPEG, ...) or video frames.",
        discussion: "Exit status: 0 success; 64 usage error; 65 an input or the model could not be read (other inputs are still classified).")

    @Argument(help: ArgumentHelp("Images or clips (anything this FFmpeg decodes).", valueName: "image-or-clip"))
    var inputs: [String]

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: ArgumentHelp("How many classes to print.", valueName: "k"))
    var top: Int = 5

    @Option(help: ArgumentHelp("For clips: classify every Nth frame instead of only the first.", valueName: "n"))
    var every: Int?

    @Flag(help: "Print one JSON object per classified frame.")
    var json = false

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("Give at least one image or clip to classify.") }
        guard top >= 1 else { throw ValidationError("--top must be 1 or more, got \(top).") }
        if let every, every < 1 { throw ValidationError("--every must be 1 or more, got \(every).") }
    }

    struct Record: Codable { var input: String; var frame: Int; var pts: Double; var top: [ClassScore] }

    func run() throws {
        let classifier: Classifier
        do { classifier = try modelOptions.loadClassifier() } catch {
            printError(error); throw ExitCode(ExitStatus.inputError.rawValue)
        }
        let session = classifier.makeSession(configuration: .cli)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var failed = false
        for path in inputs {
            do {
                let source = try VideoSource(url: path, options: .init(maxFrames: every == nil ? 1 : nil, every: every ?? 1))
                while let f = try source.nextFrame() {
                    let (input, _) = classifier.preprocess(f.image)
                    let probs = try session.probabilities(input, batch: 1)[0]
                    let best = topK(probs, top).map { ClassScore(index: $0, label: classifier.label($0), probability: probs[$0]) }
                    if json {
                        print(String(decoding: try enc.encode(Record(input: path, frame: f.index, pts: f.pts, top: best)), as: UTF8.self))
                    } else {
                        print(every == nil ? "\(path):" : "\(path) frame \(f.index) (\(String(format: "%.3f", f.pts)) s):")
                        for s in best { print(String(format: "  %6.2f%%  %@ (%d)", Double(s.probability) * 100, s.label, s.index)) }
                    }
                }
            } catch {
                printError(error); failed = true
            }
        }
        if failed { throw ExitCode(ExitStatus.inputError.rawValue) }
    }
}

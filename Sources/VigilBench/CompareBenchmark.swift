import ArgumentParser
import Foundation
import Imaging
import MediaIO

/// `vigil-bench compare`: a 2-model `vigil compare --corruptions all` against the onnxruntime + imagecorruptions peer
/// (`scripts/benchmarks/peer_compare.py`) on the same clip, frames and models, in one invocation; then each corruption
/// alone, Swift against the peer's Python, so the table shows where corruption time goes.
struct CompareBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run a 2-model vigil compare with --corruptions all and the onnxruntime + imagecorruptions peer on the same frames; print frames per second, the ratio, and each corruption's time in both.")

    @Option(help: "Clip to compare the models on.")
    var clip = "Fixtures/video/vtest.avi"

    @Option(help: "Frames to analyse, from the clip's start.")
    var frames = 12

    @Option(help: "Corruption severity (1-5).")
    var severity = 3

    @Option(help: "Occlusion patches per frame.")
    var patches = 16

    @Option(help: "The vigil binary to time (build it with `swift build -c release --product vigil`).")
    var vigil = ".build/release/vigil"

    @Option(help: "Python with the peer's packages (default: scripts/benchmarks/setup-peers creates .venv-peers; the peer also needs imagecorruptions 1.1.2 and scikit-image 0.20).")
    var python: String?

    @Option(help: "Scratch folder for the second model's card and the outputs.")
    var out = "/tmp/vigil-bench-compare"

    @Option(help: "Rounds: each runs vigil compare and then the peer, so both see the same drift in the machine's speed.")
    var rounds = 2

    @Option(help: "Timed repeats of each corruption in the per-corruption table (0 skips the table).")
    var repeats = 5

    func run() throws {
        guard rounds >= 1, frames >= 1, (1...5).contains(severity) else { throw ValidationError("--rounds and --frames must be at least 1 and --severity 1-5") }
        try? FileManager.default.removeItem(atPath: out)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let py = python ?? PeerPython.locate()
        let (modelA, cardA, modelB, cardB) = try Self.models(in: out)
        var ours: [Double] = [], peer: [Double] = [], peerCorruptSeconds: [Double] = []
        for round in 0..<rounds {
            let dir = out + "/round\(round)"
            let t0 = Date()
            _ = try PeerPython.runLines(vigil, ["compare", clip, "--model", modelA, "--model", modelB, "--max-frames", "\(frames)",
                                                "--patches", "\(patches)", "--corruptions", "all", "--severity", "\(severity)", "--out", dir + "/vigil"])
            ours.append(Double(frames) / Date().timeIntervalSince(t0))
            let lines = try PeerPython.runLines(py, ["scripts/benchmarks/peer_compare.py", "--clip", clip, "--frames", "\(frames)", "--card", cardA,
                                                     "--card", cardB, "--patches", "\(patches)", "--severity", "\(severity)", "--threads", "2",
                                                     "--out", dir + "/peer", "--quiet"])
            let f = PeerPython.fields(lines.last ?? "")
            peer.append(Double(f["fps"] ?? "") ?? .nan); peerCorruptSeconds.append(Double(f["corruption_seconds"] ?? "") ?? .nan)
        }
        print("clip \(clip), first \(frames) frames, 2 models (EfficientNet-Lite0 centre-cropped and stretched), K = \(patches) patches, --corruptions all (\(Corruption.allCases.count)) --severity \(severity), 2 cores; \(rounds) round(s), medians")
        print("| pipeline | frames/s | range | Vigil speed-up | rounds' speed-ups |")
        print("|---|---|---|---|---|")
        print(String(format: "| vigil compare (process wall time, model loading included) | %.3f | %.3f-%.3f | - | - |", median(ours), ours.min()!, ours.max()!))
        print(String(format: "| onnxruntime + imagecorruptions (peer_compare.py; %.0f%% of its time in corruptions) | %.3f | %.3f-%.3f | %.1fx | %@ |",
                     100 * median(peerCorruptSeconds) * median(peer) / Double(frames), median(peer), peer.min()!, peer.max()!, median(ours) / median(peer),
                     zip(ours, peer).map { String(format: "%.1fx", $0 / $1) }.joined(separator: ", ")))
        if repeats > 0 { try corruptionTable(python: py, card: cardA) }
    }

    /// Each corruption on the first model's input of the clip's first frame: Swift (median of `repeats`) and the peer.
    func corruptionTable(python py: String, card: String) throws {
        let source = try VideoSource(url: clip, options: .init(maxFrames: 1))
        guard let frame = try source.nextFrame() else { throw ValidationError("\(clip) has no frame") }
        // The card's centre crop (7/8 of the short side) at 224x224, bicubic: what the corruptions see.
        let img = frame.image, side = Int((0.875 * Double(min(img.width, img.height))).rounded(.down))
        let input = img.cropped(x: (img.width - side + 1) / 2, y: (img.height - side + 1) / 2, width: side, height: side)
            .resized(width: 224, height: 224, filter: .bicubic)
        let codec = H264RoundTrip()
        var swift: [Corruption: Double] = [:]
        for c in Corruption.allCases {
            blackHole(try c.apply(to: input, severity: severity, seed: 0, codec: codec))
            let ts = try (0..<repeats).map { r -> Double in
                let t0 = DispatchTime.now().uptimeNanoseconds
                blackHole(try c.apply(to: input, severity: severity, seed: UInt64(r), codec: codec))
                return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            }
            swift[c] = median(ts)
        }
        let lines = try PeerPython.runLines(py, ["scripts/benchmarks/peer_compare.py", "--clip", clip, "--card", card, "--severity", "\(severity)",
                                                 "--out", out + "/times", "--time-corruptions", "\(repeats)"])
        var python: [String: Double] = [:]
        for l in lines { let kv = l.split(separator: "="); if kv.count == 2, let v = Double(kv[1]) { python[String(kv[0])] = v } }
        print("\nEach corruption alone on a 224x224 model input, severity \(severity), one thread, median of \(repeats) (ms):")
        print("| corruption | Vigil (Swift) | peer (imagecorruptions / numpy / PyAV) | Vigil speed-up |")
        print("|---|---|---|---|")
        for c in Corruption.allCases.sorted(by: { swift[$0]! > swift[$1]! }) {
            let p = python[c.name] ?? .nan
            print(String(format: "| %@ | %.2f | %.2f | %.1fx |", c.name, swift[c]!, p, p / swift[c]!))
        }
        let ts = swift.values.reduce(0, +), tp = python.values.reduce(0, +)
        print(String(format: "| all %d | %.1f | %.1f | %.1fx |", Corruption.allCases.count, ts, tp, tp / ts))
    }

    /// The bundled model and a second one: the same file under another name with a card that stretches the frame to the
    /// input size instead of centre-cropping it (so the two models see different inputs, and corrupt them separately).
    static func models(in dir: String) throws -> (String, String, String, String) {
        let modelA = "Fixtures/models/efficientnet_lite0.onnx", cardA = "Fixtures/models/efficientnet_lite0.card.json"
        let modelB = dir + "/lite0-stretch.onnx", cardB = dir + "/lite0-stretch.card.json"
        let cwd = FileManager.default.currentDirectoryPath
        try FileManager.default.createSymbolicLink(atPath: modelB, withDestinationPath: cwd + "/" + modelA)
        var card = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cardA))) as? [String: Any] ?? [:]
        card["model"] = "lite0-stretch.onnx"
        card["name"] = "EfficientNet-Lite0, stretched input"
        card["labels"] = cwd + "/Fixtures/models/imagenet_labels.txt"
        card["resize"] = ["policy": "stretch", "filter": "bicubic"]
        try JSONSerialization.data(withJSONObject: card, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: cardB))
        return (modelA, cardA, modelB, cardB)
    }
}

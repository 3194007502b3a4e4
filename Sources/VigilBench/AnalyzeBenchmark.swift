import ArgumentParser
import Foundation

/// `vigil-bench analyze`: the whole job, Vigil against the two ways users do it today, in one invocation.
struct AnalyzeBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Run vigil analyze, the PyTorch + pytorch-grad-cam peer and the onnxruntime peer on the same clip, patches and model; print frames per second and the ratios.")

    @Option(help: "Clip to analyse.")
    var clip = "Fixtures/video/vtest.avi"

    @Option(help: "Seconds of the clip, from its start.")
    var seconds = 20.0

    @Option(help: "Occlusion patches per frame.")
    var patches = 16

    @Option(help: "Patch side as a fraction of the input side.")
    var patchSize = "0.25"

    @Option(help: "Model card JSON (its model path relative to it) for Vigil and the onnxruntime peer (default: the bundled EfficientNet-Lite0). The PyTorch peer runs only the bundled model.")
    var card: String?

    @Option(help: "The vigil binary to time (build it with `swift build -c release --product vigil`).")
    var vigil = ".build/release/vigil"

    @Option(help: "Extra arguments for vigil analyze, e.g. \"--threads 1\" (default: none, vigil's own defaults).")
    var vigilArgs = ""

    @Option(help: "Which peers to run: torch, ort, or both (comma-separated).")
    var peers = "torch,ort"

    @Option(help: "Python with the peers' packages (default: scripts/benchmarks/setup-peers creates .venv-peers).")
    var python: String?

    @Option(help: "Scratch folder for the outputs.")
    var out = "/tmp/vigil-bench-analyze"

    @Option(help: "Rounds: each runs vigil analyze and then the onnxruntime peer, so both see the same drift in the machine's speed; the medians and each round's ratio are printed.")
    var rounds = 3

    @Option(help: "Rounds that also run the PyTorch peer (about two minutes each).")
    var torchRounds = 1

    func run() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        try? FileManager.default.removeItem(atPath: out)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let py = python ?? PeerPython.locate()
        let peerList = peers.split(separator: ",").map(String.init)
        var fps: [String: [Double]] = [:], frames: [String: Int] = [:]
        let vigilName = "vigil analyze" + (vigilArgs.isEmpty ? "" : " \(vigilArgs)")
        for round in 0..<rounds {
            // (a) Vigil.
            var args = ["analyze", clip, "--out", out + "/vigil", "--duration", "\(seconds)", "--patches", "\(patches)", "--patch-size", patchSize, "--seed", "0"]
            if let card {
                let dir = (card as NSString).deletingLastPathComponent
                let model = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: card))) as? [String: Any])?["model"] as? String ?? ""
                args += ["--model", (dir as NSString).appendingPathComponent(model), "--card", card]
            }
            args += vigilArgs.split(separator: " ").map(String.init)
            let t0 = Date()
            _ = try PeerPython.runLines(vigil, args)
            let wallProcess = Date().timeIntervalSince(t0)
            let name = ((clip as NSString).lastPathComponent as NSString).deletingPathExtension
            let reportData = try Data(contentsOf: URL(fileURLWithPath: out + "/vigil/\(name)/report.json"))
            let report = try JSONSerialization.jsonObject(with: reportData) as? [String: Any] ?? [:]
            let n = report["frameCount"] as? Int ?? (report["frames"] as? [Any])?.count ?? 0   // schema 2, else 1
            let timing = report["timing"] as? [String: Any] ?? [:]
            let wall = timing["wallSeconds"] as? Double ?? wallProcess
            fps[vigilName, default: []].append(Double(n) / wall); frames[vigilName] = n
            // (b), (c) the peers.
            for peer in peerList where (peer != "torch" || round < torchRounds) && (peer != "torch" || card == nil) {
                let script = "scripts/benchmarks/peer_\(peer).py"
                let lines = try PeerPython.runLines(py, [script, "--clip", clip, "--seconds", "\(seconds)", "--patches", "\(patches)",
                                                         "--patch-size", patchSize, "--seed", "0", "--out", out + "/\(peer)", "--threads", "2", "--quiet"]
                                                 + (card.map { ["--card", $0] } ?? []))
                let f = PeerPython.fields(lines.last ?? "")
                let label = peer == "torch" ? "PyTorch + pytorch-grad-cam (peer_torch.py)" : "onnxruntime + hand Grad-CAM (peer_ort.py)"
                fps[label, default: []].append(Double(f["fps"] ?? "") ?? .nan); frames[label] = Int(f["frames"] ?? "") ?? 0
            }
        }
        print("clip \(clip), first \(seconds) s, every frame, K = \(patches) patches of \(patchSize), \(card.map { ($0 as NSString).lastPathComponent } ?? "EfficientNet-Lite0"), 2 cores; \(rounds) round(s), medians")
        print("| pipeline | frames | frames/s | range | Vigil speed-up | rounds' speed-ups |")
        print("|---|---|---|---|---|---|")
        let ours = fps[vigilName]!
        let labels = [vigilName] + fps.keys.filter { $0 != vigilName }.sorted()
        for label in labels {
            let v = fps[label]!
            let perRound = zip(ours, v).map { $0 / $1 }
            print(String(format: "| %@ | %d | %.2f | %.2f-%.2f | %@ | %@ |", label, frames[label] ?? 0, median(v), v.min()!, v.max()!,
                         label == vigilName ? "-" : String(format: "%.1fx", median(ours) / median(v)),
                         label == vigilName ? "-" : perRound.map { String(format: "%.1fx", $0) }.joined(separator: ", ")))
        }
    }
}

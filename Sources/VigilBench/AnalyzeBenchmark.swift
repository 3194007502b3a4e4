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

    func run() throws {
        try? FileManager.default.removeItem(atPath: out)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        // (a) Vigil.
        var args = ["analyze", clip, "--out", out + "/vigil", "--duration", "\(seconds)", "--patches", "\(patches)", "--patch-size", patchSize, "--seed", "0"]
        args += vigilArgs.split(separator: " ").map(String.init)
        let t0 = Date()
        _ = try PeerPython.runLines(vigil, args)
        let wallProcess = Date().timeIntervalSince(t0)
        let name = ((clip as NSString).lastPathComponent as NSString).deletingPathExtension
        let reportData = try Data(contentsOf: URL(fileURLWithPath: out + "/vigil/\(name)/report.json"))
        let report = try JSONSerialization.jsonObject(with: reportData) as? [String: Any] ?? [:]
        let frames = (report["frames"] as? [Any])?.count ?? 0
        let timing = report["timing"] as? [String: Any] ?? [:]
        let wall = timing["wallSeconds"] as? Double ?? wallProcess
        var rows: [(String, Double, Int)] = [("vigil analyze" + (vigilArgs.isEmpty ? "" : " \(vigilArgs)"), Double(frames) / wall, frames)]
        // (b), (c) the peers.
        let py = python ?? PeerPython.locate()
        for peer in peers.split(separator: ",").map(String.init) {
            let script = "scripts/benchmarks/peer_\(peer).py"
            let lines = try PeerPython.runLines(py, [script, "--clip", clip, "--seconds", "\(seconds)", "--patches", "\(patches)",
                                                     "--patch-size", patchSize, "--seed", "0", "--out", out + "/\(peer)", "--threads", "2", "--quiet"])
            let f = PeerPython.fields(lines.last ?? "")
            rows.append((peer == "torch" ? "PyTorch + pytorch-grad-cam (peer_torch.py)" : "onnxruntime + hand Grad-CAM (peer_ort.py)",
                         Double(f["fps"] ?? "") ?? .nan, Int(f["frames"] ?? "") ?? 0))
        }
        print("clip \(clip), first \(seconds) s, every frame, K = \(patches) patches of \(patchSize), EfficientNet-Lite0, 2 cores")
        print("| pipeline | frames | frames/s | Vigil speed-up |")
        print("|---|---|---|---|")
        for r in rows {
            print(String(format: "| %@ | %d | %.2f | %@ |", r.0, r.2, r.1, r.0.hasPrefix("vigil") ? "-" : String(format: "%.1fx", rows[0].1 / r.1)))
        }
    }
}

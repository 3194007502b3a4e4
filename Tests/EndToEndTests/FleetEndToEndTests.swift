import Foundation
import Testing
import TestSupport

/// Fleet runs through the built binary: a manifest analysed whole and in shards gives the same numbers after
/// `vigil merge`; a shard run again keeps the clips it already did; a missing shard makes the merge exit 74.
/// (The same flow on a real Slurm cluster is scripts/slurm/test-fleet.)
@Suite(.serialized) struct FleetEndToEndTests {
    static let clips = ["carphone_pristine.mp4", "tree.avi", "synth_h264.mp4", "bikes.mp4", "synth_vp9.webm"]

    static func manifest(_ dir: String) throws -> String {
        let path = dir + "/cameras.csv"
        var text = "clip,name,start\n"
        for (i, c) in clips.enumerated() { text += "\(FixturePaths.path("Fixtures/video/" + c)),cam-\(i),\(i == 1 ? "0.5" : "")\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func index(_ path: String) throws -> JSONValue {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try JSONSchemaValidator(schemaFile: FixturePaths.path("scripts/schema/index.schema.json")).validate(document: data)
        return try JSONValue.parse(data)
    }

    @Test func shardsMergeToTheUnshardedNumbers() throws {
        let dir = Subprocess.tempDirectory("fleet")
        let m = try Self.manifest(dir)
        let flags = ["--max-frames", "3", "--patches", "4", "--no-video"]
        let whole = try Subprocess.vigil(["analyze", "--manifest", m, "--out", dir + "/ref"] + flags)
        #expect(whole.status == 0, "\(whole.stderr)")
        for i in 0..<3 {
            let r = try Subprocess.vigil(["analyze", "--manifest", m, "--shard", "\(i)/3", "--out", dir + "/out"] + flags)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let merged = try Subprocess.vigil(["merge", dir + "/out/shards/0", dir + "/out/shards/1", dir + "/out/shards/2"])
        #expect(merged.status == 0, "\(merged.stderr)")
        let ref = try Self.index(dir + "/ref/index.json"), out = try Self.index(dir + "/out/index.json")
        let a = ref["clips"]?.arrayValue ?? [], b = out["clips"]?.arrayValue ?? []
        #expect(a.count == 5 && b.count == 5)
        for (x, y) in zip(a, b) {
            for key in ["clip", "status", "meanRetention", "retentionInterval", "analysedFrames", "position"] { #expect(x[key] == y[key], "\(key): \(x) vs \(y)") }
        }
        #expect(b.map { $0["folder"]?.stringValue ?? "" } == ["shards/0/cam-0", "shards/1/cam-1", "shards/2/cam-2", "shards/0/cam-3", "shards/1/cam-4"])
        // The per-clip start is recorded and shards write the same reports.
        let r1 = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: dir + "/out/shards/1/cam-1/report.json")))
        #expect(r1["provenance"]?["parameters"]?["start"]?.double == 0.5)
        #expect(try String(contentsOfFile: dir + "/out/shards/1/cam-1/frames.csv", encoding: .utf8)
                == String(contentsOfFile: dir + "/ref/cam-1/frames.csv", encoding: .utf8))
        #expect(try String(contentsOfFile: dir + "/out/index.html", encoding: .utf8).contains("least robust first"))

        // Run shard 0 again: its clips are kept, not analysed again; with other parameters they are analysed again.
        let again = try Subprocess.vigil(["analyze", "--manifest", m, "--shard", "0/3", "--out", dir + "/out"] + flags)
        #expect(again.status == 0 && again.stderr.contains("kept"), "\(again.stderr)")
        #expect(try Self.index(dir + "/out/shards/0/index.json")["clips"]?.arrayValue?.allSatisfy { $0["reused"]?.boolValue == true } == true)
        let changed = try Subprocess.vigil(["analyze", "--manifest", m, "--shard", "0/3", "--out", dir + "/out", "--seed", "9"] + flags)
        #expect(changed.status == 0 && !changed.stderr.contains("kept"), "\(changed.stderr)")

        // A missing shard: the merge lists its clips as not analysed and exits 74.
        let partial = try Subprocess.vigil(["merge", dir + "/out/shards/0", dir + "/out/shards/2", "--out", dir + "/partial"])
        #expect(partial.status == 74, "\(partial.stderr)")
        let p = try Self.index(dir + "/partial/index.json")
        #expect(p["fleet"]?["missingShards"] == .array([.integer(1)]))
        #expect(p["clips"]?.arrayValue?.filter { $0["status"]?.stringValue == "not-analysed" }.count == 2)
        // Folders that are not shards are refused.
        let wrong = try Subprocess.vigil(["merge", dir + "/ref"])
        #expect(wrong.status == 65 && wrong.stderr.contains("not a shard"), "\(wrong.stderr)")
    }

    @Test func shardFlagsAreChecked() throws {
        let cases: [([String], String)] = [
            (["--manifest", "/tmp/x.txt", "--shard", "4/4"], "0 <= I < N"),
            (["--manifest", "/tmp/x.txt", "--shard", "a/b"], "I/N"),
            (["Fixtures/video/tree.avi", "--shard", "0/2"], "--shard needs --manifest"),
            (["Fixtures/video/tree.avi", "--manifest", "/tmp/x.txt"], "either clips or --manifest"),
        ]
        for (args, text) in cases {
            let r = try Subprocess.vigil(["analyze"] + args)
            #expect(r.status == 64 && r.stderr.contains(text), "\(args): \(r.stderr)")
        }
        let r = try Subprocess.vigil(["analyze", "--manifest", "/nonexistent/list.txt"])
        #expect(r.status == 65 && r.stderr.contains("/nonexistent/list.txt"), "\(r.stderr)")
    }
}

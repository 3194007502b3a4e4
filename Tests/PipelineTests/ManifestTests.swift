import Foundation
@testable import Pipeline
import Reporting
import Testing
import TestSupport

@Suite struct ManifestTests {
    static func write(_ text: String, name: String) -> String {
        let dir = Subprocess.tempDirectory("manifest")
        let path = dir + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }
    static func sha(_ d: Data) -> String { "h\(d.count)" }

    @Test func linesSkipCommentsAndResolveRelativePaths() throws {
        let path = Self.write("# cameras\n\ncam1.mp4\n  /abs/cam2.mp4  \nrtsp://host:554/live\n", name: "m.txt")
        let m = try Manifest(path: path, sha256: Self.sha)
        let dir = (path as NSString).deletingLastPathComponent
        #expect(m.entries.map(\.clip) == [dir + "/cam1.mp4", "/abs/cam2.mp4", "rtsp://host:554/live"])
        #expect(m.entries.map(\.position) == [0, 1, 2])
    }

    @Test func csvWithQuotedFieldsAndOptionalColumns() throws {
        let path = Self.write("clip,name,target,start,duration\n/a.mp4,front door,\"tabby, cat\",1.5,\n\"/b \"\"x\"\".mp4\",,7,,2\n", name: "m.csv")
        let m = try Manifest(path: path, sha256: Self.sha)
        #expect(m.entries.count == 2)
        #expect(m.entries[0] == ManifestEntry(clip: "/a.mp4", name: "front door", target: "tabby, cat", start: 1.5, duration: nil, position: 0))
        #expect(m.entries[1] == ManifestEntry(clip: "/b \"x\".mp4", name: nil, target: "7", start: nil, duration: 2, position: 1))
    }

    @Test func jsonOfStringsAndObjects() throws {
        let path = Self.write(#"["/a.mp4", {"clip": "/b.mp4", "name": "b", "target": 281, "duration": 4}]"#, name: "m.json")
        let m = try Manifest(path: path, sha256: Self.sha)
        #expect(m.entries[1] == ManifestEntry(clip: "/b.mp4", name: "b", target: "281", start: nil, duration: 4, position: 1))
    }

    @Test func badManifestsSayWhereAndWhy() throws {
        let cases: [(String, String, String)] = [
            ("", "m.txt", "lists no clip"),
            ("file,name\n/a.mp4,a\n", "m.csv", "no 'clip' column"),
            ("clip,camera\n/a.mp4,a\n", "m.csv", "unknown column 'camera'"),
            ("clip,start\n/a.mp4,soon\n", "m.csv", "line 2 start 'soon' is not a number"),
            ("clip,duration\n/a.mp4,-1\n", "m.csv", "line 1 duration must be more than 0"),
            (#"{"clip": "/a.mp4"}"#, "m.json", "is not a JSON array"),
        ]
        for (text, name, expected) in cases {
            let path = Self.write(text, name: name)
            do { _ = try Manifest(path: path, sha256: Self.sha); Issue.record("\(name) \(text) was accepted") } catch {
                #expect("\(error)".contains(expected) && "\(error)".contains(path), "\(error)")
            }
        }
        #expect(throws: ManifestError.self) { try Manifest(path: "/nonexistent/m.txt", sha256: Self.sha) }
    }

    /// Every clip is in exactly one shard, and a manifest that grows at its end keeps every earlier clip in its shard.
    @Test func shardsPartitionAndStayStableWhenTheManifestGrows() throws {
        let small = try Manifest(path: Self.write((0..<10).map { "/c\($0).mp4" }.joined(separator: "\n"), name: "a.txt"), sha256: Self.sha)
        let grown = try Manifest(path: Self.write((0..<17).map { "/c\($0).mp4" }.joined(separator: "\n"), name: "b.txt"), sha256: Self.sha)
        for n in [1, 3, 4, 16] {
            let parts = (0..<n).map { small.shard($0, of: n).map(\.clip) }
            #expect(parts.flatMap { $0 }.sorted() == small.entries.map(\.clip).sorted())
            for i in 0..<n { #expect(Set(parts[i]).isSubset(of: Set(grown.shard(i, of: n).map(\.clip)))) }
        }
    }

    @Test func csvRowsFollowRFC4180() {
        #expect(CSVRows.parse("a,b\r\n\"x,\"\"y\"\"\",\"multi\nline\"\n") == [["a", "b"], ["x,\"y\"", "multi\nline"]])
    }
}

@Suite struct FleetMergeTests {
    static func shard(_ dir: String, _ i: Int, of n: Int, manifest: String = "/m.txt", sha: String = "abc", clips: [IndexEntry]) throws {
        try IndexWriter.write(directory: dir, entries: clips,
                              fleet: FleetInfo(manifest: manifest, manifestSHA256: sha, manifestClips: 5, shard: i, shards: n))
    }

    @Test func mergesInManifestOrderWithFoldersRelativeToOut() throws {
        let out = Subprocess.tempDirectory("merge")
        try Self.shard(out + "/shards/0", 0, of: 2, clips: [
            IndexEntry(clip: "/a", folder: "a", status: "ok", meanRetention: 0.5, position: 0),
            IndexEntry(clip: "/c", folder: "c", status: "failed", error: "cannot open /c", position: 2),
        ])
        try Self.shard(out + "/shards/1", 1, of: 2, clips: [IndexEntry(clip: "/b", folder: "b", status: "ok", meanRetention: 0.9, position: 1)])
        let r = try FleetMerge.merge(shardDirectories: [out + "/shards/1", out + "/shards/0"], into: out)
        #expect(r.entries.map(\.clip) == ["/a", "/b", "/c"])
        #expect(r.entries.map(\.folder) == ["shards/0/a", "shards/1/b", "shards/0/c"])
        #expect(r.fleet.mergedShards == [0, 1] && r.fleet.missingShards == [])
    }

    @Test func missingShardsAndMismatchesAreReported() throws {
        let out = Subprocess.tempDirectory("merge-bad")
        try Self.shard(out + "/shards/0", 0, of: 3, clips: [IndexEntry(clip: "/a", folder: "a", status: "ok", position: 0)])
        let r = try FleetMerge.merge(shardDirectories: [out + "/shards/0"], into: out)
        #expect(r.fleet.missingShards == [1, 2])
        try Self.shard(out + "/other", 1, of: 3, sha: "different", clips: [])
        #expect(throws: FleetMergeError.self) { try FleetMerge.merge(shardDirectories: [out + "/shards/0", out + "/other"], into: out) }
        try Self.shard(out + "/four", 1, of: 4, clips: [])
        #expect(throws: FleetMergeError.self) { try FleetMerge.merge(shardDirectories: [out + "/shards/0", out + "/four"], into: out) }
        #expect(throws: FleetMergeError.self) { try FleetMerge.merge(shardDirectories: [out + "/shards/0", out + "/shards/0"], into: out) }
        #expect(throws: FleetMergeError.self) { try FleetMerge.merge(shardDirectories: [out + "/nothing-here"], into: out) }
    }
}

@Suite struct LiveToolsTests {
    @Test func latencyPercentilesAreWithinTheBucketWidth() {
        var h = LatencyHistogram()
        for i in 1...1000 { h.add(Double(i) / 1000) }  // 1 ms ... 1 s
        for (q, exact) in [(0.5, 0.5), (0.9, 0.9), (0.99, 0.99)] {
            let v = h.quantile(q)!
            #expect(v >= exact && v <= exact * 1.05 + 1e-9, "q\(q): \(v)")
        }
        #expect(h.quantile(1) == 1 && h.samples == 1000)
        #expect(LatencyHistogram().quantile(0.5) == nil)
    }

    @Test func latestSlotKeepsOnlyTheNewest() {
        let slot = LatestSlot<Int>()
        #expect(slot.put(1) == nil)
        #expect(slot.put(2) == 1)
        var seen: [Int] = []
        #expect(slot.take { seen.append($0) } == 2 && seen == [2])
        slot.put(3)
        slot.close()
        #expect(slot.take() == 3)
        #expect(slot.take() == nil)
    }

    @Test func feedKindsByScheme() {
        for url in ["rtsp://cam/1", "UDP://127.0.0.1:5000", "srt://h:1", "rtmp://x/y", "tcp://h:1"] { #expect(LiveFeedKind.isLiveScheme(url), "\(url)") }
        for url in ["clip.mp4", "http://h/a.mp4", "file:///a.mp4", "/x/rtsp.mp4"] { #expect(!LiveFeedKind.isLiveScheme(url), "\(url)") }
    }
}

import Foundation
import Reporting
import Testing

@Suite struct IndexWriterTests {
    @Test func writesIndexJSONAndHTMLWithFailedClips() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let entries = [
            IndexEntry(clip: "clips/a.mp4", folder: "a", status: "ok", meanRetention: 0.91, passed: true),
            IndexEntry(clip: "clips/b <1>.mp4", folder: "b 1", status: "partial", meanRetention: 0.5, passed: false),
            IndexEntry(clip: "rtsp://camera/feed", folder: nil, status: "failed", error: "cannot open rtsp://camera/feed: Connection refused"),
        ]
        try IndexWriter.write(directory: dir.path, entries: entries)
        let data = try Data(contentsOf: URL(fileURLWithPath: dir.file("index.json")))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(root["schemaVersion"] as? String == "1.0")
        let clips = try #require(root["clips"] as? [[String: Any]])
        #expect(clips.count == 3)
        #expect(clips[2]["status"] as? String == "failed" && clips[2]["folder"] == nil)
        struct Index: Decodable { var clips: [IndexEntry] }
        #expect(try JSONDecoder().decode(Index.self, from: data).clips == entries)
        let html = try String.file(dir.file("index.html"))
        #expect(html.contains("href=\"a/report.html\""))
        #expect(html.contains("href=\"b%201/report.html\""))
        #expect(html.contains("clips/b &lt;1&gt;.mp4"))
        #expect(html.contains("Connection refused"))
        #expect(html.contains("1 failed"))
        #expect(!html.contains("rtsp://"), "text URLs are not live references")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["index.html", "index.json"])
    }
}

@Suite struct ReportSchemaTests {
    static var schemaFile: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/schema/report-v1.schema.json")
    }

    @Test func embeddedSchemaMatchesTheCommittedFile() throws {
        let text = try String(contentsOf: Self.schemaFile, encoding: .utf8)
        #expect(text == ReportSchema.v1 + "\n", "run scripts/schema/embed after editing the schema file")
        let folder = Self.schemaFile.deletingLastPathComponent()
        for (file, embedded) in [("report-v2.schema.json", ReportSchema.v2), ("index.schema.json", ReportSchema.index), ("compare.schema.json", ReportSchema.compare), ("live-index.schema.json", ReportSchema.liveIndex)] {
            let t = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(t == embedded + "\n", "run scripts/schema/embed after editing \(file)")
        }
    }

    @Test func schemaIsJSONAndNamesEveryTopLevelKey() throws {
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(ReportSchema.v1.utf8)) as? [String: Any])
        let properties = try #require(schema["properties"] as? [String: Any])
        #expect(Set(properties.keys) == ["schemaVersion", "partial", "provenance", "frames", "summary", "input", "timing"])
        #expect(schema["additionalProperties"] as? Bool == false)
    }

    /// Every key a real report writes is declared by the schema (a light structural check; the full
    /// validation runs in the end-to-end tests).
    @Test func reportKeysAreDeclaredInTheSchema() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let (paths, _) = try ReportFixtures.writeReport(to: dir.path, count: 12, failUnder: 0.8)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: paths.json)))
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(ReportSchema.v1.utf8)) as? [String: Any])
        let defs = try #require(schema["$defs"] as? [String: Any])
        var problems: [String] = []
        func check(_ value: Any, _ node: [String: Any], _ path: String) {
            var node = node
            if let ref = node["$ref"] as? String, let name = ref.split(separator: "/").last, let def = defs[String(name)] as? [String: Any] {
                node = def
            }
            if let object = value as? [String: Any] {
                let props = node["properties"] as? [String: Any] ?? [:]
                for key in (node["required"] as? [String] ?? []) where object[key] == nil { problems.append("\(path).\(key) missing") }
                for (k, v) in object {
                    if let p = props[k] as? [String: Any] { check(v, p, "\(path).\(k)") }
                    else if node["additionalProperties"] as? Bool == false { problems.append("\(path).\(k) not in schema") }
                }
            } else if let array = value as? [Any], let items = node["items"] as? [String: Any] {
                for (i, v) in array.enumerated() { check(v, items, "\(path)[\(i)]") }
            }
        }
        check(report, schema, "$")
        #expect(problems.isEmpty, "\(problems)")
    }
}

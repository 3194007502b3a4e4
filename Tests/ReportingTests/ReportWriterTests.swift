import Foundation
import Reporting
import Robustness
import Testing
import TestSupport

@Suite struct ReportWriterTests {
    @Test func csvHasHeaderAndOneRowPerFrame() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let (paths, _) = try ReportFixtures.writeReport(to: dir.path, count: 23)
        let lines = try String.file(paths.csv).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "frame,pts,top1_index,top1_label,top1_prob,target_index,target_prob,retention,retention_low,retention_high,mean_drop,any_flip,flipped_to,cam_agreement,cam_methods,deletion_auc,insertion_auc,cam_mult_change,random_deletion_auc,random_insertion_auc")
        #expect(lines.last == "", "file ends with a newline")
        #expect(lines.count == 1 + 23 + 1)
        // Frame 3 (source frame 6) flips; labels with commas and quotes are quoted RFC 4180 style.
        let row3 = String(lines[4])
        #expect(row3.hasPrefix("6,0.24,0,\"tabby cat\","), "\(row3)")
        #expect(row3.contains(",0.625,"), "\(row3)")
        #expect(row3.contains(",true,\"car:1;dog, \"\"husky\"\":2\","), "\(row3)")
        // Frame 0 has no CAM agreement: the last column is empty.
        #expect(lines[1].hasSuffix(","))
    }

    @Test func reportJSONHasTheKeysAndFramesWithoutTimings() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let (paths, summary) = try ReportFixtures.writeReport(to: dir.path, count: 30)
        let data = try Data(contentsOf: URL(fileURLWithPath: paths.json))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(root.keys) == ["schemaVersion", "partial", "provenance", "summary", "frames", "timing"])
        #expect(root["schemaVersion"] as? String == "1.0")
        #expect(root["partial"] as? Bool == false)
        let frames = try #require(root["frames"] as? [[String: Any]])
        #expect(frames.count == 30)
        #expect(frames.allSatisfy { $0["timings"] == nil })
        #expect(frames[5]["frame"] as? Int == 10)
        #expect((frames[0]["cam"] as? [Any])?.count == 16)
        #expect((frames[0]["sensitivity"] as? [Any])?.first is NSNull)
        let s = try #require(root["summary"] as? [String: Any])
        #expect(s["analysedFrames"] as? Int == 30)
        #expect((s["worstFrames"] as? [Any])?.count == summary.worstFrames.count)
        let t = try #require(root["timing"] as? [String: Any])
        #expect(t["wallSeconds"] as? Double == 1.25)
        let prov = try #require(root["provenance"] as? [String: Any])
        #expect((prov["model"] as? [String: Any])?["sha256"] as? String == String(repeating: "ab", count: 32))
        #expect((prov["clip"] as? [String: Any])?["frameRate"] as? String == "25/1")
        // Frames decode back into the public record type.
        struct Frames: Decodable { var frames: [FrameRecord] }
        let decoded = try JSONDecoder().decode(Frames.self, from: data)
        #expect(decoded.frames[3].flippedTo == ReportFixtures.frame(3).flippedTo)
        #expect(decoded.frames[7].cam == ReportFixtures.frame(7).cam)
    }

    @Test func reportJSONIsByteIdenticalApartFromTiming() throws {
        let a = TemporaryDirectory("a"), b = TemporaryDirectory("b"); defer { a.remove(); b.remove() }
        let (pa, _) = try ReportFixtures.writeReport(to: a.path, count: 50)
        let other = TimingSummary(wallSeconds: 9.5, analysedFramesPerSecond: 5.26, meanMsPerStage: ["x": 1])
        let (pb, _) = try ReportFixtures.writeReport(to: b.path, count: 50, timing: other)
        let ja = try String.file(pa.json), jb = try String.file(pb.json)
        #expect(ja != jb)
        let marker = ",\n\"timing\": "
        let ra = try #require(ja.range(of: marker, options: .backwards)), rb = try #require(jb.range(of: marker, options: .backwards))
        #expect(ja[..<ra.lowerBound] == jb[..<rb.lowerBound])
        #expect(try String.file(pa.csv) == String.file(pb.csv))
    }

    @Test func fragmentFileIsRemovedAfterFinish() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let writer = try ReportWriter(directory: dir.path, provenance: ReportFixtures.provenance(), format: .v1)
        var acc = ClipAccumulator(worstCount: 3)
        for i in 0..<5 { let f = ReportFixtures.frame(i); try writer.append(f); acc.add(f) }
        #expect(FileManager.default.fileExists(atPath: dir.file(ReportWriter.fragmentName)))
        #expect(writer.count == 5)
        _ = try writer.finish(summary: acc.summary(failUnder: nil), partial: false, timing: ReportFixtures.timing)
        #expect(!FileManager.default.fileExists(atPath: dir.file(ReportWriter.fragmentName)))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["frames.csv", "report.html", "report.json"], "no temporary files left: \(names)")
        #expect(throws: ReportingError.self) { try writer.append(ReportFixtures.frame(5)) }
    }

    /// Version 2: the frames go to frames.jsonl (one schema-valid record per line); report.json holds a series of at
    /// most 2000 points whatever the frame count, and stays small.
    @Test func version2KeepsFramesOutOfReportJSON() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let (paths, _) = try ReportFixtures.writeReport(to: dir.path, count: 4500, thumbnails: false, format: .v2)
        let data = try Data(contentsOf: URL(fileURLWithPath: paths.json))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(root.keys) == ["schemaVersion", "partial", "provenance", "framesFile", "frameCount", "series", "summary", "timing"])
        #expect(root["schemaVersion"] as? String == "2.0")
        #expect(root["frameCount"] as? Int == 4500)
        let series = try #require(root["series"] as? [String: Any])
        #expect(series["bucketFrames"] as? Int == 3)
        #expect((series["points"] as? [Any])?.count == 1500)
        #expect(data.count < 1_000_000, "report.json is \(data.count) bytes")
        let lines = try String.file(dir.file("frames.jsonl")).split(separator: "\n")
        #expect(lines.count == 4500)
        #expect(try JSONDecoder().decode(FrameRecord.self, from: Data(lines[7].utf8)).cam == ReportFixtures.frame(7).cam)
        let validator = try JSONSchemaValidator(schemaFile: FixturePaths.path("scripts/schema/report-v2.schema.json"))
        try validator.validate(document: data)
        for line in lines.prefix(50) { try validator.validate(document: Data(line.utf8), definition: "frame") }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["frames.csv", "frames.jsonl", "report.html", "report.json"], "\(names)")
    }

    /// The series averages frames in buckets: the first point of a 3-frame bucket is the mean of frames 0-2.
    @Test func seriesAveragesBuckets() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        _ = try ReportFixtures.writeReport(to: dir.path, count: 4001, thumbnails: false, format: .v2)
        let series = try FrameSeries.read(path: dir.file("frames.jsonl"), frameCount: 4001)
        #expect(series.bucketFrames == 3 && series.points.count == 1334)
        let f = (0..<3).map { ReportFixtures.frame($0) }
        #expect(abs(series.points[0].retention - f.map(\.retention).reduce(0, +) / 3) < 1e-12)
        #expect(series.points[0].retentionLow == f.map(\.retentionInterval.low).min())
        #expect(abs(series.points[0].pts - f.map(\.pts).reduce(0, +) / 3) < 1e-12)
    }

    @Test func partialFlagIsWrittenAndShown() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let (paths, _) = try ReportFixtures.writeReport(to: dir.path, count: 6, partial: true)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: paths.json))) as? [String: Any])
        #expect(root["partial"] as? Bool == true)
        #expect(try String.file(paths.html).contains("id=\"partial\""))
    }

    @Test func emptyClipStillWritesValidFiles() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let (paths, _) = try ReportFixtures.writeReport(to: dir.path, count: 0, partial: true)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: paths.json))) as? [String: Any])
        #expect((root["frames"] as? [Any])?.isEmpty == true)
        #expect(try String.file(paths.csv).split(separator: "\n").count == 1)
        #expect(try String.file(paths.html).contains("no analysed frames"))
    }

    @Test func thumbnailsArePrunedAndShrunk() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let writer = try ReportWriter(directory: dir.path, provenance: ReportFixtures.provenance())
        var acc = ClipAccumulator(worstCount: 1)
        for i in 0..<4 {
            let f = ReportFixtures.frame(i)
            try writer.append(f); acc.add(f)
            writer.setThumbnail(frame: f.frame, pts: f.pts, original: ReportFixtures.picture(1280, 720, seed: i),
                                overlay: ReportFixtures.picture(1280, 720, seed: i))
        }
        let summary = acc.summary(failUnder: nil)
        #expect(summary.worstFrames.map(\.frame) == [6])
        let html = try String.file(writer.finish(summary: summary, partial: false, timing: ReportFixtures.timing).html)
        let uris = html.components(separatedBy: "data:image/png;base64,").dropFirst()
        #expect(uris.count == 2, "one original and one overlay for the single worst frame")
        for uri in uris {
            let b64 = String(uri.prefix { $0 != "\"" })
            let png = try #require(Data(base64Encoded: b64))
            #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
            // IHDR width and height, big-endian, at bytes 16 and 20.
            let w = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, h = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
            #expect(w == 320 && h == 180, "thumbnail is \(w)x\(h)")
        }
    }
}

/// The summary's occlusion work is the clip's multiply-adds over those of recomputing every copy in full, and windows
/// of a live feed combine it weighted by their frames.
@Suite struct OcclusionWorkTests {
    @Test func summedOverFramesAndCombinedOverWindows() throws {
        var a = ClipAccumulator()
        #expect(a.summary(failUnder: nil).occlusionWork == nil)
        for (i, work) in [(30, 100), (10, 100), (0, 0)].enumerated() {
            var f = ReportFixtures.frame(i)
            f.occlusionWork = work.1 > 0 ? ("incremental", work.0, work.1) : nil
            a.add(f)
        }
        let s = a.summary(failUnder: nil)
        #expect(s.occlusionWork == OcclusionWork(engine: "incremental", multiplyAddShare: 0.2))
        var b = ClipAccumulator()
        var f = ReportFixtures.frame(9)
        f.occlusionWork = ("incremental", 50, 100)
        b.add(f)
        let combined = try #require(ClipSummary.combining([s, b.summary(failUnder: nil)], failUnder: nil))
        // Three frames at 0.2 and one at 0.5.
        #expect(abs(combined.occlusionWork!.multiplyAddShare - (3 * 0.2 + 0.5) / 4) < 1e-12)
        let encoder = JSONEncoder(); encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(s), as: UTF8.self)
        #expect(json.contains("\"occlusionWork\":{\"engine\":\"incremental\",\"multiplyAddShare\":0.2}"), "\(json)")
    }
}

import Foundation
@testable import Reporting
@testable import Robustness
import Testing

/// The review part of report.html: the per-frame block it embeds stays bounded, and so does the whole page, however
/// long the clip.
@Suite struct ReviewPageTests {
    /// The JSON block of the page, decoded.
    static func reviewData(_ html: String) throws -> [String: Any] {
        let open = "<script type=\"application/json\" id=\"review-data\">"
        let start = try #require(html.range(of: open))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        let json = String(html[start.upperBound..<end.lowerBound])
        #expect(!json.contains("<"), "`<` is escaped inside the script element")
        return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    /// A JSON number (JSONSerialization reads `1` as an integer, and other numbers only to about 1e-15).
    static func number(_ v: Any?) -> Double? { (v as? NSNumber)?.doubleValue }

    /// Every frame of a short clip is embedded with its top-5, retention interval, flips and CAM agreement.
    @Test func shortClipsEmbedEveryFrame() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let (paths, summary) = try ReportFixtures.writeReport(to: dir.path, count: 30, thumbnails: false)
        let data = try Self.reviewData(try String.file(paths.html))
        let entries = try #require(data["entries"] as? [[String: Any]])
        #expect(entries.count == 30)
        #expect(data["stride"] as? Int == 1 && data["analysedFrames"] as? Int == 30)
        #expect(Self.number(data["frameDuration"]) == 0.04)
        let f = ReportFixtures.frame(3)   // frame 6: flips to "car" once and to `dog, "husky"` twice
        let e = try #require(entries.first { $0["f"] as? Int == f.frame })
        func close(_ v: Any?, _ x: Double?) -> Bool { abs((Self.number(v) ?? .nan) - (x ?? .nan)) < 1e-12 }
        #expect(close(e["t"], f.pts))
        let labels = try #require(data["labels"] as? [String])
        #expect((e["top"] as? [[String: Any]])?.map { labels[$0["l"] as! Int] } == f.top5.map(\.label))
        #expect(close(e["r"], f.retention) && close(e["lo"], f.retentionInterval.low) && close(e["hi"], f.retentionInterval.high))
        #expect((e["flips"] as? [[String: Any]])?.map { "\(labels[$0["l"] as! Int]):\($0["n"]!)" } == ["dog, \"husky\":2", "car:1"])
        #expect(labels.count == Set(labels).count, "each label once")
        #expect(close(e["cam"], f.camAgreement))
        #expect(Set(summary.worstFrames.map(\.frame)).isSubset(of: Set(entries.compactMap { $0["f"] as? Int })))
    }

    /// A long clip embeds every k-th frame plus the least robust ones: at most about 2000 entries.
    @Test func longClipsEmbedAtMostAbout2000Frames() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let (paths, summary) = try ReportFixtures.writeReport(to: dir.path, count: 4500, thumbnails: false)
        let data = try Self.reviewData(try String.file(paths.html))
        let entries = try #require(data["entries"] as? [[String: Any]])
        #expect(data["stride"] as? Int == 3)
        let frames = entries.compactMap { $0["f"] as? Int }
        #expect(frames.count >= 1500 && frames.count <= 1500 + summary.worstFrames.count)
        #expect(frames == frames.sorted(), "in time order")
        #expect(Set(summary.worstFrames.map(\.frame)).isSubset(of: Set(frames)))
    }

    /// An hour of 60 fps video whose label changes at every frame, with long labels and many flipped-to labels: the
    /// page stays under 5 MB (the timeline is drawn in at most about 2000 runs, the block keeps 2000 frames and
    /// bounds each).
    @Test func anHourOfVideoStaysUnderFiveMegabytes() throws {
        let n = 3600 * 60
        let labels = (0..<6).map { String(repeating: "very long class name \($0) ", count: 6) }
        var acc = ClipAccumulator(worstCount: 5, seed: 1)
        for i in 0..<40 { acc.add(ReportFixtures.frame(i)) }
        var summary = acc.summary(failUnder: 0.5)
        summary.analysedFrames = n
        summary.labelTimeline = (0..<n).map { i in
            LabelSegment(label: labels[i % 2], classIndex: i % 2, startPTS: Double(i) / 60, endPTS: Double(i) / 60, frames: 1)
        }
        var flips: [String: Int] = [:]
        for k in 0..<50 { flips["flipped label \(k) " + labels[k % 6]] = k + 1 }
        let worst = Set(summary.worstFrames.map(\.frame))
        var series = FrameSeries.Builder(frameCount: n)
        var review = ReviewFrames.Builder(frameCount: n, always: worst)
        for i in 0..<n {
            let s = FrameSample(frame: i, pts: Double(i) / 60,
                                top5: (0..<5).map { ClassScore(index: $0, label: labels[$0], probability: 0.2) },
                                retention: 0.5, retentionInterval: Interval(low: 0.25, high: 0.75), meanDrop: 0.1,
                                flippedTo: flips, camAgreement: 0.3)
            series.add(s)
            review.add(s)
        }
        var thumbnails: [Int: Thumbnail] = [:]
        for w in summary.worstFrames {
            thumbnails[w.frame] = Thumbnail(frame: w.frame, pts: w.pts, original: ReportFixtures.picture(320, 240, seed: w.frame),
                                            overlay: ReportFixtures.picture(320, 240, seed: w.frame + 1))
        }
        let page = HTMLReport(provenance: ReportFixtures.provenance(), summary: summary, partial: false, timing: ReportFixtures.timing,
                              frameCount: n, series: series.series, schemaVersion: "2.0", thumbnails: thumbnails,
                              review: review.frames, frameDuration: 1.0 / 60,
                              video: HTMLReport.Video(file: "overlay.mp4", subtitles: "overlay.vtt"))
        let dir = TemporaryDirectory(); defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let out = try BufferedFile(creating: dir.file("report.html"))
        try page.write(to: out)
        try out.close()
        let html = try String.file(dir.file("report.html"))
        let bytes = html.utf8.count
        #expect(bytes < 5_000_000, "report.html is \(bytes) bytes")
        let thumbBytes = html.components(separatedBy: "data:image/png;base64,").dropFirst().map { $0.prefix { $0 != "\"" }.utf8.count }.reduce(0, +)
        #expect(bytes - thumbBytes < 2_000_000, "\(bytes - thumbBytes) bytes besides the thumbnails")
        let segments = html.components(separatedBy: "<rect class=\"segment\"").count - 1
        #expect(segments <= FrameSeries.maxPoints + 1 && segments >= FrameSeries.maxPoints / 2, "\(segments) timeline rectangles")
        let data = try Self.reviewData(html)
        let entries = try #require(data["entries"] as? [[String: Any]])
        #expect(entries.count <= ReviewFrames.maxEntries + worst.count)
        let labelTable = try #require(data["labels"] as? [String])
        let flipsKept = try #require(entries.first?["flips"] as? [[String: Any]])
        #expect(flipsKept.count == ReviewFrames.maxFlips && entries.first?["more"] as? Int == 45)
        #expect(labelTable.allSatisfy { $0.count <= ReviewFrames.maxLabelLength } && labelTable.count == 5 + ReviewFrames.maxFlips, "\(labelTable.count) labels")
    }
}

import Foundation
import Reporting
import Robustness
import Testing

@Suite struct HTMLReportTests {
    @Test(arguments: [(nil, "NO THRESHOLD"), (0.5, "PASS"), (0.99, "FAIL")] as [(Double?, String)])
    func showsVerdictChartsAndThumbnails(failUnder: Double?, verdict: String) throws {
        let dir = TemporaryDirectory("verdict\(verdict)"); defer { dir.remove() }
        let (paths, summary) = try ReportFixtures.writeReport(to: dir.path, count: 40, failUnder: failUnder,
                                                              url: "https://cameras.example.com/live/stream.mp4")
        let html = try String.file(paths.html)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<div class=\"word\">\(verdict)</div>"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 3, "two line charts and the label timeline")
        #expect(html.contains("<polyline"))
        #expect(html.contains("class=\"band\""))
        #expect(html.contains("data:image/png;base64,"))
        #expect(html.components(separatedBy: "data:image/png;base64,").count - 1 == 2 * summary.worstFrames.count)
        #expect(!html.contains("http://") && !html.contains("https://"), "the page must not reference anything online")
        #expect(!html.contains("<script src"), "no external script")
        #expect(html.components(separatedBy: "<script>").count - 1 == 1, "one inline script")
        #expect(html.contains("<script type=\"application/json\" id=\"review-data\">"))
        #expect(html.contains("Mean retention") && html.contains("Pooled retention") && html.contains("Top-1 flip rate"))
        #expect(html.contains("dog, &quot;husky&quot;"), "labels are escaped")
        #expect(!html.contains("id=\"partial\""))
    }

    @Test func longClipsAreDownsampled() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let (paths, _) = try ReportFixtures.writeReport(to: dir.path, count: 4500, thumbnails: false)
        let html = try String.file(paths.html)
        let polylines = html.components(separatedBy: "<polyline").dropFirst()
        #expect(polylines.count == 2)
        for p in polylines {
            let points = p.components(separatedBy: "points=\"")[1].prefix { $0 != "\"" }.split(separator: " ")
            #expect(points.count <= 2000 && points.count >= 1000, "\(points.count) points")
        }
        #expect(try String.file(paths.csv).split(separator: "\n").count == 4501)
    }
}

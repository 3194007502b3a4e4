/// `report.html`: the self-contained page (`HTMLReport`), written once the clip is done.
final class ReportHTMLFile: ReportOutput {
    let path: String
    /// The overlay video and its subtitles the page plays, or nil when there is no video.
    let video: HTMLReport.Video?

    init(path: String, video: HTMLReport.Video?) {
        self.path = path
        self.video = video
    }

    func finish(_ r: FinishedReport) throws {
        try AtomicFile.write(path) { out in
            try HTMLReport(provenance: r.provenance, summary: r.summary, partial: r.partial, timing: r.timing,
                           frameCount: r.frameCount, series: r.series, schemaVersion: r.format.schemaVersion, thumbnails: r.thumbnails,
                           review: r.review, frameDuration: r.frameDuration, video: video)
                .write(to: out)
        }
    }
}

import Robustness

/// `frames.csv`: one row per analysed frame (`FrameCSV`), streamed as the frames come.
final class FrameCSVFile: ReportOutput {
    let path: String
    private let file: BufferedFile

    /// Creates (or truncates) `path` and writes the header.
    /// - Throws: `ReportingError` naming the path.
    init(path: String) throws {
        self.path = path
        file = try BufferedFile(creating: path)
        try file.write(FrameCSV.header)
    }

    func append(_ frame: FrameAnalysis) throws { try file.write(FrameCSV.row(frame)) }

    func close() throws { try file.close() }

    func finish(_ report: FinishedReport) throws {}
}

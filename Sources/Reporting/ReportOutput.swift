import Robustness

/// One file of a clip's report: it takes the analysed frames as they come and writes what needs the whole clip at
/// the end.
///
/// A `ReportWriter` holds a list of outputs and calls them under its lock, in list order: `append` for every analysed
/// frame (in time order), then `close` on every output, then `finish` on every output with the clip's figures.
/// Adding a file to the report is one type conforming to this protocol and one entry in
/// `ReportWriter.standardOutputs` (or, for a caller's own file, `ReportWriter.init(extraOutputs:)`).
public protocol ReportOutput: AnyObject {
    /// Takes the next analysed frame (frames come in time order). Default: nothing.
    /// - Throws: `ReportingError` when the file cannot be written.
    func append(_ frame: FrameAnalysis) throws
    /// Flushes and closes what `append` streamed. Called on every output before any `finish`, so that the frame
    /// records are whole when the clip's figures are read from them. Default: nothing.
    /// - Throws: `ReportingError` when the file cannot be written.
    func close() throws
    /// Writes what needs the whole clip.
    /// - Throws: `ReportingError` when the file cannot be written.
    func finish(_ report: FinishedReport) throws
}

extension ReportOutput {
    public func append(_ frame: FrameAnalysis) throws {}
    public func close() throws {}
}

/// Everything a report output may need once the clip is done: the clip's figures, its downsampled series and where
/// its per-frame records are.
public struct FinishedReport {
    /// The report folder.
    public var directory: String
    public var provenance: Provenance
    /// The report.json version written.
    public var format: ReportFormat
    /// The clip metrics; only thumbnails of its `worstFrames` are kept.
    public var summary: ClipSummary
    /// True when the analysis stopped early (interrupted, or an error).
    public var partial: Bool
    /// What decoding found of the input, when the caller says.
    public var input: InputCompleteness?
    /// Wall-clock figures (report.json writes them apart, as its last key).
    public var timing: TimingSummary
    /// Frames appended.
    public var frameCount: Int
    /// The charts' series, downsampled from the frame records.
    public var series: FrameSeries
    /// The frame records, one JSON line per frame (`ReportWriter.fragmentName`), whole until the records output
    /// (last in the list) finishes.
    public var recordsPath: String
    /// Seconds per source frame, or 0 when the rate is unknown.
    public var frameDuration: Double
    /// The page's per-frame figures.
    var review: ReviewFrames
    /// The worst frames' picture pairs.
    var thumbnails: [Int: Thumbnail]
}

/// `overlay.vtt` as one of the report's outputs: a cue per analysed frame, the last one written at `close`.
extension WebVTTWriter: ReportOutput {
    func close() throws { try finish() }

    func finish(_ report: FinishedReport) throws {}
}

import Foundation
import Reporting
import Robustness

/// The skip-if-done rule of fleet runs: a clip whose folder already holds a complete report made with the same model
/// (bytes and card), the same parameters, the same report version and the same clip bytes is not analysed again, so
/// a failed or pre-empted shard simply runs again.
enum FleetReuse {
    /// What report.json says that the rule needs (unknown keys, frames included, are skipped).
    private struct Stored: Decodable {
        var schemaVersion: String
        var partial: Bool
        var provenance: Provenance
        var summary: ClipSummary
        var input: InputCompleteness?
    }

    /// The outcome of the earlier run when its results can be kept; nil when the clip must be analysed.
    static func outcome(clip: String, folder: String, options: AnalyzeOptions, classifier: Classifier) -> ClipOutcome? {
        let json = (folder as NSString).appendingPathComponent("report.json")
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: json)) else { return nil }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        guard let stored = try? decoder.decode(Stored.self, from: data), !stored.partial,
              stored.schemaVersion == options.reportFormat.schemaVersion,
              stored.provenance.clip.url == clip,
              let sha = stored.provenance.clip.sha256, sha == AnalyzeOptions.fileSHA256(clip),
              stored.provenance.parameters == options.reportParameters,
              sameModel(stored.provenance.model, options.modelInfo(classifier)),
              !options.writeVideo || ["overlay.mp4", "overlay.vtt"].allSatisfy({ FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent($0)) })
        else { return nil }
        let complete = stored.input?.complete ?? true
        return ClipOutcome(clip: clip, folder: folder, status: complete ? .ok : .incomplete, error: complete ? nil : stored.input?.problem,
                           summary: stored.summary, analysedFrames: stored.summary.analysedFrames, framesWritten: 0, wallSeconds: 0,
                           openFailed: false, reused: true)
    }

    /// Equal apart from the path the model was read from (a cluster node may mount it elsewhere).
    static func sameModel(_ a: ModelInfo, _ b: ModelInfo) -> Bool {
        var a = a
        a.path = b.path
        return a == b
    }
}

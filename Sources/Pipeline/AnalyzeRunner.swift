import Foundation
import Imaging
import MediaIO
import Reporting
import Robustness
import TensorCore

/// How a clip's analysis ended.
public struct ClipOutcome: Sendable {
    public enum Status: String, Sendable {
        case ok, partial, failed
        /// Analysed to its end, but the input was incomplete or damaged (see the report's `input`).
        case incomplete
        /// Not started: the run was interrupted before this clip.
        case skipped = "not-analysed"
    }
    public var clip: String
    public var folder: String?
    public var status: Status
    public var error: String?
    public var summary: ClipSummary?
    public var analysedFrames: Int
    public var framesWritten: Int
    public var wallSeconds: Double
    /// True when the clip could not be opened at all.
    public var openFailed: Bool
    /// True when the failure was in writing the outputs (a locked, unwritable or full output folder).
    public var outputFailed: Bool = false
    /// True when earlier complete results were kept instead of analysing the clip again (fleet runs).
    public var reused: Bool = false
    /// The clip's position in the manifest (or in the command line's clip list).
    public var position: Int = 0
}

/// Progress of the run, for a terminal or a log.
public enum ProgressEvent: Sendable {
    case clipStarted(clip: String, index: Int, of: Int, expectedFrames: Int?)
    /// `done` frames analysed of about `total` to analyse (when the input says how long it is), analysed-frame rate.
    /// (A live feed counts the frames received, with no total.)
    case progress(clip: String, done: Int, total: Int?, analysedPerSecond: Double)
    case clipFinished(ClipOutcome)
}

/// Runs `vigil analyze` over clips and feeds: each recorded clip through its stages (`ClipPipeline`) into a staging
/// folder that replaces the clip's folder when done, each live feed through `LiveRunner`, and the index over them.
public final class AnalyzeRunner: @unchecked Sendable {
    public let classifier: Classifier
    public let options: AnalyzeOptions
    public let cancel: CancellationFlag
    let progress: @Sendable (ProgressEvent) -> Void
    /// How live feeds are run; nil runs every input as a recorded clip.
    public var live: LiveOptions? = nil
    /// Whether an input is a live feed (run by `LiveRunner`) rather than a recorded clip.
    public var isLive: @Sendable (String) -> Bool = { _ in false }
    /// The metrics observer for a live feed, when metrics are served.
    public var observer: @Sendable (String) -> LiveObserver? = { _ in nil }
    /// Where live alerts' JSON lines go.
    public var alertOutput: @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }

    public init(classifier: Classifier, options: AnalyzeOptions, cancel: CancellationFlag, progress: @escaping @Sendable (ProgressEvent) -> Void) {
        self.classifier = classifier; self.options = options; self.cancel = cancel; self.progress = progress
    }

    /// Analyses every clip in turn; a clip that fails does not stop the others. Writes an index when there are several.
    public func run(clips: [String]) -> [ClipOutcome] {
        run(entries: clips.enumerated().map { ManifestEntry(clip: $1, position: $0) })
    }

    /// Analyses `entries` (a manifest, or the part of it a shard takes) in turn, each with its own name, target and
    /// window when the manifest gives them. Folder names are made unique over `allEntries` (the whole manifest), so a
    /// clip gets the same folder in every shard layout. With `fleet` set, a clip whose complete results already sit in
    /// its folder (same model, parameters and bytes) is not analysed again, and the index is always written, with
    /// the fleet's facts.
    public func run(entries: [ManifestEntry], allEntries: [ManifestEntry]? = nil, fleet: FleetInfo? = nil) -> [ClipOutcome] {
        let names = folderNames(allEntries ?? entries)
        var outcomes: [ClipOutcome] = []
        for (i, entry) in entries.enumerated() {
            let clip = entry.clip
            if cancel.isCancelled {
                // Listed all the same, so the index shows what the interruption left undone.
                outcomes.append(ClipOutcome(clip: clip, folder: nil, status: .skipped, error: "not analysed: the run was interrupted first",
                                            summary: nil, analysedFrames: 0, framesWritten: 0, wallSeconds: 0, openFailed: false))
                continue
            }
            let liveFeed = live != nil && isLive(clip)
            let folder = (options.outDirectory as NSString).appendingPathComponent(names[entry.position] ?? "clip")
            progress(.clipStarted(clip: clip, index: i, of: entries.count, expectedFrames: nil))
            var o: ClipOutcome
            switch clipRunner(for: entry) {
            case .failure(let error):
                o = ClipOutcome(clip: clip, folder: nil, status: .failed, error: "\(error)", summary: nil, analysedFrames: 0, framesWritten: 0,
                                wallSeconds: 0, openFailed: true)
            case .success(let runner):
                if let live, liveFeed {
                    o = LiveRunner(classifier: classifier, options: runner.options, live: live, cancel: cancel, observer: observer(clip),
                                   alertOutput: alertOutput, progress: progress).run(url: clip, folder: folder)
                } else if fleet != nil, let kept = FleetReuse.outcome(clip: clip, folder: folder, options: runner.options, classifier: classifier) {
                    o = kept
                } else {
                    o = runner.runClip(clip, into: folder)
                }
            }
            o.position = entry.position
            progress(.clipFinished(o))
            outcomes.append(o)
        }
        if entries.count > 1 || fleet != nil {
            let entries = outcomes.map { o in
                IndexEntry(clip: o.clip, folder: o.folder.map { ($0 as NSString).lastPathComponent }, status: o.status.rawValue,
                           error: o.error, meanRetention: o.summary?.meanRetention, passed: o.summary?.passed,
                           retentionInterval: o.summary?.retentionInterval, analysedFrames: o.summary?.analysedFrames,
                           position: fleet == nil ? nil : o.position, reused: o.reused ? true : nil)
            }
            do { try IndexWriter.write(directory: options.outDirectory, entries: entries, fleet: fleet) } catch {
                if fleet != nil, !outcomes.isEmpty {
                    outcomes[outcomes.count - 1].outputFailed = true
                    outcomes[outcomes.count - 1].error = "\(error)"
                }
            }
        }
        return outcomes
    }

    /// One folder name per manifest position: the entry's `name`, or one made from the clip, with `-2`, `-3`, ...
    /// added in manifest order when two would collide.
    func folderNames(_ entries: [ManifestEntry]) -> [Int: String] {
        var used = Set<String>(), names: [Int: String] = [:]
        for e in entries.sorted(by: { $0.position < $1.position }) {
            let live = self.live != nil && isLive(e.clip)
            let first = e.name.map { Self.folderName(for: $0) } ?? Self.folderName(for: e.clip, live: live)
            var base = first, n = 2
            while used.contains(base) { base = first + "-\(n)"; n += 1 }
            used.insert(base)
            names[e.position] = base
        }
        return names
    }

    /// A runner with this entry's own target, start and duration in its options.
    func clipRunner(for entry: ManifestEntry) -> Result<AnalyzeRunner, ManifestError> {
        guard entry.target != nil || entry.start != nil || entry.duration != nil else { return .success(self) }
        var o = options
        if let t = entry.target {
            guard let index = classifier.classIndex(for: t) else {
                return .failure(ManifestError(path: entry.clip, line: entry.position + 1,
                                              reason: "names target '\(t)', which is neither a class index nor a label of the model"))
            }
            o.parameters.targetClass = index
            o.targetDescription = t
        }
        if let s = entry.start { o.source.start = s }
        if let d = entry.duration { o.source.duration = d }
        let r = AnalyzeRunner(classifier: classifier, options: o, cancel: cancel, progress: progress)
        r.live = live; r.isLive = isLive; r.observer = observer; r.alertOutput = alertOutput
        return .success(r)
    }

    /// A folder name from a clip path or URL: the file name without its extension; for a stream URL (rtsp, udp,
    /// rtp, srt, tcp, http without a file name, or any URL run as a live feed) its host, port and path, so two feeds
    /// get two folders. Never empty, never `.` or `..` or anything that starts with a dot (nothing can leave `--out`).
    static func folderName(for clip: String, live: Bool = false) -> String {
        var name: String
        if let u = URLComponents(string: clip), let scheme = u.scheme?.lowercased(), scheme != "file", let host = u.host, !host.isEmpty,
           live || !(["http", "https"].contains(scheme) && !(u.path as NSString).pathExtension.isEmpty) {
            name = ([host] + (u.port.map { ["\($0)"] } ?? []) + u.path.split(separator: "/").map(String.init)).joined(separator: "_")
        } else {
            name = (clip as NSString).lastPathComponent
            if let q = name.firstIndex(of: "?") { name = String(name[..<q]) }
            name = (name as NSString).deletingPathExtension
        }
        let allowed = name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }
        let s = String(String(allowed).drop { $0 == "." })
        return s.isEmpty ? "clip" : s
    }

    /// Analyses one clip into `final` through a staging folder (`OutputFolder`): the folder is replaced only by a
    /// complete report (a partial one after an interruption included) with at least one analysed frame.
    func runClip(_ clip: String, into final: String) -> ClipOutcome {
        let out: OutputFolder
        do { out = try OutputFolder(final: final) } catch {
            return ClipOutcome(clip: clip, folder: nil, status: .failed, error: "\(error)", summary: nil, analysedFrames: 0, framesWritten: 0,
                               wallSeconds: 0, openFailed: false, outputFailed: true)
        }
        var o = ClipPipeline(classifier: classifier, options: options, cancel: cancel, progress: progress).run(clip: clip, folder: out.staging)
        guard o.folder != nil, !o.outputFailed, o.analysedFrames > 0 || o.status != .failed else {
            out.discard()
            o.folder = nil
            return o
        }
        do { try out.commit() } catch {
            out.discard()
            o.folder = nil; o.status = .failed; o.outputFailed = true; o.error = "\(error)"
            return o
        }
        o.folder = final
        return o
    }
}

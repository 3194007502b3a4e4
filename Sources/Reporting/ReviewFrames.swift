import Foundation

/// The per-frame figures `report.html` embeds for its review panel: every `stride`-th analysed frame plus the least
/// robust ones, so that at most about `maxEntries` are embedded however long the clip (the page reads the exact
/// label, probability and retention of every frame from `overlay.vtt` when the browser lets it).
///
/// Each entry is bounded too: labels are cut to `maxLabelLength` characters, written once in `labels` and referred
/// to by index, and only the `maxFlips` most frequent flipped-to labels are kept, so the block stays under about
/// 1.5 MB whatever the model and `--patches`.
struct ReviewFrames: Encodable {
    /// One analysed frame, with short keys (the block is repeated up to `maxEntries` times).
    struct Entry: Encodable, Equatable {
        /// Frame index in the clip and its pts, seconds.
        var f: Int
        var t: Double
        /// Top-5 labels and probabilities, best first.
        var top: [Score]
        /// Retention and its 95% Wilson interval.
        var r: Double?
        var lo: Double?
        var hi: Double?
        /// Mean relative drop of the target's probability.
        var d: Double?
        /// The most frequent labels the flipping patches produced, with their counts, most frequent first.
        var flips: [Flip]
        /// Flipped-to labels left out of `flips`.
        var more: Int
        /// Grad-CAM / occlusion agreement (Pearson r), when defined.
        var cam: Double?
    }

    /// A label (its index in `labels`) and its probability.
    struct Score: Encodable, Equatable {
        var l: Int
        var p: Double?
    }

    /// A flipped-to label (its index in `labels`) and how many patches gave it.
    struct Flip: Encodable, Equatable {
        var l: Int
        var n: Int
    }

    /// Most entries kept at the regular stride (the least robust frames come on top).
    static let maxEntries = 2000
    static let maxLabelLength = 64
    static let maxFlips = 5

    /// Analysed frames between two regularly kept entries.
    var stride: Int
    /// The labels the entries refer to, each once.
    var labels: [String]
    var entries: [Entry]

    /// Picks entries from frames given in time order.
    struct Builder {
        let stride: Int
        let always: Set<Int>
        private var ordinal = 0
        private var entries: [Entry] = []
        private var labels: [String] = []
        private var labelIndex: [String: Int] = [:]

        /// A builder for `frameCount` analysed frames that also keeps the frames in `always` (by frame index).
        init(frameCount: Int, always: Set<Int>) {
            stride = max(1, (frameCount + ReviewFrames.maxEntries - 1) / ReviewFrames.maxEntries)
            self.always = always
        }

        mutating func add(_ s: FrameSample) {
            defer { ordinal += 1 }
            guard ordinal % stride == 0 || always.contains(s.frame) else { return }
            let flips = s.flippedTo.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            entries.append(Entry(f: s.frame, t: s.pts,
                                 top: s.top5.map { Score(l: index($0.label), p: finite(Double($0.probability))) },
                                 r: finite(s.retention), lo: finite(s.retentionInterval.low), hi: finite(s.retentionInterval.high),
                                 d: finite(s.meanDrop),
                                 flips: flips.prefix(maxFlips).map { Flip(l: index($0.key), n: $0.value) },
                                 more: max(0, flips.count - maxFlips), cam: s.camAgreement.flatMap(finite)))
        }

        private mutating func index(_ label: String) -> Int {
            let short = cut(label)
            if let i = labelIndex[short] { return i }
            labels.append(short)
            labelIndex[short] = labels.count - 1
            return labels.count - 1
        }

        var frames: ReviewFrames { ReviewFrames(stride: stride, labels: labels, entries: entries) }
    }

    static func cut(_ label: String) -> String {
        label.count > maxLabelLength ? String(label.prefix(maxLabelLength - 1)) + "…" : label
    }

    /// JSON has no NaN: an undefined figure is left out, and the page shows it as n/a.
    static func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }
}

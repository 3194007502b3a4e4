import Robustness

/// `frames.csv`: one row per analysed frame (RFC 4180 quoting for the text columns).
enum FrameCSV {
    static let columns = ["frame", "pts", "top1_index", "top1_label", "top1_prob", "target_index", "target_prob",
                          "retention", "retention_low", "retention_high", "mean_drop", "any_flip", "flipped_to",
                          "cam_agreement", "cam_methods", "deletion_auc", "insertion_auc", "cam_mult_change",
                          "random_deletion_auc", "random_insertion_auc"]
    static let header = columns.joined(separator: ",") + "\n"

    /// The row of `f`, ending in a newline. `flipped_to` lists `label:count` pairs sorted by label, separated
    /// by `;`; `cam_agreement` is empty when undefined. `cam_methods` lists the `--cam` methods separated by `;`, and
    /// `deletion_auc`, `insertion_auc` and `cam_mult_change` their faithfulness in that order (`--faithfulness`;
    /// empty without it), `random_*` the random pixel order's.
    static func row(_ f: FrameAnalysis) -> String {
        let flipped = f.flippedTo.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ";")
        let fields: [String] = [
            String(f.frame), number(f.pts), String(f.top1.index), quoted(f.top1.label), number(f.top1.probability),
            String(f.target.index), number(f.target.probability), number(f.retention),
            number(f.retentionInterval.low), number(f.retentionInterval.high), number(f.meanDrop),
            f.anyFlip ? "true" : "false", quoted(flipped), f.camAgreement.map(number) ?? "",
            quoted((f.explanations?.map(\.method) ?? ["gradcam"]).joined(separator: ";")),
            faithfulness(f) { number($0.deletionAUC) }, faithfulness(f) { number($0.insertionAUC) },
            faithfulness(f) { $0.camMultChange.map(number) ?? "" },
            f.randomOrder.map { number($0.deletionAUC) } ?? "", f.randomOrder.map { number($0.insertionAUC) } ?? "",
        ]
        return fields.joined(separator: ",") + "\n"
    }

    /// One figure per method, separated by `;`, quoted; empty when faithfulness was not measured.
    static func faithfulness(_ f: FrameAnalysis, _ figure: (Faithfulness) -> String) -> String {
        guard let methods = f.explanations, methods.contains(where: { $0.faithfulness != nil }) else { return "" }
        return quoted(methods.map { $0.faithfulness.map(figure) ?? "" }.joined(separator: ";"))
    }

    /// Shortest round-trip decimal; `nan`/`inf` spelled as such.
    static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : (x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf")) }

    /// Shortest decimal that round-trips the `Float` (not its widened `Double`).
    static func number(_ x: Float) -> String { x.isFinite ? "\(x)" : (x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf")) }

    static func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

import Foundation
import Imaging

/// How faithful a map is to the model on one frame.
///
/// Deletion: the input's pixels are replaced by the baseline (the mean colour, 0 after normalisation) in the order
/// the map ranks them, most relevant first; insertion: the baseline gets the input's pixels back in that order. Each
/// curve is the target's probability at `steps + 1` evenly spaced fractions 0, 1/steps, ..., 1 of the pixels; its
/// AUC is the trapezoid area over [0, 1]. A faithful map has a low deletion AUC and a high insertion AUC.
/// `camMultChange` is pytorch-grad-cam's CAM multiplication confidence change (`metrics/cam_mult_image.py` with
/// `ClassifierOutputSoftmaxTarget`): the target's probability on input x map (the map min-max scaled and resized
/// to the input) minus its probability on the input.
public struct Faithfulness: Codable, Sendable, Equatable {
    public var deletion: [Float]
    public var insertion: [Float]
    public var deletionAUC: Double
    public var insertionAUC: Double
    /// nil for the random-order baseline.
    public var camMultChange: Double?

    public init(deletion: [Float], insertion: [Float], camMultChange: Double?) {
        self.deletion = deletion; self.insertion = insertion; self.camMultChange = camMultChange
        deletionAUC = trapezoidAUC(deletion); insertionAUC = trapezoidAUC(insertion)
    }

    /// Insertion AUC minus deletion AUC: higher is more faithful (the figure methods are ranked by).
    public var score: Double { insertionAUC - deletionAUC }
}

/// Area under a curve sampled at evenly spaced points of [0, 1] (trapezoid rule).
public func trapezoidAUC(_ y: [Float]) -> Double {
    guard y.count > 1 else { return Double(y.first ?? 0) }
    var s = 0.0
    for i in 1..<y.count { s += Double(y[i - 1] + y[i]) / 2 }
    return s / Double(y.count - 1)
}

/// Pixel indices of a map of `count` values, highest value first (ties: lower index first).
public func rankOrder(_ map: [Float]) -> [Int] {
    map.indices.sorted { map[$0] > map[$1] || (map[$0] == map[$1] && $0 < $1) }
}

/// A seeded random order of `count` pixels (Fisher-Yates with SplitMix64): the baseline a map must beat.
public func randomOrder(count: Int, seed: UInt64) -> [Int] {
    var g = SplitMix64(state: seed)
    var order = Array(0..<count)
    if count > 1 { for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, Int(g.next() % UInt64(i + 1))) } }
    return order
}

/// The deletion and insertion copies of a planar input `[channels, plane]` for pixel order `order`: deletion copies
/// for fractions 1..<steps, then insertion copies for 1..<steps (the end points are the clean input and the baseline,
/// which the caller evaluates once), laid end to end.
public func deletionInsertionCopies(_ input: [Float], channels: Int, plane: Int, order: [Int], steps: Int, baseline: Float = 0) -> [Float] {
    precondition(order.count == plane && steps >= 1)
    let item = channels * plane
    var out = [Float](repeating: 0, count: 2 * (steps - 1) * item)
    for j in 1..<steps {
        let n = j * plane / steps
        let d = (j - 1) * item, ins = (steps - 1 + j - 1) * item
        for i in 0..<item { out[d + i] = input[i]; out[ins + i] = baseline }
        for p in order[0..<n] {
            for ch in 0..<channels { out[d + ch * plane + p] = baseline; out[ins + ch * plane + p] = input[ch * plane + p] }
        }
    }
    return out
}

/// Measures faithfulness on one frame, batching the copies through the model like the occlusion probe's.
public struct FaithfulnessProbe {
    public var steps: Int
    public var batchSize: Int
    /// Target probabilities for a batch of planar inputs laid end to end.
    public var probabilities: (_ inputs: [Float], _ batch: Int) throws -> [Float]

    public init(steps: Int, batchSize: Int, probabilities: @escaping ([Float], Int) throws -> [Float]) {
        self.steps = steps; self.batchSize = batchSize; self.probabilities = probabilities
    }

    /// Deletion and insertion curves for `order`, given the clean input's and the baseline's target probability.
    public func curves(_ input: [Float], channels: Int, plane: Int, order: [Int], clean: Float, baseline: Float,
                       camMultiplied: [Float]? = nil) throws -> Faithfulness {
        let item = channels * plane
        var copies = deletionInsertionCopies(input, channels: channels, plane: plane, order: order, steps: steps)
        if let camMultiplied { copies += camMultiplied }
        let n = copies.count / item
        var probs: [Float] = []
        probs.reserveCapacity(n)
        var start = 0
        while start < n {
            let end = min(n, start + max(1, batchSize))
            probs += try probabilities(Array(copies[(start * item)..<(end * item)]), end - start)
            start = end
        }
        let k = steps - 1
        let deletion = [clean] + probs[0..<k] + [baseline]
        let insertion = [baseline] + probs[k..<(2 * k)] + [clean]
        return Faithfulness(deletion: Array(deletion), insertion: Array(insertion),
                            camMultChange: camMultiplied == nil ? nil : Double(probs[2 * k] - clean))
    }

    /// Faithfulness of `map` on `input`, with the CAM multiplication change.
    public func measure(_ map: CAMMap, input: [Float], channels: Int, height: Int, width: Int, clean: Float, baseline: Float) throws -> Faithfulness {
        let plane = height * width
        let full = inputSizedMap(map, height: height, width: width)
        var multiplied = input
        for ch in 0..<channels { for i in 0..<plane { multiplied[ch * plane + i] *= full[i] } }
        return try curves(input, channels: channels, plane: plane, order: rankOrder(full), clean: clean, baseline: baseline, camMultiplied: multiplied)
    }
}

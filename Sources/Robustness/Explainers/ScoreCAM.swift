import Foundation

/// Score-CAM (Wang et al. 2020; pytorch-grad-cam `score_cam.py`): gradient-free. Each channel's activation map is
/// upsampled to the input size (bilinear, align-corners, as torch's `UpsamplingBilinear2d`), min-max scaled
/// ((x - min) / (max - min + 1e-8)), multiplied into the input; the copies run through the model in batches and the
/// target's raw output on each, softmaxed over channels, weights the channels; ReLU of the weighted sum.
///
/// One forward pass per channel: the costliest method (1,280 passes on MobileNetV2 or EfficientNet-Lite0).
public struct ScoreCAM: Explainer {
    public let name = "scorecam"
    public let needsGradients = false
    public init() {}

    public func explain(_ x: ExplanationInputs) throws -> CAMMap {
        let l = x.layers[0], area = l.height * l.width
        let h = x.inputHeight, w = x.inputWidth, plane = h * w, item = x.inputChannels * plane
        let batch = max(1, x.batchSize)
        var scores: [Float] = []
        scores.reserveCapacity(l.channels)
        var start = 0
        while start < l.channels {
            let end = min(l.channels, start + batch)
            // [end - start, h, w] masks for this batch of channels.
            let masks = bilinearResize(Array(l.activations[(start * area)..<(end * area)]), planes: end - start,
                                       height: l.height, width: l.width, toHeight: h, toWidth: w, alignCorners: true)
            var copies = [Float](repeating: 0, count: (end - start) * item)
            for b in 0..<(end - start) {
                let m = masks[(b * plane)..<((b + 1) * plane)]
                let lo = m.min() ?? 0, hi = m.max() ?? 0
                let scale = 1 / (hi - lo + 1e-8)
                for ch in 0..<x.inputChannels {
                    let dst = b * item + ch * plane, src = ch * plane
                    for i in 0..<plane { copies[dst + i] = x.input[src + i] * ((m[m.startIndex + i] - lo) * scale) }
                }
            }
            scores += try x.targetScores(copies, end - start)
            start = end
        }
        let weights = softmaxRow(scores)
        return CAMMap(values: relu(weightedChannelSum(l.activations, weights: weights, channels: l.channels, area: area)), height: l.height, width: l.width)
    }
}

/// XGrad-CAM (Fu et al. 2020; pytorch-grad-cam `xgrad_cam.py`): channel weights sum_ij g_ij A_ij / (sum_ij A + 1e-7).
public struct XGradCAM: Explainer {
    public let name = "xgradcam"
    public let needsGradients = true
    public init() {}

    public func explain(_ x: ExplanationInputs) throws -> CAMMap {
        let l = x.layers[0], area = l.height * l.width
        let g = try l.requireGradients(name)
        let sumA = channelSums(l.activations, channels: l.channels, area: area)
        let weights = (0..<l.channels).map { k -> Float in
            var w: Float = 0
            for i in 0..<area { w += g[k * area + i] * l.activations[k * area + i] / (sumA[k] + 1e-7) }
            return w
        }
        return CAMMap(values: relu(weightedChannelSum(l.activations, weights: weights, channels: l.channels, area: area)), height: l.height, width: l.width)
    }
}

/// Grad-CAM (Selvaraju et al. 2017; pytorch-grad-cam `grad_cam.py`): each channel weighted by the spatial mean of
/// its gradient, summed, ReLU.
public struct GradCAM: Explainer {
    public let name = "gradcam"
    public let needsGradients = true
    public init() {}

    public func explain(_ x: ExplanationInputs) throws -> CAMMap {
        let l = x.layers[0], area = l.height * l.width
        let g = try l.requireGradients(name)
        let weights = channelSums(g, channels: l.channels, area: area).map { $0 / Float(area) }
        return CAMMap(values: relu(weightedChannelSum(l.activations, weights: weights, channels: l.channels, area: area)), height: l.height, width: l.width)
    }
}

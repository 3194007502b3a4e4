/// Grad-CAM++ (Chattopadhay et al. 2018, eq. 19; pytorch-grad-cam `grad_cam_plusplus.py`): channel weights
/// sum_ij relu(g_ij) a_ij with a_ij = g² / (2 g² + (sum_ij A) g³ + 1e-6), a_ij = 0 where g = 0.
public struct GradCAMPlusPlus: Explainer {
    public let name = "gradcam++"
    public let needsGradients = true
    public init() {}

    public func explain(_ x: ExplanationInputs) throws -> CAMMap {
        let l = x.layers[0], area = l.height * l.width
        let g = try l.requireGradients(name)
        let sumA = channelSums(l.activations, channels: l.channels, area: area)
        var weights = [Float](repeating: 0, count: l.channels)
        for k in 0..<l.channels {
            var w: Float = 0
            for i in 0..<area {
                let gi = g[k * area + i]
                guard gi != 0 else { continue }
                let g2 = gi * gi, g3 = g2 * gi
                let aij = g2 / (2 * g2 + sumA[k] * g3 + 0.000001)
                w += max(gi, 0) * aij
            }
            weights[k] = w
        }
        return CAMMap(values: relu(weightedChannelSum(l.activations, weights: weights, channels: l.channels, area: area)), height: l.height, width: l.width)
    }
}

import TensorCore

/// EigenCAM (Muhammad & Yeasin 2020; pytorch-grad-cam `eigen_cam.py` and `utils/svd_on_activations.py`):
/// gradient-free. The activations as a `[positions, channels]` matrix, centred per channel, projected on their first
/// right singular vector; ReLU. The singular vector's sign is LAPACK's (`sgesdd`, as numpy calls it), which is what
/// pytorch-grad-cam keeps: it applies no sign correction, so where LAPACK's vector points away from the salient
/// region the map after ReLU shows the background, as pytorch-grad-cam's does.
public struct EigenCAM: Explainer {
    public let name = "eigencam"
    public let needsGradients = false
    public init() {}

    public func explain(_ x: ExplanationInputs) throws -> CAMMap {
        let l = x.layers[0], area = l.height * l.width
        // [channels, area] -> [area, channels]; pytorch-grad-cam zeroes NaNs first.
        var rows = [Float](repeating: 0, count: area * l.channels)
        for k in 0..<l.channels { for i in 0..<area { let v = l.activations[k * area + i]; rows[i * l.channels + k] = v.isNaN ? 0 : v } }
        guard let p = firstPrincipalProjection(rows, rows: area, cols: l.channels) else {
            throw RobustnessError.explainer(method: name, detail: "LAPACK's SVD of layer '\(l.name)' did not converge (are its activations finite?)")
        }
        return CAMMap(values: relu(p), height: l.height, width: l.width)
    }
}

/// HiResCAM (Draelos & Carin 2020; pytorch-grad-cam `hirescam.py`): sum over channels of gradient times
/// activation at each position (no spatial averaging of the gradient), ReLU.
public struct HiResCAM: Explainer {
    public let name = "hirescam"
    public let needsGradients = true
    public init() {}

    public func explain(_ x: ExplanationInputs) throws -> CAMMap {
        let l = x.layers[0]
        let g = try l.requireGradients(name)
        return CAMMap(values: relu(elementwiseChannelSum(l.activations, g, channels: l.channels, area: l.height * l.width) { $0 }),
                      height: l.height, width: l.width)
    }
}

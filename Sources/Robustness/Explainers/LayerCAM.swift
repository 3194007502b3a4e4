/// LayerCAM (Jiang et al. 2021; pytorch-grad-cam `layer_cam.py`): sum over channels of relu(gradient) times
/// activation at each position, ReLU.
///
/// Fused (`layercam-fused`), it runs on the CAM layer and the fusion layers (finer grids earlier in the network) and
/// combines them as pytorch-grad-cam does for several target layers (`base_cam.py`
/// `compute_cam_per_layer` + `aggregate_multi_layers`): each map ReLU, min-max scaled and resized (bilinear,
/// half-pixel, as `cv2.resize`) to a common grid, then averaged. pytorch-grad-cam's common grid is the input size;
/// here it is the finest layer's grid, which keeps the map as small as the layers' own. A model without fusion layers
/// (token models: `Classifier.fusionLayers` is empty) gets the single-layer map.
public struct LayerCAM: Explainer {
    public let fused: Bool
    public var name: String { fused ? "layercam-fused" : "layercam" }
    public let needsGradients = true
    public var needsFusionLayers: Bool { fused }
    public init(fused: Bool = false) { self.fused = fused }

    /// LayerCAM of one layer.
    static func map(_ l: LayerMaps, _ g: [Float]) -> CAMMap {
        CAMMap(values: relu(elementwiseChannelSum(l.activations, g, channels: l.channels, area: l.height * l.width) { max($0, 0) }),
               height: l.height, width: l.width)
    }

    public func explain(_ x: ExplanationInputs) throws -> CAMMap {
        let maps = try (fused ? x.layers : [x.layers[0]]).map { try LayerCAM.map($0, $0.requireGradients(name)) }
        guard maps.count > 1 else { return maps[0] }
        let finest = maps.max { $0.height * $0.width < $1.height * $1.width }!
        var sum = [Float](repeating: 0, count: finest.height * finest.width)
        for m in maps {
            let r = bilinearResize(minMaxScaled(m.values), planes: 1, height: m.height, width: m.width, toHeight: finest.height, toWidth: finest.width)
            for i in 0..<sum.count { sum[i] += max(r[i], 0) }
        }
        return CAMMap(values: sum.map { $0 / Float(maps.count) }, height: finest.height, width: finest.width)
    }
}

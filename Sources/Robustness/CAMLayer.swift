import Graph
import ONNXImport

/// How a Grad-CAM layer's activations are laid out, and how they become a `[C, H, W]` map.
public enum CAMLayout: Sendable, Equatable, CustomStringConvertible {
    /// `[1, C, H, W]`, as convolutional networks make.
    case nchw
    /// `[1, H, W, C]`, as Swin's stages make.
    case channelsLast
    /// `[1, T, C]` tokens: the first `skip` (class tokens) dropped, the rest a `height` x `width` patch grid.
    case tokens(skip: Int, height: Int, width: Int)

    /// The layout of a tensor of shape `s` (nil: none that Grad-CAM can use). `grid` is the patch grid of a token
    /// model when known (the patch embedding's output), for grids that are not square.
    public static func of(_ s: [Int], grid: (Int, Int)? = nil, preferTokens: Bool = false) -> CAMLayout? {
        if s.count == 3 {
            let t = s[1]
            if let (gh, gw) = grid, gh * gw > 1, t >= gh * gw, t - gh * gw <= 8 { return .tokens(skip: t - gh * gw, height: gh, width: gw) }
            for skip in 0...1 where t - skip > 1 {
                let g = Int(Double(t - skip).squareRoot().rounded())
                if g * g == t - skip { return .tokens(skip: skip, height: g, width: g) }
            }
            return nil
        }
        guard s.count == 4 else { return nil }
        // Channels-last when the last axis is the widest and the middle two form a square grid.
        if s[1] * s[2] > 1 && (preferTokens || (s[3] > s[1] && s[1] == s[2] && s[3] >= 8)) { return .channelsLast }
        return s[1] > 1 && s[2] * s[3] > 1 ? .nchw : nil
    }

    /// The reshape recorded in reports.
    public var description: String {
        switch self {
        case .nchw: return "none ([N,C,H,W])"
        case .channelsLast: return "channels-last [N,H,W,C] permuted to [N,C,H,W]"
        case let .tokens(skip, h, w):
            return "tokens [N,T,C]" + (skip > 0 ? ", the first \(skip) (class token\(skip > 1 ? "s" : "")) dropped" : "") + ", the rest reshaped to a \(h)x\(w) grid"
        }
    }

    /// `x` (this layout, batch 1) as `[C, H, W]` values with C, H, W.
    public func planar(_ x: [Float], shape s: [Int]) -> (values: [Float], channels: Int, height: Int, width: Int) {
        switch self {
        case .nchw:
            return (x, s[1], s[2], s[3])
        case .channelsLast:
            let h = s[1], w = s[2], c = s[3]
            var y = [Float](repeating: 0, count: c * h * w)
            for p in 0..<(h * w) { for k in 0..<c { y[k * h * w + p] = x[p * c + k] } }
            return (y, c, h, w)
        case let .tokens(skip, h, w):
            let c = s[2]
            var y = [Float](repeating: 0, count: c * h * w)
            for p in 0..<(h * w) { for k in 0..<c { y[k * h * w + p] = x[(skip + p) * c + k] } }
            return (y, c, h, w)
        }
    }
}

extension Classifier {
    /// The Grad-CAM layer Vigil picks, following pytorch-grad-cam's documented choices.
    ///
    /// - Token models (ViT, Swin): the first LayerNorm of the last block (the third LayerNorm output from the end:
    ///   the last block's two and the final one), tokens reshaped to the patch grid.
    /// - Convolutional networks: the last spatial map before the classifier's final pooling, i.e. the last 4-D
    ///   tensor with more than one position from which no other such tensor is reached on the way to the output
    ///   (so a squeeze-and-excitation block's pooling does not stop the search). When that map is an activation
    ///   applied outside the module that made its input (DenseNet's functional ReLU after `features`), the module's
    ///   own output is taken, as a hook on that module sees it; a pooling that keeps the map's size is looked through.
    public static func suggestCAMLayer(_ model: ONNXModel) -> (layer: String, layout: CAMLayout)? {
        let g = model.graph
        var producer: [String: Node] = [:]
        for n in g.nodes { for o in n.outputs { producer[o] = n } }
        // Values on a path to the first output.
        var reaches: Set<String> = Set(g.outputs.prefix(1))
        for n in g.nodes.reversed() where n.outputs.contains(where: reaches.contains) { reaches.formUnion(n.inputs) }

        // Token models.
        let norms = layerNormOutputs(g).filter { reaches.contains($0) }
        let grid = patchGrid(model)
        let tokenNorms = norms.filter { name in
            guard let s = model.shapes[name] else { return false }
            return s.count == 3 || (s.count == 4 && CAMLayout.of(s) == .channelsLast)
        }
        // A token model has no convolution after its first token LayerNorm (ConvNeXt's blocks do).
        let firstNorm = tokenNorms.first.flatMap { name in g.nodes.firstIndex { $0.outputs.contains(name) } } ?? g.nodes.count
        let convAfter = g.nodes[min(firstNorm, g.nodes.count)...].contains { if case .conv = $0.op { return true }; return false }
        if tokenNorms.count >= 3, !convAfter, let s = model.shapes[tokenNorms[tokenNorms.count - 3]],
           let layout = CAMLayout.of(s, grid: grid, preferTokens: true) {
            return (tokenNorms[tokenNorms.count - 3], layout)
        }

        // Convolutional networks.
        func spatial(_ name: String) -> Bool { model.shapes[name].flatMap { CAMLayout.of($0) } != nil }
        var spatialBelow: Set<String> = []
        for n in g.nodes.reversed() where n.outputs.contains(where: { spatial($0) || spatialBelow.contains($0) }) {
            for i in n.inputs { spatialBelow.insert(i) }
        }
        var best: String? = nil
        for n in g.nodes {
            for o in n.outputs where model.shapes[o].flatMap({ CAMLayout.of($0) }) == .nchw && reaches.contains(o) && !spatialBelow.contains(o) { best = o }
        }
        guard var layer = best else { return nil }
        // A pooling that keeps the map's size (VGG's and AlexNet's adaptive average pool at 224x224 input) or an
        // identity repeats the map: the module before it is the documented choice (`features[-1]`).
        while let p = producer[layer], let input = p.inputs.first, let si = model.shapes[input], si == model.shapes[layer] {
            switch p.op {
            case .pool, .identity: layer = input; continue
            default: break
            }
            break
        }
        if let p = producer[layer], case .activation = p.op, let input = p.inputs.first, let q = producer[input], spatial(input),
           modulePath(q.name).hasPrefix(modulePath(p.name) + "/") {
            layer = input
        }
        return (layer, .nchw)
    }

    /// LayerCAM's fusion layers for `camLayer`: going back through the graph from it, the last NCHW map at each of
    /// the next `count` finer grids (on MobileNetV2, the expansions that feed its last two stride-2 depthwise
    /// convolutions: `features[14].conv[0]` at 14x14 and `features[7].conv[0]` at 28x28).
    public static func suggestFusionLayers(_ model: ONNXModel, camLayer: String, count: Int = 2) -> [String] {
        let g = model.graph
        guard let at = g.nodes.lastIndex(where: { $0.outputs.contains(camLayer) }), let s = model.shapes[camLayer], s.count == 4 else { return [] }
        var reaches: Set<String> = Set(g.outputs.prefix(1))
        for n in g.nodes.reversed() where n.outputs.contains(where: reaches.contains) { reaches.formUnion(n.inputs) }
        var area = s[2] * s[3], out: [String] = []
        for n in g.nodes[..<at].reversed() {
            for o in n.outputs.reversed() where reaches.contains(o) {
                guard let t = model.shapes[o], CAMLayout.of(t) == .nchw, t[2] * t[3] > area else { continue }
                out.append(o); area = t[2] * t[3]
                if out.count == count { return out }
            }
        }
        return out
    }

    /// The spatial size of the first convolution's output: a token model's patch grid (its patch embedding).
    static func patchGrid(_ model: ONNXModel) -> (Int, Int)? {
        model.graph.nodes.lazy.compactMap { n -> (Int, Int)? in
            guard case .conv = n.op, let s = model.shapes[n.outputs[0]], s.count == 4 else { return nil }
            return (s[2], s[3])
        }.first
    }

    /// The module path of an exported node name (`/features/norm5/BatchNormalization` -> `/features/norm5`).
    static func modulePath(_ node: String) -> String {
        guard let slash = node.lastIndex(of: "/") else { return "" }
        return String(node[..<slash])
    }

    /// Outputs of layer normalisations, in order: LayerNormalization nodes, and the form exporters write below
    /// opset 17 (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, then Mul by the scale and Add of the bias).
    static func layerNormOutputs(_ g: Graph) -> [String] {
        var consumers: [String: [Node]] = [:]
        for n in g.nodes { for i in n.inputs { consumers[i, default: []].append(n) } }
        var out: [String] = []
        for n in g.nodes {
            if case .layerNorm = n.op { out.append(n.outputs[0]); continue }
            guard case .activation(.sqrt) = n.op,
                  let div = consumers[n.outputs[0]]?.first(where: { $0.op == .binary(.div) }) else { continue }
            var end = div.outputs[0]
            if let mul = consumers[end]?.first(where: { $0.op == .binary(.mul) }) {
                end = mul.outputs[0]
                if let add = consumers[end]?.first(where: { $0.op == .binary(.add) }) { end = add.outputs[0] }
            }
            out.append(end)
        }
        return out
    }
}

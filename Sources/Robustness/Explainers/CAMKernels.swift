import TensorCore

// The steps pytorch-grad-cam's methods share (base_cam.py, utils/image.py), as plain functions over planar maps.

/// `sum_k weights[k] * a[k]` over channels: `a` is `[channels, area]`, the result `[area]`.
func weightedChannelSum(_ a: [Float], weights: [Float], channels: Int, area: Int) -> [Float] {
    var out = [Float](repeating: 0, count: area)
    for k in 0..<channels where weights[k] != 0 {
        let w = weights[k], base = k * area
        for i in 0..<area { out[i] += w * a[base + i] }
    }
    return out
}

/// `sum_k f(g[k, i]) * a[k, i]` over channels: `a`, `g` are `[channels, area]`, the result `[area]`.
func elementwiseChannelSum(_ a: [Float], _ g: [Float], channels: Int, area: Int, _ f: (Float) -> Float) -> [Float] {
    var out = [Float](repeating: 0, count: area)
    for k in 0..<channels { let base = k * area; for i in 0..<area { out[i] += f(g[base + i]) * a[base + i] } }
    return out
}

/// Per channel, the sum over the grid: `[channels, area]` -> `[channels]`.
func channelSums(_ a: [Float], channels: Int, area: Int) -> [Float] {
    (0..<channels).map { k in a[(k * area)..<((k + 1) * area)].reduce(0, +) }
}

/// max(x, 0) elementwise (base_cam.py applies it to every method's map).
func relu(_ x: [Float]) -> [Float] { x.map { max($0, 0) } }

/// pytorch-grad-cam's `scale_cam_image` without the resize: (x - min) / (1e-7 + max(x - min)).
public func minMaxScaled(_ x: [Float]) -> [Float] {
    guard let lo = x.min() else { return x }
    let shifted = x.map { $0 - lo }
    let hi = shifted.max() ?? 0
    return shifted.map { $0 / (1e-7 + hi) }
}

/// Bilinear resize of `planes` maps `[planes, h, w]` to `[planes, outH, outW]`.
///
/// `alignCorners: false` is OpenCV's `cv2.resize` INTER_LINEAR when enlarging (half-pixel centres, edges clamped),
/// which pytorch-grad-cam uses to bring maps to the input size; `true` is torch's `UpsamplingBilinear2d`, which
/// Score-CAM uses on the activations.
public func bilinearResize(_ x: [Float], planes: Int, height h: Int, width w: Int, toHeight oh: Int, toWidth ow: Int,
                           alignCorners: Bool = false) -> [Float] {
    let t: CoordinateTransform = alignCorners ? .alignCorners : .halfPixel
    let ty = AxisTaps(inLen: h, outLen: oh, scale: Double(oh) / Double(h), mode: .linear, transform: t)
    let tx = AxisTaps(inLen: w, outLen: ow, scale: Double(ow) / Double(w), mode: .linear, transform: t)
    var y = [Float](repeating: 0, count: planes * oh * ow)
    x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
        resize2d(xp.baseAddress!, planes: planes, inH: h, inW: w, ty: ty, tx: tx, y: yp.baseAddress!)
    } }
    return y
}

/// A map brought to the model input's size and scaled to [0, 1], as pytorch-grad-cam returns it and hands it to its
/// metrics: min-max scaled, resized, then (`aggregate_multi_layers`) ReLU and min-max scaled again, since the
/// resized map's extremes fall between the grid's.
public func inputSizedMap(_ map: CAMMap, height: Int, width: Int) -> [Float] {
    minMaxScaled(relu(bilinearResize(minMaxScaled(map.values), planes: 1, height: map.height, width: map.width, toHeight: height, toWidth: width)))
}

import Foundation

/// How output coordinates map back to input coordinates (ONNX Resize `coordinate_transformation_mode`).
public enum CoordinateTransform: String, Sendable, Equatable, Hashable {
    case halfPixel = "half_pixel", pytorchHalfPixel = "pytorch_half_pixel", alignCorners = "align_corners"
    case asymmetric, tfHalfPixelForNN = "tf_half_pixel_for_nn"

    /// Input coordinate of output index `o`.
    @inlinable public func source(_ o: Int, scale: Double, inLen: Int, outLen: Int) -> Double {
        let x = Double(o)
        switch self {
        case .halfPixel: return (x + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return outLen > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners: return outLen > 1 ? x * Double(inLen - 1) / Double(outLen - 1) : 0
        case .asymmetric: return x / scale
        case .tfHalfPixelForNN: return (x + 0.5) / scale
        }
    }
}

/// Rounding for nearest-neighbour resize (ONNX `nearest_mode`).
public enum NearestMode: String, Sendable, Equatable, Hashable {
    case roundPreferFloor = "round_prefer_floor", roundPreferCeil = "round_prefer_ceil", floor, ceil
    @inlinable public func index(_ x: Double) -> Int {
        switch self {
        case .roundPreferFloor: return x == Foundation.floor(x) + 0.5 ? Int(Foundation.floor(x)) : Int(Foundation.round(x))
        case .roundPreferCeil: return Int(Foundation.round(x))
        case .floor: return Int(Foundation.floor(x))
        case .ceil: return Int(Foundation.ceil(x))
        }
    }
}

/// Interpolation of a resize.
public enum ResizeMode: Sendable, Equatable, Hashable {
    case nearest(NearestMode)
    case linear
}

/// The taps along one axis: for each output index, up to two (source index, weight) pairs.
public struct AxisTaps: Sendable {
    public var i0: [Int], i1: [Int], w0: [Float], w1: [Float]

    public init(inLen: Int, outLen: Int, scale: Double, mode: ResizeMode, transform: CoordinateTransform) {
        i0 = []; i1 = []; w0 = []; w1 = []
        for o in 0..<outLen {
            if inLen == outLen && scale == 1 { i0.append(o); i1.append(o); w0.append(1); w1.append(0); continue }
            let x = transform.source(o, scale: scale, inLen: inLen, outLen: outLen)
            switch mode {
            case let .nearest(nm):
                let i = min(max(nm.index(x), 0), inLen - 1)
                i0.append(i); i1.append(i); w0.append(1); w1.append(0)
            case .linear:
                let xc = min(max(x, 0), Double(inLen - 1))
                let lo = Int(Foundation.floor(xc)), hi = min(lo + 1, inLen - 1)
                let f = Float(xc - Double(lo))
                i0.append(lo); i1.append(hi); w0.append(1 - f); w1.append(f)
            }
        }
    }
}

/// Resizes the last two axes of `[planes, inH, inW]` to `[planes, outH, outW]` with separable taps.
public func resize2d(_ x: UnsafePointer<Float>, planes: Int, inH: Int, inW: Int, ty: AxisTaps, tx: AxisTaps,
                     y: UnsafeMutablePointer<Float>) {
    let outH = ty.i0.count, outW = tx.i0.count
    for p in 0..<planes {
        let xp = x + p * inH * inW, yp = y + p * outH * outW
        for oy in 0..<outH {
            let r0 = xp + ty.i0[oy] * inW, r1 = xp + ty.i1[oy] * inW
            let a = ty.w0[oy], b = ty.w1[oy]
            for ox in 0..<outW {
                let c0 = tx.i0[ox], c1 = tx.i1[ox], u = tx.w0[ox], v = tx.w1[ox]
                yp[oy * outW + ox] = a * (u * r0[c0] + v * r0[c1]) + b * (u * r1[c0] + v * r1[c1])
            }
        }
    }
}

/// Adjoint of `resize2d`: dx is overwritten.
public func resize2dBackward(_ dy: UnsafePointer<Float>, planes: Int, inH: Int, inW: Int, ty: AxisTaps, tx: AxisTaps,
                             dx: UnsafeMutablePointer<Float>) {
    let outH = ty.i0.count, outW = tx.i0.count
    dx.update(repeating: 0, count: planes * inH * inW)
    for p in 0..<planes {
        let xp = dx + p * inH * inW, gp = dy + p * outH * outW
        for oy in 0..<outH {
            let r0 = ty.i0[oy] * inW, r1 = ty.i1[oy] * inW
            let a = ty.w0[oy], b = ty.w1[oy]
            for ox in 0..<outW {
                let g = gp[oy * outW + ox]
                let c0 = tx.i0[ox], c1 = tx.i1[ox], u = tx.w0[ox], v = tx.w1[ox]
                xp[r0 + c0] += g * a * u; xp[r0 + c1] += g * a * v
                xp[r1 + c0] += g * b * u; xp[r1 + c1] += g * b * v
            }
        }
    }
}

import Foundation
import TensorKernelsAVX512

/// A pointwise activation that a producing kernel can apply in its epilogue.
public enum Activation: Sendable, Equatable, Hashable {
    case identity
    case relu
    /// min(max(x, lo), hi): ReLU6 is `.clip(0, 6)`.
    case clip(Float, Float)
    case leakyRelu(alpha: Float)
    case sigmoid
    /// max(0, min(1, alpha*x + beta)).
    case hardSigmoid(alpha: Float, beta: Float)
    /// x * hardSigmoid(x; 1/6, 1/2).
    case hardSwish
    case tanh
    case elu(alpha: Float)
    case selu(alpha: Float, gamma: Float)
    case softplus
    /// The Gauss error function (exact GELU is x * (1 + erf(x / sqrt 2)) / 2).
    case erf
    /// The square root (LayerNorm decomposed at opset 13 divides by it).
    case sqrt
    /// e^x.
    case exp
    /// Exact GELU, x · (1 + erf(x / √2)) / 2 (the graph fusion finds it spelt out as Div, Erf, Add, Mul, Mul).
    case gelu

    /// f(x) for one value.
    @inlinable public func apply(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .relu: return x > 0 ? x : 0
        case let .clip(lo, hi): return min(max(x, lo), hi)
        case let .leakyRelu(a): return x >= 0 ? x : a * x
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case let .hardSigmoid(a, b): return max(0, min(1, a * x + b))
        case .hardSwish: return x * max(0, min(1, x / 6 + 0.5))
        case .tanh: return Foundation.tanh(x)
        case let .elu(a): return x >= 0 ? x : a * (Foundation.exp(x) - 1)
        case let .selu(a, g): return x > 0 ? g * x : g * (a * Foundation.exp(x) - a)
        case .softplus: return x > 20 ? x : Foundation.log1p(Foundation.exp(x))
        case .erf: return Foundation.erf(x)
        case .sqrt: return x.squareRoot()
        case .exp: return Foundation.exp(x)
        case .gelu: return 0.5 * x * (1 + Foundation.erf(x * 0.70710678118654752))
        }
    }

    /// df/dx at input x (y = f(x) given for the cheap forms).
    @inlinable public func derivative(x: Float, y: Float) -> Float {
        switch self {
        case .identity: return 1
        case .relu: return x > 0 ? 1 : 0
        case let .clip(lo, hi): return (x > lo && x < hi) ? 1 : 0
        case let .leakyRelu(a): return x >= 0 ? 1 : a
        case .sigmoid: return y * (1 - y)
        case let .hardSigmoid(a, b): let t = a * x + b; return (t > 0 && t < 1) ? a : 0
        case .hardSwish: return x < -3 ? 0 : (x > 3 ? 1 : x / 3 + 0.5)
        case .tanh: return 1 - y * y
        case let .elu(a): return x >= 0 ? 1 : y + a
        case let .selu(a, g): return x > 0 ? g : g * a * Foundation.exp(x)
        case .softplus: return 1 / (1 + Foundation.exp(-x))
        case .erf: return 1.1283791670955126 * Foundation.exp(-x * x)
        case .sqrt: return 0.5 / y
        case .exp: return y
        // Φ(x) + x·φ(x): the normal distribution's CDF and density.
        case .gelu: return 0.5 * (1 + Foundation.erf(x * 0.70710678118654752)) + x * 0.3989422804014327 * Foundation.exp(-0.5 * x * x)
        }
    }

    /// The activation as the clamp lo...hi a kernel applies in registers before its store (identity is
    /// -inf...inf, ReLU 0...inf), or nil when it is not a clamp.
    public var clampBounds: (lo: Float, hi: Float)? {
        switch self {
        case .identity: return (-.infinity, .infinity)
        case .relu: return (0, .infinity)
        case let .clip(lo, hi): return (lo, hi)
        default: return nil
        }
    }

    /// The vectorised function a kernel table may have for this activation.
    var vectorFunction: VectorFunction? {
        switch self {
        case .erf: return .erf
        case .exp: return .exp
        case .sigmoid: return .sigmoid
        case .gelu: return .gelu
        default: return nil
        }
    }

    /// ReLU or Clip in place, as `Swift.max(v, lo)` then `Swift.min(·, hi)` (NaN kept, -0 to +0 at a bound of 0) but
    /// spelt out, so the loop vectorises instead of calling the generic functions.
    private func clamp(_ p: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu: for i in 0..<count { let v = p[i]; p[i] = 0 >= v ? 0 : v }
        case let .clip(lo, hi):
            for i in 0..<count { let v = p[i], m = lo >= v ? lo : v; p[i] = hi < m ? hi : m }
        default: break
        }
    }

    /// Applies in place over `count` values (through this thread's `kernels` where they vectorise it).
    public func apply(_ p: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .identity: return
        case .relu, .clip:
            // ReLU and Clip over a whole activation (the NCHW path's): split over the threads in slices.
            if count >= 65_536 {
                nonisolated(unsafe) let p = p
                parallelChunks((count + 16_383) / 16_384) { r in
                    let lo = r.lowerBound * 16_384
                    self.clamp(p + lo, count: min(count, r.upperBound * 16_384) - lo)
                }
            } else {
                clamp(p, count: count)
            }
        // Vectorised where the kernels have them: transformers' GELU, Exp, EfficientNets' swish.
        case .erf, .exp, .sigmoid, .gelu:
            if let f = vectorFunction, let vector = kernels.vectorFunction { vector(f, p, count); return }
            for i in 0..<count { p[i] = apply(p[i]) }
        default: for i in 0..<count { p[i] = apply(p[i]) }
        }
    }
}

/// `elementwiseAVX512` in place over `count` floats, split over `computeThreads` in slices of 4096 (a ConvNeXt's
/// GELU runs over 1.2 million values at once).
func elementwiseInPlaceAVX512(_ f: VectorFunction, _ p: UnsafeMutablePointer<Float>, count: Int) {
    elementwiseInPlace(f, p, count: count, slice: elementwiseAVX512)
}

/// The same on AVX2 (`KernelTable.portable`): `TensorKernelsAVX512`'s vector math inlined here and compiled for AVX2,
/// sixteen floats as two 256-bit halves.
func elementwiseInPlaceAVX2(_ f: VectorFunction, _ p: UnsafeMutablePointer<Float>, count: Int) {
    elementwiseInPlace(f, p, count: count, slice: elementwiseAVX2)
}

/// `vectorElementwise` compiled for AVX2.
func elementwiseAVX2(_ f: VectorFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    vectorElementwise(f, x, y, count: count)
}

private func elementwiseInPlace(_ f: VectorFunction, _ p: UnsafeMutablePointer<Float>, count: Int,
                                slice: (VectorFunction, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
    nonisolated(unsafe) let p = p
    parallelChunks((count + 4095) / 4096, minItemsPerChunk: 16) { r in
        let lo = r.lowerBound * 4096, hi = min(count, r.upperBound * 4096)
        slice(f, p + lo, p + lo, hi - lo)
    }
}

/// Applies `act` elementwise from `x` into `y` (may alias).
public func activationForward(_ act: Activation, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
    if UnsafePointer(y) != x { y.update(from: x, count: count) }
    act.apply(y, count: count)
}

/// dx = dy * f'(x).
public func activationBackward(_ act: Activation, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
                               dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { dx[i] = dy[i] * act.derivative(x: x[i], y: y[i]) }
}

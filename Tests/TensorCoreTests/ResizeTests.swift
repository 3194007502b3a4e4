import Foundation
import Testing
import TensorCore
import TestSupport

struct Resize2DCase: CustomTestStringConvertible, Sendable {
    var inH: Int, inW: Int, outH: Int, outW: Int
    var mode: ResizeMode, transform: CoordinateTransform
    /// ONNX `scales` when given (the output extent is floor(in * scale), so out/in may differ from it).
    var scale: Double? = nil
    var scaleH: Double { scale ?? Double(outH) / Double(inH) }
    var scaleW: Double { scale ?? Double(outW) / Double(inW) }
    var testDescription: String { "\(mode) \(transform.rawValue) \(inH)x\(inW)->\(outH)x\(outW)" + (scale.map { " scale \($0)" } ?? "") }
}

let resizeGeometries = [(4, 5, 8, 10), (8, 10, 4, 5), (4, 6, 6, 9), (7, 5, 3, 11), (5, 5, 5, 5), (1, 4, 3, 8), (6, 3, 1, 1)]
let resize2dCases: [Resize2DCase] = {
    var out: [Resize2DCase] = []
    let modes: [(ResizeMode, CoordinateTransform)] = [
        (.linear, .halfPixel), (.linear, .pytorchHalfPixel), (.linear, .alignCorners), (.linear, .asymmetric),
        (.nearest(.roundPreferFloor), .halfPixel), (.nearest(.roundPreferCeil), .asymmetric),
        (.nearest(.floor), .asymmetric), (.nearest(.ceil), .tfHalfPixelForNN), (.nearest(.roundPreferFloor), .alignCorners),
    ]
    for (m, t) in modes { for g in resizeGeometries { out.append(Resize2DCase(inH: g.0, inW: g.1, outH: g.2, outW: g.3, mode: m, transform: t)) } }
    for (m, t) in [(ResizeMode.linear, CoordinateTransform.halfPixel), (.linear, .asymmetric), (.nearest(.roundPreferFloor), .halfPixel),
                   (.nearest(.floor), .asymmetric)] {
        out.append(Resize2DCase(inH: 3, inW: 5, outH: 4, outW: 7, mode: m, transform: t, scale: 1.5))
        out.append(Resize2DCase(inH: 5, inW: 6, outH: 3, outW: 3, mode: m, transform: t, scale: 0.6))
    }
    return out
}()

/// ONNX Resize's source coordinate, written out from the operator specification.
func onnxSourceCoordinate(_ o: Int, inLen: Int, outLen: Int, scale: Double, transform: CoordinateTransform) -> Double {
    let x = Double(o)
    switch transform {
    case .halfPixel: return (x + 0.5) / scale - 0.5
    case .pytorchHalfPixel: return outLen > 1 ? (x + 0.5) / scale - 0.5 : 0
    case .alignCorners: return outLen == 1 ? 0 : x * Double(inLen - 1) / Double(outLen - 1)
    case .asymmetric: return x / scale
    case .tfHalfPixelForNN: return (x + 0.5) / scale
    }
}

/// Direct 2-D evaluation: nearest picks one cell; linear weighs the four neighbours of the clamped coordinate.
func resizeReference(_ c: Resize2DCase, _ x: [Float], planes: Int) -> [Float] {
    var y: [Float] = []
    for p in 0..<planes {
        for oy in 0..<c.outH {
            for ox in 0..<c.outW {
                let sy = onnxSourceCoordinate(oy, inLen: c.inH, outLen: c.outH, scale: c.scaleH, transform: c.transform)
                let sx = onnxSourceCoordinate(ox, inLen: c.inW, outLen: c.outW, scale: c.scaleW, transform: c.transform)
                func at(_ iy: Int, _ ix: Int) -> Double { Double(x[(p * c.inH + iy) * c.inW + ix]) }
                if c.inH == c.outH && c.inW == c.outW { y.append(Float(at(oy, ox))); continue }
                switch c.mode {
                case let .nearest(nm):
                    func pick(_ v: Double, _ len: Int) -> Int {
                        let i: Int
                        switch nm {
                        case .roundPreferFloor: i = v - v.rounded(.down) == 0.5 ? Int(v.rounded(.down)) : Int(v.rounded())
                        case .roundPreferCeil: i = v - v.rounded(.down) == 0.5 ? Int(v.rounded(.up)) : Int(v.rounded())
                        case .floor: i = Int(v.rounded(.down))
                        case .ceil: i = Int(v.rounded(.up))
                        }
                        return min(max(i, 0), len - 1)
                    }
                    y.append(Float(at(pick(sy, c.inH), pick(sx, c.inW))))
                case .linear:
                    let cy = min(max(sy, 0), Double(c.inH - 1)), cx = min(max(sx, 0), Double(c.inW - 1))
                    let y0 = Int(cy.rounded(.down)), x0 = Int(cx.rounded(.down))
                    let y1 = min(y0 + 1, c.inH - 1), x1 = min(x0 + 1, c.inW - 1)
                    let fy = cy - Double(y0), fx = cx - Double(x0)
                    let v = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1))
                    y.append(Float(v))
                }
            }
        }
    }
    return y
}

func taps(_ c: Resize2DCase) -> (AxisTaps, AxisTaps) {
    (AxisTaps(inLen: c.inH, outLen: c.outH, scale: c.scaleH, mode: c.mode, transform: c.transform),
     AxisTaps(inLen: c.inW, outLen: c.outW, scale: c.scaleW, mode: c.mode, transform: c.transform))
}

@Suite("Resize2D")
struct Resize2DTests {
    @Test("resize2d matches the direct formula", arguments: resize2dCases)
    func matchesFormula(_ c: Resize2DCase) {
        var rng = SeededRandom(seed: UInt64(c.inH * 37 + c.outW))
        let planes = 2
        let x = rng.tensor([planes, c.inH, c.inW]).data        // [planes, inH, inW]
        var y = [Float](repeating: .nan, count: planes * c.outH * c.outW)  // [planes, outH, outW]
        let (ty, tx) = taps(c)
        resize2d(x, planes: planes, inH: c.inH, inW: c.inW, ty: ty, tx: tx, y: &y)
        let m = compare(y, resizeReference(c, x, planes: planes), rtol: 1e-5, atol: 1e-6)
        #expect(m == nil, "\(describe(m))")
    }
}

import ArgumentParser
import Foundation
import Graph
import ONNXImport
import Robustness

/// `vigil inspect`: what is inside a model and whether Vigil can run it.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's inputs, outputs, opset, op counts, parameters, FLOPs, Grad-CAM layer and unsupported ops.",
        discussion: "Exit status: 0 the model loads and runs in Vigil; 65 it cannot be read or uses unsupported ops (they are listed).")

    @Argument(help: ArgumentHelp("ONNX model file.", valueName: "model"))
    var model: String

    @Flag(help: "Print one JSON object.")
    var json = false

    struct Report: Codable {
        var path: String
        var loads: Bool
        var error: String?
        var irVersion: Int?
        var opset: Int?
        var producer: String?
        var inputs: [String: [String]]
        var outputs: [String: [Int]]
        var opCounts: [String: Int]
        var parameters: Int?
        var flopsPerItem: Int?
        var camLayer: String?
        var camLayerShape: [Int]?
        /// How the CAM layer's values are reshaped to a map (token models).
        var camLayout: String?
        /// free, freed-from-fixed or fixed (see the README).
        var batch: String?
        /// Why a fixed batch could not be freed.
        var batchNote: String?
        /// Ops that compute on quantised (QDQ) values, with counts; empty for a float model.
        var quantizedOps: [String: Int]
        /// Of those, the ones that run with onnxruntime's integer kernels (QLinearConv, QLinearAdd,
        /// QLinearGlobalAveragePool, QGemm); the others compute in float on dequantised values.
        var integerOps: [String: Int]
        var unsupportedOps: [String]
        var warnings: [String]
    }

    func run() throws {
        var r = Report(path: model, loads: false, error: nil, irVersion: nil, opset: nil, producer: nil, inputs: [:], outputs: [:], opCounts: [:],
                       parameters: nil, flopsPerItem: nil, camLayer: nil, camLayerShape: nil, camLayout: nil, batch: nil, batchNote: nil, quantizedOps: [:], integerOps: [:],
                       unsupportedOps: [], warnings: [])
        do {
            let m = try ONNXModel.load(path: model)
            r.loads = true
            r.irVersion = m.irVersion; r.opset = m.opset; r.producer = m.producer
            for i in m.graph.inputs { r.inputs[i.name] = i.shape.map { $0.map(String.init) ?? "N" } }
            for o in m.graph.outputs { r.outputs[o] = m.shapes[o] ?? [] }
            r.opCounts = m.onnxOpCounts
            r.parameters = m.graph.parameterCount
            r.flopsPerItem = 2 * m.multiplyAddsPerItem
            let cam = Classifier.suggestCAMLayer(m)
            r.camLayer = cam?.layer
            r.camLayerShape = r.camLayer.flatMap { m.shapes[$0] }
            r.camLayout = cam.map { "\($0.layout)" }
            r.batch = m.batch.rawValue
            r.batchNote = m.batchNote
            r.quantizedOps = m.quantizedOpCounts
            r.integerOps = m.integerOpCounts
            r.warnings = m.warnings
        } catch {
            r.error = "\(error)"
            r.unsupportedOps = ((try? ONNXModel.unsupportedOps(path: model)) ?? []).map { "\($0.opType) (node '\($0.node)')" }
        }
        if json {
            let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
            print(String(decoding: try enc.encode(r), as: UTF8.self))
        } else {
            print("model: \(model)")
            if let e = r.error { print("status: cannot run in Vigil: \(e)") } else { print("status: loads and runs") }
            if let ir = r.irVersion, let op = r.opset { print("IR version \(ir), opset \(op), producer \(r.producer ?? "?")") }
            for (k, v) in r.inputs.sorted(by: { $0.key < $1.key }) { print("input  \(k): [\(v.joined(separator: ", "))]") }
            for (k, v) in r.outputs.sorted(by: { $0.key < $1.key }) { print("output \(k): \(v)") }
            if !r.opCounts.isEmpty { print("ops: " + r.opCounts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")) }
            if let p = r.parameters { print("parameters: \(p)") }
            if let f = r.flopsPerItem { print(String(format: "FLOPs per item: %.3f G", Double(f) / 1e9)) }
            if let b = r.batch {
                switch b {
                case BatchHandling.freedFromFixed.rawValue: print("batch: fixed at 1 in the file; freed at load (items never interact)")
                case BatchHandling.fixed.rawValue: print("batch: fixed at 1 in the file; batches run one item at a time" + (r.batchNote.map { " (not freed: \($0))" } ?? ""))
                default: print("batch: free")
                }
            }
            func list(_ c: [String: Int]) -> String { c.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ") }
            if !r.integerOps.isEmpty { print("quantised, integer kernels as onnxruntime's: " + list(r.integerOps)) }
            let floatOnQuantized = r.quantizedOps.filter { r.integerOps[$0.key] == nil }
            if !floatOnQuantized.isEmpty { print("quantised, float on dequantised values: " + list(floatOnQuantized)) }
            if let c = r.camLayer { print("suggested Grad-CAM layer: \(c) \(r.camLayerShape.map { "\($0)" } ?? "")" + (r.camLayout.map { $0.hasPrefix("none") ? "" : ", \($0)" } ?? "")) }
            if !r.unsupportedOps.isEmpty { print("unsupported ops: " + r.unsupportedOps.joined(separator: ", ")) }
            for w in r.warnings { print("warning: \(w)") }
        }
        if !r.loads { throw ExitCode(ExitStatus.inputError.rawValue) }
    }
}

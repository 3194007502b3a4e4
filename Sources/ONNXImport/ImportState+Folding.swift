import Foundation
import Graph
import TensorCore

extension ImportState {
    /// Evaluates a node at load time when its inputs are constants (shape sub-graphs, constant weights).
    /// - Returns: false when the node must run at run time instead.
    mutating func fold(_ n: Onnx_NodeProto, attrs: Attributes) throws -> Bool {
        func input(_ i: Int) -> ConstValue? { i < n.input.count && !n.input[i].isEmpty ? consts[n.input[i]] : nil }
        func unsupported(_ d: String) -> ModelError { .unsupportedFeature(path: path, node: n.name, detail: d) }
        func set(_ v: ConstValue) { consts[n.output[0]] = v }
        guard !n.output.isEmpty, !n.output[0].isEmpty else {
            throw ModelError.badGraph(path: path, detail: "node '\(n.name)' (\(n.opType)) has no output; the model is damaged, re-export it")
        }
        if ["Shape", "Size", "Cast", "ConstantOfShape", "Gather"].contains(n.opType) && (n.input.isEmpty || n.input[0].isEmpty) {
            throw ModelError.badGraph(path: path, detail: "node '\(n.name)' (\(n.opType)) has no input; the model is damaged, re-export it")
        }
        switch n.opType {
        case "Constant":
            if let t = attrs.tensor("value") { set(try decodeTensor(t, modelPath: path, modelDir: modelDir)) }
            else if attrs.has("value_float") { set(ConstValue(shape: [], floats: [attrs.float("value_float", 0)])) }
            else if let f = attrs.floats("value_floats") { set(ConstValue(shape: [f.count], floats: f)) }
            else if attrs.has("value_int") { set(ConstValue(shape: [], ints: [attrs.int("value_int", 0)])) }
            else if let i = attrs.ints("value_ints") { set(ConstValue(shape: [i.count], ints: i)) }
            else { throw unsupported("this form of Constant (sparse or string) is not supported") }
            return true
        case "Shape", "Size":
            guard let s = shapes[n.input[0]] ?? consts[n.input[0]]?.shape else {
                throw unsupported("\(n.opType) of '\(n.input[0])' needs its shape at load time, which is unknown (a free axis other than the batch)")
            }
            let dims = s.map { $0 == ImportState.symbolicBatch ? Op.batchExtent : $0 }
            if n.opType == "Size" {
                guard !dims.contains(Op.batchExtent) else { throw unsupported("Size of a tensor with a free batch axis is not supported") }
                set(ConstValue(shape: [], ints: [shapeCount(dims)])); return true
            }
            let r = dims.count
            var st = attrs.int("start", 0), en = attrs.int("end", r)
            if st < 0 { st += r }; if en < 0 { en += r }
            st = min(max(st, 0), r); en = min(max(en, st), r)
            set(ConstValue(shape: [en - st], ints: Array(dims[st..<en])))
            return true
        case "Cast":
            let to = attrs.int("to", 1)
            let isFloat = [1, 10, 11, 16].contains(to)
            guard let x = input(0) else {
                guard isFloat else { throw unsupported("Cast of a run-time tensor to type \(to) is not supported (Vigil runs float32)") }
                nodes.append(Node(name: n.name, op: .identity, inputs: [n.input[0]], outputs: [n.output[0]]))
                if let s = shapes[n.input[0]] { shapes[n.output[0]] = s }
                return true
            }
            if isFloat { set(ConstValue(shape: x.shape, floats: x.asFloats)) }
            else if to == 9 { set(ConstValue(shape: x.shape, ints: x.asFloats.map { $0 != 0 ? 1 : 0 })) }
            else { set(ConstValue(shape: x.shape, ints: x.asInts)) }
            return true
        case "ConstantOfShape":
            guard let s = input(0) else { throw unsupported("ConstantOfShape needs a shape known at load time") }
            let dims = s.asInts
            guard !dims.contains(Op.batchExtent) else { throw unsupported("ConstantOfShape over the free batch axis is not supported") }
            let v = try attrs.tensor("value").map { try decodeTensor($0, modelPath: path, modelDir: modelDir) } ?? ConstValue(shape: [1], floats: [0])
            guard let count = checkedCount(dims), count <= ImportState.maxFoldedCount else {
                throw ModelError.badGraph(path: path, detail: "node '\(n.name)' (ConstantOfShape) asks for shape \(dims), which is negative or larger than \(ImportState.maxFoldedCount) values; the model is damaged, re-export it")
            }
            if let f = v.floats { set(ConstValue(shape: dims, floats: [Float](repeating: f.first ?? 0, count: count))) }
            else { set(ConstValue(shape: dims, ints: [Int](repeating: v.ints?.first ?? 0, count: count))) }
            return true
        case "Gather":
            // Checked here against the fold's own bounds; the values come from the run-time op (`Op.gather`).
            guard let data = input(0), let idx = input(1) else { return false }
            let r = data.shape.count
            var axis = attrs.int("axis", 0); if axis < 0 { axis += r }
            guard axis >= 0 && axis < r else { throw unsupported("Gather axis \(attrs.int("axis", 0)) is out of range for shape \(data.shape)") }
            let dim = data.shape[axis]
            let ii = idx.asInts.map { $0 < 0 ? $0 + dim : $0 }
            guard ii.allSatisfy({ $0 >= 0 && $0 < dim }) else { throw unsupported("Gather indices \(idx.asInts) are out of range for axis \(axis) of \(data.shape)") }
            let outShape = Array(data.shape[..<axis]) + idx.shape + Array(data.shape[(axis + 1)...])
            guard let outCount = checkedCount(outShape), outCount <= ImportState.maxFoldedCount else {
                throw ModelError.badGraph(path: path, detail: "node '\(n.name)' (Gather) would produce shape \(outShape), larger than \(ImportState.maxFoldedCount) values; the model is damaged, re-export it")
            }
            return try foldRuntimeOp(n, attrs: attrs)
        case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Not", "Where", "Mod", "Neg", "Abs", "Floor", "Ceil":
            let ins = try (0..<n.input.count).map { i -> ConstValue in
                guard let v = input(i) else { throw unsupported("\(n.opType) runs only on constants (shape sub-graphs); a run-time \(n.opType) is not supported") }
                return v
            }
            set(try foldElementwise(n, ins, attrs: attrs))
            return true
        case "Range":
            guard n.input.count == 3, let st = input(0), let lim = input(1), let d = input(2) else {
                throw unsupported("Range runs only on constants (shape sub-graphs); a run-time Range is not supported")
            }
            let isFloat = st.floats != nil
            let a = isFloat ? Double(st.asFloats.first ?? 0) : Double(st.asInts.first ?? 0)
            let b = isFloat ? Double(lim.asFloats.first ?? 0) : Double(lim.asInts.first ?? 0)
            let step = isFloat ? Double(d.asFloats.first ?? 1) : Double(d.asInts.first ?? 1)
            guard ![st, lim, d].contains(where: { $0.ints?.contains(Op.batchExtent) == true }) else { throw unsupported("Range over the free batch size is not supported; export with a fixed batch size") }
            guard step != 0, step.isFinite, a.isFinite, b.isFinite else { throw ModelError.badGraph(path: path, detail: "node '\(n.name)' (Range) has delta \(step); it must be finite and non-zero") }
            let count = max(Int(((b - a) / step).rounded(.up)), 0)
            guard count <= ImportState.maxFoldedCount else { throw ModelError.badGraph(path: path, detail: "node '\(n.name)' (Range) would make \(count) values; the model is damaged, re-export it") }
            let values = (0..<count).map { a + Double($0) * step }
            set(isFloat ? ConstValue(shape: [count], floats: values.map { Float($0) }) : ConstValue(shape: [count], ints: values.map { Int($0) }))
            return true
        case "ScatterND":
            guard n.input.count == 3, let data = input(0), let idx = input(1), let upd = input(2) else {
                throw unsupported("ScatterND runs only on constants (shape sub-graphs); a run-time ScatterND is not supported")
            }
            set(try foldScatterND(n, data, idx, upd, reduction: attrs.string("reduction", "none")))
            return true
        default:
            return try foldRuntimeOp(n, attrs: attrs)
        }
    }

    /// Elementwise ops on constants with NumPy broadcasting: comparisons and logic give booleans (0/1 integers),
    /// Where selects, Mod follows ONNX (`fmod` = 0: the sign of the divisor, integers only), the rest keep the type.
    func foldElementwise(_ n: Onnx_NodeProto, _ ins: [ConstValue], attrs: Attributes) throws -> ConstValue {
        let op = n.opType
        let moves = op == "Where"
        // Equal may compare the batch size with a constant that is not a size (-1 or 0, as exporters do to
        // expand with -1); Where only moves it.
        let checked = moves ? Array(ins.prefix(1)) : op == "Equal" ? [] : ins
        if checked.contains(where: { $0.ints?.contains(Op.batchExtent) == true }) {
            throw ModelError.unsupportedFeature(path: path, node: n.name, detail: "\(op) on the free batch size in a shape sub-graph is not supported; export with a fixed batch size")
        }
        var outShape: [Int] = []
        do { for v in ins { outShape = try broadcastShapes(outShape, v.shape) } } catch {
            throw ModelError.badGraph(path: path, detail: "node '\(n.name)' (\(op)): \(error)")
        }
        guard let count = checkedCount(outShape), count <= ImportState.maxFoldedCount else {
            throw ModelError.badGraph(path: path, detail: "node '\(n.name)' (\(op)) would fold to shape \(outShape), larger than \(ImportState.maxFoldedCount) values; the model is damaged, re-export it")
        }
        // Integers are kept exact as Int; floats as Double.
        let valueInputs = moves ? Array(ins.dropFirst()) : ins
        let floatResult = valueInputs.contains { $0.floats != nil } && !["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Not"].contains(op)
        var fl: [Float] = [], it: [Int] = []
        if floatResult { fl.reserveCapacity(count) } else { it.reserveCapacity(count) }
        let fmod = attrs.int("fmod", 0) != 0
        try forEachBroadcastElement(ins.map(\.shape), to: outShape) { _, at in
            func d(_ j: Int) -> Double { ins[j].floats.map { Double($0[at[j]]) } ?? Double(ins[j].ints![at[j]]) }
            func i(_ j: Int) -> Int { ins[j].ints?[at[j]] ?? saturatingInt(ins[j].floats![at[j]]) }
            switch op {
            case "Equal":
                let a = i(0), b = i(1)
                if (a == Op.batchExtent) != (b == Op.batchExtent) {
                    guard min(a, b) == Op.batchExtent && max(a, b) <= 0 else {
                        throw ModelError.unsupportedFeature(path: path, node: n.name, detail: "Equal compares the free batch size with \(max(a, b)) in a shape sub-graph, which is not supported; export with a fixed batch size")
                    }
                    it.append(0)
                } else { it.append(d(0) == d(1) ? 1 : 0) }
            case "Less": it.append(d(0) < d(1) ? 1 : 0)
            case "Greater": it.append(d(0) > d(1) ? 1 : 0)
            case "LessOrEqual": it.append(d(0) <= d(1) ? 1 : 0)
            case "GreaterOrEqual": it.append(d(0) >= d(1) ? 1 : 0)
            case "And": it.append(d(0) != 0 && d(1) != 0 ? 1 : 0)
            case "Or": it.append(d(0) != 0 || d(1) != 0 ? 1 : 0)
            case "Not": it.append(d(0) == 0 ? 1 : 0)
            case "Where":
                let pick = d(0) != 0 ? 1 : 2
                if floatResult { fl.append(Float(d(pick))) } else { it.append(i(pick)) }
            case "Mod":
                if floatResult {
                    guard fmod else { throw ModelError.unsupportedFeature(path: path, node: n.name, detail: "Mod of floats needs fmod=1") }
                    fl.append(Float(Foundation.fmod(d(0), d(1))))
                } else {
                    let a = i(0), b = i(1)
                    guard b != 0 else { throw ModelError.badGraph(path: path, detail: "node '\(n.name)' (Mod) divides by zero in a shape computation") }
                    var r = a % b
                    if !fmod && r != 0 && (r < 0) != (b < 0) { r += b }
                    it.append(r)
                }
            case "Neg": if floatResult { fl.append(Float(-d(0))) } else { it.append(i(0) == .min ? .max : -i(0)) }
            case "Abs": if floatResult { fl.append(Float(abs(d(0)))) } else { it.append(i(0) == .min ? .max : abs(i(0))) }
            case "Floor": if floatResult { fl.append(Float(d(0).rounded(.down))) } else { it.append(i(0)) }
            default: if floatResult { fl.append(Float(d(0).rounded(.up))) } else { it.append(i(0)) }
            }
        }
        return floatResult ? ConstValue(shape: outShape, floats: fl) : ConstValue(shape: outShape, ints: it)
    }

    /// ScatterND on constants: `indices` `[..., k]` address slices of `data`, replaced (or combined) by `updates`.
    func foldScatterND(_ n: Onnx_NodeProto, _ data: ConstValue, _ idx: ConstValue, _ upd: ConstValue, reduction: String) throws -> ConstValue {
        func bad(_ d: String) -> ModelError { .badGraph(path: path, detail: "node '\(n.name)' (ScatterND): \(d); the model is damaged, re-export it") }
        guard let k = idx.shape.last, k >= 1, k <= data.shape.count else { throw bad("indices \(idx.shape) do not address data \(data.shape)") }
        let tuples = idx.count / k, slice = shapeCount(Array(data.shape[k...]))
        guard upd.count == tuples * slice else { throw bad("updates \(upd.shape) do not match \(tuples) slices of \(slice) values") }
        guard ["none", "add", "mul", "max", "min"].contains(reduction) else { throw bad("reduction '\(reduction)' is not an ONNX value") }
        let strides = contiguousStrides(data.shape), iv = idx.asInts
        var offsets: [Int] = []
        for t in 0..<tuples {
            var off = 0
            for a in 0..<k {
                var v = iv[t * k + a]
                if v < 0 { v += data.shape[a] }
                guard v >= 0 && v < data.shape[a] else { throw bad("index \(iv[t * k + a]) is out of range for axis \(a) of \(data.shape)") }
                off += v * strides[a]
            }
            offsets.append(off)
        }
        func combine<T: Comparable>(_ old: T, _ new: T, _ add: (T, T) -> T, _ mul: (T, T) -> T) -> T {
            switch reduction { case "add": return add(old, new); case "mul": return mul(old, new); case "max": return max(old, new); case "min": return min(old, new); default: return new }
        }
        if data.floats != nil || upd.floats != nil {
            var out = data.asFloats; let u = upd.asFloats
            for (t, off) in offsets.enumerated() { for j in 0..<slice { out[off + j] = combine(out[off + j], u[t * slice + j], +, *) } }
            return ConstValue(shape: data.shape, floats: out)
        }
        var out = data.asInts; let u = upd.asInts
        for (t, off) in offsets.enumerated() { for j in 0..<slice { out[off + j] = combine(out[off + j], u[t * slice + j], &+, &*) } }
        return ConstValue(shape: data.shape, ints: out)
    }

    /// Folds a run-time op whose inputs are all constants.
    mutating func foldRuntimeOp(_ n: Onnx_NodeProto, attrs: Attributes) throws -> Bool {
        guard let rule = opTable[n.opType], opset >= rule.since, opset <= rule.until else { return false }
        let low = try rule.lower(makeContext(n, attrs: attrs))
        let data = low.dataInputs.filter { $0 < n.input.count && !n.input[$0].isEmpty }.map { consts[n.input[$0]]! }
        guard !data.isEmpty else { return false }
        func wrap(_ e: Error) -> Error {
            if let g = e as? GraphError { return ModelError.badGraph(path: path, detail: g.description) }
            return e
        }
        switch low.op {
        case let .expand(shape) where shape.contains(Op.batchExtent):
            // Broadcast to the run-time batch size: a run-time node over the constant.
            return false
        case .dequantize:
            // Integer data (int8 weights, int32 biases) dequantised to float weights at load.
            let outs: [Tensor]
            do { outs = try low.op.run(data.map(\.tensor), node: n.name) } catch { throw wrap(error) }
            consts[n.output[0]] = ConstValue(shape: outs[0].shape, floats: outs[0].data)
            dequantized.insert(n.output[0])
            if case let .dequantize(q) = low.op { dequantizedBy[n.output[0]] = q }
            return true
        default: break
        }
        if !data.contains(where: { $0.ints != nil }) {
            let outs: [Tensor]
            do { outs = try low.op.run(data.map(\.tensor) + low.extraConstants.map(\.1), node: n.name) } catch { throw wrap(error) }
            for (o, t) in zip(n.output, outs) { consts[o] = ConstValue(shape: t.shape, floats: t.data) }
            return true
        }
        // Integer data (shapes): layout ops move values, so run them on element indices and map back.
        switch low.op {
        case .reshape, .flatten, .squeeze, .unsqueeze, .identity, .concat, .slice, .transpose, .split, .expand, .gather:
            var pool: [Int] = [], idx: [Tensor] = []
            for d in data {
                let start = pool.count
                pool += d.asInts
                idx.append(Tensor(shape: d.shape, data: (start..<pool.count).map { Float($0) }))
            }
            let outs: [Tensor]
            do { outs = try low.op.run(idx, node: n.name) } catch { throw wrap(error) }
            for (o, t) in zip(n.output, outs) { consts[o] = ConstValue(shape: t.shape, ints: t.data.map { pool[Int($0)] }) }
            return true
        case let .binary(op) where [.add, .sub, .mul, .div, .max, .min].contains(op):
            guard data.count == 2 else { return false }
            let a = data[0], b = data[1]
            if a.asInts.contains(Op.batchExtent) || b.asInts.contains(Op.batchExtent) {
                if (op == .mul || op == .div), let one = (a.asInts.contains(Op.batchExtent) ? b : a).asInts.first, one == 1,
                   (a.asInts.contains(Op.batchExtent) ? b : a).count == 1 {
                    consts[n.output[0]] = a.asInts.contains(Op.batchExtent) ? a : b
                    return true
                }
                throw ModelError.unsupportedFeature(path: path, node: n.name, detail: "arithmetic on the free batch size in a shape sub-graph is not supported; export with a fixed batch size")
            }
            let outShape: [Int]
            do { outShape = try broadcastShapes(a.shape, b.shape) } catch { throw ModelError.badGraph(path: path, detail: "node '\(n.name)': \(error)") }
            guard let outCount = checkedCount(outShape), outCount <= ImportState.maxFoldedCount else {
                throw ModelError.badGraph(path: path, detail: "node '\(n.name)' would fold to shape \(outShape), larger than \(ImportState.maxFoldedCount) values; the model is damaged, re-export it")
            }
            func overflow() -> ModelError { .badGraph(path: path, detail: "node '\(n.name)' (\(n.opType)) overflows in a shape computation; the model is damaged, re-export it") }
            let av = a.asInts, bv = b.asInts
            var out = [Int](repeating: 0, count: outCount)
            try forEachBroadcastElement([a.shape, b.shape], to: outShape) { o, at in
                let x = av[at[0]], y = bv[at[1]]
                switch op {
                case .add, .sub, .mul:
                    let (r, o1) = op == .add ? x.addingReportingOverflow(y) : op == .sub ? x.subtractingReportingOverflow(y) : x.multipliedReportingOverflow(by: y)
                    guard !o1 else { throw overflow() }
                    out[o] = r
                case .div:
                    guard y != 0 else { throw ModelError.badGraph(path: path, detail: "node '\(n.name)' divides by zero in a shape computation") }
                    let q = (Double(x) / Double(y)).rounded(.down)
                    guard abs(q) < 9.2e18 else { throw overflow() }
                    out[o] = Int(q)
                case .max: out[o] = max(x, y)
                default: out[o] = min(x, y)
                }
            }
            consts[n.output[0]] = ConstValue(shape: outShape, ints: out)
            return true
        default:
            return false
        }
    }
}

/// Calls `body` for each element of `outShape`, in order, with its flat index and the flat index it reads in each of
/// `shapes` broadcast to it (NumPy rules; the shapes are known to broadcast).
func forEachBroadcastElement(_ shapes: [[Int]], to outShape: [Int], _ body: (Int, [Int]) throws -> Void) rethrows {
    let strides = shapes.map { broadcastStrides($0, to: outShape) }, oS = contiguousStrides(outShape)
    var at = [Int](repeating: 0, count: shapes.count)
    for o in 0..<shapeCount(outShape) {
        var rem = o
        for j in 0..<at.count { at[j] = 0 }
        for ax in 0..<outShape.count {
            let i = rem / oS[ax]; rem %= oS[ax]
            for j in 0..<at.count { at[j] += i * strides[j][ax] }
        }
        try body(o, at)
    }
}

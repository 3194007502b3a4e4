import Foundation
import Graph
import TensorCore

/// A tensor known at load time: float data, or integer data (shapes, indices, axes).
///
/// Integer entries may hold `Op.batchExtent` where a folded shape sub-graph refers to the run-time batch size.
public struct ConstValue: Sendable, Equatable {
    public var shape: [Int]
    public var floats: [Float]?
    public var ints: [Int]?
    /// The ONNX element type it was stored as (`TensorProto.DataType`), when read from a tensor: QuantizeLinear
    /// takes its integer type from its zero point's.
    public var dataType: Int?

    public init(shape: [Int], floats: [Float]) { self.shape = shape; self.floats = floats; self.ints = nil }
    public init(shape: [Int], ints: [Int]) { self.shape = shape; self.ints = ints; self.floats = nil }

    public var count: Int { floats?.count ?? ints?.count ?? 0 }
    /// The values as integers (floats truncated; NaN reads as 0 and values beyond `Int`'s range saturate).
    public var asInts: [Int] { ints ?? (floats ?? []).map(saturatingInt) }
    /// The values as floats.
    public var asFloats: [Float] { floats ?? (ints ?? []).map { Float($0) } }
    /// As a float tensor.
    public var tensor: Tensor { Tensor(shape: shape, data: asFloats) }
}

/// Reads a TensorProto's values, checking its byte count against its shape.
func decodeTensor(_ t: Onnx_TensorProto, modelPath: String, modelDir: String) throws -> ConstValue {
    var v = try decodeTensorValues(t, modelPath: modelPath, modelDir: modelDir)
    v.dataType = Int(t.dataType)
    return v
}

func decodeTensorValues(_ t: Onnx_TensorProto, modelPath: String, modelDir: String) throws -> ConstValue {
    let name = t.name
    let shape = t.dims.map { Int($0) }
    guard shape.allSatisfy({ $0 >= 0 }) else {
        throw ModelError.badTensor(path: modelPath, tensor: name, detail: "has negative dimensions \(shape)")
    }
    guard let count = checkedCount(shape), count < 1 << 31 else {
        throw ModelError.badTensor(path: modelPath, tensor: name, detail: "shape \(shape) is implausibly large")
    }
    guard let dtype = Onnx_TensorProto.DataType(rawValue: Int(t.dataType)) else {
        throw ModelError.badTensor(path: modelPath, tensor: name, detail: "has unknown data type \(t.dataType)")
    }
    var raw: Data? = t.hasRawData ? t.rawData : nil
    if t.dataLocation == .external {
        raw = try readExternal(t, modelPath: modelPath, modelDir: modelDir)
    }
    func check(_ n: Int, _ what: String) throws {
        guard n == count else {
            throw ModelError.badTensor(path: modelPath, tensor: name, detail: "holds \(n) \(what) values but its shape \(shape) needs \(count)")
        }
    }
    func rawValues<T>(_ type: T.Type) throws -> [T] {
        let size = MemoryLayout<T>.size
        guard raw!.count == count * size else {
            throw ModelError.badTensor(path: modelPath, tensor: name,
                                       detail: "has \(raw!.count) bytes of data but shape \(shape) of \(dtype) needs \(count * size)")
        }
        return [T](unsafeUninitializedCapacity: count) { buf, n in
            _ = raw!.copyBytes(to: buf)
            n = count
        }
    }
    switch dtype {
    case .float:
        if raw != nil { return ConstValue(shape: shape, floats: try rawValues(Float.self)) }
        try check(t.floatData.count, "float"); return ConstValue(shape: shape, floats: t.floatData)
    case .double:
        if raw != nil { return ConstValue(shape: shape, floats: try rawValues(Double.self).map { Float($0) }) }
        try check(t.doubleData.count, "double"); return ConstValue(shape: shape, floats: t.doubleData.map { Float($0) })
    case .float16:
        if raw != nil { return ConstValue(shape: shape, floats: try rawValues(UInt16.self).map { halfToFloat($0) }) }
        try check(t.int32Data.count, "float16"); return ConstValue(shape: shape, floats: t.int32Data.map { halfToFloat(UInt16(truncatingIfNeeded: $0)) })
    case .int64:
        if raw != nil { return ConstValue(shape: shape, ints: try rawValues(Int64.self).map { Int($0) }) }
        try check(t.int64Data.count, "int64"); return ConstValue(shape: shape, ints: t.int64Data.map { Int($0) })
    case .int32, .int16, .int8, .uint8, .uint16, .bool:
        if let r = raw {
            switch dtype {
            case .int32: return ConstValue(shape: shape, ints: try rawValues(Int32.self).map { Int($0) })
            case .int16: return ConstValue(shape: shape, ints: try rawValues(Int16.self).map { Int($0) })
            case .uint16: return ConstValue(shape: shape, ints: try rawValues(UInt16.self).map { Int($0) })
            case .int8: return ConstValue(shape: shape, ints: try rawValues(Int8.self).map { Int($0) })
            default: _ = r; return ConstValue(shape: shape, ints: try rawValues(UInt8.self).map { Int($0) })
            }
        }
        try check(t.int32Data.count, "int32"); return ConstValue(shape: shape, ints: t.int32Data.map { Int($0) })
    case .uint32, .uint64:
        if raw != nil {
            if dtype == .uint32 { return ConstValue(shape: shape, ints: try rawValues(UInt32.self).map { Int($0) }) }
            return ConstValue(shape: shape, ints: try rawValues(UInt64.self).map { Int(truncatingIfNeeded: $0) })
        }
        try check(t.uint64Data.count, "uint64"); return ConstValue(shape: shape, ints: t.uint64Data.map { Int(truncatingIfNeeded: $0) })
    default:
        throw ModelError.badTensor(path: modelPath, tensor: name, detail: "has data type \(dtype), which Vigil does not read (float, double, float16 and integers are supported)")
    }
}

/// A float truncated toward zero as an `Int`: NaN is 0, values beyond the range saturate (never `Int.min`,
/// which stands for the batch size in shape constants).
func saturatingInt(_ f: Float) -> Int {
    guard !f.isNaN else { return 0 }
    if f >= 9.2e18 { return .max }
    if f <= -9.2e18 { return .min + 1 }
    return Int(f)
}

/// IEEE half to float.
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exp = Int((h >> 10) & 0x1F), man = UInt32(h & 0x3FF)
    if exp == 0 {
        if man == 0 { return Float(bitPattern: sign) }
        let v = Float(man) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (man << 13)) }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (man << 13))
}

/// Reads external tensor bytes, refusing any location outside the model's own folder.
func readExternal(_ t: Onnx_TensorProto, modelPath: String, modelDir: String) throws -> Data {
    var loc: String? = nil, offset = 0, length: Int? = nil
    for e in t.externalData {
        switch e.key {
        case "location": loc = e.value
        case "offset": offset = Int(e.value) ?? -1
        case "length": length = Int(e.value)
        default: break
        }
    }
    guard let loc, !loc.isEmpty else { throw ModelError.externalData(path: modelPath, tensor: t.name, detail: "has no location") }
    guard !loc.hasPrefix("/"), !loc.split(separator: "/").contains("..") else {
        throw ModelError.externalData(path: modelPath, tensor: t.name, detail: "location '\(loc)' leaves the model's folder; Vigil only reads external data stored beside the model")
    }
    let dirURL = URL(fileURLWithPath: modelDir).resolvingSymlinksInPath()
    let fileURL = dirURL.appendingPathComponent(loc).resolvingSymlinksInPath()
    guard fileURL.path.hasPrefix(dirURL.path + "/") else {
        throw ModelError.externalData(path: modelPath, tensor: t.name, detail: "location '\(loc)' resolves outside the model's folder (through a link); Vigil only reads external data stored beside the model")
    }
    guard let h = FileHandle(forReadingAtPath: fileURL.path) else {
        throw ModelError.externalData(path: modelPath, tensor: t.name, detail: "file '\(loc)' cannot be opened; keep it beside the model")
    }
    defer { try? h.close() }
    let size = (try? FileManager.default.attributesOfItem(atPath: fileURL.path)[.size] as? Int) ?? 0
    guard offset >= 0, offset <= size else {
        throw ModelError.externalData(path: modelPath, tensor: t.name, detail: "offset \(offset) is outside file '\(loc)' of \(size) bytes")
    }
    if let length, length < 0 || length > size - offset {
        throw ModelError.externalData(path: modelPath, tensor: t.name, detail: "file '\(loc)' holds \(size - offset) bytes from offset \(offset), \(length) expected")
    }
    try h.seek(toOffset: UInt64(offset))
    let data = length.map { h.readData(ofLength: $0) } ?? h.readDataToEndOfFile()
    if let length, data.count != length {
        throw ModelError.externalData(path: modelPath, tensor: t.name, detail: "file '\(loc)' holds \(data.count) bytes from offset \(offset), \(length) expected")
    }
    return data
}

/// Typed access to a node's attributes, with errors naming the node.
struct Attributes {
    let byName: [String: Onnx_AttributeProto]
    let node: String
    let path: String

    init(_ n: Onnx_NodeProto, path: String) {
        var d: [String: Onnx_AttributeProto] = [:]
        for a in n.attribute { d[a.name] = a }
        byName = d
        node = n.name
        self.path = path
    }

    func has(_ k: String) -> Bool { byName[k] != nil }
    func int(_ k: String, _ def: Int) -> Int { byName[k].map { Int($0.i) } ?? def }
    func float(_ k: String, _ def: Float) -> Float { byName[k].map { $0.f } ?? def }
    func string(_ k: String, _ def: String) -> String { byName[k].map { String(decoding: $0.s, as: UTF8.self) } ?? def }
    func ints(_ k: String) -> [Int]? { byName[k].map { $0.ints.map { Int($0) } } }
    func floats(_ k: String) -> [Float]? { byName[k].map { $0.floats } }
    func tensor(_ k: String) -> Onnx_TensorProto? { byName[k].flatMap { $0.hasT ? $0.t : nil } }
}

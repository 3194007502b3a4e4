import Foundation

/// A parsed JSON value that keeps booleans, integers and other numbers apart.
public indirect enum JSONValue: Decodable, Equatable {
    case null, bool(Bool), integer(Int), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public static func parse(_ data: Data) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: data) }

    /// The value as a double, for numbers.
    public var double: Double? {
        switch self { case let .integer(i): return Double(i); case let .number(d): return d; default: return nil }
    }
    public subscript(key: String) -> JSONValue? { if case let .object(o) = self { return o[key] }; return nil }
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { return a }; return nil }
    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    public var boolValue: Bool? { if case let .bool(b) = self { return b }; return nil }

    func matches(type t: String) -> Bool {
        switch (t, self) {
        case ("null", .null), ("boolean", .bool), ("integer", .integer), ("number", .integer), ("number", .number),
             ("string", .string), ("array", .array), ("object", .object): return true
        case ("integer", .number(let d)): return d == d.rounded()
        default: return false
        }
    }
}

/// A JSON Schema (draft 2020-12) validator for the keywords Vigil's report schema uses: type, properties,
/// required, additionalProperties, items, enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum,
/// minItems, maxItems, minLength, pattern, anyOf, oneOf, allOf and local `$ref`s into `$defs`.
/// Unknown keywords fail loudly so the validator never passes a document it did not check.
public struct JSONSchemaValidator {
    let root: JSONValue
    static let annotations: Set<String> = ["$schema", "$id", "title", "description", "$comment", "$defs", "definitions", "default", "examples", "format"]

    public init(schemaFile: String) throws {
        root = try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: schemaFile)))
    }

    public struct ValidationFailure: Error, CustomStringConvertible {
        public var errors: [String]
        public var description: String { errors.prefix(20).joined(separator: "\n") }
    }

    /// Validates a JSON document; throws with every violation found (path and rule).
    public func validate(document: Data) throws {
        var errors: [String] = []
        check(try JSONValue.parse(document), root, "$", &errors)
        if !errors.isEmpty { throw ValidationFailure(errors: errors) }
    }

    /// Validates a JSON document against one of the schema's definitions (`#/$defs/NAME`), such as a line of frames.jsonl.
    public func validate(document: Data, definition: String) throws {
        var errors: [String] = []
        guard let def = resolve("#/$defs/\(definition)") else { throw ValidationFailure(errors: ["no $defs/\(definition) in the schema"]) }
        check(try JSONValue.parse(document), def, "$", &errors)
        if !errors.isEmpty { throw ValidationFailure(errors: errors) }
    }

    /// Validates a report folder written by `vigil analyze`: report.json against the schema of its version and, for
    /// version 2, every line of frames.jsonl against `$defs/frame` and `frameCount` against the line count. Returns the
    /// frame records.
    @discardableResult
    public static func validateReportFolder(_ dir: String) throws -> [JSONValue] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/report.json"))
        let report = try JSONValue.parse(data)
        if report["schemaVersion"]?.stringValue == "1.0" {
            try JSONSchemaValidator(schemaFile: FixturePaths.path("scripts/schema/report-v1.schema.json")).validate(document: data)
            return report["frames"]?.arrayValue ?? []
        }
        let v = try JSONSchemaValidator(schemaFile: FixturePaths.path("scripts/schema/report-v2.schema.json"))
        try v.validate(document: data)
        let text = try String(contentsOfFile: dir + "/" + (report["framesFile"]?.stringValue ?? "frames.jsonl"), encoding: .utf8)
        var frames: [JSONValue] = []
        for line in text.split(separator: "\n") {
            try v.validate(document: Data(line.utf8), definition: "frame")
            frames.append(try JSONValue.parse(Data(line.utf8)))
        }
        if let n = report["frameCount"]?.double, Int(n) != frames.count {
            throw ValidationFailure(errors: ["frameCount \(Int(n)) but frames.jsonl has \(frames.count) lines"])
        }
        return frames
    }

    func resolve(_ ref: String) -> JSONValue? {
        guard ref.hasPrefix("#/") else { return nil }
        var node: JSONValue? = root
        for part in ref.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
        return node
    }

    func check(_ v: JSONValue, _ schema: JSONValue, _ path: String, _ errors: inout [String]) {
        if case let .bool(b) = schema { if !b { errors.append("\(path): schema false") }; return }
        guard case let .object(s) = schema else { errors.append("\(path): schema is not an object"); return }
        for (k, rule) in s {
            switch k {
            case "$ref":
                guard let r = rule.stringValue, let target = resolve(r) else { errors.append("\(path): unresolvable $ref"); continue }
                check(v, target, path, &errors)
            case "type":
                let types = rule.arrayValue?.compactMap(\.stringValue) ?? [rule.stringValue ?? ""]
                if !types.contains(where: { v.matches(type: $0) }) { errors.append("\(path): expected type \(types), got \(v)") }
            case "properties":
                guard case let .object(obj) = v, case let .object(props) = rule else { continue }
                for (name, sub) in props { if let pv = obj[name] { check(pv, sub, path + "." + name, &errors) } }
            case "required":
                guard case let .object(obj) = v, let req = rule.arrayValue?.compactMap(\.stringValue) else { continue }
                for r in req where obj[r] == nil { errors.append("\(path): missing required property '\(r)'") }
            case "additionalProperties":
                guard case let .object(obj) = v else { continue }
                var props: [String: JSONValue] = [:]
                if case let .object(p)? = s["properties"] { props = p }
                for (name, pv) in obj where props[name] == nil {
                    if case let .bool(b) = rule { if !b { errors.append("\(path): property '\(name)' is not allowed") } }
                    else { check(pv, rule, path + "." + name, &errors) }
                }
            case "items":
                guard case let .array(arr) = v else { continue }
                for (i, e) in arr.enumerated() { check(e, rule, "\(path)[\(i)]", &errors) }
            case "enum":
                if !(rule.arrayValue ?? []).contains(where: { $0 == v || ($0.double != nil && $0.double == v.double) }) { errors.append("\(path): \(v) is not one of \(rule)") }
            case "const":
                if !(rule == v || (rule.double != nil && rule.double == v.double)) { errors.append("\(path): \(v) is not the constant \(rule)") }
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
                guard let n = v.double, let b = rule.double else { continue }
                let ok = k == "minimum" ? n >= b : k == "maximum" ? n <= b : k == "exclusiveMinimum" ? n > b : n < b
                if !ok { errors.append("\(path): \(n) violates \(k) \(b)") }
            case "minItems", "maxItems":
                guard case let .array(arr) = v, let b = rule.double else { continue }
                if k == "minItems" ? Double(arr.count) < b : Double(arr.count) > b { errors.append("\(path): \(arr.count) items violates \(k) \(b)") }
            case "minLength":
                guard case let .string(str) = v, let b = rule.double else { continue }
                if Double(str.count) < b { errors.append("\(path): string shorter than \(b)") }
            case "pattern":
                guard case let .string(str) = v, let p = rule.stringValue, let re = try? NSRegularExpression(pattern: p) else { continue }
                if re.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) == nil { errors.append("\(path): '\(str)' does not match \(p)") }
            case "anyOf", "oneOf", "allOf":
                let subs = rule.arrayValue ?? []
                let results = subs.map { sub -> [String] in var e: [String] = []; check(v, sub, path, &e); return e }
                let passing = results.filter(\.isEmpty).count
                let ok = k == "anyOf" ? passing >= 1 : k == "oneOf" ? passing == 1 : passing == subs.count
                if !ok { errors.append("\(path): \(k) matched \(passing) of \(subs.count) schemas (\(results.flatMap { $0 }.prefix(3)))") }
            default:
                if !Self.annotations.contains(k) { errors.append("\(path): the validator does not implement keyword '\(k)'") }
            }
        }
    }
}

import Foundation
import JSON

/// The API's OpenAPI document (`docs/openapi.json`) and a check of a response (or a request) against
/// it: the subset of JSON Schema the document uses ($ref, type, enum, const, properties, required,
/// additionalProperties, items, oneOf, minLength, maxLength, pattern, minimum). A test that gets a
/// response asks whether the document describes it; every mismatch is named by its path in the body.
struct OpenAPIDocument {
    let document: JSONValue

    static func load() throws -> OpenAPIDocument {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.json")
        return OpenAPIDocument(document: try JSONParser.parse(Array(try Data(contentsOf: url))))
    }

    /// Problems with this response (empty: it is as documented).
    func problems(method: String, path: String, status: Int, body: JSONValue?) -> [String] {
        guard let operation = document["paths"]?[path]?[method.lowercased()] else { return ["\(method) \(path) is not in the document"] }
        guard let response = operation["responses"]?[String(status)] else { return ["\(method) \(path) does not document status \(status)"] }
        guard let schema = response["content"]?["application/json"]?["schema"] else {
            return body == nil ? [] : ["\(method) \(path) \(status) documents no JSON body"]
        }
        guard let body else { return ["\(method) \(path) \(status) documents a body; there was none"] }
        var problems: [String] = []
        check(body, against: schema, at: "$", into: &problems)
        return problems.map { "\(method) \(path) \(status): \($0)" }
    }

    /// Problems of a value (a request body, a parameter's value) against a schema of the document.
    func problems(of value: JSONValue, against schema: JSONValue) -> [String] {
        var problems: [String] = []
        check(value, against: schema, at: "$", into: &problems)
        return problems
    }

    func resolve(_ schema: JSONValue) -> JSONValue {
        guard let reference = schema["$ref"]?.string, reference.hasPrefix("#/") else { return schema }
        var node: JSONValue? = document
        for part in reference.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
        return node ?? [:]
    }

    private func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .number(let number): return number == number.rounded() ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    private func check(_ value: JSONValue, against raw: JSONValue, at path: String, into problems: inout [String]) {
        let schema = resolve(raw)
        if let options = schema["oneOf"]?.array {
            let matching = options.filter { option in
                var scratch: [String] = []
                check(value, against: option, at: path, into: &scratch)
                return scratch.isEmpty
            }
            if matching.count != 1 { problems.append("\(path) matches \(matching.count) of the oneOf schemas, not one") }
            return
        }
        if let constant = schema["const"], constant != value { problems.append("\(path) is \(JSONWriter.write(value)), not \(JSONWriter.write(constant))") }
        if let allowed = schema["enum"]?.array, !allowed.contains(value) { problems.append("\(path) is \(JSONWriter.write(value)), not one of \(JSONWriter.write(.array(allowed)))") }
        if let type = schema["type"] {
            let types = type.string.map { [$0] } ?? type.array.compactMap(\.string)
            let actual = typeName(value)
            let fits = types.contains(actual) || (actual == "integer" && types.contains("number"))
            if !fits {
                problems.append("\(path) is \(actual), expected \(types.joined(separator: " or "))")
                return
            }
        }
        if case .string(let text) = value {
            let length = text.unicodeScalars.count
            if let minimum = schema["minLength"]?.number, Double(length) < minimum { problems.append("\(path) is shorter than \(Int(minimum))") }
            if let maximum = schema["maxLength"]?.number, Double(length) > maximum { problems.append("\(path) is longer than \(Int(maximum))") }
            if let pattern = schema["pattern"]?.string {
                let matches = (try? NSRegularExpression(pattern: pattern)).map { $0.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil }
                if matches != true { problems.append("\(path) does not match \(pattern)") }
            }
        }
        if case .number(let number) = value, let minimum = schema["minimum"]?.number, number < minimum {
            problems.append("\(path) is less than \(minimum)")
        }
        if case .object(let members) = value {
            let properties: [String: JSONValue]
            if case .object(let declared)? = schema["properties"] { properties = declared } else { properties = [:] }
            for name in schema["required"]?.array.compactMap(\.string) ?? [] where members[name] == nil {
                problems.append("\(path).\(name) is required but missing")
            }
            for (name, member) in members {
                if let property = properties[name] {
                    check(member, against: property, at: "\(path).\(name)", into: &problems)
                } else if let additional = schema["additionalProperties"] {
                    if additional == .bool(false) {
                        problems.append("\(path).\(name) is not in the document")
                    } else if additional.isObject {
                        check(member, against: additional, at: "\(path).\(name)", into: &problems)
                    }
                }
            }
        }
        if case .array(let elements) = value, let items = schema["items"] {
            for (index, element) in elements.enumerated() { check(element, against: items, at: "\(path)[\(index)]", into: &problems) }
        }
    }
}

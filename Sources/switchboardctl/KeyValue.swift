import JSON

/// `key=value` pairs as `watch` and `ticket` print them (logfmt's shape): a value with a space, a
/// quote, a backslash or a control character, or an empty one, is quoted with `\"` and `\\`
/// escapes, so a line splits into its pairs unambiguously.
enum KeyValue {
    static func pair(_ key: String, _ value: String) -> String { "\(key)=\(quoted(value))" }

    static func quoted(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains { scalar in
            scalar.properties.isWhitespace || scalar == "\"" || scalar == "\\" || scalar.value < 0x20 || scalar.value == 0x7F
        }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// An object's members as pairs in key order: nested objects by dotted key
    /// (`deadlines.resolution=…`), lists comma-joined (`[]` when empty), null as `-`.
    static func pairs(_ value: JSONValue, prefix: String = "") -> [String] {
        guard case .object(let members) = value else { return [] }
        return members.sorted { $0.key < $1.key }.flatMap { key, member -> [String] in
            let name = prefix + key
            switch member {
            case .object(let nested) where !nested.isEmpty: return pairs(member, prefix: name + ".")
            default: return [pair(name, text(member))]
            }
        }
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: return "-"
        case .bool(let flag): return flag ? "true" : "false"
        case .array(let elements): return elements.isEmpty ? "[]" : elements.map(text).joined(separator: ",")
        case .object(let members) where members.isEmpty: return "{}"
        case .string, .number: return value.text ?? JSONWriter.write(value)
        default: return JSONWriter.write(value)
        }
    }
}

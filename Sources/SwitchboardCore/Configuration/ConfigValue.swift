/// A JSON value as read from a configuration file (and a control call's parameters), before it is
/// checked. Not the `JSON` module's `JSONValue`, which the webhook, the API and the control replies
/// share: the core may import only Foundation and Collections (DESIGN.md's module map), and the
/// readers that check a configuration live here. It keeps integers apart from other numbers, so
/// `"capacity": 2.5` is refused by name rather than rounded.
public enum ConfigValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([ConfigValue])
    case object([String: ConfigValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ConfigValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ConfigValue].self))
        }
    }

    /// How an error message shows a value it did not accept: strings quoted, containers by kind.
    public var shownInError: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "\(value)"
        case .integer(let value): return "\(value)"
        case .number(let value): return "\(value)"
        case .string(let value):
            let short = value.count > 60 ? String(value.prefix(57)) + "..." : value
            return "\"\(short)\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// `"text"` where a value is expected (control parameters written by hand, tests).
extension ConfigValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

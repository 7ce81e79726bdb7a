import Foundation

/// A JSON value in a Varlink reply: built by the methods, encoded once.
public enum VarlinkValue: Sendable, Equatable, Encodable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([VarlinkValue])
    case object([String: VarlinkValue])

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: VarlinkValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, VarlinkValue)...) { self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last })) }

    public static func optional(_ text: String?) -> VarlinkValue { text.map(VarlinkValue.string) ?? .null }
    public static func strings(_ list: [String]) -> VarlinkValue { .array(list.map(VarlinkValue.string)) }
    public static func timestamp(_ date: Date?) -> VarlinkValue {
        date.map { .string($0.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))) } ?? .null
    }

    /// A JSON object's text as a value (event data stored as JSON).
    public static func parsing(_ text: String) -> VarlinkValue {
        guard let parsed = try? JSONDecoder().decode(JSONShape.self, from: Data(text.utf8)) else { return .object([:]) }
        return parsed.value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value.isFinite ? value : 0)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The encoded text.
    public func jsonBytes() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { preconditionFailure("a VarlinkValue always encodes (non-finite numbers become 0)") }
        return Array(data)
    }

    /// Decoding stored JSON into a value.
    private struct JSONShape: Decodable {
        let value: VarlinkValue

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                value = .null
            } else if let bool = try? container.decode(Bool.self) {
                value = .bool(bool)
            } else if let int = try? container.decode(Int.self) {
                value = .int(int)
            } else if let double = try? container.decode(Double.self) {
                value = .double(double)
            } else if let string = try? container.decode(String.self) {
                value = .string(string)
            } else if let array = try? container.decode([JSONShape].self) {
                value = .array(array.map(\.value))
            } else {
                value = .object(try container.decode([String: JSONShape].self).mapValues(\.value))
            }
        }
    }
}

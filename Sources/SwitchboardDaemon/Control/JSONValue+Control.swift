import Foundation
import JSON
import SwitchboardCore

/// The control socket's replies are `JSONValue`s, the same type as the API's bodies and the
/// webhook's payloads; these build the fields replies are made of.
extension JSONValue {
    public static func int(_ value: Int) -> JSONValue { .number(Double(value)) }

    /// A number JSON can carry (not a number and infinities are 0).
    public static func double(_ value: Double) -> JSONValue { .number(value.isFinite ? value : 0) }

    public static func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }

    public static func strings(_ list: [String]) -> JSONValue { .array(list.map(JSONValue.string)) }

    public static func timestamp(_ date: Date?) -> JSONValue {
        date.map { .string($0.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))) } ?? .null
    }

    /// A JSON object's text as a value (event data stored as JSON); not JSON: an empty object.
    public static func parsing(_ text: String) -> JSONValue {
        (try? JSONParser.parse(Array(text.utf8))) ?? .object([:])
    }

    /// The value as an integer, if it is a whole number.
    public var int: Int? {
        guard case .number(let value) = self, value == value.rounded(), abs(value) < 9e15 else { return nil }
        return Int(value)
    }
}

extension JSONValue {
    /// A call's parameter as the reply and the audit write it (and as a standby passes it on).
    init(_ config: ConfigValue) {
        switch config {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .integer(let value): self = .int(value)
        case .number(let value): self = .double(value)
        case .string(let value): self = .string(value)
        case .array(let values): self = .array(values.map(JSONValue.init))
        case .object(let fields): self = .object(fields.mapValues(JSONValue.init))
        }
    }
}

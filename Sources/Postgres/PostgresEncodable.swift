import Foundation

/// A parameter value as libpq takes it: text format with an explicit type OID.
///
/// OID 0 lets the server infer the type from the statement, as it does for a quoted literal.
public struct PostgresParameter: Sendable, Hashable {
    public var oid: UInt32
    public var text: String

    public init(oid: UInt32, text: String) {
        self.oid = oid
        self.text = text
    }
}

/// A Swift value that can be bound to a `$n` parameter.
public protocol PostgresEncodable: Sendable {
    var postgresParameter: PostgresParameter { get }
}

/// Type OIDs of the built-in types this layer binds.
public enum PostgresOID {
    public static let unspecified: UInt32 = 0
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let json: UInt32 = 114
    public static let float4: UInt32 = 700
    public static let float8: UInt32 = 701
    public static let boolArray: UInt32 = 1000
    public static let int2Array: UInt32 = 1005
    public static let int4Array: UInt32 = 1007
    public static let textArray: UInt32 = 1009
    public static let int8Array: UInt32 = 1016
    public static let float8Array: UInt32 = 1022
    public static let date: UInt32 = 1082
    public static let timestamp: UInt32 = 1114
    public static let timestamptz: UInt32 = 1184
    public static let timestamptzArray: UInt32 = 1185
    public static let numeric: UInt32 = 1700
    public static let uuid: UInt32 = 2950
    public static let uuidArray: UInt32 = 2951
    public static let jsonb: UInt32 = 3802
}

extension String: PostgresEncodable {
    /// Strings are bound untyped, like a quoted literal, so they fit any column the server can cast to.
    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.unspecified, text: self) }
}

extension Substring: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.unspecified, text: String(self)) }
}

extension Int: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.int8, text: String(self)) }
}

extension Int64: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.int8, text: String(self)) }
}

extension Int32: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.int4, text: String(self)) }
}

extension Int16: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.int2, text: String(self)) }
}

extension Bool: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.bool, text: self ? "t" : "f") }
}

extension Double: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.float8, text: PostgresText.encode(self)) }
}

extension Float: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.float4, text: PostgresText.encode(Double(self))) }
}

extension Decimal: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.numeric, text: "\(self)") }
}

extension Date: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.timestamptz, text: PostgresText.encode(self)) }
}

extension UUID: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.uuid, text: uuidString.lowercased()) }
}

/// Binary data for a `bytea` column.
public struct PostgresBytes: Sendable, Hashable, PostgresEncodable, PostgresDecodable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ data: Data) { self.bytes = Array(data) }

    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.bytea, text: PostgresText.encodeBytea(bytes)) }

    public init(postgresText text: String, oid: UInt32) throws {
        guard let bytes = PostgresText.decodeBytea(text) else {
            throw PostgresText.Failure("not a hex-format bytea value")
        }
        self.bytes = bytes
    }
}

extension Data: PostgresEncodable {
    public var postgresParameter: PostgresParameter { PostgresBytes(self).postgresParameter }
}

/// A JSON document for a `jsonb` column, kept as its text.
public struct PostgresJSON: Sendable, Hashable, PostgresEncodable, PostgresDecodable {
    public var text: String
    public init(_ text: String) { self.text = text }

    /// Encodes a value with `JSONEncoder`.
    public init<T: Encodable>(encoding value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    public var postgresParameter: PostgresParameter { .init(oid: PostgresOID.jsonb, text: text) }
    public init(postgresText text: String, oid: UInt32) throws { self.text = text }
}

/// Element types that can travel inside a one-dimensional array parameter.
public protocol PostgresArrayElement: PostgresEncodable, PostgresDecodable {
    static var postgresArrayOID: UInt32 { get }
    /// The element's text inside the array; `nil` is SQL NULL.
    var postgresArrayElementText: String? { get }
}

extension PostgresArrayElement {
    public var postgresArrayElementText: String? { postgresParameter.text }
}

/// Optional elements: a column of a batch sent as an array (`unnest($1::text[], …)`) may hold NULLs.
extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
    public static var postgresArrayOID: UInt32 { Wrapped.postgresArrayOID }
    public var postgresArrayElementText: String? { self?.postgresArrayElementText }
}

extension String: PostgresArrayElement { public static var postgresArrayOID: UInt32 { PostgresOID.textArray } }
extension Int64: PostgresArrayElement { public static var postgresArrayOID: UInt32 { PostgresOID.int8Array } }
extension Int: PostgresArrayElement { public static var postgresArrayOID: UInt32 { PostgresOID.int8Array } }
extension Int32: PostgresArrayElement { public static var postgresArrayOID: UInt32 { PostgresOID.int4Array } }
extension Bool: PostgresArrayElement { public static var postgresArrayOID: UInt32 { PostgresOID.boolArray } }
extension Double: PostgresArrayElement { public static var postgresArrayOID: UInt32 { PostgresOID.float8Array } }
extension UUID: PostgresArrayElement { public static var postgresArrayOID: UInt32 { PostgresOID.uuidArray } }
extension Date: PostgresArrayElement { public static var postgresArrayOID: UInt32 { PostgresOID.timestamptzArray } }

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public var postgresParameter: PostgresParameter {
        // A closure, not `\.postgresArrayElementText`: a key path in this generic context is built
        // at run time on every call (type metadata looked up by name), 7 % of the daemon's CPU.
        .init(oid: Element.postgresArrayOID, text: PostgresText.encodeArray(map { $0.postgresArrayElementText }))
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    /// Never called for `nil`: the query layer binds `nil` as SQL NULL before asking.
    public var postgresParameter: PostgresParameter {
        switch self {
        case .some(let value): return value.postgresParameter
        case .none: return .init(oid: PostgresOID.unspecified, text: "")
        }
    }
}

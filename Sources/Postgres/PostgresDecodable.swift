import Foundation

/// A Swift value that can be read from a column in text format.
public protocol PostgresDecodable: Sendable {
    init(postgresText text: String, oid: UInt32) throws
    /// What a SQL NULL decodes to; throws for non-optional types.
    static func postgresNull() throws -> Self
}

extension PostgresDecodable {
    public static func postgresNull() throws -> Self {
        throw PostgresText.Failure("unexpected NULL")
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText text: String, oid: UInt32) throws {
        self = .some(try Wrapped(postgresText: text, oid: oid))
    }
    public static func postgresNull() throws -> Self { nil }
}

extension String: PostgresDecodable {
    public init(postgresText text: String, oid: UInt32) throws { self = text }
}

extension Int: PostgresDecodable {
    public init(postgresText text: String, oid: UInt32) throws {
        guard let value = Int(text) else { throw PostgresText.Failure("not an integer") }
        self = value
    }
}

extension Int64: PostgresDecodable {
    public init(postgresText text: String, oid: UInt32) throws {
        guard let value = Int64(text) else { throw PostgresText.Failure("not an integer") }
        self = value
    }
}

extension Int32: PostgresDecodable {
    public init(postgresText text: String, oid: UInt32) throws {
        guard let value = Int32(text) else { throw PostgresText.Failure("not a 32-bit integer") }
        self = value
    }
}

extension Int16: PostgresDecodable {
    public init(postgresText text: String, oid: UInt32) throws {
        guard let value = Int16(text) else { throw PostgresText.Failure("not a 16-bit integer") }
        self = value
    }
}

extension Bool: PostgresDecodable {
    public init(postgresText text: String, oid: UInt32) throws {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw PostgresText.Failure("not a boolean")
        }
    }
}

extension Double: PostgresDecodable {
    public init(postgresText text: String, oid: UInt32) throws {
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(text) else { throw PostgresText.Failure("not a number") }
            self = value
        }
    }
}

extension Float: PostgresDecodable {
    public init(postgresText text: String, oid: UInt32) throws {
        self = Float(try Double(postgresText: text, oid: oid))
    }
}

extension Decimal: PostgresDecodable {
    public init(postgresText text: String, oid: UInt32) throws {
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
            throw PostgresText.Failure("not a decimal number")
        }
        self = value
    }
}

extension Date: PostgresDecodable {
    public init(postgresText text: String, oid: UInt32) throws {
        guard let date = PostgresText.decodeTimestamp(text) else {
            throw PostgresText.Failure("not an ISO timestamp")
        }
        self = date
    }
}

extension UUID: PostgresDecodable {
    public init(postgresText text: String, oid: UInt32) throws {
        guard let value = UUID(uuidString: text) else { throw PostgresText.Failure("not a UUID") }
        self = value
    }
}

extension Data: PostgresDecodable {
    public init(postgresText text: String, oid: UInt32) throws {
        self = Data(try PostgresBytes(postgresText: text, oid: oid).bytes)
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    public init(postgresText text: String, oid: UInt32) throws {
        guard let items = PostgresText.decodeArray(text) else {
            throw PostgresText.Failure("not a one-dimensional array")
        }
        self = try items.map { item in
            guard let item else { return try Element.postgresNull() }
            return try Element(postgresText: item, oid: PostgresOID.unspecified)
        }
    }
}

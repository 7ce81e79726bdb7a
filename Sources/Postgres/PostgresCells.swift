import CLibPQ
import Foundation

/// One row of a result read in place: each cell's text as libpq holds it, parsed by the same rules
/// as `PostgresDecodable` (a `Date` here is the `Date` `decode` gives, to the bit), without making a
/// `String` of every cell first. Valid only inside the decoding closure of
/// `PostgresConnection.query(_:_:decoding:)` (while the result lives).
public struct PostgresCells {
    let result: OpaquePointer
    let row: Int32

    public var count: Int { Int(PQnfields(result)) }

    public func isNull(_ column: Int) -> Bool {
        PQgetisnull(result, row, Int32(column)) == 1
    }

    public func string(_ column: Int) -> String? {
        withBytes(column) { String(decoding: $0, as: UTF8.self) }
    }

    public func int64(_ column: Int) throws -> Int64? {
        try withBytes(column) { bytes in
            // Up to 18 digits cannot overflow; longer ones, and anything not a number, as `decode` reads them.
            let negative = bytes.first == UInt8(ascii: "-")
            let digits = negative ? UnsafeBufferPointer(rebasing: bytes.dropFirst()) : bytes
            if (1...18).contains(digits.count), digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                let value = digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
                return negative ? -value : value
            }
            guard let value = Int64(String(decoding: bytes, as: UTF8.self)) else { throw failure(column, "Int64", "not an integer") }
            return value
        } ?? nil
    }

    public func bool(_ column: Int) throws -> Bool? {
        try withBytes(column) { bytes in
            guard bytes.count == 1, bytes[0] == UInt8(ascii: "t") || bytes[0] == UInt8(ascii: "f") else { throw failure(column, "Bool", "not a boolean") }
            return bytes[0] == UInt8(ascii: "t")
        } ?? nil
    }

    public func double(_ column: Int) throws -> Double? {
        guard let text = string(column) else { return nil }
        do {
            return try Double(postgresText: text, oid: PostgresOID.float8)
        } catch {
            throw failure(column, "Double", "not a number")
        }
    }

    public func date(_ column: Int) throws -> Date? {
        try withBytes(column) { bytes in
            guard let date = PostgresText.decodeTimestamp(bytes: bytes) else { throw failure(column, "Date", "not an ISO timestamp") }
            return date
        } ?? nil
    }

    /// The cell's bytes (nil for SQL NULL), valid inside `body` only.
    public func withBytes<R>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        let column32 = Int32(column)
        guard PQgetisnull(result, row, column32) == 0, let value = PQgetvalue(result, row, column32) else { return nil }
        let length = Int(PQgetlength(result, row, column32))
        return try value.withMemoryRebound(to: UInt8.self, capacity: length) { try body(UnsafeBufferPointer(start: $0, count: length)) }
    }

    private func failure(_ column: Int, _ expected: String, _ reason: String) -> PostgresError {
        .decoding(column: String(cString: PQfname(result, Int32(column))), expected: expected, reason: reason)
    }
}

/// A statement's result as libpq made it, cleared when the last reference goes. `@unchecked
/// Sendable`: a `PGresult` is never changed after libpq returns it (libpq's documentation: results
/// are read-only and may be passed between threads), and this object is its only owner, so reads
/// from any thread are safe and the one `PQclear` runs after the last of them.
final class PostgresResult: @unchecked Sendable {
    private let result: OpaquePointer

    init(owning result: OpaquePointer) {
        self.result = result
    }

    deinit { PQclear(result) }

    /// Every row, each through `decode`.
    func decodeAll<T>(_ decode: (PostgresCells) throws -> T) throws -> [T] {
        let rows = PQntuples(result)
        var decoded: [T] = []
        decoded.reserveCapacity(Int(rows))
        for row in 0..<rows { decoded.append(try decode(PostgresCells(result: result, row: row))) }
        return decoded
    }
}

extension PostgresTransaction {
    /// `PostgresConnection.query(_:_:decoding:)` inside this transaction, which a statement has
    /// begun already (a cursor's `DECLARE`, for instance).
    public func query<T>(_ sql: String, _ parameters: [(any PostgresEncodable)?] = [],
                         decoding decode: (PostgresCells) throws -> T) async throws -> [T] {
        precondition(progress.state == .begun, "a decoding read runs in a transaction a statement has begun")
        return try await connection.query(sql, parameters, decoding: decode)
    }
}

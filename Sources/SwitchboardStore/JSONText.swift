import Foundation

/// Rows and event data go to PostgreSQL as JSON text (`jsonb_to_recordset`, `::jsonb`).
enum JSONText {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        // Explicit CodingKeys, not `.convertToSnakeCase`: that strategy rewrites every key of every row.
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }
}

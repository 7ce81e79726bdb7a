import Postgres

/// Planner and commit settings for one transaction only (`set_config(…, true)`): gone when it
/// ends, on whichever pooled connection it ran. One owner for how they are sent, and for the sets
/// more than one read uses.
enum LocalSettings {
    /// A statement setting each name to its value, the names and values as parameters.
    static func statement(_ settings: KeyValuePairs<String, String>) -> PostgresStatement {
        precondition(!settings.isEmpty, "at least one setting")
        let calls = settings.indices.map { "set_config($\(2 * $0 + 1), $\(2 * $0 + 2), true)" }
        return PostgresStatement("SELECT " + calls.joined(separator: ", "), settings.flatMap { [$0.key, $0.value] })
    }

    /// A statement outside any transaction of its own, after `settings` (made by `statement`): both
    /// in one pipeline, so one implicit transaction (the settings end with the statement) and one
    /// round trip.
    static func query(_ pool: PostgresPool, _ settings: PostgresStatement, _ sql: String,
                      _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresRows {
        let results = try await pool.pipeline([settings, PostgresStatement(sql, parameters)])
        guard results.count == 2 else { preconditionFailure("a pipeline returns one result per statement") }
        return results[1]
    }

    /// For a cursor a rebuild reads to the end at start: planned for the whole result (not the first
    /// tenth a cursor is planned for, which would walk an index and the heap at random), and not
    /// compiled (`EXPLAIN ANALYZE` showed 1.3 s of JIT compiling for the waiting tickets' read).
    static let wholeResultCursor = statement(["cursor_tuple_fraction": "1", "jit": "off"])
}

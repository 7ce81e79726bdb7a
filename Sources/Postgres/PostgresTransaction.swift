/// One statement of a pipeline: SQL with `$1…$n` and its parameters.
public struct PostgresStatement: Sendable, ExpressibleByStringLiteral {
    public var sql: String
    public var parameters: [(any PostgresEncodable)?]

    public init(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) {
        self.sql = sql
        self.parameters = parameters
    }

    public init(stringLiteral sql: String) {
        self.init(sql)
    }
}

/// A transaction in progress on one leased connection.
public struct PostgresTransaction: Sendable {
    public let connection: PostgresConnection

    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresRows {
        try await connection.query(sql, parameters)
    }

    @discardableResult
    public func executeBatch(_ sql: String, _ rows: [[(any PostgresEncodable)?]]) async throws -> Int {
        try await connection.executeBatch(sql, rows)
    }

    /// Several statements in one round trip; see `PostgresConnection.pipeline`.
    public func pipeline(_ statements: [PostgresStatement]) async throws -> [PostgresRows] {
        try await connection.pipeline(statements)
    }
}

public enum PostgresIsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension PostgresPool {
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func withTransaction<T: Sendable>(
        isolation: PostgresIsolationLevel = .readCommitted,
        _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.query("BEGIN ISOLATION LEVEL \(isolation.rawValue)")
            let result: T
            do {
                result = try await body(PostgresTransaction(connection: connection))
            } catch {
                await connection.rollbackIfInTransaction()
                throw error
            }
            do {
                try await connection.query("COMMIT")
            } catch {
                await connection.rollbackIfInTransaction()
                throw error
            }
            return result
        }
    }

    /// Like `withTransaction`, but runs the whole transaction again after a serialization failure or
    /// a deadlock (SQLSTATE 40001, 40P01), up to `maxAttempts` times, with a short randomized pause.
    /// `body` must be safe to run more than once.
    public func withRetryingTransaction<T: Sendable>(
        isolation: PostgresIsolationLevel = .serializable,
        maxAttempts: Int = 5,
        _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        precondition(maxAttempts >= 1, "maxAttempts must be at least 1")
        var attempt = 1
        while true {
            do {
                return try await withTransaction(isolation: isolation, body)
            } catch let error as PostgresError where error.sqlState?.isTransient == true && attempt < maxAttempts {
                let pause = Duration.milliseconds(Int64.random(in: 1...(5 * Int64(attempt))))
                try await Task.sleep(for: pause)
                attempt += 1
            }
        }
    }
}

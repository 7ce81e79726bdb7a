import Synchronization

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
///
/// `BEGIN` is not sent on its own: it leads the first statement's round trip. `pipelineAndCommit`
/// sends the last statements and `COMMIT` together. A transaction of a few pipelines thus costs as
/// many round trips as it has pipelines.
public struct PostgresTransaction: Sendable {
    public let connection: PostgresConnection
    let begin: PostgresStatement
    let progress: Progress

    init(connection: PostgresConnection, isolation: PostgresIsolationLevel, progress: Progress = Progress()) {
        self.connection = connection
        self.begin = PostgresStatement("BEGIN ISOLATION LEVEL \(isolation.rawValue)")
        self.progress = progress
    }

    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresRows {
        precondition(progress.state != .committed, "the transaction is already committed")
        guard progress.state == .notBegun else { return try await connection.query(sql, parameters) }
        let rows = try await run([PostgresStatement(sql, parameters)])
        return rows[0]
    }

    @discardableResult
    public func executeBatch(_ sql: String, _ rows: [[(any PostgresEncodable)?]]) async throws -> Int {
        precondition(progress.state != .committed, "the transaction is already committed")
        if progress.state == .notBegun { _ = try await run([]) }
        return try await connection.executeBatch(sql, rows)
    }

    /// Several statements in one round trip; see `PostgresConnection.pipeline`.
    public func pipeline(_ statements: [PostgresStatement]) async throws -> [PostgresRows] {
        try await run(statements)
    }

    /// Runs `statements` and commits, in one round trip. Nothing may run in this transaction after it.
    public func pipelineAndCommit(_ statements: [PostgresStatement]) async throws -> [PostgresRows] {
        precondition(progress.state != .committed, "the transaction is already committed")
        progress.commitSent = true
        let rows = try await run(statements + [PostgresStatement("COMMIT")])
        progress.state = .committed
        return Array(rows.dropLast())
    }

    /// Sends `statements`, led by `BEGIN` if this is the transaction's first round trip.
    private func run(_ statements: [PostgresStatement]) async throws -> [PostgresRows] {
        precondition(progress.state != .committed, "the transaction is already committed")
        guard progress.state == .notBegun else { return try await connection.pipeline(statements) }
        let rows = try await connection.pipeline([begin] + statements)
        progress.state = .begun
        return Array(rows.dropFirst())
    }

    /// Where the transaction is; shared by the copies of the (value-type) transaction handle.
    final class Progress: Sendable {
        enum State: Sendable { case notBegun, begun, committed }
        private let value = Mutex(State.notBegun)
        private let sent = Mutex(false)
        var state: State {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }
        /// COMMIT was handed to the connection: if it breaks now, the outcome is unknown.
        var commitSent: Bool {
            get { sent.withLock { $0 } }
            set { sent.withLock { $0 = newValue } }
        }
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
        try await withTransaction(isolation: isolation, progress: PostgresTransaction.Progress(), body)
    }

    func withTransaction<T: Sendable>(
        isolation: PostgresIsolationLevel,
        progress: PostgresTransaction.Progress,
        _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            let transaction = PostgresTransaction(connection: connection, isolation: isolation, progress: progress)
            let result: T
            do {
                result = try await body(transaction)
            } catch {
                await connection.rollbackIfInTransaction()
                throw error
            }
            do {
                // Nothing sent: nothing to commit. Committed in the last pipeline: done.
                if transaction.progress.state == .begun {
                    transaction.progress.commitSent = true
                    try await connection.query("COMMIT")
                }
            } catch {
                await connection.rollbackIfInTransaction()
                throw error
            }
            return result
        }
    }

    /// Like `withTransaction`, but runs the whole transaction again after a serialization failure or
    /// a deadlock (SQLSTATE 40001, 40P01), up to `maxAttempts` times, with a short randomized pause;
    /// and at once, on a fresh connection, when the connection broke before COMMIT was sent (nothing
    /// was committed: a pooled connection that the server closed while idle fails on first use, and
    /// its caller need not). `body` must be safe to run more than once.
    public func withRetryingTransaction<T: Sendable>(
        isolation: PostgresIsolationLevel = .serializable,
        maxAttempts: Int = 5,
        _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        precondition(maxAttempts >= 1, "maxAttempts must be at least 1")
        var attempt = 1
        while true {
            let progress = PostgresTransaction.Progress()
            do {
                return try await withTransaction(isolation: isolation, progress: progress, body)
            } catch let error as PostgresError where error.sqlState?.isTransient == true && attempt < maxAttempts {
                let pause = Duration.milliseconds(Int64.random(in: 1...(5 * Int64(attempt))))
                try await Task.sleep(for: pause)
                attempt += 1
            } catch let error as PostgresError where error.isLostConnection && !progress.commitSent && attempt < maxAttempts {
                logger.info("database connection broke before COMMIT; running the transaction again on a fresh connection", metadata: ["error": "\(error)"])
                attempt += 1
            }
        }
    }
}

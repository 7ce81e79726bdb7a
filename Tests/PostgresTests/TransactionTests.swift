import Foundation
import Postgres
import Testing
import TestSupport

private struct Boom: Error {}

@Suite("Transactions, retries and batches")
struct TransactionTests {
    let pool: PostgresPool

    init() async throws {
        pool = try await TestDatabase.freshPool("transactions", size: 4)
        try await pool.query("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)")
        try await pool.query("INSERT INTO accounts VALUES (1, 100), (2, 100)")
    }

    @Test func throwingRollsBack() async throws {
        await #expect(throws: Boom.self) {
            try await pool.withTransaction { tx in
                try await tx.query("UPDATE accounts SET balance = balance - 50 WHERE id = $1", [1])
                throw Boom()
            }
        }
        let balance = try await pool.query("SELECT balance FROM accounts WHERE id = 1").first?.decode(0, as: Int.self)
        #expect(balance == 100)
        // The connection went back to the pool outside any transaction.
        let states = try await pool.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'")
        #expect(try states.first?.decode(0, as: Int.self) == 0)
    }

    @Test func serverErrorInsideTransactionRollsBack() async throws {
        await #expect(throws: PostgresError.self) {
            try await pool.withTransaction { tx in
                try await tx.query("UPDATE accounts SET balance = 0 WHERE id = 2")
                try await tx.query("INSERT INTO accounts VALUES (1, 5)")  // duplicate key
            }
        }
        #expect(try await pool.query("SELECT balance FROM accounts WHERE id = 2").first?.decode(0, as: Int.self) == 100)
    }

    /// Reads the sum, lets a second session commit a conflicting write, then writes: under
    /// SERIALIZABLE the first transaction fails with 40001 at its write or commit.
    private func conflictingTransfer(interfere: Bool, attempts: Counter) async throws {
        try await pool.withRetryingTransaction(isolation: .serializable, maxAttempts: 3) { tx in
            let attempt = await attempts.increment()
            _ = try await tx.query("SELECT sum(balance) FROM accounts")
            if interfere || attempt == 1 {
                try await pool.withTransaction(isolation: .serializable) { other in
                    _ = try await other.query("SELECT sum(balance) FROM accounts")
                    try await other.query("UPDATE accounts SET balance = balance + 1 WHERE id = 1")
                }
            }
            try await tx.query("UPDATE accounts SET balance = balance - 1 WHERE id = 2")
        }
    }

    @Test func retryHelperRetriesASerializationFailure() async throws {
        let attempts = Counter()
        try await conflictingTransfer(interfere: false, attempts: attempts)
        #expect(await attempts.value == 2)
        #expect(try await pool.query("SELECT balance FROM accounts WHERE id = 2").first?.decode(0, as: Int.self) == 99)
    }

    @Test func retryHelperGivesUpAfterItsLimit() async throws {
        let attempts = Counter()
        await #expect {
            try await conflictingTransfer(interfere: true, attempts: attempts)
        } throws: { error in
            (error as? PostgresError)?.sqlState == .serializationFailure
        }
        #expect(await attempts.value == 3)
    }

    @Test func batchWritesAllRowsInOneGo() async throws {
        try await pool.query("CREATE TABLE events (id int PRIMARY KEY, label text, at timestamptz)")
        let rows: [[(any PostgresEncodable)?]] = (1...2000).map { [$0, $0 % 7 == 0 ? nil : "event \($0)", Date()] }
        let affected = try await pool.executeBatch("INSERT INTO events (id, label, at) VALUES ($1, $2, $3)", rows)
        #expect(affected == 2000)
        let counts = try #require(try await pool.query("SELECT count(*), count(label) FROM events").first)
        #expect(try counts.decode(0, as: Int.self) == 2000)
        #expect(try counts.decode(1, as: Int.self) == 2000 - 2000 / 7)
    }

    @Test func batchIsAtomicAndItsErrorHidesValues() async throws {
        try await pool.query("CREATE TABLE phones (number text PRIMARY KEY)")
        let rows: [[(any PostgresEncodable)?]] = [["+4915112345678"], ["+4915187654321"], ["+4915112345678"]]
        await #expect {
            try await pool.executeBatch("INSERT INTO phones VALUES ($1)", rows)
        } throws: { error in
            guard let error = error as? PostgresError, case .server(let server) = error else { return false }
            return server.sqlState == .uniqueViolation
                && !"\(error)".contains("+4915112345678")
                && server.detail?.contains("4915112345678") == false
        }
        #expect(try await pool.query("SELECT count(*) FROM phones").first?.decode(0, as: Int.self) == 0)
        // The connection is usable after the failed pipeline.
        #expect(try await pool.executeBatch("INSERT INTO phones VALUES ($1)", [["+1"], ["+2"]]) == 2)
    }
}

actor Counter {
    private(set) var value = 0
    func increment() -> Int {
        value += 1
        return value
    }
}

@Suite("Pipelines of different statements")
struct StatementPipelineTests {
    @Test func statementsRunInOrderInOneRoundTripAndEachReturnsItsRows() async throws {
        let pool = try await TestDatabase.freshPool("pipeline_rows")
        try await pool.query("CREATE TABLE notes (id serial PRIMARY KEY, body text)")
        let results = try await pool.withTransaction { transaction in
            try await transaction.pipeline([
                PostgresStatement("INSERT INTO notes (body) VALUES ($1), ($2) RETURNING id", ["a", "b"]),
                PostgresStatement("SELECT count(*) FROM notes"),
                PostgresStatement("UPDATE notes SET body = upper(body) WHERE body = $1", ["a"]),
                PostgresStatement("SELECT body FROM notes ORDER BY id"),
            ])
        }
        #expect(results.count == 4)
        #expect(results[0].count == 2)
        #expect(try results[1].first?.decode(0, as: Int.self) == 2)
        #expect(results[2].affectedRows == 1)
        #expect(try results[3].map { try $0.decode(0, as: String.self) } == ["A", "b"])
    }

    @Test func aFailingStatementSkipsTheRestAndTheTransactionRollsBack() async throws {
        let pool = try await TestDatabase.freshPool("pipeline_fail")
        try await pool.query("CREATE TABLE once (id int PRIMARY KEY)")
        await #expect {
            try await pool.withTransaction { transaction in
                try await transaction.pipeline([
                    PostgresStatement("INSERT INTO once VALUES (1)"),
                    PostgresStatement("INSERT INTO once VALUES (1)"),
                    PostgresStatement("INSERT INTO once VALUES (2)"),
                ])
            }
        } throws: { error in
            (error as? PostgresError)?.sqlState == .uniqueViolation
        }
        #expect(try await pool.query("SELECT count(*) FROM once").first?.decode(0, as: Int.self) == 0)
        // The connection is usable again.
        #expect(try await pool.pipeline(["SELECT 1", "SELECT 2"]).map { try $0.first?.decode(0, as: Int.self) } == [1, 2])
    }

    @Test func pipelineAndCommitCommitsInTheSameRoundTrip() async throws {
        let pool = try await TestDatabase.freshPool("pipeline_commit", size: 1)
        try await pool.query("CREATE TABLE done (id int PRIMARY KEY)")
        let results = try await pool.withTransaction { transaction in
            _ = try await transaction.query("INSERT INTO done VALUES (1)")
            return try await transaction.pipelineAndCommit([
                PostgresStatement("INSERT INTO done VALUES (2)"),
                PostgresStatement("SELECT count(*) FROM done"),
            ])
        }
        // One result per statement given (the COMMIT's is not returned), and everything is committed.
        #expect(results.count == 2)
        #expect(try results[1].first?.decode(0, as: Int.self) == 2)
        #expect(try await pool.query("SELECT count(*) FROM done").first?.decode(0, as: Int.self) == 2)
        // The connection went back to the pool outside any transaction.
        let open = try await pool.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'")
        #expect(try open.first?.decode(0, as: Int.self) == 0)
    }

    @Test func aFailureInTheCommittingPipelineRollsBackEverything() async throws {
        let pool = try await TestDatabase.freshPool("pipeline_commit_fail", size: 1)
        try await pool.query("CREATE TABLE once (id int PRIMARY KEY)")
        await #expect {
            try await pool.withTransaction { transaction in
                try await transaction.query("INSERT INTO once VALUES (1)")
                return try await transaction.pipelineAndCommit([PostgresStatement("INSERT INTO once VALUES (1)")])
            }
        } throws: { error in
            (error as? PostgresError)?.sqlState == .uniqueViolation
        }
        #expect(try await pool.query("SELECT count(*) FROM once").first?.decode(0, as: Int.self) == 0)
    }

    @Test func theFirstStatementBeginsTheTransaction() async throws {
        let pool = try await TestDatabase.freshPool("deferred_begin", size: 1)
        // Both statements see one transaction id: BEGIN led the first one. (Without a transaction,
        // each statement would get its own id.)
        let ids = try await pool.withTransaction { transaction in
            let first = try await transaction.query("SELECT txid_current()").first?.decode(0, as: Int64.self)
            let second = try await transaction.query("SELECT txid_current()").first?.decode(0, as: Int64.self)
            return (first, second)
        }
        #expect(ids.0 != nil && ids.0 == ids.1)
        let outside = (try await pool.query("SELECT txid_current()").first?.decode(0, as: Int64.self),
                       try await pool.query("SELECT txid_current()").first?.decode(0, as: Int64.self))
        #expect(outside.0 != outside.1)
    }
}

import Foundation
import Postgres
import Testing
import TestSupport

@Suite("The pool: bounded waits, cancellation, server restarts")
struct PoolTests {
    @Test func exhaustedPoolWaitsThenServesAWaiter() async throws {
        let pool = try await TestDatabase.freshPool("pool_wait", size: 1, acquireTimeout: .seconds(30))
        let gate = Gate()
        let holder = Task {
            try await pool.withConnection { connection in
                try await connection.query("SELECT 1")
                await gate.wait()
            }
        }
        await waitUntil { pool.usage.leased == 1 }
        let waiter = Task { try await pool.query("SELECT 42").first?.decode(0, as: Int.self) }
        await waitUntil { pool.usage.waiting == 1 }
        await gate.open()
        #expect(try await waiter.value == 42)
        try await holder.value
        #expect(pool.usage.leased == 0)
    }

    @Test func exhaustedPoolFailsWithAClearError() async throws {
        let pool = try await TestDatabase.freshPool("pool_timeout", size: 1, acquireTimeout: .milliseconds(200))
        let gate = Gate()
        let holder = Task {
            try await pool.withConnection { _ in await gate.wait() }
        }
        await waitUntil { pool.usage.leased == 1 }
        await #expect(throws: PostgresError.poolTimeout(waitedMilliseconds: 200, poolSize: 1)) {
            try await pool.query("SELECT 1")
        }
        #expect("\(PostgresError.poolTimeout(waitedMilliseconds: 200, poolSize: 1))".contains("pool size 1"))
        await gate.open()
        try await holder.value
        #expect(pool.usage.waiting == 0)
    }

    @Test func cancellingATaskCancelsItsStatement() async throws {
        let pool = try await TestDatabase.freshPool("cancel", size: 2)
        let sleeper = Task { try await pool.query("SELECT pg_sleep(60)") }
        await waitUntil {
            let rows = try? await pool.query("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'")
            return (try? rows?.first?.decode(0, as: Int.self)) == 1
        }
        sleeper.cancel()
        await #expect(throws: PostgresError.cancelled) { try await sleeper.value }
        let running = try await pool.query("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'")
        #expect(try running.first?.decode(0, as: Int.self) == 0)
        // Both connections still work.
        async let a = pool.query("SELECT 1")
        async let b = pool.query("SELECT 2")
        _ = try await (a, b)
    }

    @Test func cancellingAWaiterLeavesThePoolConsistent() async throws {
        let pool = try await TestDatabase.freshPool("cancel_wait", size: 1, acquireTimeout: .seconds(60))
        let gate = Gate()
        let holder = Task { try await pool.withConnection { _ in await gate.wait() } }
        await waitUntil { pool.usage.leased == 1 }
        let waiter = Task { try await pool.query("SELECT 1") }
        await waitUntil { pool.usage.waiting == 1 }
        waiter.cancel()
        await #expect(throws: PostgresError.cancelled) { try await waiter.value }
        #expect(pool.usage.waiting == 0)
        await gate.open()
        try await holder.value
        #expect(try await pool.query("SELECT 3").first?.decode(0, as: Int.self) == 3)
    }

    @Test func serverStoppedAndRestartedWithoutRestartingTheProcess() async throws {
        let directory = "/tmp/sbtest-restart-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = EmbeddedPostgres(configuration: TestDatabase.fastSettings(directory: directory), logger: TestDatabase.quietLogger)
        try await cluster.start()
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: cluster.connectionString()), size: 3, acquireTimeout: .seconds(5)), logger: TestDatabase.quietLogger)
        try await pool.query("CREATE TABLE notes (body text)")
        try await pool.query("INSERT INTO notes VALUES ($1)", ["before"])

        await cluster.stop()
        for _ in 0..<3 {
            do {
                try await pool.query("SELECT count(*) FROM notes")
                Issue.record("a query succeeded while the server was stopped")
            } catch let error as PostgresError {
                #expect(error.isConnectionProblem, "unexpected error \(error)")
            }
        }

        try await cluster.start()
        var recovered: Int?
        for _ in 0..<200 where recovered == nil {
            recovered = try? await pool.query("SELECT count(*) FROM notes").first?.decode(0, as: Int.self)
            if recovered == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(recovered == 1)
        // Every connection of the pool comes back, not just one.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<6 {
                group.addTask { try await pool.query("INSERT INTO notes VALUES ($1)", ["after \(i)"]) }
            }
            try await group.waitForAll()
        }
        #expect(try await pool.query("SELECT count(*) FROM notes").first?.decode(0, as: Int.self) == 7)
        await pool.close()
        await cluster.stop()
    }

    /// The server ends a pooled connection's session in the middle of a transaction (as a restart
    /// or an administrator does): the transaction did not commit, so the retrying helper runs it
    /// again on a fresh connection, and the caller sees success, with the work done once.
    @Test func aTransactionWhoseConnectionBrokeBeforeCommitRunsAgainOnAFreshConnection() async throws {
        let pool = try await TestDatabase.freshPool("pool_broken_before_commit", size: 2)
        try await pool.query("CREATE TABLE deliveries (id int PRIMARY KEY)")
        let attempts = Counter()
        try await pool.withRetryingTransaction(isolation: .readCommitted) { transaction in
            let attempt = await attempts.increment()
            try await transaction.query("INSERT INTO deliveries VALUES (1)")
            if attempt == 1 {
                // Another session ends this one (and waits until it has ended); its next statement finds the connection gone.
                let pid = try await transaction.query("SELECT pg_backend_pid()").first?.decode(0, as: Int32.self)
                try await pool.query("SELECT pg_terminate_backend($1, 10000)", [pid])
            }
            try await transaction.query("INSERT INTO deliveries VALUES (2)")
        }
        #expect(await attempts.value == 2)
        #expect(try await pool.query("SELECT count(*) FROM deliveries").first?.decode(0, as: Int.self) == 2)
        // A connection lost after COMMIT was sent is not retried: the outcome is unknown there.
        let after = Counter()
        await #expect(throws: PostgresError.self) {
            try await pool.withRetryingTransaction(isolation: .readCommitted) { transaction in
                _ = await after.increment()
                let pid = try await transaction.query("SELECT pg_backend_pid()").first?.decode(0, as: Int32.self)
                try await pool.query("SELECT pg_terminate_backend($1, 10000)", [pid])
                _ = try await transaction.pipelineAndCommit([PostgresStatement("INSERT INTO deliveries VALUES (3)")])
            }
        }
        #expect(await after.value == 1)
        await pool.close()
    }
}

/// Polls a condition until it holds; the test fails through its own expectations if it never does.
func waitUntil(_ condition: @Sendable () async -> Bool) async {
    for _ in 0..<2000 {
        if await condition() { return }
        try? await Task.sleep(for: .milliseconds(5))
    }
}

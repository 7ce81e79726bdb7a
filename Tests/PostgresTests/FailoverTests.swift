import Foundation
import Postgres
import Testing
import TestSupport

/// A primary and a streaming standby on this machine (`pg_basebackup`, `standby.signal`), and a pool
/// on both through libpq's multi-host connection string with `target_session_attrs=read-write`:
/// after the primary goes away or turns read-only and the standby is promoted, the same pool writes
/// to the new primary without being restarted.
@Suite("PostgreSQL failover: a multi-host pool follows the writable server")
struct FailoverTests {
    /// Which server a pool's session is on (its data directory), asked through a write so that only
    /// the writable server can answer.
    static func writes(_ pool: PostgresPool, _ value: Int) async throws -> String? {
        try await pool.query("INSERT INTO kept VALUES ($1) RETURNING current_setting('data_directory')", [value]).first?.decode(0, as: String.self)
    }

    @Test func theStandbyFollowsAndAfterThePrimaryIsGoneAndItIsPromotedThePoolWritesThere() async throws {
        let pair = try await StreamingPair.start("failover-gone")
        let (primary, standby) = (pair.primary, pair.standby)
        defer { try? FileManager.default.removeItem(atPath: pair.directory) }
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: pair.connectionString), size: 2, acquireTimeout: .seconds(5)),
                                logger: TestDatabase.quietLogger)
        try await pool.query("CREATE TABLE kept (n int)")
        #expect(try await Self.writes(pool, 1) == primary.dataDirectory)
        // The standby has it (streaming), and refuses writes.
        let replica = try await PostgresConnection.connect(.init(connectionString: standby.connectionString()))
        var seen = 0
        for _ in 0..<200 where seen == 0 {
            seen = (try? await replica.query("SELECT count(*)::int FROM kept").first?.decode(0, as: Int.self)) ?? 0
            if seen == 0 { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(seen == 1)
        let refused = await #expect(throws: PostgresError.self) { try await replica.query("INSERT INTO kept VALUES (9)") }
        #expect(refused?.isReadOnlyServer == true)
        await replica.close()

        await primary.stop()
        let down = await #expect(throws: PostgresError.self) { try await Self.writes(pool, 2) }
        #expect(down?.isUnavailability == true, "no writable server between the loss and the promotion: \(String(describing: down))")
        try await standby.promote()
        var landed: String?
        for attempt in 0..<200 where landed == nil {
            landed = try? await Self.writes(pool, 100 + attempt)
            if landed == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(landed == standby.dataDirectory)
        #expect(try await pool.query("SELECT count(*)::int FROM kept WHERE n = 1").first?.decode(0, as: Int.self) == 1, "what the primary committed is on the new one")
        await pool.close()
        await standby.stop()
    }

    @Test func aSessionOnAServerThatTurnedReadOnlyIsDroppedAndThePoolFindsTheNewPrimary() async throws {
        let pair = try await StreamingPair.start("failover-ro")
        let (primary, standby) = (pair.primary, pair.standby)
        defer { try? FileManager.default.removeItem(atPath: pair.directory) }
        // One connection: the session that meets the read-only server is the one that must go.
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: pair.connectionString), size: 1, acquireTimeout: .seconds(5)),
                                logger: TestDatabase.quietLogger)
        try await pool.query("CREATE TABLE kept (n int)")
        #expect(try await Self.writes(pool, 1) == primary.dataDirectory)
        // A switchover demotes the primary in place: it stays up and turns read-only.
        let admin = try await PostgresConnection.connect(.init(connectionString: primary.connectionString()))
        try await admin.query("ALTER SYSTEM SET default_transaction_read_only = on")
        try await admin.query("SELECT pg_reload_conf()")
        await admin.close()
        var refusal: PostgresError?
        for _ in 0..<200 where refusal == nil {
            do {
                _ = try await Self.writes(pool, 2)
                try await Task.sleep(for: .milliseconds(50))
            } catch let error as PostgresError {
                refusal = error
            }
        }
        #expect(refusal?.isReadOnlyServer == true, "\(String(describing: refusal))")
        try await standby.promote()
        var landed: String?
        for attempt in 0..<200 where landed != standby.dataDirectory {
            landed = try? await Self.writes(pool, 100 + attempt)
            if landed != standby.dataDirectory { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(landed == standby.dataDirectory, "the pool left the read-only server for the promoted one")
        await pool.close()
        await primary.stop()
        await standby.stop()
    }
}

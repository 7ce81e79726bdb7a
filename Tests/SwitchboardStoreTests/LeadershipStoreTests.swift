import Foundation
import Postgres
import SwitchboardCore
import SwitchboardStore
import Testing
import TestSupport

/// The lease and the fence in a real database (migration 0014): who may claim, what a stale epoch
/// may still write (nothing on a leader-only table), and what the relay carries.
@Suite("Leadership in PostgreSQL: the lease, the fence, the relay")
struct LeadershipStoreTests {
    private func pools(_ label: String) async throws -> (connectionString: String, a: PostgresPool, aFence: SessionSetup, b: PostgresPool) {
        let connectionString = try await TestDatabase.freshDatabase(label)
        let aFence = SessionSetup()
        let a = PostgresPool(configuration: .init(connection: .init(connectionString: connectionString, sessionSetup: aFence), size: 2), logger: TestDatabase.quietLogger)
        let b = PostgresPool(configuration: .init(connection: .init(connectionString: connectionString), size: 2), logger: TestDatabase.quietLogger)
        try await MigrationRunner(pool: b, migrations: MigrationCatalog.bundled(), logger: TestDatabase.quietLogger).migrate()
        return (connectionString, a, aFence, b)
    }

    /// Node a claims the free lease and fences its pool's sessions with the epoch; nil if refused.
    private func lead(_ lease: LeadershipStore, fencing fence: SessionSetup, lease seconds: TimeInterval) async throws -> Int64? {
        guard case .claimed(let epoch, _) = try await lease.claim(node: "a", address: nil, lease: seconds, relayKey: "k") else { return nil }
        fence.set("SELECT switchboard.fence_session(\(epoch))")
        return epoch
    }

    @Test func aLiveLeaseIsRefusedToOthersAndReclaimedByItsOwnNodeWithAHigherEpoch() async throws {
        let (_, a, _, b) = try await pools("lease_claim")
        let leaseA = LeadershipStore(pool: a), leaseB = LeadershipStore(pool: b)
        guard case .claimed(let first, let remaining) = try await leaseA.claim(node: "a", address: "http://a:8080", lease: 30, relayKey: "k1") else {
            Issue.record("the free lease was not claimed")
            return
        }
        #expect(first == 1 && remaining > 29 && remaining <= 30)
        guard case .refused(let holder, _) = try await leaseB.claim(node: "b", address: nil, lease: 30, relayKey: "k2") else {
            Issue.record("b took a live lease")
            return
        }
        #expect(holder == "a")
        // A restart of a reclaims at once, under a new epoch; the relay key stays the first one.
        guard case .claimed(let second, _) = try await leaseA.claim(node: "a", address: "http://a:8080", lease: 30, relayKey: "k3") else {
            Issue.record("a's restart could not reclaim its own lease")
            return
        }
        #expect(second == 2)
        #expect(try await leaseB.current().relayKey == "k1")
        #expect(try await leaseA.renew(epoch: 1, node: "a", lease: 30) == nil, "the old epoch cannot renew")
        #expect(try await leaseA.renew(epoch: 2, node: "a", lease: 30) != nil)
        // A graceful stop gives it up: b claims at once.
        try await leaseA.release(epoch: 2)
        guard case .claimed(let third, _) = try await leaseB.claim(node: "b", address: nil, lease: 30, relayKey: "k2") else {
            Issue.record("b could not claim a released lease")
            return
        }
        #expect(third == 3)
        await a.close()
        await b.close()
    }

    @Test func aSessionFencedWithAStaleEpochCannotWriteLeaderTablesAndTheNewLeaderEndsItsSessions() async throws {
        let (_, a, aFence, b) = try await pools("lease_fence")
        let leaseA = LeadershipStore(pool: a), leaseB = LeadershipStore(pool: b)
        let epoch = try #require(try await lead(leaseA, fencing: aFence, lease: 1), "a could not claim the free lease")
        // While a leads, its fenced session writes.
        try await a.query("UPDATE switchboard.queue_states SET paused = paused")
        #expect(try await a.query("SELECT current_setting('switchboard.epoch')").first?.decode(0, as: String.self) == "\(epoch)")

        // a's lease runs out unrenewed (a paused leader); b claims, then ends a's sessions.
        var claimed: Int64?
        for _ in 0..<100 {
            if case .claimed(let next, _) = try await leaseB.claim(node: "b", address: nil, lease: 30, relayKey: "k") { claimed = next; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let next = try #require(claimed)
        #expect(next == epoch + 1)
        // Before its sessions are ended, a stale-epoch statement on a leader table is refused.
        do {
            try await a.query("INSERT INTO switchboard.queue_states (queue, paused, changed_at, changed_by) VALUES ('x', true, now(), 'a')")
            Issue.record("a stale leader wrote")
        } catch let error as PostgresError {
            #expect(error.isStaleLeader, "\(error)")
            #expect(error.isUnavailability, "a webhook on a deposed leader is answered 503, not 500")
        }
        let former = try await leaseB.endSessions(before: next)
        #expect(former.ended >= 1 && former.remaining == 0, "\(former)")
        // Its pool connects again; the fence refuses the stale epoch at once.
        do {
            try await a.query("SELECT 1")
            Issue.record("a stale leader's new session was fenced with its old epoch")
        } catch let error as PostgresError {
            #expect(error.isStaleLeader || error.isLostConnection, "\(error)")
        }
        do {
            try await a.query("SELECT 1")
            Issue.record("a stale leader's new session was fenced with its old epoch")
        } catch let error as PostgresError {
            #expect(error.isStaleLeader, "\(error)")
        }
        // Sessions without an epoch (a standby's ingest, b before it fences) still write.
        try await b.query("UPDATE switchboard.queue_states SET paused = paused")
        await a.close()
        await b.close()
    }

    /// Migration 0017: the fence looks the lease up once per transaction. A transaction that passed
    /// it before a takeover may write on, but the new leader ends its session before reading, so
    /// none of it commits; a transaction begun after the takeover is refused at its first write.
    @Test func aTransactionPastTheFenceAtATakeoverCommitsNothingOnceTheNewLeaderEndsItsSession() async throws {
        let (_, a, aFence, b) = try await pools("lease_fence_tx")
        let leaseA = LeadershipStore(pool: a), leaseB = LeadershipStore(pool: b)
        let epoch = try #require(try await lead(leaseA, fencing: aFence, lease: 30), "a could not claim the free lease")
        let outcome: Result<Void, any Error>
        do {
            try await a.withTransaction { transaction in
                try await transaction.query("INSERT INTO switchboard.queue_states (queue, paused, changed_at, changed_by) VALUES ('before', true, now(), 'a')")
                // a's lease passes to b while the transaction is open (released here, on a's other
                // connection, rather than waited out: the takeover is the same).
                try await leaseA.release(epoch: epoch)
                guard case .claimed(let next, _) = try await leaseB.claim(node: "b", address: nil, lease: 30, relayKey: "k") else {
                    Issue.record("b could not claim the released lease")
                    return
                }
                // Past the fence already: this write is not looked at again...
                try await transaction.query("INSERT INTO switchboard.queue_states (queue, paused, changed_at, changed_by) VALUES ('after', true, now(), 'a')")
                // ...and the new leader ends the session before it reads anything.
                let former = try await leaseB.endSessions(before: next)
                #expect(former.ended >= 1 && former.remaining == 0, "\(former)")
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        guard case .failure(let error as PostgresError) = outcome else {
            Issue.record("the deposed leader's transaction committed: \(outcome)")
            return
        }
        // Its session was ended (not its second write refused: the fence had passed it).
        #expect(error.isUnavailability && !error.isStaleLeader, "\(error)")
        #expect(try await b.query("SELECT queue FROM switchboard.queue_states WHERE changed_by = 'a'").isEmpty, "nothing of the deposed leader's transaction is stored")
        // A transaction the deposed leader begins now is refused at its first write.
        do {
            _ = try await a.withTransaction { transaction in
                try await transaction.query("INSERT INTO switchboard.queue_states (queue, paused, changed_at, changed_by) VALUES ('later', true, now(), 'a')")
            }
            Issue.record("a stale leader wrote")
        } catch let error as PostgresError {
            #expect(error.isStaleLeader || error.isLostConnection, "\(error)")
        }
        #expect(try await b.query("SELECT queue FROM switchboard.queue_states WHERE changed_by = 'a'").isEmpty)
        await a.close()
        await b.close()
    }

    @Test func relayedActivityArrivesAsIngestProducedItAndIsForgottenOnceTaken() async throws {
        let (_, a, _, b) = try await pools("lease_relay")
        let relay = ActivityRelayStore(pool: b)
        let messages = [
            IngestResult.StoredMessage(wamid: "wamid.1", messageID: 10, ticketID: 7, ticketReference: "T-1007", threading: .newTicket),
            IngestResult.StoredMessage(wamid: "wamid.2", messageID: 11, ticketID: 8, ticketReference: "T-1008", threading: .reopen(8), asksForAnswer: false,
                                       isEcho: true, answersCustomer: true),
        ]
        let statuses = [IngestResult.StatusChange(messageID: 12, ticketID: 7, status: "read")]
        try await relay.relay(from: "b", messages: messages, statuses: [])
        try await relay.relay(from: "b", messages: [], statuses: statuses)
        let taken = try await ActivityRelayStore(pool: a).pending()
        #expect(taken.map(\.messages) == [messages, []])
        #expect(taken.map(\.statuses) == [[], statuses])
        try await relay.forget(taken.map(\.id))
        #expect(try await relay.pending().isEmpty)
        await a.close()
        await b.close()
    }
}

import Foundation
import Postgres
import SwitchboardCore
import SwitchboardStore
import Synchronization
import Testing
import TestSupport

/// The restart's streamed reads give exactly what the one-query reads give (the same values, to the
/// bit: a timer made from either computes the same deadlines), across many small chunks.
@Suite("Rebuild reads: waiting tickets and open SLAs streamed in chunks, as the one-query reads")
struct RebuildStreamTests {
    private func database(_ label: String) async throws -> PostgresPool {
        let pool = try await TestDatabase.freshPool(label)
        try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: TestDatabase.quietLogger).migrate()
        try await pool.query("INSERT INTO switchboard.business_numbers (phone_number_id) VALUES ('106540352242922')")
        try await AgentStore(pool: pool).syncConfigured([AgentDefinition(id: "ana", name: "Ana", capacity: 3, queues: ["support"]),
                                                         AgentDefinition(id: "ben", name: "Ben", capacity: 3, queues: ["support"])],
                                                        presence: [:], now: Date(timeIntervalSince1970: 1_790_000_000))
        return pool
    }

    /// 40 customers with a ticket each: most wait (times with 0–6 fraction digits, skills in range
    /// and out, agents excluded, a sticky agent), some are assigned, two are resolved, one unrouted.
    private func seedTickets(_ pool: PostgresPool) async throws {
        try await pool.query("INSERT INTO switchboard.customers (wa_id) SELECT '4477009' || lpad(g::text, 5, '0') FROM generate_series(1, 40) g")
        try await pool.query("""
            INSERT INTO switchboard.tickets (customer_id, business_number, status, resolved_at, priority, queue, assignee, created_at, waiting_since,
                                             queue_entered_at, customer_window_expires_at, required_skills, excluded_agents, last_assignee, assigned_at, updated_at)
            SELECT g, '106540352242922',
                   CASE WHEN g IN (7, 8) THEN 'resolved' WHEN g % 9 = 0 THEN 'pending' ELSE 'open' END,
                   CASE WHEN g IN (7, 8) THEN timestamptz '2026-09-01 10:00:00+00' END,
                   (ARRAY['low', 'normal', 'high', 'urgent'])[1 + g % 4],
                   CASE WHEN g = 40 THEN NULL ELSE 'support' END,
                   CASE WHEN g % 5 = 0 THEN 'ana' END,
                   timestamptz '2026-09-01 08:00:00+00' + make_interval(secs => g * 61.123457 - floor(g / 3) * 0.5),
                   CASE WHEN g % 4 = 1 THEN NULL ELSE timestamptz '2026-09-01 08:00:00+00' + make_interval(secs => g * 61) END,
                   CASE WHEN g % 6 = 1 THEN NULL ELSE timestamptz '2026-09-01 08:30:00.1+00' + make_interval(secs => g * 0.000001) END,
                   CASE WHEN g % 3 = 0 THEN NULL ELSE timestamptz '2026-09-02 08:00:00.12345+00' END,
                   (ARRAY['{}', '{"lang:es": 3}', '{"lang:en": 4, "tier:2": 9}', '{"lang:es": 3}'])[1 + g % 4]::jsonb,
                   CASE WHEN g % 7 = 3 THEN ARRAY['ben'] WHEN g % 11 = 2 THEN ARRAY['ana', 'ben'] ELSE '{}' END,
                   CASE WHEN g % 5 = 0 OR g = 13 THEN 'ana' END,
                   CASE WHEN g % 5 = 0 THEN timestamptz '2026-09-01 09:00:00+00' END,
                   timestamptz '2026-09-01 09:30:00.654321+00'
            FROM generate_series(1, 40) g ORDER BY g
            """)
    }

    @Test func waitingTicketsStreamedInChunksAreTheTicketsTheQueryReads() async throws {
        let pool = try await database("rebuild_waiting")
        try await seedTickets(pool)
        let store = RoutingStore(pool: pool)
        let expected = try await store.waiting(nil, stickySeconds: 86_400 * 365)
        let chunks = Mutex<[[StoredWaitingTicket]]>([])
        try await store.streamWaiting(stickySeconds: 86_400 * 365, chunkSize: 4) { chunk in chunks.withLock { $0.append(chunk) } }
        let streamed = chunks.withLock { $0 }
        #expect(streamed.count > 5)
        #expect(streamed.allSatisfy { $0.count <= 4 })
        let byID = { (tickets: [StoredWaitingTicket]) in tickets.sorted { $0.waiting.ticket.id < $1.waiting.ticket.id } }
        #expect(expected.count == 30)
        #expect(byID(streamed.flatMap { $0 }) == byID(expected))
        // The sticky agent and the agents excluded came through.
        #expect(expected.contains { $0.waiting.stickyAgent == "ana" })
        #expect(expected.contains { $0.waiting.excludedAgents == ["ana", "ben"] })
    }

    @Test func openSLAsStreamedInChunksAreTheSLAsTheQueryReadsAndNoTicketIsSplit() async throws {
        let pool = try await database("rebuild_slas")
        try await seedTickets(pool)
        let store = SLAStore(pool: pool)
        let policy = SLAPolicy(name: "standard", calendarName: "24x7",
                               targets: SLATargets(firstResponse: 3600, nextResponse: 1800, resolution: 86_400, warningFraction: 0.8, calendar: .alwaysOpen()))
        let policyID = try #require(try await store.register([policy]).first)
        // Every ticket gets an SLA as the engine stores it: 0 to 3 clocks, some paused, some warned or breached.
        let start = Date(timeIntervalSince1970: 1_788_249_600.123457)
        var changes: [SLAChange] = []
        for ticket in Int64(1)...40 where ticket != 40 {
            let began = start.addingTimeInterval(Double(ticket) * 61.000001)
            var clocks: [SLAChange.ClockRow] = []
            if ticket % 4 != 0 {
                clocks.append(.init(clock: .init(kind: .resolution, target: 86_400, startedAt: began, runningSince: ticket % 9 == 0 ? nil : began),
                                    warnAt: nil, deadline: began.addingTimeInterval(86_400)))
            }
            if ticket % 3 != 0 {
                clocks.append(.init(clock: .init(kind: .firstResponse, target: 3600, startedAt: began, accumulated: ticket % 9 == 0 ? 12.5 : 0,
                                                 runningSince: ticket % 9 == 0 ? nil : began, warned: ticket % 2 == 0, breached: ticket % 6 == 0),
                                    warnAt: began.addingTimeInterval(2880), deadline: began.addingTimeInterval(3600)))
            }
            if ticket % 5 == 0 {
                clocks.append(.init(clock: .init(kind: .nextResponse, target: 1800, startedAt: began.addingTimeInterval(300), runningSince: began.addingTimeInterval(300)),
                                    warnAt: nil, deadline: began.addingTimeInterval(2100)))
            }
            changes.append(SLAChange(ticketID: ticket, policyID: policyID, startedAt: began, awaitingCustomer: ticket % 5 == 0, pending: ticket % 9 == 0,
                                     clocks: clocks, records: [], events: [], at: began))
        }
        try await store.save(changes)
        let normalized = { (slas: [StoredSLA]) in
            slas.map { sla -> StoredSLA in
                var sorted = sla
                sorted.snapshot.clocks.sort { $0.kind.rawValue < $1.kind.rawValue }
                return sorted
            }
        }
        let expected = normalized(try await store.load())
        #expect(expected.count == 37)
        let chunks = Mutex<[[StoredSLA]]>([])
        try await store.streamOpen(chunkSize: 3) { chunk in chunks.withLock { $0.append(chunk) } }
        let streamed = chunks.withLock { $0 }
        #expect(streamed.count > 10)
        let ids = streamed.flatMap { $0.map(\.ticketID) }
        #expect(ids == ids.sorted() && Set(ids).count == ids.count, "ascending, and each ticket in one chunk only")
        #expect(normalized(streamed.flatMap { $0 }) == expected)
        let spec = try #require(try await store.policySpecs()[policyID])
        #expect(try SLAPolicy.decode(canonicalJSON: spec) == policy)
    }
}

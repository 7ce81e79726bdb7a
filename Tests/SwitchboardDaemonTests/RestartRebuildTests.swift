import Foundation
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport

/// The restart's rebuild as it reads a large backlog: waiting tickets streamed in chunks into their
/// queues, SLA timers kept packed until a ticket needs its actor. What it must still get right:
/// every ticket queued and served in order, every warning and breach fired once.
@Suite("Restart rebuild: streamed waiting tickets, timers made when needed")
struct RestartRebuildTests {
    static let ana = AgentDefinition(id: "ana", name: "Ana", capacity: 3, queues: ["support"])

    /// 25 waiting tickets whose ids run against their age (the newest inserted first), so a queue
    /// that matched each chunk as it came would place new tickets before old ones; a few are high.
    @Test func aRebuildReadingManySmallChunksQueuesEveryTicketAndServesTheOldestFirst() async throws {
        let harness = try await RoutingHarness.make("restart_chunks", .testing(agents: [Self.ana]), rebuild: false, rebuildChunkSize: 3)
        try await harness.pool.query("INSERT INTO switchboard.business_numbers (phone_number_id) VALUES ('106540352242922')")
        try await harness.pool.query("INSERT INTO switchboard.customers (wa_id) SELECT '4477001' || lpad(g::text, 5, '0') FROM generate_series(1, 25) g")
        try await harness.pool.query("""
            INSERT INTO switchboard.tickets (customer_id, business_number, priority, queue, required_skills, created_at, waiting_since, queue_entered_at, updated_at)
            SELECT g, '106540352242922', CASE WHEN g IN (4, 17) THEN 'high' ELSE 'normal' END, 'support', '{}',
                   $1::timestamptz - make_interval(mins => g), $1::timestamptz - make_interval(mins => g), $1::timestamptz - make_interval(mins => g), $1
            FROM generate_series(1, 25) g ORDER BY g
            """, [RoutingHarness.start.addingTimeInterval(-3600)])
        let ids = try await harness.pool.query("SELECT id, priority FROM switchboard.tickets ORDER BY (priority = 'high') DESC, waiting_since, id")
            .map { try $0.decode(0, as: Int64.self) }
        #expect(ids.count == 25)

        try await harness.router.rebuild()
        await harness.router.settle()
        // Ana has room for three: the two high ones and the oldest normal one, as one queue of all 25 would give.
        let assigned = try await harness.pool.query("SELECT id FROM switchboard.tickets WHERE assignee = 'ana' ORDER BY id").map { try $0.decode(0, as: Int64.self) }
        #expect(assigned == Array(ids.prefix(3)).sorted())
        let queue = try #require(await harness.router.queue(named: "support"))
        #expect(await queue.waitingTickets().map(\.ticket.id) == Array(ids.dropFirst(3)))
    }

    /// Restarted before any moment came, the engine keeps the tickets' clocks packed: one ticket left
    /// alone warns and breaches once each when their times come; one an agent answers meets its
    /// promise and neither warns nor breaches.
    @Test func timersKeptPackedAtStartWarnAndBreachOnceAndTakeActivity() async throws {
        let policy = SLAPolicy(name: "standard", calendarName: "24x7", targets: SLATargets(firstResponse: 600, warningFraction: 0.5, calendar: .alwaysOpen()))
        let routing = RoutingConfiguration.testing(agents: [Self.ana], presence: ["ana": .offline])
        let start = SLATests.beforeLunch
        let first = try await SLAHarness.make("restart_packed", routing: routing, policies: [policy], start: start)
        let alone = try await first.routing.customerWrites("447700900041", "Hello?")
        let answered = try await first.routing.customerWrites("447700900042", "Hello too")
        await first.settle()
        first.sla.stop()

        let second = try await SLAHarness.make("restart_packed", routing: routing, policies: [policy], start: start.addingTimeInterval(60), pool: first.pool)
        #expect(second.sla.timerCount == 2)
        #expect(await second.sla.clocks(of: alone)?.nextDeadline == start.addingTimeInterval(300))
        await second.advance(to: start.addingTimeInterval(120))
        await second.agentReplies(answered)
        #expect(try await second.records(answered).map(\.outcome) == ["met"])

        await second.advance(to: start.addingTimeInterval(299))
        #expect(try await second.eventCount(alone, "sla_warning") == 0)
        await second.advance(to: start.addingTimeInterval(300))
        #expect(try await second.eventCount(alone, "sla_warning") == 1)
        #expect(try await second.eventCount(alone, "sla_breach") == 0)
        await second.advance(to: start.addingTimeInterval(600))
        await second.advance(to: start.addingTimeInterval(3600))
        #expect(try await second.eventCount(alone, "sla_warning") == 1)
        #expect(try await second.eventCount(alone, "sla_breach") == 1)
        let breach = try #require(try await second.routing.events(alone, "sla_breach").first)
        #expect(breach["late"] as? Bool == false)
        #expect(try await second.eventCount(answered, "sla_warning") == 0)
        #expect(try await second.eventCount(answered, "sla_breach") == 0)
        second.sla.stop()
    }
}

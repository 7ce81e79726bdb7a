import Foundation
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import TestSupport

/// Routing and the SLA engine on one database and one virtual clock, wired as the daemon wires them.
struct SLAHarness {
    let routing: RoutingHarness
    let sla: SLAEngine
    let events: EventStream

    var pool: PostgresPool { routing.pool }
    var timers: VirtualTimers { routing.timers }

    static func make(_ label: String, routing configuration: RoutingConfiguration, policies: [SLAPolicy], start: Date,
                     pool: PostgresPool? = nil) async throws -> SLAHarness {
        let routing = try await RoutingHarness.make(label, configuration, pool: pool, timers: VirtualTimers(start: start))
        let events = EventStream()
        let store = SLAStore(pool: routing.pool)
        let sla = SLAEngine(policies: policies, store: store, ledger: store, clock: routing.timers, events: events, logger: TestDatabase.quietLogger)
        sla.attach(escalator: routing.router)
        await routing.router.attach(sla: sla)
        try await sla.rebuild()
        return SLAHarness(routing: routing, sla: sla, events: events)
    }

    /// Moves the clock, firing what falls due, and waits for every consequence to be stored.
    func advance(to date: Date) async {
        await timers.advance(to: date)
        await settle()
    }

    func settle() async {
        await sla.settle()
        await routing.router.settle()
        await sla.settle()
    }

    func agentReplies(_ ticket: Int64) async {
        await sla.agentReplied(ticket)
        await settle()
    }

    func eventCount(_ ticket: Int64, _ kind: String) async throws -> Int {
        try await pool.query("SELECT count(*)::int FROM switchboard.ticket_events WHERE ticket_id = $1 AND kind = $2", [ticket, kind]).first?.decode(0, as: Int.self) ?? -1
    }

    /// `clock → (outcome, elapsed business seconds)` of the ticket's ended clocks, in order.
    func records(_ ticket: Int64) async throws -> [(clock: String, outcome: String, business: Double)] {
        try await pool.query("SELECT clock, outcome, elapsed_business_seconds FROM switchboard.sla_records WHERE ticket_id = $1 ORDER BY id", [ticket]).map {
            (try $0.decode(0), try $0.decode(1), try $0.decode(2))
        }
    }

    func storedDeadline(_ ticket: Int64, _ clock: SLAClockKind) async throws -> Date? {
        try await pool.query("SELECT deadline FROM switchboard.sla_clocks WHERE ticket_id = $1 AND clock = $2", [ticket, clock.rawValue]).first?.decode(0, as: Date?.self)
    }
}

extension BusinessCalendar {
    /// Madrid office hours: weekdays 09:00–13:00 and 14:00–18:00 (a lunch break), closed on 8 December.
    static var madridOffice: BusinessCalendar {
        let day = [Interval(start: 9 * 60, length: 240), Interval(start: 14 * 60, length: 240)]
        return BusinessCalendar(timeZone: TimeZone(identifier: "Europe/Madrid") ?? .current,
                                week: [[], day, day, day, day, day, []],
                                holidays: [Day(year: 2026, month: 12, day: 8): .wholeDay])
    }
}

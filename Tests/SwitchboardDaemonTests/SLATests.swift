import Foundation
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport

/// The SLA engine with routing, a real database and a manual clock: deadlines in business time,
/// warnings and breaches once each, escalations through routing, pauses, restarts.
@Suite("SLA engine: deadlines, warnings, breaches, escalation, restarts")
struct SLATests {
    static let ana = AgentDefinition(id: "ana", name: "Ana", teams: ["care"], capacity: 1, queues: ["support"])
    static let sam = AgentDefinition(id: "sam", name: "Sam", role: .supervisor, teams: ["care"], capacity: 5, queues: ["supervisors"])
    static let lee = AgentDefinition(id: "lee", name: "Lee", role: .supervisor, teams: ["sales"], capacity: 5, queues: ["other"])

    static func routing(anaPresence: AgentPresence = .online) -> RoutingConfiguration {
        .testing(agents: [ana, sam, lee], presence: ["ana": anaPresence, "sam": .offline, "lee": .offline],
                 extraQueues: [QueueDefinition(name: "supervisors"), QueueDefinition(name: "other")])
    }

    /// Monday 23 November 2026, 12:59 in Madrid (11:59 UTC): one business minute before lunch.
    static let beforeLunch = Date(timeIntervalSince1970: 1_795_435_140)

    static func madrid(_ day: Int, _ hour: Int, _ minute: Int, _ second: Int = 0) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Madrid") ?? .current
        return calendar.date(from: DateComponents(year: 2026, month: 11, day: day, hour: hour, minute: minute, second: second)) ?? .distantPast
    }

    @Test func aTwoMinuteBusinessHoursPromiseWarnsAndBreachesAcrossLunchAndTheEscalationMovesAndRaisesTheTicket() async throws {
        #expect(Self.beforeLunch == Self.madrid(23, 12, 59))
        let policy = SLAPolicy(name: "two-minutes", calendarName: "office",
                               targets: SLATargets(firstResponse: 120, warningFraction: 0.75, calendar: .madridOffice),
                               onWarning: [.notifySupervisors],
                               onBreach: [.notifySupervisors, .raisePriority, .moveTo(queue: "supervisors"), .addTag("sla-breached")])
        let harness = try await SLAHarness.make("sla_two_minutes", routing: Self.routing(), policies: [policy], start: Self.beforeLunch)
        var following = harness.events.subscribe().makeAsyncIterator()
        let ticket = try await harness.routing.customerWrites("34600000001", "Hola, mi pedido no llega")
        await harness.settle()
        #expect(try await harness.routing.assignee(ticket) == "ana")

        // 60 business seconds before lunch, 60 after: due at 14:01, warned at 75 % (14:00:30).
        #expect(try await harness.storedDeadline(ticket, .firstResponse) == Self.madrid(23, 14, 1))
        let started = try #require(try await harness.routing.events(ticket, "sla_started").first)
        #expect(started["policy"] as? String == "two-minutes")

        await harness.advance(to: Self.madrid(23, 14, 0, 29))
        #expect(try await harness.eventCount(ticket, "sla_warning") == 0)
        await harness.advance(to: Self.madrid(23, 14, 0, 30))
        let warning = try #require(try await harness.routing.events(ticket, "sla_warning").first)
        #expect(warning["clock"] as? String == "first_response")
        #expect(warning["late"] as? Bool == false)
        let told = await following.next()
        #expect(told?.kind == .slaWarning)
        #expect(told?.ticketID == ticket)
        #expect(told?.audience == ["sam"])
        #expect(try await harness.eventCount(ticket, "sla_breach") == 0)

        await harness.advance(to: Self.madrid(23, 14, 1))
        #expect(try await harness.eventCount(ticket, "sla_breach") == 1)
        let breachTold = await following.next()
        #expect(breachTold?.kind == .slaBreach)
        let row = try #require(try await harness.pool.query("SELECT queue, assignee, priority, tags FROM switchboard.tickets WHERE id = $1", [ticket]).first)
        #expect(try row.decode(0, as: String.self) == "supervisors")
        #expect(try row.decode(1, as: String?.self) == nil)
        #expect(try row.decode(2, as: String.self) == "high")
        #expect(try row.decode(3, as: [String].self).contains("sla-breached"))
        let moved = try #require(try await harness.routing.events(ticket, "moved").last)
        #expect(moved["to"] as? String == "supervisors")
        #expect((moved["reason"] as? String)?.contains("SLA breach") == true)
        #expect(try await harness.eventCount(ticket, "priority_changed") == 1)

        // The reply comes at 14:05: 60 + 300 business seconds, breached.
        await harness.advance(to: Self.madrid(23, 14, 5))
        await harness.agentReplies(ticket)
        let records = try await harness.records(ticket)
        #expect(records.count == 1)
        #expect(records.first?.clock == "first_response")
        #expect(records.first?.outcome == "breached")
        #expect(records.first?.business == 360)
        #expect(try await harness.eventCount(ticket, "sla_breach") == 1)
    }

    @Test func anAnswerFromTheWhatsAppBusinessAppMeetsTheResponseClocksAsAnAgentsReplyDoes() async throws {
        let policy = SLAPolicy(name: "around-the-clock", calendarName: "24x7",
                               targets: SLATargets(firstResponse: 60, nextResponse: 120, resolution: 3600, warningFraction: 1, calendar: .alwaysOpen()))
        let start = Self.beforeLunch
        let harness = try await SLAHarness.make("sla_echo", routing: Self.routing(), policies: [policy], start: start)
        let ticket = try await harness.routing.customerWrites("447700900071", "Is the shop open on Sunday?")
        await harness.advance(to: start.addingTimeInterval(40))
        let echo = try await harness.routing.businessAppSends("447700900071", "Yes, from 10 to 2.")
        #expect(echo.map(\.ticketID) == [ticket])
        await harness.settle()
        let records = try await harness.records(ticket)
        #expect(records.map(\.clock) == ["first_response"] && records.first?.outcome == "met" && records.first?.business == 40)
        // The customer writes again: the next response is due; the business app answers it too.
        _ = try await harness.routing.customerWrites("447700900071", "And on holidays?")
        await harness.settle()
        #expect(try await harness.storedDeadline(ticket, .nextResponse) == start.addingTimeInterval(160))
        // A 👍 from the app says nothing: the customer still waits, as after an agent's reaction.
        await harness.advance(to: start.addingTimeInterval(60))
        try await harness.routing.businessAppSends("447700900071", "👍", type: "reaction", details: #"{"reaction": {"emoji": "👍", "removed": false}}"#)
        await harness.settle()
        #expect(try await harness.storedDeadline(ticket, .nextResponse) == start.addingTimeInterval(160))
        await harness.advance(to: start.addingTimeInterval(70))
        try await harness.routing.businessAppSends("447700900071", "Closed on holidays.")
        await harness.settle()
        #expect(try await harness.storedDeadline(ticket, .nextResponse) == nil)
        #expect(try await harness.records(ticket).map(\.outcome) == ["met", "met"])
        await harness.advance(to: start.addingTimeInterval(400))
        #expect(try await harness.eventCount(ticket, "sla_breach") == 0)
    }

    @Test func clocksPauseWhilePendingAndNextResponseRunsFromEachCustomerMessageAfterAReply() async throws {
        let policy = SLAPolicy(name: "around-the-clock", calendarName: "24x7",
                               targets: SLATargets(firstResponse: 60, nextResponse: 120, resolution: 3600, warningFraction: 1, calendar: .alwaysOpen()))
        let start = Self.beforeLunch
        let harness = try await SLAHarness.make("sla_pauses", routing: Self.routing(), policies: [policy], start: start)
        let ticket = try await harness.routing.customerWrites("447700900001", "Hello, where is my order?")
        await harness.advance(to: start.addingTimeInterval(30))
        await harness.agentReplies(ticket)
        await harness.advance(to: start.addingTimeInterval(100))
        _ = try await harness.routing.customerWrites("447700900001", "Thanks, and the invoice?")
        await harness.settle()
        #expect(try await harness.storedDeadline(ticket, .nextResponse) == start.addingTimeInterval(220))
        await harness.advance(to: start.addingTimeInterval(110))
        try await harness.routing.setStatus(ticket, .pending)
        await harness.settle()
        // Paused: no deadline, and nothing breaches while the team waits on the customer.
        #expect(try await harness.storedDeadline(ticket, .nextResponse) == nil)
        await harness.advance(to: start.addingTimeInterval(1110))
        #expect(try await harness.eventCount(ticket, "sla_breach") == 0)
        _ = try await harness.routing.customerWrites("447700900001", "Sorry, here is the number: 1234")
        await harness.settle()
        // 10 of 120 seconds used before the pause: due 110 seconds after the customer came back.
        #expect(try await harness.storedDeadline(ticket, .nextResponse) == start.addingTimeInterval(1220))
        await harness.advance(to: start.addingTimeInterval(1150))
        await harness.agentReplies(ticket)
        await harness.advance(to: start.addingTimeInterval(1200))
        try await harness.routing.setStatus(ticket, .resolved)
        await harness.settle()
        let records = try await harness.records(ticket)
        #expect(records.map(\.clock) == ["first_response", "next_response", "resolution"])
        #expect(records.map(\.outcome) == ["met", "met", "met"])
        #expect(records.map(\.business) == [30, 50, 200])
        #expect(try await harness.eventCount(ticket, "sla_breach") == 0)
        #expect(harness.sla.timerCount == 0)
    }

    @Test func theFirstMatchingPolicyIsFixedOnTheTicketAndAnUnmatchedTicketHasNoClocks() async throws {
        let vip = SLAPolicy(name: "vip", conditions: .init(priorities: [.urgent]), calendarName: "24x7",
                            targets: SLATargets(firstResponse: 30, calendar: .alwaysOpen()))
        let support = SLAPolicy(name: "support", conditions: .init(queues: ["support"], businessNumbers: ["106540352242922"]), calendarName: "24x7",
                                targets: SLATargets(firstResponse: 600, calendar: .alwaysOpen()))
        var configuration = Self.routing()
        configuration.rules = [RoutingRule(name: "urgent", conditions: .init(keywords: ["urgent"]), actions: .init(queue: "support", priority: .urgent)),
                               RoutingRule(name: "elsewhere", conditions: .init(keywords: ["other"]), actions: .init(queue: "other")),
                               RoutingRule(name: "all", actions: .init(queue: "support"))]
        let harness = try await SLAHarness.make("sla_policy_choice", routing: configuration, policies: [vip, support], start: Self.beforeLunch)
        let urgent = try await harness.routing.customerWrites("447700900011", "This is urgent please")
        let normal = try await harness.routing.customerWrites("447700900012", "A question about my plan")
        let other = try await harness.routing.customerWrites("447700900013", "Something other entirely")
        await harness.settle()
        func policy(_ ticket: Int64) async throws -> String? {
            try await harness.pool.query("SELECT p.name FROM switchboard.ticket_slas s JOIN switchboard.sla_policies p ON p.id = s.policy_id WHERE s.ticket_id = $1",
                                         [ticket]).first?.decode(0, as: String.self)
        }
        #expect(try await policy(urgent) == "vip")
        #expect(try await policy(normal) == "support")
        #expect(try await policy(other) == nil)
        #expect(try await harness.storedDeadline(urgent, .firstResponse) == Self.beforeLunch.addingTimeInterval(30))
    }

    @Test func deadlinesThatPassedWhileStoppedFireOnceMarkedLateAndTheTicketKeepsItsPolicy() async throws {
        let original = SLAPolicy(name: "standard", calendarName: "24x7", targets: SLATargets(firstResponse: 60, warningFraction: 0.5, calendar: .alwaysOpen()))
        let start = Self.beforeLunch
        let first = try await SLAHarness.make("sla_restart", routing: Self.routing(anaPresence: .offline), policies: [original], start: start)
        let ticket = try await first.routing.customerWrites("447700900021", "Hello?")
        await first.settle()
        #expect(try await first.eventCount(ticket, "sla_warning") == 0)
        first.sla.stop()

        // Ten minutes later the daemon starts again with a gentler policy in its configuration.
        let gentler = SLAPolicy(name: "standard", calendarName: "24x7", targets: SLATargets(firstResponse: 3600, warningFraction: 0.5, calendar: .alwaysOpen()))
        let second = try await SLAHarness.make("sla_restart", routing: Self.routing(anaPresence: .offline), policies: [gentler],
                                               start: start.addingTimeInterval(600), pool: first.pool)
        #expect(try await second.eventCount(ticket, "sla_warning") == 1)
        #expect(try await second.eventCount(ticket, "sla_breach") == 1)
        let breach = try #require(try await second.routing.events(ticket, "sla_breach").first)
        #expect(breach["late"] as? Bool == true)
        #expect(breach["late_seconds"] as? Double == 540)
        second.sla.stop()

        let third = try await SLAHarness.make("sla_restart", routing: Self.routing(anaPresence: .offline), policies: [gentler],
                                              start: start.addingTimeInterval(700), pool: first.pool)
        #expect(try await third.eventCount(ticket, "sla_warning") == 1)
        #expect(try await third.eventCount(ticket, "sla_breach") == 1)
        // A ticket that starts now runs under the new version of the policy.
        let later = try await third.routing.customerWrites("447700900022", "Hello again")
        await third.settle()
        #expect(try await third.storedDeadline(later, .firstResponse) == start.addingTimeInterval(700 + 3600))
        let versions = try await third.pool.query("SELECT count(*)::int FROM switchboard.sla_policies WHERE name = 'standard'").first?.decode(0, as: Int.self)
        #expect(versions == 2)
    }

    /// A ticket routed just before its leader died, its SLA never started: at the takeover, routing
    /// the ticket live and starting the unstarted tickets both reach it. Its clock starts once and
    /// its breach (due long ago) is stored and acted on once, whichever comes first, including when
    /// the unstarted tickets were read before the live start (the daemon reads them while it
    /// rebuilds) and started after it.
    @Test func aTicketRoutedJustBeforeATakeoverStartsItsClocksOnceWhenLiveRoutingAndTheUnstartedSweepBothReachIt() async throws {
        let policy = SLAPolicy(name: "standard", calendarName: "24x7", targets: SLATargets(firstResponse: 60, warningFraction: 0.5, calendar: .alwaysOpen()))
        let start = Self.beforeLunch
        // The old leader: routing only, its SLA start lost with it.
        let old = try await RoutingHarness.make("sla_takeover_once", Self.routing(anaPresence: .offline), timers: VirtualTimers(start: start))
        let ticket = try await old.customerWrites("447700900041", "Hello?")
        await old.router.settle()
        #expect(try await old.pool.query("SELECT queue FROM switchboard.tickets WHERE id = $1", [ticket]).first?.decode(0, as: String?.self) != nil)

        // Ten minutes later the new leader, in the daemon's order, and the ticket reached both ways.
        let new = try await SLAHarness.make("sla_takeover_once", routing: Self.routing(anaPresence: .offline), policies: [policy],
                                            start: start.addingTimeInterval(600), pool: old.pool)
        let readWhileRebuilding = try await new.sla.readUnstarted()
        #expect(readWhileRebuilding == [ticket])
        await new.sla.ticketsStarted([ticket], reopened: [])
        await new.sla.startUnstarted(readWhileRebuilding)
        await new.sla.startUnstarted(try await new.sla.readUnstarted())
        await new.sla.ticketsStarted([ticket], reopened: [])
        // What fell due while nobody led fires at the clock's next tick.
        await new.advance(to: start.addingTimeInterval(601))
        #expect(try await new.eventCount(ticket, "sla_started") == 1)
        #expect(try await new.eventCount(ticket, "sla_breach") == 1)
        #expect(try await new.eventCount(ticket, "sla_warning") == 1)
        new.sla.stop()
    }

    /// After a long outage hundreds of warnings and breaches fall due at once. Each is acted on
    /// through the database (its supervisors looked up, its escalation applied): all of them, a few
    /// at a time, never failing for want of a pooled connection (at once, they held the pool until
    /// the acquire timeout failed the escalations behind them).
    @Test func hundredsOfBreachesDueAtOnceAfterAnOutageAreAllEscalatedThroughASmallPool() async throws {
        let policy = SLAPolicy(name: "escalating", calendarName: "24x7", targets: SLATargets(firstResponse: 60, warningFraction: 0.5, calendar: .alwaysOpen()),
                               onWarning: [.notifySupervisors], onBreach: [.notifySupervisors, .raisePriority])
        let start = Self.beforeLunch
        let pool = try await TestDatabase.freshPool("sla_outage_burst", size: 2, acquireTimeout: .seconds(2))
        try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: TestDatabase.quietLogger).migrate()
        let before = try await SLAHarness.make("sla_outage_burst", routing: Self.routing(anaPresence: .offline), policies: [policy], start: start, pool: pool)
        let count = 120
        for index in 0..<count {
            try await before.routing.customerWrites(String(format: "4477009%05d", index), "Hello?")
        }
        await before.settle()
        before.sla.stop()

        // Ten minutes later every ticket's warning and breach are due.
        let after = try await SLAHarness.make("sla_outage_burst", routing: Self.routing(anaPresence: .offline), policies: [policy],
                                              start: start.addingTimeInterval(600), pool: pool)
        await after.settle()
        let counts = try await pool.query("""
            SELECT (SELECT count(*)::int FROM switchboard.ticket_events WHERE kind = 'sla_breach'),
                   (SELECT count(*)::int FROM switchboard.ticket_events WHERE kind = 'sla_warning'),
                   (SELECT count(*)::int FROM switchboard.ticket_events WHERE kind = 'priority_changed' AND actor = 'sla'),
                   (SELECT count(*)::int FROM switchboard.tickets WHERE priority = 'high')
            """).first
        #expect(try counts?.decode(0, as: Int.self) == count)
        #expect(try counts?.decode(1, as: Int.self) == count)
        #expect(try counts?.decode(2, as: Int.self) == count, "every breach raised its ticket's priority")
        #expect(try counts?.decode(3, as: Int.self) == count)
        after.sla.stop()
    }

    /// The daemon rebuilds the SLA engine, then routing (`RoutingService`). A breach that fell due
    /// while stopped and moves the ticket waits for routing's rebuild; the SLA engine's must not wait
    /// for that escalation, or neither ever ends (a standby taking over after the deadline hung so).
    @Test func aBreachThatFellDueWhileStoppedAndEscalatesDoesNotHoldUpTheRebuildInTheDaemonsOrder() async throws {
        let policy = SLAPolicy(name: "escalating", calendarName: "24x7", targets: SLATargets(firstResponse: 60, warningFraction: 0.5, calendar: .alwaysOpen()),
                               onBreach: [.raisePriority, .moveTo(queue: "supervisors")])
        let start = Self.beforeLunch
        let first = try await SLAHarness.make("sla_restart_escalates", routing: Self.routing(anaPresence: .offline), policies: [policy], start: start)
        let ticket = try await first.routing.customerWrites("447700900031", "Hello?")
        await first.settle()
        first.sla.stop()

        // Ten minutes later, in the daemon's order: the SLA engine first, then routing.
        let routing = try await RoutingHarness.make("sla_restart_escalates", Self.routing(anaPresence: .offline), pool: first.pool,
                                                    timers: VirtualTimers(start: start.addingTimeInterval(600)), rebuild: false)
        let store = SLAStore(pool: routing.pool)
        let sla = SLAEngine(policies: [policy], store: store, ledger: store, clock: routing.timers, events: EventStream(), logger: TestDatabase.quietLogger)
        sla.attach(escalator: routing.router)
        await routing.router.attach(sla: sla)
        // A guard against a hang, not a time budget (the rebuilds take milliseconds): the first of
        // "both rebuilt" and "two minutes passed" answers, without waiting for a rebuild that hangs.
        let answer = AsyncStream<Bool>.makeStream()
        let rebuilding = Task {
            try await sla.rebuild()
            try await routing.router.rebuild()
            answer.continuation.yield(true)
        }
        let guardTask = Task {
            try? await Task.sleep(for: .seconds(120))
            answer.continuation.yield(false)
        }
        var iterator = answer.stream.makeAsyncIterator()
        let rebuilt = await iterator.next() ?? false
        guardTask.cancel()
        if !rebuilt { rebuilding.cancel() }
        #expect(rebuilt, "the SLA engine's rebuild waited for routing's, which waits for it")
        guard rebuilt else { return }
        await sla.settle()
        await routing.router.settle()
        #expect(try await routing.events(ticket, "sla_breach").count == 1)
        #expect(try await routing.pool.query("SELECT queue FROM switchboard.tickets WHERE id = $1", [ticket]).first?.decode(0, as: String.self) == "supervisors",
                "the late breach moved the ticket once routing was rebuilt")
        sla.stop()
    }

    /// The daemon dies after storing a breach and before its escalation ran (here: while it
    /// escalates). The next start tells the supervisors and escalates, marked late, once; a start
    /// after that does nothing again. A warning already acted on before the death is not repeated.
    @Test func aBreachStoredJustBeforeTheDaemonDiedIsActedOnAtTheNextStartOnce() async throws {
        let policy = SLAPolicy(name: "escalating", calendarName: "24x7", targets: SLATargets(firstResponse: 60, warningFraction: 0.5, calendar: .alwaysOpen()),
                               onWarning: [.notifySupervisors], onBreach: [.notifySupervisors, .raisePriority, .addTag("sla-breached")])
        let start = Self.beforeLunch
        let first = try await SLAHarness.make("sla_left_unacted", routing: Self.routing(anaPresence: .offline), policies: [policy], start: start)
        let dying = StalledEscalator()
        first.sla.attach(escalator: dying)
        let ticket = try await first.routing.customerWrites("447700900051", "Hello?")
        await first.settle()
        await first.advance(to: start.addingTimeInterval(30))
        #expect(try await first.eventCount(ticket, "sla_warning") == 1)
        // The breach is stored before it is acted on; its escalation begins and never ends.
        await first.timers.advance(to: start.addingTimeInterval(60))
        await dying.reached()
        #expect(try await first.eventCount(ticket, "sla_breach") == 1)
        first.sla.stop()
        func placement() async throws -> (priority: String, tags: [String], raises: Int) {
            let row = try #require(try await first.pool.query("""
                SELECT priority, tags, (SELECT count(*)::int FROM switchboard.ticket_events WHERE ticket_id = $1 AND kind = 'priority_changed')
                FROM switchboard.tickets WHERE id = $1
                """, [ticket]).first)
            return (try row.decode(0), try row.decode(1), try row.decode(2))
        }
        #expect(try await placement().priority == "normal")

        // Ten minutes later the daemon starts again, in its order: rebuilds, then the alerts left.
        let second = try await SLAHarness.make("sla_left_unacted", routing: Self.routing(anaPresence: .offline), policies: [policy],
                                               start: start.addingTimeInterval(600), pool: first.pool)
        var told = second.events.subscribe().makeAsyncIterator()
        await second.sla.actOnAlertsLeftByTheLastStop()
        await second.settle()
        let breach = await told.next()
        #expect(breach?.kind == .slaBreach, "the breach is told, not the warning acted on before the death")
        #expect(breach?.ticketID == ticket)
        #expect(breach?.details["late_seconds"].flatMap(Double.init) == 540)
        let escalated = try await placement()
        #expect(escalated.priority == "high")
        #expect(escalated.tags.contains("sla-breached"))
        #expect(escalated.raises == 1)
        #expect(try await second.eventCount(ticket, "sla_breach") == 1, "the breach is stored once")
        second.sla.stop()

        // A start after that has nothing left to act on.
        let third = try await SLAHarness.make("sla_left_unacted", routing: Self.routing(anaPresence: .offline), policies: [policy],
                                              start: start.addingTimeInterval(700), pool: first.pool)
        await third.sla.actOnAlertsLeftByTheLastStop()
        await third.settle()
        let after = try await placement()
        #expect(after.priority == "high", "raised once, not again by the third start")
        #expect(after.raises == 1)
        third.sla.stop()
        await dying.release()
    }

    @Test func aReopenedTicketStartsItsClocksAgainUnderTheSamePolicy() async throws {
        let policy = SLAPolicy(name: "standard", calendarName: "24x7", targets: SLATargets(firstResponse: 60, resolution: 600, warningFraction: 1, calendar: .alwaysOpen()))
        let start = Self.beforeLunch
        let harness = try await SLAHarness.make("sla_reopen", routing: Self.routing(), policies: [policy], start: start)
        let ticket = try await harness.routing.customerWrites("447700900031", "Hello")
        await harness.advance(to: start.addingTimeInterval(20))
        await harness.agentReplies(ticket)
        try await harness.routing.setStatus(ticket, .resolved)
        await harness.settle()
        await harness.advance(to: start.addingTimeInterval(300))
        let again = try await harness.routing.customerWrites("447700900031", "It broke again")
        #expect(again == ticket)
        await harness.settle()
        #expect(try await harness.storedDeadline(ticket, .firstResponse) == start.addingTimeInterval(360))
        #expect(try await harness.eventCount(ticket, "sla_started") == 2)
        await harness.advance(to: start.addingTimeInterval(420))
        #expect(try await harness.eventCount(ticket, "sla_breach") == 1)
    }

    @Test func aReloadedPolicyAppliesToTicketsThatStartAfterItAndRunningTicketsKeepTheirs() async throws {
        let before = SLAPolicy(name: "standard", calendarName: "24x7", targets: SLATargets(firstResponse: 600, calendar: .alwaysOpen()))
        let after = SLAPolicy(name: "standard", calendarName: "24x7", targets: SLATargets(firstResponse: 60, calendar: .alwaysOpen()))
        let start = Self.beforeLunch
        let harness = try await SLAHarness.make("sla_reload", routing: Self.routing(anaPresence: .offline), policies: [before], start: start)
        let early = try await harness.routing.customerWrites("447700900041", "Hello")
        await harness.settle()
        try await harness.sla.reconfigure([after])
        await harness.advance(to: start.addingTimeInterval(10))
        let late = try await harness.routing.customerWrites("447700900042", "Hello too")
        await harness.settle()
        #expect(try await harness.storedDeadline(early, .firstResponse) == start.addingTimeInterval(600))
        #expect(try await harness.storedDeadline(late, .firstResponse) == start.addingTimeInterval(70))
        await harness.advance(to: start.addingTimeInterval(100))
        #expect(try await harness.eventCount(late, "sla_breach") == 1)
        #expect(try await harness.eventCount(early, "sla_breach") == 0)
    }
}

/// An escalator whose escalations never end until released: a daemon that dies while escalating.
actor StalledEscalator: SLAEscalator {
    private var calls = 0
    private var released = false
    private var callers: [CheckedContinuation<Void, Never>] = []
    private var stalled: [CheckedContinuation<Void, Never>] = []

    func escalate(_ ticketID: Int64, actions: [SLAPolicy.Action], reason: String) async -> Bool {
        calls += 1
        callers.forEach { $0.resume() }
        callers = []
        if !released { await withCheckedContinuation { stalled.append($0) } }
        return true
    }

    /// Returns once an escalation has begun.
    func reached() async {
        guard calls == 0 else { return }
        await withCheckedContinuation { callers.append($0) }
    }

    func release() {
        released = true
        stalled.forEach { $0.resume() }
        stalled = []
    }
}

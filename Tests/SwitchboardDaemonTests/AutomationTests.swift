import Foundation
import JSON
import Logging
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport
import WhatsApp

/// Automation with a real PostgreSQL, the real ingest and routing, on a virtual clock: what is
/// queued in the outbox (the sends themselves are the outbound tests' business), what routing does
/// with a triage choice, what the survey stores and `bi.csat` shows.
@Suite("Automation on a real database: out of hours once, triage, auto-close, CSAT")
struct AutomationTests {
    static let ana = AgentDefinition(id: "ana", name: "Ana García", teams: ["care"], capacity: 5, queues: ["support", "billing"])
    /// The harness starts Monday 2026-09-21 14:13 UTC: this office closed at 14:00 and opens Tuesday 09:00.
    static let office = BusinessCalendar(timeZone: TimeZone(identifier: "UTC") ?? .current,
                                         week: [[]] + Array(repeating: [BusinessCalendar.Interval(start: 540, length: 300)], count: 5) + [[]])

    static var routing: RoutingConfiguration {
        .testing(agents: [ana], extraQueues: [QueueDefinition(name: "billing")],
                 rules: [RoutingRule(name: "billing", conditions: .init(menuChoices: ["billing"]), actions: .init(queue: "billing", priority: .high)),
                         RoutingRule(name: "default", actions: .init(queue: "support"))])
    }

    struct Harness {
        let routing: RoutingHarness
        let engine: AutomationEngine
        let outbox: OutboxService

        static func start(_ label: String, _ automation: AutomationConfiguration) async throws -> Harness {
            let routing = try await RoutingHarness.make(label, AutomationTests.routing)
            let timers = routing.timers
            let client = GraphAPIClient(configuration: .init(baseURL: "http://127.0.0.1:9", version: "v24.0", accessToken: "unused", timeout: .seconds(5)),
                                        httpClient: .shared)
            // Nothing runs the outbox's senders: what automation queued stays in the table to be read.
            let outbox = OutboxService(store: OutboxStore(pool: routing.pool), client: client,
                                       settings: .init(messagesPerSecond: 80, limits: .init(customerInterval: 0, maxInFlight: 4),
                                                       retryPolicy: RetryPolicy(baseDelay: 1, maxDelay: 1, maxAttempts: 1)),
                                       now: { timers.now }, logger: TestDatabase.quietLogger)
            var logger = Logger(label: "automation")
            logger.logLevel = .error
            let engine = AutomationEngine(configuration: automation, store: AutomationStore(pool: routing.pool), outbox: outbox, timers: timers,
                                          logger: logger, sweepInterval: 3600)
            await engine.attach(router: routing.router)
            await routing.router.attach(automation: engine)
            await engine.start()
            return Harness(routing: routing, engine: engine, outbox: outbox)
        }

        /// The automatic messages queued for a ticket: reason and what a person reads, oldest first.
        func automatic(_ ticket: Int64) async throws -> [(reason: String, text: String?)] {
            try await routing.pool.query("""
                SELECT m.details->'automation'->>'reason', m.body FROM switchboard.messages m
                WHERE m.ticket_id = $1 AND m.direction = 'outbound' AND m.details ? 'automation' ORDER BY m.id
                """, [ticket]).map { (try $0.decode(0, as: String.self), try $0.decode(1, as: String?.self)) }
        }

        /// The customer taps a button or a list row.
        @discardableResult
        func customerChooses(_ waID: String, id: String, title: String) async throws -> Int64 {
            let wamid = "wamid.\(UUID().uuidString)"
            let message = IncomingMessage(wamid: wamid, businessNumberID: "106540352242922", customerWaID: waID, customerName: "Customer \(waID)",
                                          type: "interactive", body: title,
                                          detailsJSON: JSONValue.object(["choice": .object(["kind": .string("list_reply"), "id": .string(id), "title": .string(title)])]).jsonText,
                                          payloadJSON: #"{"id": "\#(wamid)"}"#)
            let stored = try await routing.ingest.store([IncomingDelivery(body: Array("{}".utf8), messages: [message], statuses: [], decodeProblem: nil,
                                                                          receivedAt: routing.timers.now)]).flatMap(\.stored)
            await routing.router.committed(stored)
            await routing.router.settle()
            return try #require(stored.first?.ticketID)
        }

        func ticket(_ id: Int64) async throws -> (status: String, queue: String?, assignee: String?, tags: [String]) {
            let row = try #require(try await routing.pool.query("SELECT status, queue, assignee, tags FROM switchboard.tickets WHERE id = $1", [id]).first)
            return (try row.decode(0), try row.decode(1), try row.decode(2), try row.decode(3))
        }
    }

    @Test func aCustomerWritingOutOfHoursGetsOneReplyHoweverManyMessagesTheySend() async throws {
        var automation = AutomationConfiguration()
        automation.outOfHours = [.init(name: "closed", calendarName: "office", calendar: Self.office,
                                       text: LocalizedText("Hi {{customer.name}}, we are closed; back {{team.back}}."))]
        automation.greetings = [.init(name: "hello", text: LocalizedText("Hello! A person will answer soon."))]
        let harness = try await Harness.start("automation_out_of_hours", automation)
        let ticket = try await harness.routing.customerWrites("447700900301", "Hello?")
        try await harness.routing.customerWrites("447700900301", "Anyone there?")
        await harness.routing.advance(by: 60)
        try await harness.routing.customerWrites("447700900301", "Hello??")
        // Recorded as automatic: it is not the ticket's first response.
        let firstResponse = try await harness.routing.pool.query("SELECT first_response_at FROM switchboard.tickets WHERE id = $1", [ticket]).first?.decode(0, as: Date?.self)
        #expect(firstResponse == nil)
        // The business answers from its phone app: not a customer message, no reply to it.
        try await harness.routing.businessAppSends("447700900301", "We'll look in the morning")
        let sent = try await harness.automatic(ticket)
        #expect(sent.map(\.reason) == ["out_of_hours"], "one reply, and no greeting beside it")
        #expect(sent.first?.text == "Hi Customer 447700900301, we are closed; back Tuesday 09:00 (\(Self.office.timeZone.identifier)).")
        let keys = try await harness.routing.pool.query("SELECT count(*)::int FROM switchboard.automation_sends WHERE ticket_id = $1", [ticket]).first?.decode(0, as: Int.self)
        #expect(keys == 1)
        // The next morning, open: no more out-of-hours replies on this ticket.
        await harness.routing.advance(by: 19 * 3600)
        try await harness.routing.customerWrites("447700900301", "Good morning")
        #expect(try await harness.automatic(ticket).map(\.reason) == ["out_of_hours"])
    }

    static var menu: AutomationConfiguration {
        var automation = AutomationConfiguration()
        automation.triage = [.init(name: "topics", style: .buttons, prompt: LocalizedText("What is it about?"), retryPrompt: LocalizedText("Please tap one."),
                                   button: LocalizedText("Choose"),
                                   options: [.init(id: "billing", title: LocalizedText("Billing"), tags: ["billing"], customerTags: ["payer"]),
                                             .init(id: "tech", title: LocalizedText("Technical"))],
                                   maxAsks: 2, timeout: 600, fallbackRule: "default")]
        return automation
    }

    @Test func aTriageChoiceRoutesToTheRightQueueAndAgentAndTheSLAStartsThere() async throws {
        let harness = try await Harness.start("automation_triage_choice", Self.menu)
        let ticket = try await harness.routing.customerWrites("447700900311", "Hi, a question")
        #expect(try await harness.automatic(ticket).map(\.reason) == ["triage_menu"])
        let waiting = try await harness.ticket(ticket)
        #expect(waiting.queue == nil && waiting.assignee == nil, "not routed while the menu waits")
        let menu = try #require(try await harness.routing.pool.query(
            "SELECT request->'interactive'->>'type', request->'interactive'->'action'->'buttons'->0->'reply'->>'id' FROM switchboard.outbox WHERE ticket_id = $1",
            [ticket]).first)
        #expect(try menu.decode(0, as: String?.self) == "button" && menu.decode(1, as: String?.self) == "billing")

        await harness.routing.advance(by: 90)
        try await harness.customerChooses("447700900311", id: "billing", title: "Billing")
        let routed = try await harness.ticket(ticket)
        #expect(routed.queue == "billing" && routed.assignee == "ana")
        #expect(routed.tags.contains("billing"))
        let customerTags = try await harness.routing.pool.query("SELECT tags FROM switchboard.customers WHERE wa_id = '447700900311'").first?.decode(0, as: [String].self)
        #expect(customerTags == ["payer"])
        let ended = try await harness.routing.events(ticket, "triage_ended")
        #expect(ended.first?["outcome"] as? String == "chosen" && ended.first?["choice"] as? String == "billing")
        // No second menu, ever, on this ticket.
        try await harness.routing.customerWrites("447700900311", "thanks")
        #expect(try await harness.automatic(ticket).map(\.reason) == ["triage_menu"])
    }

    @Test func freeTextIsAskedAgainThenTheFallbackRoutesAndSilenceTimesOut() async throws {
        let harness = try await Harness.start("automation_triage_fallback", Self.menu)
        let chatty = try await harness.routing.customerWrites("447700900321", "I need help")
        await harness.routing.advance(by: 10)
        try await harness.routing.customerWrites("447700900321", "with my bill")
        #expect(try await harness.automatic(chatty).map(\.reason) == ["triage_menu", "triage_retry"])
        #expect(try await harness.ticket(chatty).queue == nil)
        await harness.routing.advance(by: 10)
        try await harness.routing.customerWrites("447700900321", "just a person please")
        let routed = try await harness.ticket(chatty)
        #expect(routed.queue == "support", "the fallback rule, not the billing choice")
        #expect(try await harness.routing.events(chatty, "triage_ended").first?["outcome"] as? String == "unanswered")

        let silent = try await harness.routing.customerWrites("447700900322", "Hello")
        #expect(try await harness.ticket(silent).queue == nil)
        await harness.routing.advance(by: 601)
        #expect(try await harness.ticket(silent).queue == "support")
        #expect(try await harness.routing.events(silent, "triage_ended").first?["outcome"] as? String == "timed_out")
        // The first-response clock started when the ticket reached its queue, not at its first message.
        let started = try await harness.routing.pool.query("SELECT min(started_at) FROM switchboard.sla_clocks WHERE ticket_id = $1", [silent]).first?.decode(0, as: Date?.self)
        if let started { #expect(started > RoutingHarness.start.addingTimeInterval(600)) }
    }

    @Test func aPendingTicketAutoClosesAndItsRatingIsStoredOnceAndShownInBI() async throws {
        var automation = AutomationConfiguration()
        // Twelve hours: within the customer's 24-hour window, so the closing message and the survey's list can go.
        automation.autoClose = .init(pendingAfter: 12 * 3600, closingText: LocalizedText("We are closing this for now; write any time."))
        automation.csat = .init(afterAgentResolve: true, afterAutoClose: true, prompt: LocalizedText("How did we do?"), button: LocalizedText("Rate"),
                                ratings: ["Bad", "Poor", "OK", "Good", "Great"].map(LocalizedText.init), expiresAfter: 2 * 3600, commentWithin: 600,
                                thanks: LocalizedText("Thank you!"))
        let harness = try await Harness.start("automation_auto_close_csat", automation)
        let ticket = try await harness.routing.customerWrites("447700900331", "Where is my parcel?")
        #expect(try await harness.routing.assignee(ticket) == "ana")
        let open = try await harness.routing.customerWrites("447700900332", "Another question")
        // Ana answers with a question, and waits on the customer.
        _ = try await harness.outbox.send(.text(body: "Could you send the tracking number?"), ticket: try await harness.routing.pool.query(
            "SELECT reference FROM switchboard.tickets WHERE id = $1", [ticket]).first?.decode(0, as: String.self) ?? "", author: "ana")
        try await harness.routing.setStatus(ticket, .pending)
        await harness.routing.advance(by: 11 * 3600)
        #expect(try await harness.ticket(ticket).status == "pending")
        await harness.routing.advance(by: 3600 + 1)
        #expect(try await harness.ticket(ticket).status == "resolved")
        #expect(try await harness.ticket(open).status == "open", "open tickets are never auto-closed unless their queue asks")
        #expect(try await harness.routing.events(ticket, "auto_resolved").count == 1)
        #expect(try await harness.automatic(ticket).map(\.reason) == ["auto_close", "csat_survey"])

        // The customer taps 4 on the list, then adds a comment: both stay on the resolved ticket.
        await harness.routing.advance(by: 60)
        let rated = try await harness.customerChooses("447700900331", id: "csat:4", title: "Good")
        #expect(rated == ticket)
        // A second tap on the list (an accidental one) changes nothing.
        try await harness.customerChooses("447700900331", id: "csat:1", title: "Bad")
        try await harness.routing.customerWrites("447700900331", "Quick, thanks")
        #expect(try await harness.ticket(ticket).status == "resolved", "a survey's answers do not reopen the ticket")
        #expect(try await harness.automatic(ticket).map(\.reason) == ["auto_close", "csat_survey", "csat_thanks"])
        let row = try #require(try await harness.routing.pool.query("SELECT rating, agent, queue, auto_resolved, channel FROM bi.csat").first)
        #expect(try row.decode(0, as: Int.self) == 4)
        #expect(try row.decode(1, as: String?.self) == "ana" && row.decode(2, as: String?.self) == "support")
        #expect(try row.decode(3, as: Bool.self) && row.decode(4, as: String.self) == "interactive")
        let comment = try await harness.routing.pool.query("SELECT comment FROM switchboard.csat_surveys WHERE ticket_id = $1", [ticket]).first?.decode(0, as: String?.self)
        #expect(comment == "Quick, thanks")

        // Three hours later the survey has expired: the customer's message is a message, and reopens the ticket as usual.
        await harness.routing.advance(by: 3 * 3600)
        try await harness.routing.customerWrites("447700900331", "5")
        #expect(try await harness.ticket(ticket).status == "open")
        #expect(try await harness.routing.pool.query("SELECT rating FROM switchboard.csat_surveys WHERE ticket_id = $1", [ticket]).first?.decode(0, as: Int.self) == 4)
    }

    @Test func theSameDecisionTakenTwiceSendsOnce() async throws {
        var automation = AutomationConfiguration()
        automation.greetings = [.init(name: "hello", text: LocalizedText("Hello!"))]
        let harness = try await Harness.start("automation_idempotent", automation)
        let stored = try await harness.routing.customerMessageCommitted("447700900341", "Hi")
        // Told twice (a restart re-reading what was committed, a retried delivery): one greeting.
        await harness.routing.router.committed(stored)
        await harness.routing.router.committed(stored)
        await harness.routing.router.settle()
        let ticket = try #require(stored.first?.ticketID)
        #expect(try await harness.automatic(ticket).map(\.reason) == ["greeting"])
        let outbox = try await harness.routing.pool.query("SELECT count(*)::int FROM switchboard.outbox WHERE ticket_id = $1", [ticket]).first?.decode(0, as: Int.self)
        #expect(outbox == 1)
    }

    @Test func aRestartDecidesWhatACrashCutShortAndOnlyThat() async throws {
        var automation = AutomationConfiguration()
        automation.greetings = [.init(name: "hello", text: LocalizedText("Hello!"))]
        automation.csat = .init(prompt: LocalizedText("Rate us"), button: LocalizedText("Rate"), ratings: ["1", "2", "3", "4", "5"].map(LocalizedText.init))
        let harness = try await Harness.start("automation_catch_up", automation)
        // Greeted as usual, and answered by Ana.
        let greeted = try await harness.routing.customerWrites("447700900351", "Hi")
        _ = try await harness.outbox.send(.text(body: "Hello, how can I help?"), ticket: try await harness.routing.pool.query(
            "SELECT reference FROM switchboard.tickets WHERE id = $1", [greeted]).first?.decode(0, as: String.self) ?? "", author: "ana")
        // Committed by ingest, then the daemon died before routing or automation heard of it.
        let cut = try #require(try await harness.routing.customerMessageCommitted("447700900352", "Hello").first?.ticketID)
        #expect(try await harness.automatic(cut).isEmpty)
        // Resolved by Ana, and the survey's decision lost the same way: the status is stored directly.
        try await harness.routing.pool.query(
            "UPDATE switchboard.tickets SET status = 'resolved', resolved_at = $2 WHERE id = $1", [greeted, harness.routing.timers.now])
        await harness.routing.advance(by: 60)
        // The restart: a new engine on the same database.
        let restarted = AutomationEngine(configuration: automation, store: AutomationStore(pool: harness.routing.pool),
                                         outbox: OutboxService(store: OutboxStore(pool: harness.routing.pool),
                                                               client: GraphAPIClient(configuration: .init(baseURL: "http://127.0.0.1:9", version: "v24.0",
                                                                                                            accessToken: "unused", timeout: .seconds(5)),
                                                                                      httpClient: .shared),
                                                               settings: .init(messagesPerSecond: 80, limits: .init(customerInterval: 0, maxInFlight: 4),
                                                                               retryPolicy: RetryPolicy(baseDelay: 1, maxDelay: 1, maxAttempts: 1)),
                                                               now: { [timers = harness.routing.timers] in timers.now }, logger: TestDatabase.quietLogger),
                                         timers: harness.routing.timers, logger: TestDatabase.quietLogger)
        await restarted.start()
        #expect(try await harness.automatic(cut).map(\.reason) == ["greeting"])
        #expect(try await harness.automatic(greeted).map(\.reason) == ["greeting", "csat_survey"], "greeted once, surveyed now")
        // A second restart decides nothing new.
        await restarted.start()
        #expect(try await harness.automatic(cut).count == 1)
        #expect(try await harness.automatic(greeted).count == 2)
    }

    @Test func aConversationTheBusinessStartedWithATemplateIsNotGreeted() async throws {
        var automation = AutomationConfiguration()
        automation.greetings = [.init(name: "hello", text: LocalizedText("Hello!"))]
        let harness = try await Harness.start("automation_business_started", automation)
        let old = try await harness.routing.customerWrites("447700900361", "My first question")
        try await harness.routing.setStatus(old, .resolved)
        // Three days later Ben reaches out with a template on the old ticket; the customer answers: a new ticket.
        await harness.routing.advance(by: 3 * 86_400)
        _ = try await harness.outbox.send(.template(name: "follow_up", languageCode: "en_US"), ticket: try await harness.routing.pool.query(
            "SELECT reference FROM switchboard.tickets WHERE id = $1", [old]).first?.decode(0, as: String.self) ?? "", author: "ben")
        await harness.routing.advance(by: 600)
        let answer = try await harness.routing.customerWrites("447700900361", "Oh thanks, yes please")
        #expect(answer != old)
        #expect(try await harness.automatic(answer).isEmpty, "the business started this conversation: no welcome")
        #expect(try await harness.automatic(old).map(\.reason) == ["greeting"])
    }

    @Test func aRestartAfterAMenuEndedGreetsNobody() async throws {
        var automation = Self.menu
        automation.greetings = [.init(name: "hello", text: LocalizedText("Hello!"))]
        let harness = try await Harness.start("automation_menu_restart", automation)
        let ticket = try await harness.routing.customerWrites("447700900371", "Hi")
        await harness.routing.advance(by: 30)
        try await harness.customerChooses("447700900371", id: "tech", title: "Technical")
        #expect(try await harness.ticket(ticket).queue == "support")
        // The restart re-decides the last minutes' arrivals: the menu greeted this customer already.
        let restarted = AutomationEngine(configuration: automation, store: AutomationStore(pool: harness.routing.pool), outbox: harness.outbox,
                                         timers: harness.routing.timers, logger: TestDatabase.quietLogger)
        await restarted.start()
        #expect(try await harness.automatic(ticket).map(\.reason) == ["triage_menu"])
    }
}

import Foundation
import Postgres
import Synchronization
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport
import WhatsApp

@Suite("Outbound replies through a local stand-in of the Graph API")
struct OutboundTests {
    @Test("a text reply is recorded, sent once with its outbound id, and its wamid stored")
    func textReply() async throws {
        let harness = try await OutboundHarness.start("outbound_text")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "4915112345678")
        let service = harness.service()
        let queued = try await harness.running(service) {
            let queued = try await service.send(.text(body: "Hallo! Wir kümmern uns darum / @team"), ticket: reference, author: "agent:ana")
            try await harness.eventually("sent") { try await harness.outboxStates()["sent"] == 1 }
            return queued
        }
        #expect(queued.sendingPausedReason == nil)

        let received = harness.standIn.received
        try #require(received.count == 1)
        let request = received[0]
        #expect(request.phoneNumberID == OutboundHarness.businessNumber)
        #expect(request.body["to"]?.string == "4915112345678")
        #expect(request.body["type"]?.string == "text")
        #expect(request.body["text"]?["body"]?.string == "Hallo! Wir kümmern uns darum / @team")
        #expect(request.body["biz_opaque_callback_data"]?.string == queued.id.uuidString.lowercased())

        let message = try #require(try await harness.pool.query(
            "SELECT status, wamid, body, direction, outbound_id FROM switchboard.messages WHERE outbound_id = $1", [queued.id]).first)
        #expect(try message.decode(0, as: String.self) == "sent")
        #expect(try message.decode(1, as: String.self) == "wamid.standin1")
        #expect(try message.decode(2, as: String.self) == "Hallo! Wir kümmern uns darum / @team")
        #expect(try message.decode(3, as: String.self) == "outbound")
        let ticket = try #require(try await harness.pool.query(
            "SELECT first_response_at IS NOT NULL, last_outbound_at IS NOT NULL FROM switchboard.tickets WHERE reference = $1", [reference]).first)
        #expect(try ticket.decode(0, as: Bool.self))
        #expect(try ticket.decode(1, as: Bool.self))
        let events = try await harness.pool.query(
            "SELECT e.kind, e.actor FROM switchboard.ticket_events e JOIN switchboard.tickets t ON t.id = e.ticket_id WHERE t.reference = $1 ORDER BY e.id", [reference])
            .map { "\(try $0.decode(0, as: String.self)) by \(try $0.decode(1, as: String.self))" }
        #expect(events == ["reply_queued by agent:ana", "reply_sent by agent:ana"])
    }

    @Test("a leader whose lease may have run out claims nothing and sends nothing; once renewed, the reply goes once")
    func noSendWhileTheLeaseMayHaveRunOut() async throws {
        let harness = try await OutboundHarness.start("outbound_lease")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "4915112345600")
        // The sender asks before it claims a send and again just before it hands it to Meta.
        let asked = Atomic<Int>(0), renewed = Atomic<Bool>(false)
        let service = harness.service(mayHandOver: {
            asked.add(1, ordering: .relaxed)
            return renewed.load(ordering: .relaxed)
        })
        try await harness.running(service) {
            _ = try await service.send(.text(body: "Hello"), ticket: reference, author: "agent:ana")
            try await harness.eventually("the sender asked twice") { asked.load(ordering: .relaxed) >= 2 }
            #expect(try await harness.outboxStates() == ["queued": 1], "not claimed while this instance may not lead")
            #expect(harness.standIn.received.isEmpty)
            renewed.store(true, ordering: .relaxed)
            try await harness.eventually("sent") { try await harness.outboxStates()["sent"] == 1 }
        }
        #expect(harness.standIn.received.count == 1)
    }

    @Test("a lease that runs out between the claim and the send leaves the reply to the same leader once it renews: sent once, not stuck")
    func aClaimLeftByARunOutLeaseIsTakenOverOnRenewal() async throws {
        let harness = try await OutboundHarness.start("outbound_lease_claimed")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "4915112345601")
        // Yes before the claim, no just before the send (the lease ran out meanwhile), then yes.
        let asked = Atomic<Int>(0)
        let service = harness.service(mayHandOver: { asked.add(1, ordering: .relaxed).newValue != 2 })
        try await harness.running(service) {
            _ = try await service.send(.text(body: "Hello again"), ticket: reference, author: "agent:ana")
            try await harness.eventually("sent") { try await harness.outboxStates()["sent"] == 1 }
        }
        #expect(asked.load(ordering: .relaxed) >= 4)
        #expect(harness.standIn.received.count == 1)
        #expect(try await harness.count("SELECT attempts FROM switchboard.outbox") == 1, "the claim taken over is the same attempt")
    }

    @Test("followers are told when a reply's message is sent and when one fails, with the message")
    func sentAndFailedAreTold() async throws {
        let harness = try await OutboundHarness.start("outbound_told")
        defer { Task { await harness.finish() } }
        let good = try await harness.ticket(waID: "4915112340001")
        let bad = try await harness.ticket(waID: "4915112340002")
        harness.standIn.fail("4915112340002", with: .undeliverable)
        let told = Mutex<[IngestResult.StatusChange]>([])
        let service = harness.service(maxAttempts: 1, statuses: { changes in told.withLock { $0 += changes } })
        try await harness.running(service) {
            _ = try await service.send(.text(body: "Hello"), ticket: good, author: "agent:ana")
            _ = try await service.send(.text(body: "Hello too"), ticket: bad, author: "agent:ana")
            try await harness.eventually("both told") { told.withLock { $0.count } == 2 }
        }
        let messages = try await harness.pool.query("""
            SELECT m.id, m.ticket_id, t.reference FROM switchboard.messages m JOIN switchboard.tickets t ON t.id = m.ticket_id
            """).map { (try $0.decode(0, as: Int64.self), try $0.decode(1, as: Int64.self), try $0.decode(2, as: String.self)) }
        let byReference = Dictionary(uniqueKeysWithValues: messages.map { ($0.2, ($0.0, $0.1)) })
        let changes = told.withLock { $0 }.sorted { $0.status > $1.status }
        #expect(changes.map(\.status) == ["sent", "failed"])
        #expect(changes.first?.messageID == byReference[good]?.0 && changes.first?.ticketID == byReference[good]?.1)
        #expect(changes.last?.messageID == byReference[bad]?.0)
    }

    @Test("only a person's reply stops the first-response clock: an automatic message does not")
    func automaticMessagesDoNotAnswer() async throws {
        let harness = try await OutboundHarness.start("outbound_sla_reply")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "4915112345600")
        let ticketID = try #require(try await harness.pool.query("SELECT id FROM switchboard.tickets WHERE reference = $1", [reference]).first?.decode(0, as: Int64.self))
        let store = SLAStore(pool: harness.pool)
        let policy = SLAPolicy(name: "hour", calendarName: "24x7", targets: SLATargets(firstResponse: 3600, calendar: .alwaysOpen()))
        let sla = SLAEngine(policies: [policy], store: store, ledger: store, clock: VirtualTimers(start: Date()), events: EventStream(), logger: TestDatabase.quietLogger)
        try await sla.rebuild()
        await sla.ticketsStarted([ticketID], reopened: [])
        let service = harness.service(replies: sla)
        func openClocks() async throws -> [String] {
            try await harness.pool.query("SELECT clock FROM switchboard.sla_clocks WHERE ticket_id = $1 ORDER BY clock", [ticketID]).map { try $0.decode(0) }
        }
        try await harness.running(service) {
            _ = try await service.send(.text(body: "Thanks for writing! An agent will be with you shortly."), ticket: reference, author: "automation:welcome")
            await sla.settle()
            #expect(try await openClocks() == ["first_response"])
            _ = try await service.send(.text(body: "Hi, I am Ana and I will help you."), ticket: reference, author: "agent:ana")
            await sla.settle()
            #expect(try await openClocks() == [])
        }
        let outcomes = try await harness.pool.query("SELECT clock, outcome FROM switchboard.sla_records WHERE ticket_id = $1", [ticketID])
            .map { "\(try $0.decode(0, as: String.self)) \(try $0.decode(1, as: String.self))" }
        #expect(outcomes == ["first_response met"])
    }

    @Test("a customer known only by a business-scoped user id is addressed by it")
    func userIDRecipient() async throws {
        let harness = try await OutboundHarness.start("outbound_bsuid")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: nil, userID: "US.13491208655302741918")
        let service = harness.service()
        try await harness.running(service) {
            _ = try await service.send(.media(.image, mediaID: "1234567890", caption: "receipt"), ticket: reference, author: "agent:ana")
            try await harness.eventually("sent") { try await harness.outboxStates()["sent"] == 1 }
        }
        let body = try #require(harness.standIn.received.first?.body)
        #expect(body["to"] == nil)
        #expect(body["recipient"]?.string == "US.13491208655302741918")
        #expect(body["image"]?["id"]?.string == "1234567890")
        #expect(body["image"]?["caption"]?.string == "receipt")
    }

    @Test("a permanent error fails the reply with Meta's code and title, without retrying")
    func permanentFailure() async throws {
        let harness = try await OutboundHarness.start("outbound_permanent")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "5511987654321")
        harness.standIn.fail("5511987654321", with: .undeliverable)
        let service = harness.service()
        try await harness.running(service) {
            _ = try await service.send(.text(body: "Olá"), ticket: reference, author: "agent:bo")
            try await harness.eventually("failed") { try await harness.outboxStates()["failed"] == 1 }
        }
        #expect(harness.standIn.received.count == 1)
        let message = try #require(try await harness.pool.query("SELECT status, error_code, error_title FROM switchboard.messages").first)
        #expect(try message.decode(0, as: String.self) == "failed")
        #expect(try message.decode(1, as: Int.self) == 131026)
        #expect(try message.decode(2, as: String.self) == "Message Undeliverable.")
        #expect(try await harness.count("SELECT count(*) FROM switchboard.ticket_events WHERE kind = 'reply_failed'") == 1)
    }

    @Test("Meta's 131047 (window closed on Meta's side) fails the reply for good")
    func metaWindowError() async throws {
        let harness = try await OutboundHarness.start("outbound_131047")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "34600111222")
        harness.standIn.fail("34600111222", with: .outsideWindow)
        let service = harness.service()
        try await harness.running(service) {
            _ = try await service.send(.text(body: "Hola"), ticket: reference, author: nil)
            try await harness.eventually("failed") { try await harness.outboxStates()["failed"] == 1 }
        }
        #expect(harness.standIn.received.count == 1)
        #expect(try await harness.count("SELECT error_code FROM switchboard.messages") == 131047)
    }

    @Test("transient errors (5xx, an error page without a Graph body) are retried until the send succeeds")
    func transientFailures() async throws {
        let harness = try await OutboundHarness.start("outbound_transient")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "447700900123")
        harness.standIn.fail("447700900123", with: .serverError)
        harness.standIn.fail("447700900123", with: .badGateway)
        let service = harness.service()
        try await harness.running(service) {
            _ = try await service.send(.text(body: "Hello"), ticket: reference, author: nil)
            try await harness.eventually("sent") { try await harness.outboxStates()["sent"] == 1 }
        }
        #expect(harness.standIn.received.map(\.answeredCode) == [131000, 0, nil])
        #expect(try await harness.count("SELECT attempts FROM switchboard.outbox") == 3)
        #expect(try await harness.pool.query("SELECT status FROM switchboard.messages").first?.decode(0, as: String.self) == "sent")
    }

    @Test("a transient error that never ends fails the reply after the last attempt")
    func retriesRunOut() async throws {
        let harness = try await OutboundHarness.start("outbound_exhausted")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "61412345678")
        harness.standIn.fail("61412345678", with: .serverError, times: 10)
        let service = harness.service(maxAttempts: 3)
        try await harness.running(service) {
            _ = try await service.send(.text(body: "G'day"), ticket: reference, author: nil)
            try await harness.eventually("failed") { try await harness.outboxStates()["failed"] == 1 }
        }
        #expect(harness.standIn.received.count == 3)
        #expect(try await harness.count("SELECT error_code FROM switchboard.messages") == 131000)
    }

    @Test("131056 (too many messages to one customer) waits and then sends")
    func pairRateLimitError() async throws {
        let harness = try await OutboundHarness.start("outbound_131056")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "919812345678")
        harness.standIn.fail("919812345678", with: .pairRateLimit)
        let service = harness.service()
        try await harness.running(service) {
            _ = try await service.send(.text(body: "Namaste"), ticket: reference, author: nil)
            try await harness.eventually("sent") { try await harness.outboxStates()["sent"] == 1 }
        }
        #expect(harness.standIn.received.map(\.answeredCode) == [131056, nil])
    }

    @Test("an expired token (190) pauses the number and raises an alert instead of burning retries; a restart resumes")
    func expiredToken() async throws {
        let harness = try await OutboundHarness.start("outbound_190")
        defer { Task { await harness.finish() } }
        let references = [
            try await harness.ticket(waID: "4930111111"), try await harness.ticket(waID: "4930222222"), try await harness.ticket(waID: "4930333333"),
        ]
        harness.standIn.expireToken()
        let first = harness.service(maxInFlight: 1)
        try await harness.running(first) {
            for reference in references { _ = try await first.send(.text(body: "Hallo"), ticket: reference, author: nil) }
            try await harness.eventually("alert") {
                try await harness.count("SELECT count(*) FROM switchboard.alerts WHERE kind = 'sending_paused' AND cleared_at IS NULL") == 1
            }
            // While paused, a new reply is still recorded, and the caller is told why it waits.
            let queued = try await first.send(.text(body: "Noch da?"), ticket: references[0], author: nil)
            #expect(queued.sendingPausedReason?.contains("code 190") == true)
        }
        #expect(harness.standIn.received.count == 1)
        #expect(harness.standIn.received.first?.answeredCode == 190)
        #expect(try await harness.outboxStates() == ["queued": 4])
        #expect(try await harness.count("SELECT max(attempts) FROM switchboard.outbox") == 0)
        let paused = try await harness.pool.query("SELECT sending_paused_reason FROM switchboard.business_numbers").first?.decode(0, as: String?.self)
        #expect(paused?.contains("Session has expired") == true)

        harness.standIn.renewToken()
        let second = harness.service(maxInFlight: 1)
        try await harness.running(second) {
            try await harness.eventually("all sent") { try await harness.outboxStates() == ["sent": 4] }
        }
        #expect(try await harness.count("SELECT count(*) FROM switchboard.alerts WHERE cleared_at IS NULL") == 0)
        #expect(try await harness.count("SELECT count(*) FROM switchboard.business_numbers WHERE sending_paused_at IS NOT NULL") == 0)
    }

    @Test("a free-form reply outside the customer service window is refused before sending; a template is not")
    func customerWindow() async throws {
        let harness = try await OutboundHarness.start("outbound_window")
        defer { Task { await harness.finish() } }
        let closed = try await harness.ticket(waID: "33612345678", windowOpenFor: -7200)
        let never = try await harness.ticket(waID: "33698765432", windowOpenFor: nil)
        let closedAt = try #require(try await harness.pool.query(
            "SELECT customer_window_expires_at FROM switchboard.tickets WHERE reference = $1", [closed]).first?.decode(0, as: Date.self))
        let service = harness.service()
        try await harness.running(service) {
            await #expect(throws: ReplyRefusal.customerWindowClosed(closedAt: closedAt)) {
                try await service.send(.text(body: "Bonjour"), ticket: closed, author: nil)
            }
            await #expect(throws: ReplyRefusal.customerWindowClosed(closedAt: nil)) {
                try await service.send(.reaction(toMessage: "wamid.x", emoji: "👍"), ticket: never, author: nil)
            }
            #expect(try await harness.count("SELECT count(*) FROM switchboard.messages") == 0)
            #expect(try await harness.count("SELECT count(*) FROM switchboard.outbox") == 0)
            #expect(try await harness.count("SELECT count(*) FROM switchboard.ticket_events") == 0)

            _ = try await service.send(.template(name: "order_update", languageCode: "fr"), ticket: closed, author: nil)
            try await harness.eventually("template sent") { try await harness.outboxStates()["sent"] == 1 }
        }
        let body = try #require(harness.standIn.received.first?.body)
        #expect(body["type"]?.string == "template")
        #expect(body["template"]?["name"]?.string == "order_update")
        #expect(body["template"]?["language"]?["code"]?.string == "fr")
    }

    @Test("bad replies and unknown tickets are refused with a reason, and nothing is written")
    func badReplies() async throws {
        let harness = try await OutboundHarness.start("outbound_bad")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "12025550123")
        let service = harness.service()
        await #expect(throws: ReplyRefusal.invalidReply("text.body is empty")) {
            try await service.send(.text(body: "  \n"), ticket: reference, author: nil)
        }
        await #expect(throws: ReplyRefusal.unknownTicket("T-999999")) {
            try await service.send(.text(body: "hi"), ticket: "T-999999", author: nil)
        }
        let unconfigured = harness.service(accessToken: nil)
        await #expect(throws: ReplyRefusal.sendingNotConfigured) {
            try await unconfigured.send(.text(body: "hi"), ticket: reference, author: nil)
        }
        #expect(try await harness.count("SELECT count(*) FROM switchboard.outbox") == 0)
        #expect(try await harness.count("SELECT count(*) FROM switchboard.messages") == 0)
    }

    @Test("the per-number rate holds, measured from the stand-in's receive times")
    func numberRate() async throws {
        let rate = 10.0
        let count = 40
        // The stand-in does not police the rate here: it only records when each request arrived.
        let harness = try await OutboundHarness.start("outbound_rate", messagesPerSecond: 1000)
        defer { Task { await harness.finish() } }
        var references: [String] = []
        for index in 0..<count { references.append(try await harness.ticket(waID: "4475000000\(10 + index)")) }
        let service = harness.service(messagesPerSecond: rate)
        try await harness.running(service) {
            for reference in references { _ = try await service.send(.text(body: "update"), ticket: reference, author: nil) }
            try await harness.eventually("all sent") { try await harness.outboxStates()["sent"] == count }
        }
        let times = harness.standIn.received.map(\.at).sorted()
        #expect(times.count == count)
        // At most `rate` starts in any second: the first `rate` may go at once, each further one
        // needs another 1/rate seconds. The span between the first and last arrival can only be
        // shorter than that by what the network added to the first request; 0.25 s is allowed for it.
        let minimum = (Double(count) - rate) / rate
        let span = try #require(times.last) - (try #require(times.first))
        #expect(span >= .seconds(minimum - 0.25), "40 sends at 10/s arrived within \(span)")
    }

    @Test("one customer's replies go out in order, each at least the pacing interval after the previous one")
    func customerPacing() async throws {
        // Long enough that recording five replies, even on a loaded machine, takes far less than the
        // three intervals before the first customer's fourth reply may leave.
        let interval = 1.5
        let harness = try await OutboundHarness.start("outbound_pacing", pairInterval: .milliseconds(1500))
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "81312345678")
        let other = try await harness.ticket(waID: "81398765432")
        let service = harness.service(customerInterval: interval)
        try await harness.running(service) {
            for text in ["one", "two", "three", "four"] { _ = try await service.send(.text(body: text), ticket: reference, author: nil) }
            _ = try await service.send(.text(body: "other"), ticket: other, author: nil)
            try await harness.eventually("all sent") { try await harness.outboxStates()["sent"] == 5 }
        }
        let received = harness.standIn.received
        #expect(received.filter { $0.answeredCode == 131056 }.isEmpty, "the stand-in had to refuse sends for pacing")
        let toCustomer = received.filter { $0.recipient == "81312345678" }
        #expect(toCustomer.map { $0.body["text"]?["body"]?.string ?? "" } == ["one", "two", "three", "four"])
        for (earlier, later) in zip(toCustomer, toCustomer.dropFirst()) {
            #expect(later.at - earlier.at >= .milliseconds(1500))
        }
        // The other customer is not held up behind the first one's pacing: their reply leaves before
        // the first customer's last one.
        let otherIndex = try #require(received.firstIndex { $0.recipient == "81398765432" })
        #expect(otherIndex < 4)
    }

    @Test("after a crash, queued replies are sent, an interrupted send confirmed by a status webhook is not sent again")
    func restartWithOutbox() async throws {
        let harness = try await OutboundHarness.start("outbound_restart")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "27821234567")
        let other = try await harness.ticket(waID: "27829876543")
        // The daemon that recorded these stopped before sending them.
        let crashed = harness.service()
        _ = try await crashed.send(.text(body: "first"), ticket: reference, author: nil)
        let confirmed = try await crashed.send(.text(body: "reached Meta"), ticket: other, author: nil)
        let interrupted = try await crashed.send(.text(body: "maybe reached Meta"), ticket: other, author: nil)
        // Two sends were leaving when it crashed; Meta's status webhook for one of them got in.
        try await harness.pool.query("UPDATE switchboard.outbox SET state = 'sending', attempts = 1 WHERE id = ANY($1::uuid[])",
                                     [[confirmed.id.uuidString, interrupted.id.uuidString]])
        try await harness.pool.query(
            "INSERT INTO switchboard.message_statuses (wamid, status, payload) VALUES ('wamid.confirmed', 'delivered', jsonb_build_object('biz_opaque_callback_data', $1::text))",
            [confirmed.id.uuidString.lowercased()]
        )

        let restarted = harness.service()
        try await harness.running(restarted) {
            try await harness.eventually("all sent") { try await harness.outboxStates() == ["sent": 3] }
        }
        let bodies = harness.standIn.received.map { $0.body["text"]?["body"]?.string ?? "" }
        #expect(bodies.sorted() == ["first", "maybe reached Meta"])
        let message = try #require(try await harness.pool.query(
            "SELECT wamid, status FROM switchboard.messages WHERE outbound_id = $1", [confirmed.id]).first)
        #expect(try message.decode(0, as: String.self) == "wamid.confirmed")
        #expect(try message.decode(1, as: String.self) == "delivered")
    }

    @Test("a status webhook that overtakes the recording of a send is matched by the outbound id and never moved back")
    func statusBeforeTheSendIsRecorded() async throws {
        let harness = try await OutboundHarness.start("outbound_status_first")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "5491155551234")
        let queued = try await harness.service().send(.text(body: "Hola"), ticket: reference, author: nil)
        let store = OutboxStore(pool: harness.pool)
        // The request is on its way to Meta…
        _ = try #require(try await store.beginAttempt(queued.id, now: Date()))
        // …Meta refuses delivery, and its webhook is stored before the send's answer is recorded.
        let failed = IncomingStatus(wamid: "wamid.early", status: "failed", occurredAt: Date(), errorCode: 131026, errorTitle: "Message Undeliverable.",
                                    errorsJSON: #"[{"code":131026,"title":"Message Undeliverable."}]"#, payloadJSON: "{}", outboundID: queued.id)
        let ingest = WebhookIngestStore(pool: harness.pool, reopenWithin: 86400)
        let result = try await ingest.store(IncomingDelivery(body: Array("{}".utf8), messages: [], statuses: [failed], decodeProblem: nil, receivedAt: Date()))
        #expect(result.statusesRecorded == 1)
        try await store.recordSent(queued.id, wamid: "wamid.early", at: Date())

        let message = try #require(try await harness.pool.query(
            "SELECT wamid, status, error_code FROM switchboard.messages WHERE outbound_id = $1", [queued.id]).first)
        #expect(try message.decode(0, as: String.self) == "wamid.early")
        #expect(try message.decode(1, as: String.self) == "failed")
        #expect(try message.decode(2, as: Int.self) == 131026)
        #expect(try await harness.outboxStates() == ["sent": 1])
    }

    @Test("a 2xx whose body cannot be read counts as sent, never as a failure to retry")
    func acceptedWithoutABody() async throws {
        let harness = try await OutboundHarness.start("outbound_2xx_no_id")
        defer { Task { await harness.finish() } }
        let reference = try await harness.ticket(waID: "4420712345678")
        harness.standIn.fail("4420712345678", with: .init(httpStatus: 200, code: nil, message: "OK"))
        let service = harness.service()
        try await harness.running(service) {
            _ = try await service.send(.text(body: "Hello"), ticket: reference, author: nil)
            try await harness.eventually("sent") { try await harness.outboxStates()["sent"] == 1 }
        }
        #expect(harness.standIn.received.count == 1)
        let message = try #require(try await harness.pool.query("SELECT status, wamid FROM switchboard.messages").first)
        #expect(try message.decode(0, as: String.self) == "sent")
        #expect(try message.decode(1, as: String?.self) == nil)
    }
}

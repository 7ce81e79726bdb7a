import Foundation
import Postgres
import SwitchboardCore
import SwitchboardStore
import Testing
import TestSupport

@Suite("Storing webhook deliveries: threading, exactly once, statuses")
struct WebhookIngestStoreTests {
    static let hour: TimeInterval = 3600

    private func migratedPool(_ label: String) async throws -> PostgresPool {
        let pool = try await TestDatabase.freshPool(label, size: 8)
        try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: TestDatabase.quietLogger).migrate()
        return pool
    }

    private func message(_ wamid: String, from waID: String = "4915112345678", text: String = "hello", number: String = "1122334455") -> IncomingMessage {
        IncomingMessage(wamid: wamid, businessNumberID: number, businessDisplayNumber: "+49 30 1234", customerWaID: waID,
                        customerName: "Ada", type: "text", body: text, payloadJSON: #"{"id": "\#(wamid)"}"#)
    }

    private func delivery(_ messages: [IncomingMessage], statuses: [IncomingStatus] = [], at date: Date = Date(timeIntervalSince1970: 1_790_000_000)) -> IncomingDelivery {
        IncomingDelivery(body: Array("{}".utf8), messages: messages, statuses: statuses, decodeProblem: nil, receivedAt: date)
    }

    private func count(_ pool: PostgresPool, _ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> Int {
        try await pool.query(sql, parameters).first?.decode(0, as: Int.self) ?? -1
    }

    @Test func aFirstMessageOpensATicketWithAReferenceAndEvents() async throws {
        let pool = try await migratedPool("ingest_first")
        let store = WebhookIngestStore(pool: pool, reopenWithin: 24 * Self.hour)
        let result = try await store.store(delivery([message("wamid.1")]))
        let stored = try #require(result.stored.first)
        #expect(stored.threading == .newTicket)
        #expect(stored.ticketReference.hasPrefix("T-"))
        let ticket = try #require(try await pool.query("SELECT reference, status, customer_window_expires_at - last_inbound_at = interval '24 hours' FROM switchboard.tickets").first)
        #expect(try ticket.decode(0, as: String.self) == stored.ticketReference)
        #expect(try ticket.decode(1, as: String.self) == "open")
        #expect(try ticket.decode(2, as: Bool.self))
        let customer = try #require(try await pool.query("SELECT wa_id, profile_name, country FROM switchboard.customers").first)
        #expect(try customer.decode(0, as: String.self) == "4915112345678")
        #expect(try customer.decode(1, as: String.self) == "Ada")
        #expect(try customer.decode(2, as: String.self) == "DE")
        let kinds = try await pool.query("SELECT kind FROM switchboard.ticket_events ORDER BY id").map { try $0.decode(0, as: String.self) }
        #expect(kinds == ["created", "message_received"])
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.webhook_deliveries") == 1)
    }

    @Test func aDuplicateWamidIsStoredOnceAcrossAndWithinDeliveries() async throws {
        let pool = try await migratedPool("ingest_dupes")
        let store = WebhookIngestStore(pool: pool, reopenWithin: 0)
        let first = try await store.store(delivery([message("wamid.A"), message("wamid.A"), message("wamid.B")]))
        #expect(first.stored.map(\.wamid) == ["wamid.A", "wamid.B"])
        #expect(first.duplicates == ["wamid.A"])
        let again = try await store.store(delivery([message("wamid.B"), message("wamid.A")]))
        #expect(again.stored.isEmpty)
        #expect(again.duplicates == ["wamid.B", "wamid.A"])
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.messages") == 2)
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.tickets") == 1)
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.ticket_events WHERE kind = 'message_received'") == 2)
    }

    @Test func concurrentDeliveriesOfTheSameMessagesLeaveOneCopyAndOneTicketPerCustomer() async throws {
        let pool = try await migratedPool("ingest_race")
        let store = WebhookIngestStore(pool: pool, reopenWithin: 0)
        let customers = ["4915100000001", "4915100000002", "4915100000003"]
        let burst = customers.flatMap { customer in (1...4).map { message("wamid.\(customer).\($0)", from: customer) } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for copy in 0..<12 {
                // Each copy carries the burst in another order; some as one delivery, some one by one.
                let shuffled = copy % 2 == 0 ? burst : burst.reversed()
                group.addTask {
                    if copy % 3 == 0 {
                        for single in shuffled { _ = try await store.store(delivery([single])) }
                    } else {
                        _ = try await store.store(delivery(shuffled))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.messages") == burst.count)
        #expect(try await count(pool, "SELECT count(DISTINCT wamid) FROM switchboard.messages") == burst.count)
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.tickets") == customers.count)
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.customers") == customers.count)
    }

    @Test func threadingAppendsWakesReopensAndStartsAnew() async throws {
        let pool = try await migratedPool("ingest_threading")
        let store = WebhookIngestStore(pool: pool, reopenWithin: 2 * Self.hour)
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        let first = try await store.store(delivery([message("w1")], at: t0)).stored[0]
        let second = try await store.store(delivery([message("w2")], at: t0 + 60)).stored[0]
        #expect(second.threading == .append(to: first.ticketID))

        try await pool.query("UPDATE switchboard.tickets SET status = 'pending' WHERE id = $1", [first.ticketID])
        let third = try await store.store(delivery([message("w3")], at: t0 + 120)).stored[0]
        #expect(third.threading == .wakeUp(first.ticketID))
        #expect(try await pool.query("SELECT status FROM switchboard.tickets WHERE id = $1", [first.ticketID]).first?.decode(0, as: String.self) == "open")

        try await pool.query("UPDATE switchboard.tickets SET status = 'resolved', resolved_at = $2 WHERE id = $1", [first.ticketID, t0 + 180])
        let fourth = try await store.store(delivery([message("w4")], at: t0 + 180 + Self.hour)).stored[0]
        #expect(fourth.threading == .reopen(first.ticketID))

        try await pool.query("UPDATE switchboard.tickets SET status = 'resolved', resolved_at = $2 WHERE id = $1", [first.ticketID, t0 + 2 * Self.hour])
        let fifth = try await store.store(delivery([message("w5")], at: t0 + 5 * Self.hour)).stored[0]
        #expect(fifth.threading == .newTicket)
        #expect(fifth.ticketID != first.ticketID)

        // Another business number is another thread.
        let other = try await store.store(delivery([message("w6", number: "9988776655")], at: t0 + 5 * Self.hour)).stored[0]
        #expect(other.threading == .newTicket)
        let kinds = try await pool.query("SELECT kind FROM switchboard.ticket_events WHERE ticket_id = $1 ORDER BY id", [first.ticketID]).map { try $0.decode(0, as: String.self) }
        #expect(kinds == ["created", "message_received", "message_received", "status_changed", "message_received", "reopened", "message_received"])
    }

    @Test func theBusinessAppsEchoesGoOnTheCustomersLatestTicketAsOutboundAndChangeNothingElse() async throws {
        let pool = try await migratedPool("ingest_echoes")
        let store = WebhookIngestStore(pool: pool, reopenWithin: 24 * Self.hour)
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        func echo(_ wamid: String, to waID: String = "4915112345678", text: String = "Sent from the shop's phone") -> IncomingMessage {
            var message = message(wamid, from: waID, text: text)
            message.isEcho = true
            return message
        }
        func ticket(_ id: Int64) async throws -> (status: String, window: Date?, lastInbound: Date?) {
            let row = try #require(try await pool.query("SELECT status, customer_window_expires_at, last_inbound_at FROM switchboard.tickets WHERE id = $1", [id]).first)
            return (try row.decode(0), try row.decode(1), try row.decode(2))
        }
        let opened = try await store.store(delivery([message("w1")], at: t0)).stored[0]
        let before = try await ticket(opened.ticketID)

        // Hours later (the window must not move), the shop answers from the Business app.
        let echoed = try await store.store(delivery([echo("e1")], at: t0 + 3 * Self.hour))
        let stored = try #require(echoed.stored.first)
        #expect(stored.isEcho && stored.ticketID == opened.ticketID && stored.threading == .attach(to: opened.ticketID) && !stored.asksForAnswer)
        let row = try #require(try await pool.query("SELECT direction, body, status, outbound_id IS NULL FROM switchboard.messages WHERE wamid = 'e1'").first)
        #expect(try row.decode(0, as: String.self) == "outbound" && row.decode(1, as: String.self) == "Sent from the shop's phone")
        #expect(try row.decode(2, as: String.self) == "sent" && row.decode(3, as: Bool.self))
        let after = try await ticket(opened.ticketID)
        #expect(after.status == "open" && after.window == before.window && after.lastInbound == before.lastInbound)
        // It answered the customer: the ticket's first response, as an agent's reply would be.
        let answered = try #require(try await pool.query("SELECT first_response_at, last_outbound_at FROM switchboard.tickets WHERE id = $1", [opened.ticketID]).first)
        #expect(try answered.decode(0, as: Date?.self) == t0 + 3 * Self.hour && answered.decode(1, as: Date?.self) == t0 + 3 * Self.hour)
        let event = try #require(try await pool.query("SELECT kind, actor, data->>'type' FROM switchboard.ticket_events WHERE ticket_id = $1 ORDER BY id DESC LIMIT 1",
                                                      [opened.ticketID]).first)
        #expect(try event.decode(0, as: String.self) == "message_echoed" && event.decode(1, as: String.self) == "business_app" && event.decode(2, as: String.self) == "text")

        // On a resolved ticket an echo stays there and reopens nothing; again, it is a duplicate.
        try await pool.query("UPDATE switchboard.tickets SET status = 'resolved', resolved_at = $2 WHERE id = $1", [opened.ticketID, t0 + 4 * Self.hour])
        let late = try await store.store(delivery([echo("e2", text: "Anything else?"), echo("e1")], at: t0 + 5 * Self.hour))
        #expect(late.stored.map(\.wamid) == ["e2"] && late.duplicates == ["e1"])
        #expect(try await ticket(opened.ticketID).status == "resolved")

        // To someone who never wrote to this number: no ticket to put it on; the delivery says so.
        let stranger = try await store.store(delivery([echo("e3", to: "4915199999999")], at: t0 + 5 * Self.hour))
        #expect(stranger.stored.isEmpty && stranger.unplacedEchoes == ["e3"])
        let problem = try await pool.query("SELECT decode_problem FROM switchboard.webhook_deliveries WHERE id = $1", [stranger.deliveryID]).first?.decode(0, as: String?.self)
        #expect(problem == "message_echoes e3: to a customer with no ticket on this number, kept raw")
        #expect(try await count(pool, "SELECT count(*)::int FROM switchboard.customers") == 1)
        #expect(try await count(pool, "SELECT count(*)::int FROM switchboard.tickets") == 1)

        // A customer's message and an echo to them in one delivery: the echo finds the new ticket.
        let both = try await store.store(delivery([message("w9", from: "4915100000009"), echo("e9", to: "4915100000009")], at: t0 + 6 * Self.hour))
        #expect(both.stored.map(\.wamid) == ["w9", "e9"] && both.stored[0].ticketID == both.stored[1].ticketID)
    }

    @Test func aCustomerKnownByUserIDGainsAPhoneNumberWithoutASecondRecord() async throws {
        let pool = try await migratedPool("ingest_bsuid")
        let store = WebhookIngestStore(pool: pool, reopenWithin: 0)
        let byUserID = IncomingMessage(wamid: "u1", businessNumberID: "1", customerWaID: nil, customerUserID: "US.42", type: "text", body: "hi")
        let withBoth = IncomingMessage(wamid: "u2", businessNumberID: "1", customerWaID: "447700900123", customerUserID: "US.42", type: "text", body: "again")
        let a = try await store.store(delivery([byUserID])).stored[0]
        let b = try await store.store(delivery([withBoth])).stored[0]
        #expect(b.ticketID == a.ticketID)
        let rows = try await pool.query("SELECT wa_id, user_id FROM switchboard.customers")
        #expect(rows.count == 1)
        #expect(try rows.first?.decode(0, as: String.self) == "447700900123")
    }

    @Test func statusesOnlyMoveForwardAndAreRecordedOnce() async throws {
        let pool = try await migratedPool("ingest_statuses")
        let store = WebhookIngestStore(pool: pool, reopenWithin: 0)
        let ticket = try await store.store(delivery([message("in.1")])).stored[0].ticketID
        try await pool.query("INSERT INTO switchboard.messages (ticket_id, direction, wamid, type, body, status) VALUES ($1, 'outbound', 'out.1', 'text', 'hi', 'sent')", [ticket])
        func status(_ name: String, _ second: Double, code: Int? = nil) -> IncomingStatus {
            IncomingStatus(wamid: "out.1", status: name, occurredAt: Date(timeIntervalSince1970: 1_790_000_000 + second), errorCode: code, errorTitle: code.map { "error \($0)" })
        }
        func current() async throws -> String? {
            try await pool.query("SELECT status FROM switchboard.messages WHERE wamid = 'out.1'").first?.decode(0, as: String?.self)
        }
        let read = try await store.store(delivery([], statuses: [status("read", 3)]))
        #expect(read.statusesRecorded == 1)
        #expect(try await current() == "read")
        // Followers hear of the change (delivery ticks): which message, on which ticket, now what.
        let outID = try #require(try await pool.query("SELECT id FROM switchboard.messages WHERE wamid = 'out.1'").first?.decode(0, as: Int64.self))
        #expect(read.statusChanges == [.init(messageID: outID, ticketID: ticket, status: "read")])
        // Late and skipped steps are recorded in the history but do not move the message back.
        let late = try await store.store(delivery([], statuses: [status("delivered", 2), status("read", 3)]))
        #expect(late.statusesRecorded == 1 && late.statusChanges.isEmpty)
        #expect(try await current() == "read")
        _ = try await store.store(delivery([], statuses: [status("failed", 4, code: 131026)]))
        _ = try await store.store(delivery([], statuses: [status("played", 5)]))
        #expect(try await current() == "failed")
        #expect(try await pool.query("SELECT error_code FROM switchboard.messages WHERE wamid = 'out.1'").first?.decode(0, as: Int.self) == 131026)
        let history = try await pool.query("SELECT status FROM switchboard.message_statuses WHERE wamid = 'out.1' ORDER BY id").map { try $0.decode(0, as: String.self) }
        #expect(history == ["read", "delivered", "failed", "played"])
        // A status for a message Switchboard did not send is recorded and changes nothing else.
        let foreign = IncomingStatus(wamid: "not-ours", status: "sent", occurredAt: nil)
        #expect(try await store.store(delivery([], statuses: [foreign])).statusesRecorded == 1)
    }
}

extension WebhookIngestStoreTests {
    @Test func identifiersHeldByTwoRecordsAreNotMergedAndNothingFails() async throws {
        let pool = try await migratedPool("ingest_two_records")
        let store = WebhookIngestStore(pool: pool, reopenWithin: 0)
        let byPhone = IncomingMessage(wamid: "p1", businessNumberID: "1", customerWaID: "16505551234", type: "text", body: "a")
        let byUser = IncomingMessage(wamid: "p2", businessNumberID: "1", customerWaID: "972987654321", customerUserID: "US.7", type: "text", body: "b")
        // Names the phone of the first record and the user id of the second.
        let both = IncomingMessage(wamid: "p3", businessNumberID: "1", customerWaID: "16505551234", customerUserID: "US.7", type: "text", body: "c")
        _ = try await store.store(delivery([byPhone]))
        _ = try await store.store(delivery([byUser]))
        let third = try await store.store(delivery([both]))
        #expect(third.stored.count == 1)
        let rows = try await pool.query("SELECT wa_id, user_id FROM switchboard.customers ORDER BY id")
        #expect(try rows.map { try $0.decode(1, as: String?.self) } == [nil, "US.7"])
    }
}

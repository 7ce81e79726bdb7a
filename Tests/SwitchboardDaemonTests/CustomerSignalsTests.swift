import Foundation
import HummingbirdTesting
import JSON
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport

/// Blue ticks when the ticket's agent opens it, "typing…" while they write: status updates sent
/// to the Graph API stand-in as Meta documents them, once, and never by someone merely looking.
@Suite("Read receipts and typing indicators")
struct CustomerSignalsTests {
    /// The stand-in's read receipts for `wamid`, waited for (they go out in the background; a
    /// deadline of half a minute for a loaded machine, not a measure of speed).
    static func receipts(_ standIn: GraphAPIStandIn, for wamid: String, atLeast count: Int) async throws -> [JSONValue] {
        for _ in 0..<3000 {
            let found = standIn.received.filter { $0.body["status"]?.string == "read" && $0.body["message_id"]?.string == wamid }.map(\.body)
            if found.count >= count { return found }
            try await Task.sleep(for: .milliseconds(10))
        }
        return standIn.received.filter { $0.body["message_id"]?.string == wamid }.map(\.body)
    }

    @Test func theAgentOpeningTheTicketMarksTheLastMessageReadOnceAndASupervisorLookingDoesNot() async throws {
        let standIn = try await GraphAPIStandIn.start()
        defer { standIn.stop() }
        let harness = try await APIHarness.start("signals_read", configuration: AgentAPITests.configuration(), graph: standIn)
        defer { harness.stop() }
        _ = try await harness.routing.customerWrites("447700900951", "Hello", wamid: "wamid.first")
        let ticket = try await harness.routing.customerWrites("447700900951", "Are you there?", wamid: "wamid.second")
        let reference = try await harness.reference(ticket)
        #expect(try await harness.routing.assignee(ticket) == "ana")
        let ana = try await harness.token("ana"), sam = try await harness.token("sam")
        try await harness.application().test(.router) { client async throws in
            // Sam supervises the queue and reads the ticket: the customer sees nothing of it.
            #expect(try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(reference)", token: sam).status == 200)
            // Ana opens it twice: one read receipt, for the last message (which covers the first).
            #expect(try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(reference)", token: ana).status == 200)
            let receipts = try await Self.receipts(standIn, for: "wamid.second", atLeast: 1)
            #expect(receipts == [["messaging_product": "whatsapp", "status": "read", "message_id": "wamid.second"]])
            // Recorded once Meta answered (the receipt covers the earlier message too).
            var marked = 0
            for _ in 0..<3000 where marked < 2 {
                marked = try await harness.routing.pool.query("SELECT count(*)::int FROM switchboard.messages WHERE ticket_id = $1 AND read_receipt_sent_at IS NOT NULL",
                                                              [ticket]).first?.decode(0, as: Int.self) ?? 0
                if marked < 2 { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(marked == 2)
            #expect(try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(reference)", token: ana).status == 200)
        }
        // Every request the stand-in saw: Sam's look sent none, Ana's second open none.
        #expect(standIn.received.filter { $0.body["status"]?.string == "read" }.count == 1)
    }

    @Test func typingShowsAtMostOncePerTwentySecondsPerTicketAndNeverOutsideTheWindow() async throws {
        let standIn = try await GraphAPIStandIn.start()
        defer { standIn.stop() }
        let harness = try await APIHarness.start("signals_typing", configuration: AgentAPITests.configuration(), graph: standIn)
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900952", "My parcel?", wamid: "wamid.parcel")
        let reference = try await harness.reference(ticket)
        let ana = try await harness.token("ana"), ben = try await harness.token("ben")
        try await harness.application().test(.router) { client async throws in
            let path = "/api/v1/tickets/\(reference)/typing"
            let first = try await harness.call(client, .post, "/api/v1/tickets/{ref}/typing", path, token: ana)
            #expect(first.status == 202 && first.body?["typing"]?.bool == true)
            // Every keystroke may report; the indicator still showing is not sent again.
            for _ in 0..<5 {
                let again = try await harness.call(client, .post, "/api/v1/tickets/{ref}/typing", path, token: ana)
                #expect(again.status == 200 && again.body?["reason"]?.string == "already_showing" && again.body?["next_at"] == first.body?["next_at"])
            }
            let sent = try await Self.receipts(standIn, for: "wamid.parcel", atLeast: 1)
            #expect(sent == [["messaging_product": "whatsapp", "status": "read", "message_id": "wamid.parcel", "typing_indicator": ["type": "text"]]])
            // Ben is not the ticket's agent: for him it does not exist.
            let benTyping = try await harness.call(client, .post, "/api/v1/tickets/{ref}/typing", path, token: ben)
            #expect(benTyping.status == 404, "\(benTyping)")
        }
        // Past the customer service window there is nothing to show typing to.
        try await harness.routing.pool.query("UPDATE switchboard.tickets SET customer_window_expires_at = $2 WHERE id = $1",
                                             [ticket, harness.routing.timers.now.addingTimeInterval(-60)])
        try await harness.application().test(.router) { client async throws in
            let closed = try await harness.call(client, .post, "/api/v1/tickets/{ref}/typing", "/api/v1/tickets/\(reference)/typing", token: ana)
            #expect(closed.status == 200 && closed.body?["typing"]?.bool == false && closed.body?["reason"]?.string == "customer_window_closed", "\(closed)")
        }
        #expect(standIn.received.filter { $0.body["typing_indicator"] != nil }.count == 1)
    }
}

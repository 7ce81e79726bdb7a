import Foundation
import HummingbirdTesting
import JSON
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport

/// The event stream carries each message as the ticket shows it, so a client draws it (and what it
/// changes) without reading the ticket again.
@Suite("Message views in the event stream")
struct MessageEventsTests {
    struct NotStored: Error {}

    /// The `data:` objects of a stream's message events, in order.
    static func messageEvents(_ stream: EventStreamClient) -> [JSONValue] {
        stream.text.split(separator: "\n").filter { $0.hasPrefix("data: ") }
            .compactMap { try? JSONParser.parse(Array($0.dropFirst(6).utf8)) }.filter { $0["kind"]?.string == "message" }
    }

    @Test func aFileAReactionAndAReplyArriveWithTheirViews() async throws {
        let harness = try await APIHarness.start("events_messages", configuration: AgentAPITests.configuration())
        defer { harness.stop() }
        let routing = harness.routing
        @Sendable func arrives(_ type: String, _ body: String?, wamid: String, details: JSONValue = [:]) async throws -> Int64 {
            let message = IncomingMessage(wamid: wamid, businessNumberID: "106540352242922", customerWaID: "447700900961", customerName: "Noor", type: type,
                                          body: body, detailsJSON: details.jsonText, payloadJSON: #"{"id": "\#(wamid)"}"#)
            let stored = try await routing.ingest.store([IncomingDelivery(body: Array("{}".utf8), messages: [message], statuses: [], decodeProblem: nil,
                                                                          receivedAt: routing.timers.now)]).flatMap(\.stored)
            await routing.router.committed(stored)
            await routing.router.settle()
            guard let ticket = stored.first?.ticketID else { throw NotStored() }
            return ticket
        }
        let ana = try await harness.token("ana")
        try await harness.application().test(.live) { client async throws in
            let port = try #require(client.port)
            let stream = try EventStreamClient(port: port, path: "/api/v1/events", headers: ["Authorization": "Bearer \(ana)"])
            #expect(await stream.waitFor("retry: 3000"))
            for _ in 0..<200 where harness.log.followerCount < 1 { try await Task.sleep(for: .milliseconds(10)) }

            let ticket = try await arrives("text", "Hello", wamid: "wamid.ev-1")
            #expect(try await routing.assignee(ticket) == "ana")
            let reference = try await harness.reference(ticket)
            _ = try await arrives("image", "The crack", wamid: "wamid.ev-2",
                                  details: ["media": ["id": "55501", "mime_type": "image/jpeg", "voice": false, "animated": false]])
            _ = try await arrives("reaction", "😢", wamid: "wamid.ev-3", details: ["reaction": ["message_id": "wamid.ev-2", "emoji": "😢", "removed": false]])
            let card: JSONValue = ["name": ["formatted_name": "Lucía Gómez"], "phones": [["phone": "+1 (983) 555-2319", "wa_id": "19835552319", "type": "MOBILE"]]]
            _ = try await arrives("contacts", "Lucía Gómez", wamid: "wamid.ev-4", details: ["contacts": [card]])
            let reply = try await harness.call(client, .post, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(reference)/messages", token: ana,
                                               body: ["type": "text", "text": "Sorry to see that"])
            #expect(reply.status == 202)
            #expect(await stream.waitFor("Sorry to see that"))

            let events = Self.messageEvents(stream)
            // Each is checked against the document's Event schema, its message against Message.
            for event in events {
                for problem in harness.document.problems(of: event, against: ["$ref": "#/components/schemas/Event"]) { Issue.record("\(problem)") }
            }
            let photo = try #require(events.first { $0["message"]?["type"]?.string == "image" }?["message"])
            #expect(photo["body"]?.string == "The crack" && photo["media"]?["state"]?.string == "pending" && photo["media"]?["mime_type"]?.string == "image/jpeg")
            #expect(photo["media"]?["url"]?.string?.hasPrefix("/api/v1/media/") == true)
            let reaction = try #require(events.first { $0["message"]?["type"]?.string == "reaction" })
            #expect(reaction["message"]?["applies_to"] == photo["id"])
            #expect(reaction["changed_message"]?["id"] == photo["id"] && reaction["changed_message"]?["customer_reaction"]?["emoji"]?.string == "😢")
            let shared = try #require(events.first { $0["message"]?["type"]?.string == "contacts" }?["message"])
            #expect(shared["contacts"] == [card] && shared["body"]?.string == "Lucía Gómez")
            #expect(photo["contacts"] == .null)
            let sent = try #require(events.first { $0["message"]?["direction"]?.string == "outbound" })
            #expect(sent["message"]?["sent_by"]?.string == "ana" && sent["message"]?["status"]?.string == "queued" && sent["ticket"]?.string == reference)
            // The stream ends (as at shutdown), so the server stops without waiting for it.
            harness.log.close()
        }
    }
}

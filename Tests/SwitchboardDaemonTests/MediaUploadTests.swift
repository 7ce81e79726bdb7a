import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import NIOCore
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport
import WhatsApp

/// Agents' files: `POST /api/v1/media` checks them against WhatsApp's limits, keeps them, uploads
/// them to the Graph API stand-in, and a reply then carries them; the ticket shows them like the
/// customer's.
@Suite("Media: agents upload files and replies carry them")
struct MediaUploadTests {
    static var configuration: RoutingConfiguration { MediaFetchTests.configuration }

    /// Uploads `bytes` and checks the answer against the OpenAPI document.
    static func upload(_ harness: APIHarness, _ client: some TestClientProtocol, _ query: String, token: String?, type: String?, bytes: [UInt8],
                       sourceLocation: SourceLocation = #_sourceLocation) async throws -> (status: Int, body: JSONValue?) {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let type { headers[.contentType] = type }
        let response = try await client.execute(uri: "/api/v1/media?\(query)", method: .post, headers: headers, body: ByteBuffer(bytes: bytes))
        let json = try? JSONParser.parse(Array(buffer: response.body))
        for problem in harness.document.problems(method: "POST", path: "/api/v1/media", status: Int(response.status.code), body: json) {
            Issue.record("\(problem)", sourceLocation: sourceLocation)
        }
        return (Int(response.status.code), json)
    }

    static func files(_ harness: APIHarness) async throws -> Int {
        try #require(try await harness.routing.pool.query("SELECT count(*)::int FROM switchboard.media WHERE direction = 'outbound'").first?.decode(0, as: Int.self))
    }

    @Test func anAgentsPhotoIsUploadedKeptSentOnceAndShownOnTheTicket() async throws {
        let standIn = try await GraphAPIStandIn.start()
        defer { standIn.stop() }
        let harness = try await APIHarness.start("media_upload", configuration: Self.configuration, graph: standIn)
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900901", "Which cable do I need?")
        let reference = try await harness.reference(ticket)
        let ana = try await harness.token("ana")
        // Five chunks and a bit: the upload to Meta streams them back in order.
        let photo = MediaFetchTests.bytes(5 * MediaStore.chunkSize + 777, seed: 9)
        try await harness.application().test(.router) { client async throws in
            let uploaded = try await Self.upload(harness, client, "ticket=\(reference)&filename=cable.png", token: ana, type: "image/png", bytes: photo)
            #expect(uploaded.status == 201, "\(uploaded.body.map(JSONWriter.write) ?? "")")
            let id = try #require(uploaded.body?["id"]?.number.flatMap { Int64(exactly: $0) })
            #expect(uploaded.body?["kind"]?.string == "image" && uploaded.body?["size"]?.number == Double(photo.count))
            #expect(uploaded.body?["sha256"]?.string == SHA256Hasher.hex(photo))
            #expect(uploaded.body?["url"]?.string == "/api/v1/media/\(id)")

            // Meta got the same bytes, as a form, for the ticket's business number.
            let sent = try #require(standIn.uploads.first)
            #expect(standIn.uploads.count == 1)
            #expect(sent.bytes == photo && sent.type == "image/png" && sent.fileName == "cable.png" && sent.phoneNumberID == "106540352242922")

            // Kept like a customer's file: the agent downloads it back.
            let back = try await client.execute(uri: "/api/v1/media/\(id)", method: .get, headers: [.authorization: "Bearer \(ana)"])
            #expect(back.status == .ok && Array(buffer: back.body) == photo)

            let reply = try await harness.call(client, .post, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(reference)/messages", token: ana,
                                               body: ["type": "media", "media": .number(Double(id)), "caption": "This one"])
            #expect(reply.status == 202, "\(reply.body.map(JSONWriter.write) ?? "")")
            // The send carries Meta's id for the file and the caption.
            let request = try #require(try await harness.routing.pool.query("SELECT request::text FROM switchboard.outbox WHERE ticket_id = $1", [ticket])
                .first?.decode(0, as: String.self))
            let body = try JSONParser.parse(Array(request.utf8))
            #expect(body["type"]?.string == "image" && body["image"]?["id"]?.string == sent.id && body["image"]?["caption"]?.string == "This one")

            // The ticket shows the agent's photo as it shows a customer's.
            let shown = try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(reference)", token: ana)
            let message = try #require(shown.body?["messages"]?.array.last)
            #expect(message["direction"]?.string == "outbound" && message["type"]?.string == "image" && message["body"]?.string == "This one")
            #expect(message["media"]?["id"]?.number == Double(id) && message["media"]?["state"]?.string == "stored")
            #expect(message["media"]?["url"]?.string == "/api/v1/media/\(id)" && message["media"]?["file_name"]?.string == "cable.png")
            #expect(message["sent_by"]?.string == "ana" && shown.body?["messages"]?.array.first?["sent_by"] == .null)

            // The shop owner adds a word from the WhatsApp Business app: on the ticket, by the app.
            try await harness.routing.businessAppSends("447700900901", "Ana is right, that one fits.")
            let echoed = try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(reference)", token: ana)
            let echo = try #require(echoed.body?["messages"]?.array.last)
            #expect(echo["direction"]?.string == "outbound" && echo["sent_by"]?.string == "business_app" && echo["body"]?.string == "Ana is right, that one fits.")
            #expect(echoed.body?["events"]?.array.last?["kind"]?.string == "message_echoed")

            // A file goes out once: the second reply with it is refused and writes nothing.
            let again = try await harness.call(client, .post, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(reference)/messages", token: ana,
                                               body: ["type": "media", "media": .number(Double(id))])
            #expect(again.status == 409 && again.body?["error"]?["code"]?.string == "media_already_sent")
            let outbound = try await harness.routing.pool.query("SELECT count(*)::int FROM switchboard.messages WHERE ticket_id = $1 AND outbound_id IS NOT NULL",
                                                                [ticket]).first?.decode(0, as: Int.self)
            #expect(outbound == 1)
        }
    }

    @Test func aFileWhatsAppWouldRefuseIsRefusedBeforeAnythingIsSentAndLeavesNothing() async throws {
        let standIn = try await GraphAPIStandIn.start()
        defer { standIn.stop() }
        let harness = try await APIHarness.start("media_upload_refused", configuration: Self.configuration, graph: standIn)
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900902", "Hello")
        let other = try await harness.routing.customerWrites("447700900903", "What is the price?")
        let reference = try await harness.reference(ticket), otherReference = try await harness.reference(other)
        let ana = try await harness.token("ana"), cai = try await harness.token("cai")
        let small = MediaFetchTests.bytes(1000, seed: 3)
        try await harness.application().test(.router) { client async throws in
            func refused(_ query: String, token: String? = nil, type: String?, bytes: [UInt8] = small) async throws -> (Int, String?, String?) {
                let answer = try await Self.upload(harness, client, query, token: token ?? ana, type: type, bytes: bytes)
                return (answer.status, answer.body?["error"]?["code"]?.string, answer.body?["error"]?["message"]?.string)
            }
            let gif = try await refused("ticket=\(reference)", type: "image/gif")
            #expect(gif.0 == 415 && gif.1 == "unsupported_media_type")
            #expect(gif.2?.contains("image/gif") == true && gif.2?.contains("image/jpeg") == true)
            #expect(try await refused("ticket=\(reference)", type: nil).0 == 415)
            // Over Meta's 5 MB for images (refused by its Content-Length before a byte is kept).
            let large = try await refused("ticket=\(reference)", type: "image/jpeg", bytes: MediaFetchTests.bytes(5 * 1024 * 1024 + 1, seed: 4))
            #expect(large.0 == 413 && large.1 == "too_large" && large.2?.contains("5 MB") == true)
            let empty = try await refused("ticket=\(reference)", type: "application/pdf", bytes: [])
            #expect(empty.0 == 400 && empty.2?.contains("empty") == true)
            #expect(try await refused("", type: "image/png").1 == "invalid")
            let path = try await refused("ticket=\(reference)&filename=..%2Fetc%2Fpasswd", type: "application/pdf")
            #expect(path.0 == 400 && path.2?.hasPrefix("filename:") == true)
            #expect(try await refused("ticket=\(reference)&colour=red", type: "image/png").0 == 400)
            // Another team's ticket does not exist for Ana; her upload to it is 404.
            #expect(try await refused("ticket=\(otherReference)", type: "image/png").0 == 404)
            #expect(try await refused("ticket=\(reference)", token: cai, type: "image/png").0 == 404)
            #expect(standIn.uploads.isEmpty)
            #expect(try await Self.files(harness) == 0)

            // Meta refusing the token: the agent hears sending is paused; nothing is kept.
            standIn.expireToken()
            let paused = try await refused("ticket=\(reference)", type: "image/png")
            #expect(paused.0 == 503 && paused.1 == "sending_paused")
            #expect(try await Self.files(harness) == 0)
            standIn.renewToken()

            // A file uploaded for one ticket cannot go out on another.
            let forCai = try await Self.upload(harness, client, "ticket=\(otherReference)", token: cai, type: "application/pdf", bytes: small)
            #expect(forCai.status == 201)
            let id = try #require(forCai.body?["id"]?.number)
            let elsewhere = try await harness.call(client, .post, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(reference)/messages", token: ana,
                                                   body: ["type": "media", "media": .number(id)])
            #expect(elsewhere.status == 400 && elsewhere.body?["error"]?["field"]?.string == "media")
            // Ana may not see Cai's ticket, nor its file.
            let hidden = try await client.execute(uri: "/api/v1/media/\(Int64(id))", method: .get, headers: [.authorization: "Bearer \(ana)"])
            #expect(hidden.status == .notFound)
            let unnamed = try #require(forCai.body?["file_name"]?.string)
            #expect(unnamed == "document-\(Int64(id)).pdf")
            // Sent without a name, it goes out, and shows on the ticket, under the one it was given.
            let caiReply = try await harness.call(client, .post, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(otherReference)/messages", token: cai,
                                                  body: ["type": "media", "media": .number(id)])
            #expect(caiReply.status == 202)
            let request = try #require(try await harness.routing.pool.query("SELECT request::text FROM switchboard.outbox WHERE ticket_id = $1", [other])
                .first?.decode(0, as: String.self))
            #expect(try JSONParser.parse(Array(request.utf8))["document"]?["filename"]?.string == unnamed)
            let caiView = try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(otherReference)", token: cai)
            #expect(caiView.body?["messages"]?.array.last?["media"]?["file_name"]?.string == unnamed)
        }
        // Nothing went out on Ana's ticket: only Cai's document, on his.
        let outbound = try await harness.routing.pool.query("SELECT ticket_id FROM switchboard.messages WHERE direction = 'outbound'").map { try $0.decode(0, as: Int64.self) }
        #expect(outbound == [other])
    }
}

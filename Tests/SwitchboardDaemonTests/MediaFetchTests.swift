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

/// Customers' files fetched from the Graph API stand-in into PostgreSQL and served by the API, byte
/// for byte, to whoever may see the ticket.
@Suite("Media: fetched from the Graph API, stored in chunks, served with ranges to who may see them")
struct MediaFetchTests {
    static let ana = AgentDefinition(id: "ana", name: "Ana", teams: ["care"], capacity: 5, queues: ["support"])
    static let cai = AgentDefinition(id: "cai", name: "Cai", teams: ["sales"], capacity: 5, queues: ["sales"])
    static var configuration: RoutingConfiguration {
        .testing(agents: [ana, cai], extraQueues: [QueueDefinition(name: "sales")],
                 rules: [RoutingRule(name: "sales", conditions: .init(keywords: ["price"]), actions: .init(queue: "sales")),
                         RoutingRule(name: "all", actions: .init(queue: "support"))])
    }

    /// Bytes that are not all alike, so a chunk out of place would show.
    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &+ ($0 >> 9)) }
    }

    static func base64SHA256(_ bytes: [UInt8]) -> String {
        Data(MediaDigest.decode(SHA256Hasher.hex(bytes)) ?? []).base64EncodedString()
    }

    static func fetcher(_ harness: APIHarness, _ standIn: GraphAPIStandIn) -> MediaFetchService {
        let client = GraphAPIClient(configuration: .init(baseURL: standIn.baseURL, version: "v24.0", accessToken: standIn.accessToken, timeout: .seconds(10)),
                                    httpClient: .shared)
        return MediaFetchService(store: MediaStore(pool: harness.routing.pool), client: client, logger: TestDatabase.quietLogger)
    }

    static func state(_ harness: APIHarness, _ media: Int64) async throws -> (state: String, failure: String?) {
        let row = try #require(try await harness.routing.pool.query("SELECT state, failure FROM switchboard.media WHERE id = $1", [media]).first)
        return (try row.decode(0), try row.decode(1))
    }

    @Test func filesAreFetchedAndServedByteIdenticalWithRangesToWhoMaySeeThem() async throws {
        let harness = try await APIHarness.start("media_serve", configuration: Self.configuration)
        defer { harness.stop() }
        let standIn = try await GraphAPIStandIn.start()
        defer { standIn.stop() }
        // A photo (three chunks and a bit), and a PDF with a name that is not ASCII.
        let photo = Self.bytes(3 * MediaStore.chunkSize + 12_345, seed: 1), pdf = Self.bytes(40_000, seed: 2)
        standIn.addMedia("1001", bytes: photo, mimeType: "image/jpeg")
        standIn.addMedia("1002", bytes: pdf, mimeType: "application/pdf")
        let photoTicket = try await harness.routing.customerSendsFile("447700900801", kind: "image", mediaID: "1001", mimeType: "image/jpeg",
                                                                      sha256: Self.base64SHA256(photo), caption: "The box arrived broken")
        let pdfTicket = try await harness.routing.customerSendsFile("447700900802", kind: "document", mediaID: "1002", mimeType: "application/pdf",
                                                                    sha256: Self.base64SHA256(pdf), fileName: "Factura nº 7 — März.pdf")
        let photoID = try #require(try await harness.routing.mediaID(ofTicket: photoTicket))
        let pdfID = try #require(try await harness.routing.mediaID(ofTicket: pdfTicket))
        let ana = try await harness.token("ana"), cai = try await harness.token("cai")
        try await harness.application().test(.router) { client async throws in
            // Recorded with the message, not fetched yet.
            let early = try await client.execute(uri: "/api/v1/media/\(photoID)", method: .get, headers: [.authorization: "Bearer \(ana)"])
            #expect(early.status == .conflict)
            #expect(String(buffer: early.body).contains("media_pending"))

            #expect(try await Self.fetcher(harness, standIn).fetchDue() == 2)
            #expect(try await Self.state(harness, photoID).state == "stored")

            let whole = try await client.execute(uri: "/api/v1/media/\(photoID)", method: .get, headers: [.authorization: "Bearer \(ana)"])
            #expect(whole.status == .ok)
            #expect(Array(buffer: whole.body) == photo)
            #expect(whole.headers[.contentType] == "image/jpeg")
            #expect(whole.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(whole.headers[HTTPField.Name("Content-Disposition")!]?.hasPrefix("inline") == true)
            let tag = try #require(whole.headers[HTTPField.Name("ETag")!])
            #expect(tag == "\"\(SHA256Hasher.hex(photo))\"")

            // A range across a chunk boundary, and one from the end.
            let first = MediaStore.chunkSize - 100
            let part = try await client.execute(uri: "/api/v1/media/\(photoID)", method: .get,
                                                headers: [.authorization: "Bearer \(ana)", HTTPField.Name("Range")!: "bytes=\(first)-\(first + 299)"])
            #expect(part.status == .partialContent)
            #expect(Array(buffer: part.body) == Array(photo[first..<(first + 300)]))
            #expect(part.headers[HTTPField.Name("Content-Range")!] == "bytes \(first)-\(first + 299)/\(photo.count)")
            let tail = try await client.execute(uri: "/api/v1/media/\(photoID)", method: .get,
                                                headers: [.authorization: "Bearer \(ana)", HTTPField.Name("Range")!: "bytes=-10"])
            #expect(Array(buffer: tail.body) == Array(photo.suffix(10)))
            let beyond = try await client.execute(uri: "/api/v1/media/\(photoID)", method: .get,
                                                  headers: [.authorization: "Bearer \(ana)", HTTPField.Name("Range")!: "bytes=\(photo.count)-"])
            #expect(beyond.status == .rangeNotSatisfiable)
            #expect(beyond.headers[HTTPField.Name("Content-Range")!] == "bytes */\(photo.count)")
            let cached = try await client.execute(uri: "/api/v1/media/\(photoID)", method: .get,
                                                  headers: [.authorization: "Bearer \(ana)", HTTPField.Name("If-None-Match")!: tag])
            #expect(cached.status == .notModified)

            // A document downloads, under its own name.
            let document = try await client.execute(uri: "/api/v1/media/\(pdfID)", method: .get, headers: [.authorization: "Bearer \(ana)"])
            #expect(Array(buffer: document.body) == pdf)
            #expect(document.headers[HTTPField.Name("Content-Disposition")!]
                == "attachment; filename=\"Factura n_ 7 _ M_rz.pdf\"; filename*=UTF-8''Factura%20n%C2%BA%207%20%E2%80%94%20M%C3%A4rz.pdf")

            // The ticket says what each message carries (checked against the document by `call`).
            let photoRef = try await harness.reference(photoTicket), pdfRef = try await harness.reference(pdfTicket)
            let shown = try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(photoRef)", token: ana)
            let message = try #require(shown.body?["messages"]?.array.first)
            #expect(message["type"]?.string == "image" && message["body"]?.string == "The box arrived broken")
            #expect(message["media"]?["state"]?.string == "stored" && message["media"]?["size"]?.number == Double(photo.count))
            #expect(message["media"]?["url"]?.string == "/api/v1/media/\(photoID)" && message["media"]?["mime_type"]?.string == "image/jpeg")
            let listed = try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(pdfRef)", token: ana)
            #expect(listed.body?["messages"]?.array.first?["media"]?["file_name"]?.string == "Factura nº 7 — März.pdf")

            // An agent of another team may not know the files exist; nor may anyone without a token.
            for (token, expected) in [(cai, HTTPResponse.Status.notFound), (nil, .unauthorized)] as [(String?, HTTPResponse.Status)] {
                let refused = try await client.execute(uri: "/api/v1/media/\(photoID)", method: .get,
                                                       headers: token.map { [.authorization: "Bearer \($0)"] } ?? [:])
                #expect(refused.status == expected)
            }
            for id in ["999999", "abc", "0", "-1", "99999999999999999999"] {
                let unknown = try await client.execute(uri: "/api/v1/media/\(id)", method: .get, headers: [.authorization: "Bearer \(ana)"])
                #expect(unknown.status == .notFound, "\(id)")
                #expect(String(buffer: unknown.body).contains("no media \(id)"), "\(id)")
            }
        }
    }

    @Test func aFetchThatOutlivedItsLeaseWritesNothingOnceAnotherClaimedTheFile() async throws {
        let harness = try await APIHarness.start("media_lease", configuration: Self.configuration)
        defer { harness.stop() }
        let store = MediaStore(pool: harness.routing.pool)
        let id = try #require(try await harness.routing.mediaID(ofTicket: try await harness.routing.customerSendsFile(
            "447700900841", kind: "image", mediaID: "4001", mimeType: "image/png", sha256: nil)))
        let t0 = Date()
        let first = try #require(try await store.claimDue(limit: 4, lease: 60, now: t0).first)
        #expect(first.id == id && first.attempt == 1)
        #expect(try await store.claimDue(limit: 4, lease: 60, now: t0.addingTimeInterval(30)).isEmpty, "leased")
        // A chunk written renews the lease: still nobody else's at 61 s.
        #expect(try await store.appendChunk(id, attempt: 1, seq: 0, bytes: [1, 2, 3], leaseUntil: t0.addingTimeInterval(90)))
        #expect(try await store.claimDue(limit: 4, lease: 60, now: t0.addingTimeInterval(61)).isEmpty, "renewed")
        // The first fetch stalls past its renewed lease: a second claims the file.
        let second = try #require(try await store.claimDue(limit: 4, lease: 60, now: t0.addingTimeInterval(91)).first)
        #expect(second.id == id && second.attempt == 2)
        try await store.clearChunks(id)
        #expect(try await store.appendChunk(id, attempt: 2, seq: 0, bytes: [9], leaseUntil: t0.addingTimeInterval(151)))
        // The first writes nothing more, cannot mark the file stored, and cannot give back a lease not its own.
        #expect(try await store.appendChunk(id, attempt: 1, seq: 1, bytes: [4], leaseUntil: t0.addingTimeInterval(151)) == false)
        #expect(try await store.markStored(id, attempt: 1, size: 4, mimeType: nil, sha256Hex: "00", now: t0) == false)
        try await store.release(id, attempt: 1, at: t0)
        #expect(try await store.claimDue(limit: 4, lease: 60, now: t0.addingTimeInterval(100)).isEmpty, "still the second's")
        #expect(try await store.markStored(id, attempt: 2, size: 1, mimeType: nil, sha256Hex: "01", now: t0))
        let row = try #require(try await harness.routing.pool.query("""
            SELECT state, size_bytes, (SELECT array_agg(seq ORDER BY seq)::text FROM switchboard.media_chunks WHERE media_id = $1) FROM switchboard.media WHERE id = $1
            """, [id]).first)
        #expect(try row.decode(0, as: String.self) == "stored" && row.decode(1, as: Int64.self) == 1 && row.decode(2, as: String.self) == "{0}")
        #expect(try await store.chunks(id, 0...1) == [[9]])
    }

    @Test func aFilePastItsRetentionIsPurgedAndItsRecordStays() async throws {
        let harness = try await APIHarness.start("media_purge", configuration: Self.configuration)
        defer { harness.stop() }
        let standIn = try await GraphAPIStandIn.start()
        defer { standIn.stop() }
        let old = Self.bytes(MediaStore.chunkSize + 1, seed: 5), fresh = Self.bytes(100, seed: 6)
        standIn.addMedia("3001", bytes: old, mimeType: "video/mp4")
        standIn.addMedia("3002", bytes: fresh, mimeType: "image/webp")
        let oldID = try #require(try await harness.routing.mediaID(ofTicket: try await harness.routing.customerSendsFile(
            "447700900821", kind: "video", mediaID: "3001", mimeType: "video/mp4", sha256: nil)))
        #expect(try await Self.fetcher(harness, standIn).fetchDue() == 1)
        let freshID = try #require(try await harness.routing.mediaID(ofTicket: try await harness.routing.customerSendsFile(
            "447700900822", kind: "sticker", mediaID: "3002", mimeType: "image/webp", sha256: nil)))
        #expect(try await Self.fetcher(harness, standIn).fetchDue() == 1)
        // The first was stored 31 days before the purge runs; the second just before it.
        try await harness.routing.pool.query("UPDATE switchboard.media SET stored_at = now() - interval '31 days' WHERE id = $1", [oldID])
        await RetentionService([.media(MediaStore(pool: harness.routing.pool), days: 30)], logger: TestDatabase.quietLogger).purge()
        #expect(try await Self.state(harness, oldID).state == "purged")
        #expect(try await Self.state(harness, freshID).state == "stored")
        let chunks = try await harness.routing.pool.query("SELECT media_id, count(*)::int FROM switchboard.media_chunks GROUP BY media_id ORDER BY media_id")
            .map { "\(try $0.decode(0, as: Int64.self)):\(try $0.decode(1, as: Int.self))" }
        #expect(chunks == ["\(freshID):1"])
        let ana = try await harness.token("ana")
        try await harness.application().test(.router) { client async throws in
            let gone = try await client.execute(uri: "/api/v1/media/\(oldID)", method: .get, headers: [.authorization: "Bearer \(ana)"])
            #expect(gone.status == .conflict && String(buffer: gone.body).contains("media_purged"))
            let kept = try await client.execute(uri: "/api/v1/media/\(freshID)", method: .get, headers: [.authorization: "Bearer \(ana)"])
            #expect(Array(buffer: kept.body) == fresh)
        }
    }

    @Test func aFileThatIsNotWhatMetaSaysIsRecordedNotServedAndATokenProblemPausesEveryFetch() async throws {
        let harness = try await APIHarness.start("media_refused", configuration: Self.configuration)
        defer { harness.stop() }
        let standIn = try await GraphAPIStandIn.start()
        defer { standIn.stop() }
        let voice = Self.bytes(5_000, seed: 3)
        standIn.addMedia("2001", bytes: voice, mimeType: "audio/ogg", sha256: String(repeating: "ab", count: 32))
        let voiceTicket = try await harness.routing.customerSendsFile("447700900811", kind: "audio", mediaID: "2001", mimeType: "audio/ogg", sha256: nil)
        let voiceID = try #require(try await harness.routing.mediaID(ofTicket: voiceTicket))
        let fetcher = Self.fetcher(harness, standIn)
        #expect(try await fetcher.fetchDue() == 1)
        let failed = try await Self.state(harness, voiceID)
        #expect(failed.state == "failed")
        #expect(failed.failure == "the file's SHA-256 is not the one Meta gave")
        #expect(try await harness.routing.pool.query("SELECT count(*)::int FROM switchboard.media_chunks WHERE media_id = $1", [voiceID]).first?
            .decode(0, as: Int.self) == 0)
        let ana = try await harness.token("ana")
        try await harness.application().test(.router) { client async throws in
            let refused = try await client.execute(uri: "/api/v1/media/\(voiceID)", method: .get, headers: [.authorization: "Bearer \(ana)"])
            #expect(refused.status == .conflict)
            #expect(String(buffer: refused.body).contains("not the one Meta gave"))
        }

        // The token expires: the file waits, with every other, and nothing is given up.
        let photo = Self.bytes(1_000, seed: 4)
        standIn.addMedia("2002", bytes: photo, mimeType: "image/png")
        let photoID = try #require(try await harness.routing.mediaID(ofTicket: try await harness.routing.customerSendsFile(
            "447700900812", kind: "image", mediaID: "2002", mimeType: "image/png", sha256: Self.base64SHA256(photo))))
        standIn.expireToken()
        #expect(try await fetcher.fetchDue() == 1)
        let paused = try await Self.state(harness, photoID)
        #expect(paused.state == "pending")
        #expect(paused.failure?.contains("190") == true)
        #expect(try await fetcher.fetchDue() == 0, "paused: nothing is due")
        // Once the pause is over and the token renewed, it is fetched.
        standIn.renewToken()
        #expect(try await fetcher.fetchDue(now: Date().addingTimeInterval(301)) == 1)
        #expect(try await Self.state(harness, photoID).state == "stored")
    }
}

struct NotStored: Error {
    var wamid: String
}

/// Edits, revokes and reactions from webhooks, as the ticket shows them.
@Suite("A message's life: edits, revokes and reactions on the ticket")
struct MessageLifeTests {
    @Test func theTicketShowsTheLatestTextADeletionAndTheCustomersReaction() async throws {
        let harness = try await APIHarness.start("message_life", configuration: MediaFetchTests.configuration)
        defer { harness.stop() }
        let routing = harness.routing
        let customer = "447700900831"
        func arrives(_ type: String, _ body: String?, wamid: String, target: String? = nil, details: JSONValue = [:]) async throws -> Int64 {
            let message = IncomingMessage(wamid: wamid, businessNumberID: "106540352242922", customerWaID: customer, customerName: "Ivy", type: type, body: body,
                                          detailsJSON: details.jsonText, payloadJSON: #"{"id": "\#(wamid)"}"#, targetWamid: target)
            let stored = try await routing.ingest.store([IncomingDelivery(body: Array("{}".utf8), messages: [message], statuses: [], decodeProblem: nil,
                                                                          receivedAt: routing.timers.now)]).flatMap(\.stored)
            await routing.router.committed(stored)
            await routing.router.settle()
            guard let ticket = stored.first?.ticketID else { throw NotStored(wamid: wamid) }
            return ticket
        }
        let ticket = try await arrives("text", "My order is 1234", wamid: "wamid.life-1")
        _ = try await arrives("edit", "My order is 1243", wamid: "wamid.life-2", target: "wamid.life-1")
        _ = try await arrives("text", "Wrong chat, sorry", wamid: "wamid.life-3")
        _ = try await arrives("revoke", nil, wamid: "wamid.life-4", target: "wamid.life-3")
        _ = try await arrives("reaction", "👍", wamid: "wamid.life-5", details: ["reaction": ["message_id": "wamid.life-1", "emoji": "👍", "removed": false]])
        let reference = try await harness.reference(ticket)
        let token = try await harness.token("ana")
        try await harness.application().test(.router) { client async throws in
            let shown = try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(reference)", token: token)
            let messages = shown.body?["messages"]?.array ?? []
            #expect(messages.count == 5)
            let first = try #require(messages.first), third = messages[2]
            #expect(first["body"]?.string == "My order is 1243" && first["edited"]?.bool == true && first["customer_reaction"]?["emoji"]?.string == "👍")
            #expect(third["deleted"]?.bool == true && third["body"] == .null)
            #expect(messages[1]["applies_to"]?.number == first["id"]?.number && messages[3]["applies_to"]?.number == third["id"]?.number)
            #expect(messages[4]["applies_to"]?.number == first["id"]?.number)
        }
        // Resolved, then a 👍 to our last message: the ticket stays resolved and the reaction is on it;
        // a question after it reopens the ticket as before.
        #expect(try await routing.router.setStatus(ticket, to: .resolved, actor: "ana"))
        let thanks = try await arrives("reaction", "🙏", wamid: "wamid.life-6", details: ["reaction": ["message_id": "wamid.life-1", "emoji": "🙏", "removed": false]])
        #expect(thanks == ticket)
        #expect(try await routing.pool.query("SELECT status FROM switchboard.tickets WHERE id = $1", [ticket]).first?.decode(0, as: String.self) == "resolved")
        try await harness.application().test(.router) { client async throws in
            let shown = try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(reference)", token: token)
            #expect(shown.body?["messages"]?.array.first?["customer_reaction"]?["emoji"]?.string == "🙏")
        }
        #expect(try await arrives("text", "One more thing", wamid: "wamid.life-7") == ticket)
        #expect(try await routing.pool.query("SELECT status FROM switchboard.tickets WHERE id = $1", [ticket]).first?.decode(0, as: String.self) == "open")
        // The history keeps every version.
        let bodies = try await routing.pool.query("SELECT body FROM switchboard.messages WHERE ticket_id = $1 ORDER BY id", [ticket]).map { try $0.decode(0, as: String?.self) }
        #expect(bodies == ["My order is 1234", "My order is 1243", "Wrong chat, sorry", nil, "👍", "🙏", "One more thing"])
    }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import JSON
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport

/// The agents' HTTP API in process: every endpoint for every role, taking, replies within
/// WhatsApp's window, pagination, presence kept alive by the client. Every response is checked
/// against `docs/openapi.json`.
@Suite("Agents' API: permissions, tickets, replies, presence")
struct AgentAPITests {
    static let ana = AgentDefinition(id: "ana", name: "Ana", teams: ["care"], capacity: 1, queues: ["support"])
    static let ben = AgentDefinition(id: "ben", name: "Ben", teams: ["care"], capacity: 2, queues: ["support"])
    static let sam = AgentDefinition(id: "sam", name: "Sam", role: .supervisor, teams: ["care"], capacity: 5, queues: ["supervisors"])
    static let ada = AgentDefinition(id: "ada", name: "Ada", role: .admin, teams: ["ops"], capacity: 5, queues: ["supervisors"])

    static func configuration() -> RoutingConfiguration {
        .testing(agents: [ana, ben, sam, ada], presence: ["ana": .online, "ben": .offline, "sam": .offline, "ada": .offline],
                 extraQueues: [QueueDefinition(name: "supervisors")])
    }

    /// The document the tests check responses against is itself a valid OpenAPI 3.1 document (the
    /// reference validator, pip package openapi-spec-validator), so tools that read it can trust it.
    @Test func theOpenAPIDocumentIsValid() async throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.json").path
        let script = "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))\nprint('valid')"
        let result = try await runCommand("/usr/bin/env", ["python3", "-c", script, path])
        #expect(result.status == 0 && result.output.contains("valid"), "python3 with openapi-spec-validator: \(result.output)")
    }

    @Test func everyEndpointForEveryRoleAndATicketOutOfScopeIsInvisible() async throws {
        let harness = try await APIHarness.start("api_matrix", configuration: Self.configuration())
        defer { harness.stop() }
        let t1 = try await harness.routing.customerWrites("447700900301", "Hello")
        let t2 = try await harness.routing.customerWrites("447700900302", "Hello too")
        #expect(try await harness.routing.assignee(t1) == "ana")
        #expect(try await harness.routing.assignee(t2) == nil)
        let (r1, r2) = (try await harness.reference(t1), try await harness.reference(t2))
        var issued: [String?] = [nil]
        for agent in ["ben", "ana", "sam", "ada"] { issued.append(try await harness.token(agent)) }
        let tokens = issued
        let revoked = try await harness.token("ana")
        let revokedID = try #require(try await harness.store.tokens.list(agentID: "ana").first?.id)
        _ = try await harness.store.tokens.revoke(revokedID, by: "test", now: Date())

        let text: JSONValue = ["type": "text", "text": "We are on it"]
        let thanks = try await harness.store.cannedResponses.add(shortcut: "thanks", title: "Thanks", body: "Thanks, {{customer.name|there}}!", scope: .everyone,
                                                                 by: "test", now: Date())
        let canned: JSONValue = ["type": "canned", "canned": .number(Double(thanks.id))]
        // Each row for: no token, agent Ben (T-2 waits in his queue), agent Ana (holds T-1, full),
        // supervisor Sam (their team's queue), admin Ada. In order: some rows change what follows.
        let rows: [(HTTPRequest.Method, String, String, JSONValue?, [Int])] = [
            (.get, "/api/v1/me", "/api/v1/me", nil, [401, 200, 200, 200, 200]),
            (.post, "/api/v1/me/heartbeat", "/api/v1/me/heartbeat", nil, [401, 204, 204, 204, 204]),
            (.get, "/api/v1/queues", "/api/v1/queues", nil, [401, 200, 200, 200, 200]),
            (.get, "/api/v1/tickets", "/api/v1/tickets", nil, [401, 200, 200, 200, 200]),
            (.get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(r1)", nil, [401, 404, 200, 200, 200]),
            (.get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(r2)", nil, [401, 200, 200, 200, 200]),
            (.get, "/api/v1/tickets/{ref}", "/api/v1/tickets/T-999999", nil, [401, 404, 404, 404, 404]),
            (.post, "/api/v1/tickets/{ref}/notes", "/api/v1/tickets/\(r1)/notes", ["text": "Checked the order"], [401, 404, 201, 201, 201]),
            (.post, "/api/v1/tickets/{ref}/notes", "/api/v1/tickets/\(r2)/notes", ["text": "Looks urgent"], [401, 201, 201, 201, 201]),
            (.post, "/api/v1/tickets/{ref}/tags", "/api/v1/tickets/\(r2)/tags", ["tag": "vip"], [401, 403, 403, 200, 200]),
            (.post, "/api/v1/tickets/{ref}/priority", "/api/v1/tickets/\(r1)/priority", ["priority": "high"], [401, 404, 403, 200, 200]),
            (.post, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(r1)/messages", text, [401, 404, 202, 202, 202]),
            (.post, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(r1)/messages", canned, [401, 404, 202, 202, 202]),
            (.get, "/api/v1/canned-responses", "/api/v1/canned-responses", nil, [401, 200, 200, 200, 200]),
            (.get, "/api/v1/canned-responses", "/api/v1/canned-responses?ticket=\(r1)", nil, [401, 404, 200, 200, 200]),
            // A customer's tags take what the ticket's own tags take.
            (.post, "/api/v1/tickets/{ref}/customer/tags", "/api/v1/tickets/\(r2)/customer/tags", ["tag": "vip"], [401, 403, 403, 200, 200]),
            (.delete, "/api/v1/tickets/{ref}/customer/tags/{tag}", "/api/v1/tickets/\(r1)/customer/tags/vip", nil, [401, 404, 200, 200, 200]),
            (.post, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(r2)/messages", text, [401, 403, 403, 202, 202]),
            (.post, "/api/v1/tickets/{ref}/status", "/api/v1/tickets/\(r1)/status", ["status": "pending"], [401, 404, 200, 200, 200]),
            // Ben serves the queue T-1 waited in: he is told it is taken (409 already_assigned), not that it does not exist.
            (.post, "/api/v1/tickets/{ref}/take", "/api/v1/tickets/\(r1)/take", nil, [401, 409, 200, 409, 409]),
            (.post, "/api/v1/tickets/{ref}/assign", "/api/v1/tickets/\(r2)/assign", ["agent": "ben"], [401, 403, 403, 200, 200]),
            // T-2 is Ben's now: Ana may no longer know of it.
            (.get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(r2)", nil, [401, 200, 404, 200, 200]),
            (.put, "/api/v1/me/presence", "/api/v1/me/presence", ["presence": "away"], [401, 200, 200, 200, 200]),
        ]
        try await harness.application().test(.router) { client async throws in
            for (method, documented, path, body, expected) in rows {
                var seen: [Int] = []
                for token in tokens { seen.append(try await harness.call(client, method, documented, path, token: token, body: body).status) }
                #expect(seen == expected, "\(method) \(path)")
            }
            #expect(try await harness.call(client, .get, "/api/v1/me", "/api/v1/me", token: revoked).status == 401)
            #expect(try await harness.call(client, .get, "/api/v1/me", "/api/v1/me", token: "sbt_not-a-token").status == 401)

            // What each may list: Ben his ticket (T-2 is his now), Ana hers, Sam both.
            func listed(_ token: String?) async throws -> [String] {
                try await harness.call(client, .get, "/api/v1/tickets", "/api/v1/tickets", token: token).body?["tickets"]?.array.compactMap { $0["reference"]?.string }.sorted() ?? []
            }
            #expect(try await listed(tokens[1]) == [r2])
            #expect(try await listed(tokens[2]) == [r1])
            #expect(try await listed(tokens[3]) == [r1, r2].sorted())
            // Bad input names the field and changes nothing.
            let bad = try await harness.call(client, .post, "/api/v1/tickets/{ref}/status", "/api/v1/tickets/\(r1)/status", token: tokens[2], body: ["status": "closed"])
            #expect(bad.status == 400)
            #expect(bad.body?["error"]?["field"]?.string == "status")
            let notJSON = try await client.execute(uri: "/api/v1/tickets/\(r1)/notes", method: .post, headers: [.authorization: "Bearer \(tokens[2] ?? "")"],
                                                   body: ByteBuffer(string: "{not json"))
            #expect(notJSON.status == .badRequest)
        }
        // Every change is a ticket event with the agent as actor.
        let actors = try await harness.routing.pool.query("""
            SELECT kind, actor FROM switchboard.ticket_events WHERE ticket_id = $1 AND kind IN ('note_added', 'priority_changed', 'status_changed', 'reply_queued')
            ORDER BY id
            """, [t1]).map { "\(try $0.decode(0, as: String.self)) \(try $0.decode(1, as: String.self))" }
        #expect(actors == ["note_added ana", "note_added sam", "note_added ada", "priority_changed sam", "reply_queued ana", "reply_queued sam",
                           "reply_queued ada", "reply_queued ana", "reply_queued sam", "reply_queued ada", "status_changed ana"])
        #expect(try await harness.routing.assignee(t2) == "ben")
    }

    @Test func anAgentTakesAWaitingTicketOfTheirQueueWithinCapacityAndOnlyOnce() async throws {
        let harness = try await APIHarness.start("api_take", configuration: Self.configuration())
        defer { harness.stop() }
        // The queue assigns nothing by itself, so tickets wait to be taken.
        _ = try await harness.routing.router.setPaused(queue: "support", true, actor: "test")
        let t1 = try await harness.routing.customerWrites("447700900311", "Hello")
        let t2 = try await harness.routing.customerWrites("447700900312", "Hello again")
        let (r1, r2) = (try await harness.reference(t1), try await harness.reference(t2))
        let ana = try await harness.token("ana"), sam = try await harness.token("sam")
        try await harness.application().test(.router) { client async throws in
            let taken = try await harness.call(client, .post, "/api/v1/tickets/{ref}/take", "/api/v1/tickets/\(r1)/take", token: ana)
            #expect(taken.status == 200)
            #expect(taken.body?["assignee"]?.string == "ana")
            // A retried take is answered as the first.
            #expect(try await harness.call(client, .post, "/api/v1/tickets/{ref}/take", "/api/v1/tickets/\(r1)/take", token: ana).status == 200)
            // Ana's capacity is one.
            let full = try await harness.call(client, .post, "/api/v1/tickets/{ref}/take", "/api/v1/tickets/\(r2)/take", token: ana)
            #expect(full.status == 409)
            #expect(full.body?["error"]?["code"]?.string == "no_capacity")
            // Sam does not serve "support".
            #expect(try await harness.call(client, .post, "/api/v1/tickets/{ref}/take", "/api/v1/tickets/\(r2)/take", token: sam).status == 403)
        }
        #expect(try await harness.routing.assignee(t1) == "ana")
        #expect(try await harness.routing.assignee(t2) == nil)
        #expect(await harness.routing.router.roster.agent("ana")?.current.load == 1)
        let event = try await harness.routing.events(t1, "assigned").first
        #expect(event?["agent"] as? String == "ana")
        #expect(event?["detail"] as? String == "taken by ana")
    }

    @Test func outsideTheCustomerWindowAFreeFormReplyIsRefusedWithWhenItClosedAndATemplateGoes() async throws {
        let harness = try await APIHarness.start("api_window", configuration: Self.configuration())
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900321", "Hello")
        let reference = try await harness.reference(ticket)
        let ana = try await harness.token("ana")
        await harness.routing.advance(by: 25 * 3600)
        try await harness.application().test(.router) { client async throws in
            let refused = try await harness.call(client, .post, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(reference)/messages", token: ana,
                                                 body: ["type": "text", "text": "Sorry for the wait"])
            #expect(refused.status == 409)
            #expect(refused.body?["error"]?["code"]?.string == "customer_window_closed")
            #expect(refused.body?["error"]?["template_required"]?.bool == true)
            #expect(refused.body?["error"]?["window_closed_at"]?.string?.hasPrefix("20") == true)
            let shown = try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(reference)", token: ana)
            #expect(shown.body?["customer_window_open"]?.bool == false)
            let template = try await harness.call(client, .post, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(reference)/messages", token: ana,
                                                  body: ["type": "template", "name": "order_update", "language": "en_US", "parameters": ["T-1"]])
            #expect(template.status == 202)
            let noMedia = try await harness.call(client, .post, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(reference)/messages", token: ana,
                                                 body: ["type": "media", "media_type": "image"])
            #expect(noMedia.status == 400)
            #expect(noMedia.body?["error"]?["field"]?.string == "media_id")
        }
        let outbound = try await harness.routing.pool.query("SELECT type, status FROM switchboard.messages WHERE ticket_id = $1 AND direction = 'outbound'", [ticket])
            .map { "\(try $0.decode(0, as: String.self)) \(try $0.decode(1, as: String.self))" }
        #expect(outbound == ["template queued"])
    }

    @Test func pagesNeitherSkipNorRepeat() async throws {
        let harness = try await APIHarness.start("api_pages", configuration: Self.configuration())
        defer { harness.stop() }
        var references: [String] = []
        for index in 0..<7 {
            references.append(try await harness.reference(try await harness.routing.customerWrites("4477009004\(10 + index)", "Hello \(index)")))
        }
        let all = references
        let ada = try await harness.token("ada")
        try await harness.application().test(.router) { client async throws in
            var seen: [String] = [], cursor: String?
            repeat {
                let path = "/api/v1/tickets?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await harness.call(client, .get, "/api/v1/tickets", path, token: ada)
                seen += page.body?["tickets"]?.array.compactMap { $0["reference"]?.string } ?? []
                cursor = page.body?["next_cursor"]?.string
            } while cursor != nil && seen.count < 20
            #expect(Set(seen) == Set(all))
            #expect(seen.count == all.count)
            #expect(try await harness.call(client, .get, "/api/v1/tickets", "/api/v1/tickets?cursor=nonsense", token: ada).status == 400)
            #expect(try await harness.call(client, .get, "/api/v1/tickets", "/api/v1/tickets?limit=0", token: ada).status == 400)
        }
    }

    @Test func anAgentWhoseClientGoesSilentIsSetAway() async throws {
        let harness = try await APIHarness.start("api_silence", configuration: Self.configuration(), silence: 60)
        defer { harness.stop() }
        let ana = try await harness.token("ana")
        try await harness.application().test(.router) { client async throws in
            #expect(try await harness.call(client, .post, "/api/v1/me/heartbeat", "/api/v1/me/heartbeat", token: ana).status == 204)
            await harness.routing.advance(by: 45)
            #expect(try await harness.call(client, .post, "/api/v1/me/heartbeat", "/api/v1/me/heartbeat", token: ana).status == 204)
            await harness.routing.advance(by: 45)
            // 90 s since the first call, 45 since the last: still online.
            #expect(await harness.routing.router.roster.agent("ana")?.current.presence == .online)
            await harness.routing.advance(by: 20)
        }
        #expect(await harness.routing.router.roster.agent("ana")?.current.presence == .away)
        let logged = try await harness.routing.pool.query("SELECT actor FROM switchboard.agent_presence_changes WHERE agent_id = 'ana' ORDER BY id DESC LIMIT 1")
            .first?.decode(0, as: String.self)
        #expect(logged == "api:silence")
    }

    @Test func theEventStreamShowsWhatTheCallerMaySeeAndResumesAfterADisconnect() async throws {
        let harness = try await APIHarness.start("api_events", configuration: Self.configuration())
        defer { harness.stop() }
        let ana = try await harness.token("ana"), ben = try await harness.token("ben"), sam = try await harness.token("sam")
        try await harness.application().test(.live) { client async throws in
            let port = try #require(client.port)
            let refused = try await httpRequest(port: port, method: "GET", path: "/api/v1/events")
            #expect(refused.status == 401)
            var anaStream: EventStreamClient? = try EventStreamClient(port: port, path: "/api/v1/events", headers: ["Authorization": "Bearer \(ana)"])
            let benStream = try EventStreamClient(port: port, path: "/api/v1/events", headers: ["Authorization": "Bearer \(ben)"])
            #expect(await anaStream?.waitFor("retry: 3000") == true)
            #expect(await benStream.waitFor("retry: 3000"))
            for _ in 0..<200 where harness.log.followerCount < 2 { try await Task.sleep(for: .milliseconds(10)) }

            let ticket = try await harness.routing.customerWrites("447700900331", "Hello")
            let reference = try await harness.reference(ticket)
            #expect(try await harness.routing.assignee(ticket) == "ana")
            #expect(await anaStream?.waitFor("event: assigned") == true)
            #expect(anaStream?.text.contains("\"ticket\":\"\(reference)\"") == true)
            let lastSeen = try #require(anaStream?.eventIDs.last)
            #expect(lastSeen.hasPrefix(harness.log.runID + "."))

            // Ana's client drops; meanwhile Sam writes a note and raises the priority of her ticket.
            anaStream = nil
            let note = try await harness.call(client, .post, "/api/v1/tickets/{ref}/notes", "/api/v1/tickets/\(reference)/notes", token: sam, body: ["text": "Call her back"])
            #expect(note.status == 201)
            #expect(try await harness.call(client, .post, "/api/v1/tickets/{ref}/priority", "/api/v1/tickets/\(reference)/priority", token: sam,
                                           body: ["priority": "urgent"]).status == 200)
            let resumed = try EventStreamClient(port: port, path: "/api/v1/events", headers: ["Authorization": "Bearer \(ana)", "Last-Event-ID": lastSeen])
            #expect(await resumed.waitFor("event: priority_changed"))
            #expect(resumed.eventKinds == ["note_added", "priority_changed"])
            #expect(!resumed.text.contains("event: reset"))
            let sequence = { (id: String) in UInt64(id.split(separator: ".").last ?? "") ?? 0 }
            #expect(resumed.eventIDs.allSatisfy { sequence($0) > sequence(lastSeen) })

            // An id from another run of the daemon (or long gone): the client is told to reload.
            let stale = try EventStreamClient(port: port, path: "/api/v1/events", headers: ["Authorization": "Bearer \(ana)", "Last-Event-ID": "earlier.5"])
            #expect(await stale.waitFor("event: reset"))

            // Ben saw nothing of Ana's ticket once it was hers (its first message and its wait he may
            // have seen, while it waited in his queue); his own presence change he does see.
            #expect(try await harness.call(client, .put, "/api/v1/me/presence", "/api/v1/me/presence", token: ben, body: ["presence": "online"]).status == 200)
            #expect(await benStream.waitFor("event: presence"))
            #expect(benStream.eventKinds.filter { $0 != "message" && $0 != "queued" } == ["presence"])
            // As the daemon does when it stops: the streams end, so the server can stop at once.
            harness.log.close()
            #expect(await benStream.waitFor("0\r\n\r\n"))
        }
    }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import JSON
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport

/// What the web inbox and the dashboard ask of the API: rows with previews, unread counts and
/// clocks; search; a long thread in pages; tags removed; mentions; transfers; the dashboard's
/// figures and levers, decided and audited as the control socket's. Every response is checked
/// against `docs/openapi.json` by the harness.
@Suite("Web inbox API: list rows, search, paging, mentions, dashboard and levers")
struct WebInboxAPITests {
    typealias Config = AgentAPITests

    @Test func rowsShowTheLastMessageUnreadCountWindowAndClockAndOpeningReadsThem() async throws {
        let harness = try await APIHarness.start("inbox_rows", configuration: Config.configuration())
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900401", "Hello")
        _ = try await harness.routing.customerWrites("447700900401", "Where is my parcel?")
        #expect(try await harness.routing.assignee(ticket) == "ana")
        let reference = try await harness.reference(ticket)
        let ana = try await harness.token("ana")
        try await harness.application().test(.router) { client async throws in
            func mine() async throws -> JSONValue? {
                try await harness.call(client, .get, "/api/v1/tickets", "/api/v1/tickets?view=mine", token: ana).body?["tickets"]?.array.first
            }
            let row = try #require(try await mine())
            #expect(row["reference"]?.string == reference)
            #expect(row["customer_phone"]?.string == "447700900401")
            #expect(row["last_message"]?["preview"]?.string == "Where is my parcel?")
            #expect(row["last_message"]?["direction"]?.string == "inbound")
            #expect(row["unread"]?.number == 2)
            #expect(row["window_expires_at"]?.string != nil)
            #expect(try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(reference)", token: ana).status == 200)
            #expect(try await mine()?["unread"]?.number == 0)
            _ = try await harness.routing.customerWrites("447700900401", "Hello?")
            #expect(try await mine()?["unread"]?.number == 1)
            // The open page reads the ticket again as a message arrives (as little as ?messages=1): read.
            #expect(try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(reference)?messages=1", token: ana).status == 200)
            #expect(try await mine()?["unread"]?.number == 0)
            let other = try await harness.routing.customerWrites("447700900409", "Not Ana's")
            // Ben, who serves the same queue, sees nothing of Ana's ticket (only the one waiting there).
            let ben = try await harness.token("ben")
            let bens = try await harness.call(client, .get, "/api/v1/tickets", "/api/v1/tickets?view=all", token: ben).body?["tickets"]?.array ?? []
            #expect(bens.compactMap { $0["reference"]?.string } == [try await harness.reference(other)])
        }
    }

    @Test func searchFindsByTextNamePhoneAndReferenceWithinWhatTheCallerMaySee() async throws {
        let harness = try await APIHarness.start("inbox_search", configuration: Config.configuration())
        defer { harness.stop() }
        let parcel = try await harness.routing.customerWrites("447700900411", "My parcel never arrived")
        let invoice = try await harness.routing.customerWrites("447700900412", "Please send the invoice 50% off")
        let (parcelRef, invoiceRef) = (try await harness.reference(parcel), try await harness.reference(invoice))
        let sam = try await harness.token("sam"), ana = try await harness.token("ana"), ben = try await harness.token("ben")
        #expect(try await harness.routing.assignee(parcel) == "ana")
        try await harness.application().test(.router) { client async throws in
            func found(_ query: String, _ token: String) async throws -> [String] {
                let answer = try await harness.call(client, .get, "/api/v1/tickets", "/api/v1/tickets?q=\(query)", token: token)
                #expect(answer.status == 200, "q=\(query): \(answer.status)")
                return (answer.body?["tickets"]?.array ?? []).compactMap { $0["reference"]?.string }
            }
            #expect(try await found("PARCEL", sam) == [parcelRef])
            #expect(try await found("0900412", sam) == [invoiceRef])
            #expect(try await found("Customer%20447700900411", sam) == [parcelRef])
            #expect(try await found(invoiceRef.lowercased(), sam) == [invoiceRef])
            // Rows asked about again by reference, within the view: Ben's waiting view has only the waiting one.
            let asked = try await harness.call(client, .get, "/api/v1/tickets", "/api/v1/tickets?view=waiting&references=\(parcelRef),\(invoiceRef),T-999999", token: ben)
            #expect((asked.body?["tickets"]?.array ?? []).compactMap { $0["reference"]?.string } == [invoiceRef])
            let tooMany = try await harness.call(client, .get, "/api/v1/tickets", "/api/v1/tickets?references=\(Array(repeating: "T-1", count: 101).joined(separator: ","))", token: ben)
            #expect(tooMany.status == 400 && tooMany.body?["error"]?["field"]?.string == "references")
            // LIKE's wildcards are the text they are.
            #expect(try await found("50%25", sam) == [invoiceRef])
            #expect(try await found("5_%25", sam).isEmpty)
            #expect(try await found("nothing%20like%20this", sam).isEmpty)
            // Ana (capacity 1) holds the first; the second waits in the queue Ben serves: Ben finds
            // only the one he may see.
            #expect(try await found("Customer", ben) == [invoiceRef])
            #expect(try await found("Customer", ana).sorted() == [parcelRef, invoiceRef].sorted())
            let short = try await harness.call(client, .get, "/api/v1/tickets", "/api/v1/tickets?q=ab", token: sam)
            #expect(short.status == 400 && short.body?["error"]?["field"]?.string == "q")
            let view = try await harness.call(client, .get, "/api/v1/tickets", "/api/v1/tickets?view=later", token: sam)
            #expect(view.status == 400 && view.body?["error"]?["field"]?.string == "view")
        }
        // The search is served by the trigram index, not by reading every message.
        let plan = try await harness.routing.pool.query("""
            EXPLAIN SELECT ticket_id FROM switchboard.messages WHERE body ILIKE '%parcel%'
            """).map { try $0.decode(0, as: String.self) }.joined(separator: "\n")
        #expect(plan.contains("messages_body_trigrams") || plan.contains("Seq Scan"), "\(plan)")
        try await harness.routing.pool.query("SET enable_seqscan = off")
        let forced = try await harness.routing.pool.query("EXPLAIN SELECT ticket_id FROM switchboard.messages WHERE body ILIKE '%parcel%'")
            .map { try $0.decode(0, as: String.self) }.joined(separator: "\n")
        #expect(forced.contains("messages_body_trigrams"), "\(forced)")
    }

    @Test func aLongThreadLoadsInPagesOldestFirstWithLaterEditsApplied() async throws {
        let harness = try await APIHarness.start("inbox_pages", configuration: Config.configuration())
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900421", "message 1", wamid: "wamid.page.1")
        for number in 2...7 {
            await harness.routing.advance(by: 60)
            _ = try await harness.routing.customerWrites("447700900421", "message \(number)", wamid: "wamid.page.\(number)")
        }
        let reference = try await harness.reference(ticket)
        let sam = try await harness.token("sam")
        try await harness.application().test(.router) { client async throws in
            let latest = try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(reference)?messages=3", token: sam)
            let texts = (latest.body?["messages"]?.array ?? []).compactMap { $0["body"]?.string }
            #expect(texts == ["message 5", "message 6", "message 7"])
            #expect(latest.body?["more_messages"]?.bool == true)
            let oldest = try #require(latest.body?["messages"]?.array.first?["id"]?.number)
            let page = try await harness.call(client, .get, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(reference)/messages?before=\(Int(oldest))&limit=3", token: sam)
            #expect((page.body?["messages"]?.array ?? []).compactMap { $0["body"]?.string } == ["message 2", "message 3", "message 4"])
            #expect(page.body?["more"]?.bool == true)
            let first = try #require(page.body?["messages"]?.array.first?["id"]?.number)
            let last = try await harness.call(client, .get, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(reference)/messages?before=\(Int(first))", token: sam)
            #expect((last.body?["messages"]?.array ?? []).compactMap { $0["body"]?.string } == ["message 1"])
            #expect(last.body?["more"]?.bool == false)
            // The history's events come with the stretch of time they belong to, each once.
            let eventIDs = [latest, page, last].flatMap { ($0.body?["events"]?.array ?? []).compactMap { $0["id"]?.number } }
            let all = try #require(try await harness.store.ticket(ticket)).events.map { Double($0.id) }
            #expect(eventIDs.sorted() == all.sorted() && Set(eventIDs).count == eventIDs.count, "\(eventIDs) of \(all)")
            #expect((last.body?["events"]?.array ?? []).contains { $0["kind"]?.string == "created" })
            #expect(!(latest.body?["events"]?.array ?? []).contains { $0["kind"]?.string == "created" })
            let bad = try await harness.call(client, .get, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(reference)/messages?before=x", token: sam)
            #expect(bad.status == 400 && bad.body?["error"]?["field"]?.string == "before")
            // Ben may not see Ana's ticket: its pages are not found either.
            let ben = try await harness.token("ben")
            #expect(try await harness.call(client, .get, "/api/v1/tickets/{ref}/messages", "/api/v1/tickets/\(reference)/messages", token: ben).status == 404)
        }
    }

    @Test func tagsComeOffAndANoteTellsTheColleaguesItNamesWhoMaySeeTheTicket() async throws {
        let harness = try await APIHarness.start("inbox_notes", configuration: Config.configuration())
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900431", "Hello")
        #expect(try await harness.routing.assignee(ticket) == "ana")
        let reference = try await harness.reference(ticket)
        let ana = try await harness.token("ana")
        let sam = Permissions.Caller(role: .supervisor, agentID: "sam", visibleQueues: ["supervisors"], team: ["sam"])
        let (_, live) = harness.log.follow(after: nil, scope: .init(agentID: "sam", queues: ["supervisors"], everyonesPresence: true,
                                                                    admits: { Permissions.canSee(sam, event: $0.place) }))
        try await harness.application().test(.router) { client async throws in
            #expect(try await harness.call(client, .post, "/api/v1/tickets/{ref}/tags", "/api/v1/tickets/\(reference)/tags", token: ana, body: ["tag": "vip"]).status == 200)
            let removed = try await harness.call(client, .delete, "/api/v1/tickets/{ref}/tags/{tag}", "/api/v1/tickets/\(reference)/tags/vip", token: ana)
            #expect(removed.status == 200)
            let note = try await harness.call(client, .post, "/api/v1/tickets/{ref}/notes", "/api/v1/tickets/\(reference)/notes", token: ana,
                                              body: ["text": "@sam could you look? @ben too, and @nobody. Mail me at ana@example.com"])
            #expect(note.status == 201)
            #expect(note.body?["mentioned"]?.array.compactMap(\.string) == ["sam"])
            let refused = (note.body?["not_notified"]?.array ?? []).compactMap { $0["agent"]?.string }
            #expect(refused == ["ben", "nobody"])
            #expect(note.body?["not_notified"]?.array.first?["reason"]?.string?.contains("cannot see") == true)
        }
        #expect(try await harness.routing.events(ticket, "untagged").count == 1)
        let detail = try #require(try await harness.store.ticket(ticket))
        #expect(!detail.tags.contains("vip"))
        #expect(detail.events.contains { $0.kind == "note_added" && $0.data.contains("\"mentions\": [\"sam\"]") })
        // Sam is told: the event is addressed to him (this follower's scope alone would not admit Ana's ticket).
        var told: DaemonEvent?
        for await entry in live where entry.event.kind == .mentioned { told = entry.event; break }
        #expect(told?.details["mentioned"] == "sam")
        #expect(told?.details["author"] == "ana")
        #expect(told?.reference == reference)
        harness.log.close()
    }

    @Test func theDashboardShowsTheCallersQueuesAndAgentsAndItsLeversAreDecidedAndAuditedAsTheControlSockets() async throws {
        let harness = try await APIHarness.start("inbox_dashboard", configuration: Config.configuration())
        defer { harness.stop() }
        let held = try await harness.routing.customerWrites("447700900441", "Hello")
        let waiting = try await harness.routing.customerWrites("447700900442", "Anyone there?")
        #expect(try await harness.routing.assignee(held) == "ana")
        #expect(try await harness.routing.assignee(waiting) == nil)
        let (heldRef, waitingRef) = (try await harness.reference(held), try await harness.reference(waiting))
        let sam = try await harness.token("sam"), ana = try await harness.token("ana")
        try await harness.application().test(.router) { client async throws in
            let board = try await harness.call(client, .get, "/api/v1/dashboard", "/api/v1/dashboard", token: sam)
            #expect(board.status == 200)
            let support = board.body?["queues"]?.array.first { $0["name"]?.string == "support" }
            #expect(support?["waiting"]?.number == 1)
            #expect(support?["breached_today"]?.number == 0)
            // Sam oversees the care team (Ana, Ben, himself), not Ada.
            let agents = (board.body?["agents"]?.array ?? []).compactMap { $0["id"]?.string }.sorted()
            #expect(agents == ["ana", "ben", "sam"])
            #expect(board.body?["agents"]?.array.first { $0["id"]?.string == "ana" }?["tickets"]?.array.compactMap(\.string) == [heldRef])
            let chart = board.body?["arrivals"]?.array ?? []
            #expect(chart.count == 24)
            #expect(chart.last?["arrivals"]?.number == 2)
            #expect(chart.last?["waiting"]?.number == 1)

            // Levers: Ana may not pause a queue; Sam may, and resume it; he drains Ana and sets Ben online.
            let refused = try await harness.call(client, .post, "/api/v1/queues/{name}/pause", "/api/v1/queues/support/pause", token: ana)
            #expect(refused.status == 403)
            let paused = try await harness.call(client, .post, "/api/v1/queues/{name}/pause", "/api/v1/queues/support/pause", token: sam)
            #expect(paused.status == 200 && paused.body?["paused"]?.bool == true)
            #expect(try await harness.call(client, .post, "/api/v1/queues/{name}/resume", "/api/v1/queues/support/resume", token: sam).body?["paused"]?.bool == false)
            let drained = try await harness.call(client, .post, "/api/v1/agents/{agent}/drain", "/api/v1/agents/ana/drain", token: sam, body: ["draining": true])
            #expect(drained.status == 200 && drained.body?["draining"]?.bool == true)
            let online = try await harness.call(client, .put, "/api/v1/agents/{agent}/presence", "/api/v1/agents/ben/presence", token: sam, body: ["presence": "online"])
            #expect(online.status == 200 && online.body?["presence"]?.string == "online")
            // Ada is not of Sam's teams: she is not found; Ana may not drain Ben.
            #expect(try await harness.call(client, .post, "/api/v1/agents/{agent}/drain", "/api/v1/agents/ada/drain", token: sam, body: ["draining": true]).status == 404)
            #expect(try await harness.call(client, .post, "/api/v1/agents/{agent}/drain", "/api/v1/agents/ben/drain", token: ana, body: ["draining": true]).status == 404)
            // Ben came online and took the waiting ticket; Sam transfers Ana's to the supervisors' queue, where nobody is online.
            #expect(try await harness.routing.assignee(waiting) == "ben")
            let agentTransfer = try await harness.call(client, .post, "/api/v1/tickets/{ref}/transfer", "/api/v1/tickets/\(heldRef)/transfer", token: ana,
                                                       body: ["queue": "supervisors"])
            #expect(agentTransfer.status == 403)
            let moved = try await harness.call(client, .post, "/api/v1/tickets/{ref}/transfer", "/api/v1/tickets/\(heldRef)/transfer", token: sam,
                                               body: ["queue": "supervisors"])
            #expect(moved.status == 200, "\(moved.body.map(JSONWriter.write) ?? "")")
            #expect(moved.body?["queue"]?.string == "supervisors" && moved.body?["assignee"] == .null)
            let unknown = try await harness.call(client, .post, "/api/v1/tickets/{ref}/transfer", "/api/v1/tickets/\(waitingRef)/transfer", token: sam,
                                                 body: ["queue": "nowhere"])
            #expect(unknown.status == 400 && unknown.body?["error"]?["field"]?.string == "queue")
            // From the waiting list of the supervisors' queue, Sam gives it to Ben.
            let given = try await harness.call(client, .post, "/api/v1/tickets/{ref}/assign", "/api/v1/tickets/\(heldRef)/assign", token: sam, body: ["agent": "ben"])
            #expect(given.status == 200 && given.body?["assignee"]?.string == "ben")
        }
        #expect(try await harness.routing.assignee(held) == "ben")
        #expect(await harness.routing.router.roster.agent("ana")?.current.draining == true)
        // The same audit as the control socket's, with the API caller as the user.
        let audit = try await harness.routing.pool.query("""
            SELECT unix_user, method, result FROM switchboard.control_audit ORDER BY id
            """).map { "\(try $0.decode(0, as: String.self)) \(try $0.decode(1, as: String.self)) \(try $0.decode(2, as: String.self))" }
        #expect(audit == ["api:ana io.switchboard.Control.PauseQueue PermissionDenied", "api:sam io.switchboard.Control.PauseQueue ok",
                          "api:sam io.switchboard.Control.ResumeQueue ok", "api:sam io.switchboard.Control.Drain ok",
                          "api:sam io.switchboard.Control.SetPresence ok", "api:sam io.switchboard.Control.Drain not_found",
                          "api:ana io.switchboard.Control.Drain not_found", "api:ana io.switchboard.Control.Transfer PermissionDenied",
                          "api:sam io.switchboard.Control.Transfer ok", "api:sam io.switchboard.Control.Transfer invalid",
                          "api:sam io.switchboard.Control.Assign ok"])
        let moves = try await harness.routing.events(held, "moved")
        #expect(moves.count == 1)
    }

    @Test func templatesComeFromTheConfiguration() async throws {
        let harness = try await APIHarness.start("inbox_templates", configuration: Config.configuration())
        defer { harness.stop() }
        let ana = try await harness.token("ana")
        try await harness.application().test(.router) { client async throws in
            let answer = try await harness.call(client, .get, "/api/v1/templates", "/api/v1/templates", token: ana)
            let template = answer.body?["templates"]?.array.first
            #expect(template?["name"]?.string == "order_update" && template?["language"]?.string == "en_US")
            #expect(template?["parameters"]?.number == 2)
        }
        #expect(Mentions.handles(in: "@ana, @ben. (@sam) x@y.com @-bad @ana") == ["ana", "ben", "sam"])
    }
}

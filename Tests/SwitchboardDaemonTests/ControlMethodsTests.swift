import JSON
import Foundation
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport

/// Every method of `io.switchboard.Control` for every role, and what the supervisors' levers do:
/// drains, paused queues, tickets by hand, notes, API tokens.
@Suite("Control methods: the permission matrix, drains and pauses, tickets by hand, notes, tokens")
struct ControlMethodsTests {
    typealias Parameters = [String: ConfigValue]

    static let ana = AgentDefinition(id: "ana", name: "Ana", teams: ["care"], capacity: 2, queues: ["support"])
    static let ben = AgentDefinition(id: "ben", name: "Ben", teams: ["care"], capacity: 2, queues: ["support"])
    static let stranger = ControlService.Peer(credentials: PeerCredentials(pid: 1, uid: 4242, gid: 4242, user: "mallory", groups: []), caller: nil,
                                              refusal: "Unix user mallory has no role")
    static let agentAna = ControlHarness.peer(.agent, agent: "ana", queues: ["support"])
    static let supervisor = ControlHarness.peer(.supervisor, agent: "sam", queues: ["support"])
    static let admin = ControlHarness.peer(.admin, agent: nil, queues: nil)

    /// The reply's error name without its interface (nil: success), or "streamed".
    static func outcome(_ harness: ControlHarness, _ method: String, _ parameters: Parameters, _ peer: ControlService.Peer, more: Bool = false) async -> String {
        let call = VarlinkCall(method: "io.switchboard.Control." + method, parameters: parameters, more: more)
        switch await harness.service.respond(to: call, from: peer) {
        case .single(let reply, _): return reply.error.map { String($0.split(separator: ".").last ?? "") } ?? "ok"
        case .stream: return "streamed"
        }
    }

    static func reply(_ harness: ControlHarness, _ method: String, _ parameters: Parameters = [:], _ peer: ControlService.Peer = admin) async throws -> [String: JSONValue] {
        guard case .single(let reply, _) = await harness.service.respond(to: VarlinkCall(method: "io.switchboard.Control." + method, parameters: parameters), from: peer) else {
            throw ControlTestFailure.streamed
        }
        if let error = reply.error { throw ControlTestFailure.failed(error, reply.parameters) }
        return reply.parameters
    }

    static func reference(_ harness: ControlHarness, _ ticket: Int64) async throws -> String {
        try #require(try await harness.routing.pool.query("SELECT reference FROM switchboard.tickets WHERE id = $1", [ticket]).first?.decode(0, as: String.self))
    }

    @Test func everyMethodForEveryRoleIncludingAPeerWithNoRole() async throws {
        let harness = try await ControlHarness.start("control_matrix", configuration: .testing(agents: [Self.ana, Self.ben], presence: ["ana": .online, "ben": .offline]))
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900201", "Hello")
        #expect(try await harness.routing.assignee(ticket) == "ana")
        // Ana goes offline (her grace period never ends: the test's clock stands still), so a
        // ticket taken from her waits instead of coming straight back.
        try await harness.routing.setPresence("ana", .offline)
        let reference = try await Self.reference(harness, ticket)
        let ref = ConfigValue.string(reference)
        let ok = "ok", denied = "PermissionDenied"
        // In order, each row for: a peer with no role, agent Ana, a supervisor of her queue, an admin.
        let matrix: [(method: String, parameters: Parameters, expected: [String])] = [
            ("Status", [:], [denied, ok, ok, ok]),
            ("ListQueues", [:], [denied, ok, ok, ok]),
            ("ListAgents", [:], [denied, ok, ok, ok]),
            ("ShowAgent", ["id": "ben"], [denied, denied, ok, ok]),
            ("ShowAgent", ["id": "ana"], [denied, ok, ok, ok]),
            ("SetPresence", ["id": "ben", "presence": "away"], [denied, denied, ok, ok]),
            ("AddAgent", ["id": "zed", "queues": .array(["support"])], [denied, denied, denied, ok]),
            ("UpdateAgent", ["id": "zed", "capacity": .integer(3)], [denied, denied, denied, ok]),
            ("RemoveAgent", ["id": "zed"], [denied, denied, denied, ok]),
            ("Drain", ["agent": "ben"], [denied, denied, ok, ok]),
            ("Drain", ["agent": "ana"], [denied, ok, ok, ok]),
            ("Drain", ["agent": "ana", "undo": .bool(true)], [denied, ok, ok, ok]),
            ("Drain", [:], [denied, denied, denied, ok]),
            ("Drain", ["undo": .bool(true)], [denied, denied, denied, ok]),
            ("PauseQueue", ["name": "support"], [denied, denied, ok, ok]),
            ("ResumeQueue", ["name": "support"], [denied, denied, ok, ok]),
            ("ListTickets", [:], [denied, ok, ok, ok]),
            ("ShowTicket", ["reference": ref], [denied, ok, ok, ok]),
            ("AtRisk", [:], [denied, ok, ok, ok]),
            ("SetPriority", ["reference": ref, "priority": "high"], [denied, denied, ok, ok]),
            ("AddNote", ["reference": ref, "text": "Customer called too"], [denied, ok, ok, ok]),
            // Ana holds it: she may tag its customer, as she may tag it.
            ("TagCustomer", ["reference": ref, "add": .array(["vip"])], [denied, ok, ok, ok]),
            // Ana holds it: she takes (again) and accepts it; the supervisor's agent record is not its
            // agent (a conflict); the admin acts as no agent at all.
            ("Take", ["reference": ref], [denied, ok, "Conflict", denied]),
            ("Accept", ["reference": ref], [denied, ok, "Conflict", denied]),
            // The supervisor takes it from Ana; the admin then finds it has no agent.
            ("Unassign", ["reference": ref], [denied, denied, ok, "InvalidArgument"]),
            ("Assign", ["reference": ref, "agent": "ben"], [denied, denied, ok, ok]),
            // Now Ben's: Ana may no longer know of it.
            ("ShowTicket", ["reference": ref], [denied, "NotFound", ok, ok]),
            ("AddNote", ["reference": ref, "text": "Handed to Ben"], [denied, "NotFound", ok, ok]),
            ("TagCustomer", ["reference": ref, "remove": .array(["vip"])], [denied, "NotFound", ok, ok]),
            // For everyone: admins only. For a queue of the supervisor's teams: the supervisor (the
            // admin's same shortcut in the same scope is then taken).
            ("AddCannedResponse", ["shortcut": "hello", "title": "Hello", "body": "Hi {{customer.name|there}}"], [denied, denied, denied, ok]),
            ("AddCannedResponse", ["shortcut": "refund", "title": "Refund", "body": "Refunds take 5 days", "queue": "support"],
             [denied, denied, ok, "InvalidArgument"]),
            ("ListCannedResponses", [:], [denied, ok, ok, ok]),
            ("EditCannedResponse", ["id": .integer(2), "title": "Refund policy"], [denied, denied, ok, ok]),
            ("RemoveCannedResponse", ["id": .integer(1)], [denied, denied, denied, ok]),
            ("IssueToken", ["agent": "ana"], [denied, denied, denied, ok]),
            ("ListTokens", [:], [denied, denied, denied, ok]),
            ("RevokeToken", ["id": .integer(1)], [denied, denied, denied, ok]),
            ("SetPassword", ["agent": "ana", "password": "correct horse battery"], [denied, denied, denied, ok]),
            ("ListSessions", [:], [denied, denied, denied, ok]),
            ("EndSessions", ["agent": "ana"], [denied, denied, denied, ok]),
            ("Reload", [:], [denied, denied, denied, ok]),
            ("Watch", [:], [denied, "streamed", "streamed", "streamed"]),
            ("NoSuchMethod", [:], [denied, "MethodNotFound", "MethodNotFound", "MethodNotFound"]),
        ]
        for row in matrix {
            var seen: [String] = []
            for peer in [Self.stranger, Self.agentAna, Self.supervisor, Self.admin] {
                seen.append(await Self.outcome(harness, row.method, row.parameters, peer, more: row.method == "Watch"))
            }
            #expect(seen == row.expected, "\(row.method) \(row.parameters)")
        }
        // Every method the interface declares is in the matrix.
        let description = try String(contentsOf: ControlSocketTests.repository.appendingPathComponent("Sources/SwitchboardDaemon/Control/io.switchboard.Control.varlink"),
                                     encoding: .utf8)
        let declared = Set(description.split(separator: "\n").filter { $0.hasPrefix("method ") }.map { $0.dropFirst(7).prefix { $0 != "(" } }.map(String.init))
        #expect(declared == Set(matrix.map(\.method)).subtracting(["NoSuchMethod"]))
        // What the allowed calls did, as stored.
        #expect(try await harness.routing.assignee(ticket) == "ben")
        let priority = try await harness.routing.pool.query("SELECT priority FROM switchboard.tickets WHERE id = $1", [ticket]).first?.decode(0, as: String.self)
        #expect(priority == "high")
        let notes = try await harness.routing.pool.query("SELECT author, body FROM switchboard.notes WHERE ticket_id = $1 ORDER BY id", [ticket])
            .map { "\(try $0.decode(0, as: String.self)): \(try $0.decode(1, as: String.self))" }
        #expect(notes == ["ana: Customer called too", "sam: Customer called too", "control:operator: Customer called too",
                          "sam: Handed to Ben", "control:operator: Handed to Ben"])
        #expect(try await harness.routing.pool.query("SELECT id FROM switchboard.agents WHERE id = 'zed' AND active").isEmpty)
        // Tagged once (again is no change), untagged once; the canned response for everyone removed.
        let tagEvents = try await harness.routing.pool.query(
            "SELECT kind, actor FROM switchboard.ticket_events WHERE ticket_id = $1 AND kind LIKE 'customer_%' ORDER BY id", [ticket]
        ).map { "\(try $0.decode(0, as: String.self)) \(try $0.decode(1, as: String.self))" }
        #expect(tagEvents == ["customer_tagged control:ana", "customer_untagged control:sam"])
        let canned = try await harness.routing.pool.query("SELECT shortcut || ' ' || title || ' ' || scope || ' ' || scope_name FROM switchboard.canned_responses ORDER BY id")
            .map { try $0.decode(0, as: String.self) }
        #expect(canned == ["refund Refund policy queue support"])
    }

    @Test func aDrainedAgentKeepsHerTicketsGetsNoNewOnesAndStaysDrainedAcrossARestart() async throws {
        let harness = try await ControlHarness.start("control_drain", configuration: .testing(agents: [Self.ana], presence: ["ana": .online]))
        defer { harness.stop() }
        let first = try await harness.routing.customerWrites("447700900211", "Hello")
        #expect(try await harness.routing.assignee(first) == "ana")
        let drained = try await Self.reply(harness, "Drain", ["agent": "ana"], Self.agentAna)
        #expect(drained["changed"] == .bool(true))
        let second = try await harness.routing.customerWrites("447700900212", "Hello too")
        await harness.routing.router.settle()
        #expect(try await harness.routing.assignee(first) == "ana")
        #expect(try await harness.routing.assignee(second) == nil)
        let agent = try await Self.reply(harness, "ShowAgent", ["id": "ana"])
        guard case .object(let fields)? = agent["agent"] else { Issue.record("no agent"); return }
        #expect(fields["draining"] == .bool(true))
        #expect(fields["open_tickets"] == .int(1))

        // A restart rebuilds the drain from the database.
        let restarted = try await RoutingHarness.make("control_drain", .testing(agents: [Self.ana], presence: ["ana": .online]), pool: harness.routing.pool)
        await restarted.router.settle()
        #expect(try await restarted.assignee(second) == nil)
        #expect(await restarted.router.roster.agent("ana")?.current.draining == true)
        #expect(try await restarted.router.setDraining(agent: "ana", false) == true)
        await restarted.router.settle()
        #expect(try await restarted.assignee(second) == "ana")
    }

    @Test func aPausedQueueAndADrainingDaemonAssignNothingUntilResumed() async throws {
        let harness = try await ControlHarness.start("control_pause", configuration: .testing(agents: [Self.ana], presence: ["ana": .online]))
        defer { harness.stop() }
        let paused = try await Self.reply(harness, "PauseQueue", ["name": "support"], Self.supervisor)
        guard case .object(let queue)? = paused["queue"] else { Issue.record("no queue"); return }
        #expect(queue["paused"] == .bool(true))
        let first = try await harness.routing.customerWrites("447700900221", "Hello")
        await harness.routing.router.settle()
        #expect(try await harness.routing.assignee(first) == nil)
        guard case .array(let queues)? = try await Self.reply(harness, "Status")["queues"], case .object(let support)? = queues.first else {
            Issue.record("no queues in status"); return
        }
        #expect(support["waiting"] == .int(1))
        #expect(support["paused"] == .bool(true))
        // Paused is stored: a restart keeps the queue paused.
        let restarted = try await RoutingHarness.make("control_pause", .testing(agents: [Self.ana], presence: ["ana": .online]), pool: harness.routing.pool)
        await restarted.router.settle()
        #expect(try await restarted.assignee(first) == nil)
        #expect(await restarted.router.pausedQueueNames == ["support"])

        // Resumed here, the ticket is assigned; then the whole daemon drains and nothing new is.
        #expect(try await harness.routing.router.setPaused(queue: "support", false, actor: "test") == true)
        #expect(try await harness.routing.assignee(first) == "ana")
        #expect(try await Self.reply(harness, "Drain", [:])["changed"] == .bool(true))
        let drained = try await Self.reply(harness, "Status")
        #expect(drained["draining"] == .bool(true))
        // The drain is the daemon's state, said once; no queue is reported paused for it.
        guard case .array(let heldQueues)? = drained["queues"], case .object(let held)? = heldQueues.first else { Issue.record("no queues"); return }
        #expect(held["paused"] == .bool(false))
        let second = try await harness.routing.customerWrites("447700900222", "Hello too")
        await harness.routing.router.settle()
        #expect(try await harness.routing.assignee(second) == nil)
        #expect(try await Self.reply(harness, "Drain", ["undo": .bool(true)])["changed"] == .bool(true))
        await harness.routing.router.settle()
        #expect(try await harness.routing.assignee(second) == "ana")
    }

    @Test func ticketsByHandWriteEventsWithTheOperatorAsActorAndWatchSeesThem() async throws {
        let harness = try await ControlHarness.start("control_by_hand", configuration: .testing(agents: [Self.ana, Self.ben], presence: ["ana": .online, "ben": .offline]))
        defer { harness.stop() }
        let watcher = try await harness.connect()
        try await watcher.send(method: "io.switchboard.Control.Watch", more: true)
        _ = try await (try await harness.connect()).call("io.switchboard.Control.Status")
        let ticket = try await harness.routing.customerWrites("447700900231", "Hello")
        let reference = try await Self.reference(harness, ticket)
        let ref = ConfigValue.string(reference)
        #expect(try await harness.routing.assignee(ticket) == "ana")

        // To Ben (offline: a supervisor's call), then back to the queue, where Ana takes it again.
        _ = try await Self.reply(harness, "Assign", ["reference": ref, "agent": "ben"], Self.supervisor)
        #expect(try await harness.routing.assignee(ticket) == "ben")
        #expect(await harness.routing.router.roster.agent("ana")?.current.tickets.isEmpty == true)
        #expect(await harness.routing.router.roster.agent("ben")?.current.tickets[ticket] == .open)
        _ = try await Self.reply(harness, "SetPriority", ["reference": ref, "priority": "urgent"], Self.supervisor)
        _ = try await Self.reply(harness, "Unassign", ["reference": ref], Self.supervisor)
        await harness.routing.router.settle()
        #expect(try await harness.routing.assignee(ticket) == "ana")
        #expect(await harness.routing.router.roster.agent("ben")?.current.tickets.isEmpty == true)
        let note = try await Self.reply(harness, "AddNote", ["reference": ref, "text": "VIP: refund approved by finance"], Self.agentAna)
        guard case .object(let fields)? = note["note"] else { Issue.record("no note"); return }
        #expect(fields["author"] == .string("ana"))

        let events = try await harness.routing.pool.query("""
            SELECT kind, actor, data->>'agent', data->>'previous', data->>'to' FROM switchboard.ticket_events WHERE ticket_id = $1 AND id > (
                SELECT min(id) FROM switchboard.ticket_events WHERE ticket_id = $1 AND kind = 'assigned') ORDER BY id
            """, [ticket]).map { row in
            [try row.decode(0, as: String.self), try row.decode(1, as: String?.self), try row.decode(2, as: String?.self),
             try row.decode(3, as: String?.self), try row.decode(4, as: String?.self)].map { $0 ?? "-" }.joined(separator: " ")
        }
        #expect(events == ["assigned control:sam ben ana -", "priority_changed control:sam - - urgent", "unassigned control:sam ben - -",
                           "assigned routing ana - -", "note_added ana - - -"])
        // The note's text is in the notes, not in the event BI reads.
        let eventData = try await harness.routing.pool.query("SELECT data::text FROM switchboard.ticket_events WHERE ticket_id = $1 AND kind = 'note_added'", [ticket])
            .first?.decode(0, as: String.self)
        #expect(eventData?.contains("refund") == false)
        let shown = try await Self.reply(harness, "ShowTicket", ["reference": ref], Self.agentAna)
        guard case .object(let detail)? = shown["ticket"], case .array(let notes)? = detail["notes"], case .object(let first)? = notes.first else {
            Issue.record("no notes shown"); return
        }
        #expect(first["text"] == .string("VIP: refund approved by finance"))

        var kinds: [String] = []
        // Messages and waits in the queue aside: what the operators did.
        while kinds.count < 6, let event = try await watcher.nextEvent(skipping: ["message", "queued"]) {
            kinds.append("\(event["kind"] as? String ?? "?") \(event["ticket"] as? String ?? "?")")
        }
        #expect(kinds == ["assigned", "assigned", "priority_changed", "unassigned", "assigned", "note_added"].map { "\($0) \(reference)" })
    }

    @Test func anAPITokenIsShownOnceStoredAsAHashAndStopsWorkingWhenRevoked() async throws {
        let harness = try await ControlHarness.start("control_tokens", configuration: .testing(agents: [Self.ana], presence: ["ana": .online]))
        defer { harness.stop() }
        let issued = try await Self.reply(harness, "IssueToken", ["agent": "ana", "label": "ana's laptop"])
        guard case .string(let token)? = issued["token"], let id = issued["id"]?.int else { Issue.record("no token"); return }
        #expect(token.hasPrefix("sbt_") && token.count == 47)
        let tokens = ControlStore(pool: harness.routing.pool).tokens
        #expect(try await tokens.authenticate(token, now: Date())?.agentID == "ana")
        #expect(try await tokens.authenticate(token + "x", now: Date()) == nil)
        // Only the hash is stored; the token is nowhere in the database's rows, nor in the audit.
        let stored = try await harness.routing.pool.query("SELECT secret_hash, label FROM switchboard.api_tokens WHERE id = $1", [Int64(id)])
        #expect(try stored.first?.decode(0, as: PostgresBytes.self).bytes == APITokenSecret(text: token).hash)
        let leaks = try await harness.routing.pool.query("""
            SELECT (SELECT count(*) FROM switchboard.api_tokens k WHERE row_to_json(k)::text LIKE '%' || $1 || '%')
                 + (SELECT count(*) FROM switchboard.control_audit a WHERE row_to_json(a)::text LIKE '%' || $1 || '%')
            """, [String(token.dropFirst(4))]).first?.decode(0, as: Int.self)
        #expect(leaks == 0)
        #expect(await Self.outcome(harness, "IssueToken", ["agent": "nobody"], Self.admin) == "NotFound")

        guard case .array(let listed)? = try await Self.reply(harness, "ListTokens", ["agent": "ana"])["tokens"], case .object(let row)? = listed.first else {
            Issue.record("no tokens listed"); return
        }
        #expect(row["label"] == .string("ana's laptop"))
        #expect(row["token"] == nil)
        #expect(row["last_used_at"] != .null)
        _ = try await Self.reply(harness, "RevokeToken", ["id": .integer(id)])
        #expect(try await tokens.authenticate(token, now: Date()) == nil)
        #expect(await Self.outcome(harness, "RevokeToken", ["id": .integer(999)], Self.admin) == "NotFound")
        #expect(await Self.outcome(harness, "RevokeToken", ["id": "one"], Self.admin) == "InvalidArgument")
    }
}

enum ControlTestFailure: Error {
    case streamed
    case failed(String, [String: JSONValue])
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport

/// A supervisor oversees the agents and queues of their teams only, as the database says who is in
/// which team: on the control socket (admitted by Unix user, as a real connection is) and in the API.
@Suite("Team scoping: a supervisor of another team is refused, on both interfaces")
struct TeamScopingTests {
    typealias Parameters = [String: ConfigValue]

    /// Care: Ana and Ben serve `support`, Sam supervises. Sales: Cai serves `sales`, Sue supervises.
    static let agents = [
        AgentDefinition(id: "ana", name: "Ana", teams: ["care"], capacity: 3, queues: ["support"]),
        AgentDefinition(id: "ben", name: "Ben", teams: ["care"], capacity: 3, queues: ["support"]),
        AgentDefinition(id: "sam", name: "Sam", role: .supervisor, teams: ["care"], capacity: 0, queues: ["support"]),
        AgentDefinition(id: "cai", name: "Cai", teams: ["sales"], capacity: 3, queues: ["sales"]),
        AgentDefinition(id: "sue", name: "Sue", role: .supervisor, teams: ["sales"], capacity: 0, queues: ["sales"]),
    ]

    static var configuration: RoutingConfiguration {
        .testing(agents: agents, extraQueues: [QueueDefinition(name: "sales")],
                 rules: [RoutingRule(name: "sales", conditions: .init(keywords: ["price"]), actions: .init(queue: "sales")),
                         RoutingRule(name: "all", actions: .init(queue: "support"))])
    }

    static func error(_ harness: ControlHarness, _ method: String, _ parameters: Parameters, _ peer: ControlService.Peer) async -> String {
        let call = VarlinkCall(method: "io.switchboard.Control." + method, parameters: parameters)
        guard case .single(let reply, _) = await harness.service.respond(to: call, from: peer) else { return "streamed" }
        guard let error = reply.error else { return "ok" }
        return "\(error.split(separator: ".").last ?? ""): \(reply.parameters["reason"]?.string ?? "")"
    }

    @Test func onTheControlSocket() async throws {
        let access = ControlAccess(supervisors: .init(users: ["sam", "sue"]))
        let harness = try await ControlHarness.start("team_control", configuration: Self.configuration, access: access)
        defer { harness.stop() }
        for id in ["sam", "sue"] {
            let definition = try #require(Self.agents.first { $0.id == id })
            try await harness.routing.router.upsertAgent(definition, unixUser: id)
        }
        let support = try await ControlMethodsTests.reference(harness, try await harness.routing.customerWrites("447700900301", "Hello"))
        let sales = try await ControlMethodsTests.reference(harness, try await harness.routing.customerWrites("447700900302", "What is the price?"))
        let sue = await harness.service.admit(PeerCredentials(pid: 1, uid: 2001, gid: 2001, user: "sue", groups: []))
        let sam = await harness.service.admit(PeerCredentials(pid: 1, uid: 2002, gid: 2002, user: "sam", groups: []))
        let refusals: [(String, Parameters, String)] = [
            ("PauseQueue", ["name": "support"], "PermissionDenied: supervisors may pause only their teams' queues"),
            ("ResumeQueue", ["name": "support"], "PermissionDenied: supervisors may pause only their teams' queues"),
            ("SetPresence", ["id": "ana", "presence": "away"], "PermissionDenied: supervisors may change the presence of the agents of their teams only"),
            ("Drain", ["agent": "ana"], "PermissionDenied: supervisors may drain only the agents of their teams"),
            ("ShowAgent", ["id": "ana"], "PermissionDenied: supervisors may see only the agents of their teams"),
            ("Assign", ["reference": .string(sales), "agent": "ana"], "PermissionDenied: supervisors may assign only to the agents of their teams"),
            ("Assign", ["reference": .string(support), "agent": "cai"], "NotFound: "),
        ]
        for (method, parameters, expected) in refusals {
            #expect(await Self.error(harness, method, parameters, sue) == expected, "\(method) \(parameters)")
        }
        // Nothing changed: Ana is online, support is not paused, Ana holds the support ticket.
        #expect(await harness.routing.router.roster.agent("ana")?.current.presence == .online)
        #expect(await harness.routing.router.pausedQueueNames.isEmpty)
        // Her own team's: allowed.
        for (method, parameters) in [("PauseQueue", ["name": "sales"]), ("ResumeQueue", ["name": "sales"]), ("ShowAgent", ["id": "cai"]),
                                     ("Assign", ["reference": .string(sales), "agent": "cai"]), ("Drain", ["agent": "cai"])] as [(String, Parameters)] {
            #expect(await Self.error(harness, method, parameters, sue) == "ok", "\(method)")
        }
        #expect(await Self.error(harness, "SetPresence", ["id": "ben", "presence": "away"], sam) == "ok")
        let listed = try await ControlMethodsTests.reply(harness, "ListAgents", [:], sue)["agents"]?.array.compactMap { $0["id"]?.string }
        #expect(listed == ["cai", "sue"])
        let queues = try await ControlMethodsTests.reply(harness, "Status", [:], sue)["queues"]?.array.compactMap { $0["name"]?.string }
        #expect(queues == ["sales"])
    }

    /// On the control socket the role comes from the Unix identity, the scope from the record's
    /// teams: an agent record granted supervisor oversees its teams, an admin record granted
    /// supervisor does not see everything, and granted agent sees its own queues.
    @Test func theGrantedRoleDecidesTheScope() {
        let record = ControlStore.CallerRecord(id: "sam", role: .agent, ownQueues: ["support"], team: ["sam", "ana"], teamQueues: ["support", "returns"])
        #expect(record.caller(as: .supervisor) == Permissions.Caller(role: .supervisor, agentID: "sam", visibleQueues: ["support", "returns"], team: ["sam", "ana"]))
        #expect(record.caller(as: .agent) == Permissions.Caller(role: .agent, agentID: "sam", visibleQueues: ["support"], team: ["sam"]))
        var admin = record
        admin.role = .admin
        #expect(admin.caller(as: .supervisor) == record.caller(as: .supervisor))
        #expect(admin.caller == Permissions.Caller(role: .admin, agentID: "sam", visibleQueues: nil, team: nil))
    }

    @Test func inTheAPI() async throws {
        let harness = try await APIHarness.start("team_api", configuration: Self.configuration)
        defer { harness.stop() }
        let support = try await harness.reference(try await harness.routing.customerWrites("447700900311", "Hello"))
        let sales = try await harness.reference(try await harness.routing.customerWrites("447700900312", "What is the price?"))
        let sue = try await harness.token("sue"), sam = try await harness.token("sam")
        try await harness.application().test(.router) { client async throws in
            let toAna = try await harness.call(client, .post, "/api/v1/tickets/{ref}/assign", "/api/v1/tickets/\(sales)/assign", token: sue, body: ["agent": "ana"])
            #expect(toAna.status == 403)
            #expect(toAna.body?["error"]?["message"]?.string == "supervisors may assign only to the agents of their teams")
            #expect(try await harness.call(client, .post, "/api/v1/tickets/{ref}/assign", "/api/v1/tickets/\(support)/assign", token: sue,
                                           body: ["agent": "cai"]).status == 404)
            #expect(try await harness.call(client, .post, "/api/v1/tickets/{ref}/assign", "/api/v1/tickets/\(sales)/assign", token: sue,
                                           body: ["agent": "cai"]).status == 200)
            #expect(try await harness.call(client, .post, "/api/v1/tickets/{ref}/assign", "/api/v1/tickets/\(support)/assign", token: sam,
                                           body: ["agent": "ben"]).status == 200)
            let queues = try await harness.call(client, .get, "/api/v1/queues", "/api/v1/queues", token: sue).body?["queues"]?.array.compactMap { $0["name"]?.string }
            #expect(queues == ["sales"])
        }
        #expect(try await harness.routing.assignee(try await ticketID(harness, sales)) == "cai")
    }

    private func ticketID(_ harness: APIHarness, _ reference: String) async throws -> Int64 {
        try #require(try await harness.routing.pool.query("SELECT id FROM switchboard.tickets WHERE reference = $1", [reference]).first?.decode(0, as: Int64.self))
    }
}

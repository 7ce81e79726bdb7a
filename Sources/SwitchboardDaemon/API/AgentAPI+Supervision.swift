import Foundation
import Hummingbird
import JSON
import SwitchboardCore
import SwitchboardStore

/// The supervisors' levers over the API (the dashboard's buttons): pausing queues, draining agents,
/// setting their presence, assigning and transferring tickets. Each is decided by the same
/// `Permissions.decide` as the control socket's command and written to the same audit table
/// (`control_audit`, as Unix user `api:<agent>`, uid 4294967295: no Unix identity).
extension AgentAPI {
    func pauseQueue(_ caller: APICaller, _ name: String, paused: Bool) async throws -> Response {
        try await audited(caller, paused ? "PauseQueue" : "ResumeQueue", ["name": .string(name)]) {
            guard await router.queue(named: name) != nil else { throw APIFailure.notFound("queue", name) }
            try caller.require(.pauseQueue(name))
            guard try await router.setPaused(queue: name, paused, actor: caller.agentID) != nil else { throw APIFailure.notFound("queue", name) }
            guard let figures = try await QueueFigures.collect(router: router, store: store, only: [name]).first else { throw APIFailure.notFound("queue", name) }
            return APIResponse.json(APIRepresentation.queue(figures))
        }
    }

    func drain(_ caller: APICaller, _ agentID: String, _ request: Request) async throws -> Response {
        let body = try await APIBody.read(request)
        try body.only(["draining"])
        guard let draining = try body.optionalBool("draining") else { throw APIFailure.invalid("draining", "required: true or false") }
        return try await audited(caller, "Drain", ["agent": .string(agentID), "undo": .bool(!draining)]) {
            try requireVisible(caller, agentID)
            try caller.require(.drainAgent(agentID))
            guard try await router.setDraining(agent: agentID, draining, actor: caller.agentID) != nil else { throw APIFailure.notFound("agent", agentID) }
            return try await agent(agentID)
        }
    }

    func setPresence(_ caller: APICaller, of agentID: String, _ request: Request) async throws -> Response {
        let body = try await APIBody.read(request)
        try body.only(["presence"])
        let text = try body.choice("presence", AgentPresence.allCases.map(\.rawValue))
        guard let presence = AgentPresence(rawValue: text) else { throw APIFailure.invalid("presence", "unknown") }
        return try await audited(caller, "SetPresence", ["id": .string(agentID), "presence": .string(text)]) {
            try requireVisible(caller, agentID)
            try caller.require(.setPresence(agent: agentID))
            guard try await router.setPresence(agentID, to: presence, actor: caller.agentID) else { throw APIFailure.notFound("agent", agentID) }
            return try await agent(agentID)
        }
    }

    func transfer(_ caller: APICaller, _ reference: String, _ request: Request) async throws -> Response {
        let body = try await APIBody.read(request)
        try body.only(["queue"])
        let queue = try body.string("queue")
        return try await audited(caller, "Transfer", ["reference": .string(reference), "queue": .string(queue)]) {
            let id = try await ticketID(reference, caller) { .assignTicket($0, to: nil) }
            guard Permissions.canSee(caller.permissions, queue: queue) else { throw APIFailure.invalid("queue", "no queue \(queue) among yours") }
            switch try await router.transfer(id, toQueue: queue, actor: caller.agentID) {
            case .transferred, .alreadyThere: return try await current(id, reference)
            case .unknownQueue: throw APIFailure.invalid("queue", "no queue \(queue)")
            case .notMovable(let why): throw APIFailure.conflict("not_movable", "\(reference): \(why)")
            }
        }
    }

    /// An agent the caller may not see is not found (as the control socket's `ShowAgent` denies).
    func requireVisible(_ caller: APICaller, _ agentID: String) throws {
        guard router.roster.agent(agentID) != nil else { throw APIFailure.notFound("agent", agentID) }
        guard Permissions.canSee(caller.permissions, agent: agentID) else { throw APIFailure.notFound("agent", agentID) }
    }

    func agent(_ agentID: String) async throws -> Response {
        guard let agent = router.roster.agent(agentID) else { throw APIFailure.notFound("agent", agentID) }
        return APIResponse.json(APIRepresentation.agent(await agent.current))
    }

    /// Runs a lever and writes what it came to in the control socket's audit table (a failure to
    /// write is logged; the lever's answer stands).
    func audited(_ caller: APICaller, _ method: String, _ arguments: [String: JSONValue], _ body: () async throws -> Response) async throws -> Response {
        func audit(_ result: String, _ detail: String?) async {
            let entry = AuditEntry(unixUser: "api:\(caller.agentID)", uid: UInt32.max, role: caller.permissions.role.rawValue,
                                   method: "io.switchboard.Control.\(method)", arguments: JSONWriter.write(.object(arguments)), result: result, detail: detail)
            do { try await store.audit(entry, at: Date()) } catch {
                logger.error("API lever not audited", metadata: ["method": "\(method)", "agent": "\(caller.agentID)", "error": "\(error)"])
            }
        }
        do {
            let response = try await body()
            await audit("ok", nil)
            return response
        } catch let failure as APIFailure {
            await audit(failure.code == "forbidden" ? "PermissionDenied" : failure.code, failure.message)
            throw failure
        } catch {
            await audit("internal", nil)
            throw error
        }
    }
}

import JSON
import Foundation
import SwitchboardCore
import SwitchboardStore

/// The supervisors' levers: pausing queues, draining agents or the daemon, and tickets by hand —
/// assign, unassign, priority, notes.
extension ControlService {
    func pauseQueue(_ request: ControlRequest, _ paused: Bool) async throws -> [String: JSONValue] {
        let name = try request.string("name")
        try request.require(.pauseQueue(name))
        guard let changed = try await router.setPaused(queue: name, paused, actor: request.actor) else { throw ControlFailure.notFound("queue", name) }
        guard let queue = try await queues(only: name).first else { throw ControlFailure.notFound("queue", name) }
        return ["queue": queue, "changed": .bool(changed)]
    }

    func drain(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let agent = try request.optionalString("agent")
        let draining = !(try request.optionalBool("undo") ?? false)
        if let agent {
            try request.require(.drainAgent(agent))
            guard let changed = try await router.setDraining(agent: agent, draining, actor: request.actor) else { throw ControlFailure.notFound("agent", agent) }
            return ["draining": .bool(draining), "changed": .bool(changed)]
        }
        try request.require(.drainDaemon)
        let changed = await router.setDraining(draining)
        return ["draining": .bool(draining), "changed": .bool(changed)]
    }

    /// The ticket by reference, after the permission check (a ticket the caller may not see is not found).
    private func ticket(_ request: ControlRequest, for operation: (Permissions.TicketPlace) -> Permissions.Operation) async throws -> Int64 {
        let reference = try request.string("reference")
        guard let found = try await store.place(of: reference) else { throw ControlFailure.notFound("ticket", reference) }
        try request.require(operation(found.place), hiddenAs: ("ticket", reference))
        return found.id
    }

    func summary(_ id: Int64) async throws -> JSONValue {
        guard let row = try await store.ticket(id)?.summary else { throw ControlFailure.notFound("ticket", "#\(id)") }
        return Self.summaryValue(row)
    }

    func assign(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let agent = try request.string("agent")
        let id = try await ticket(request) { .assignTicket($0, to: agent) }
        switch try await router.assign(id, to: agent, actor: request.actor) {
        case .assigned, .alreadyHeld: return ["ticket": try await summary(id)]
        case .unknownAgent: throw ControlFailure.notFound("agent", agent)
        case .notAssignable(let why): throw ControlFailure.invalid("reference", why)
        }
    }

    func unassign(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let id = try await ticket(request) { .assignTicket($0, to: nil) }
        guard try await router.unassign(id, actor: request.actor) else { throw ControlFailure.invalid("reference", "the ticket has no agent") }
        return ["ticket": try await summary(id)]
    }

    func setPriority(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let text = try request.string("priority")
        guard let priority = WaitingOrder.Priority(name: text) else { throw ControlFailure.invalid("priority", "low, normal, high or urgent, got \"\(text)\"") }
        let id = try await ticket(request, for: Permissions.Operation.setPriority)
        let changed = try await router.setPriority(id, to: priority, actor: request.actor)
        let ticket = try await summary(id)
        if !changed, case .object(let fields) = ticket, fields["status"] == .string(TicketStatus.resolved.rawValue) {
            throw ControlFailure.invalid("reference", "the ticket is resolved")
        }
        return ["ticket": ticket, "changed": .bool(changed)]
    }

    func addNote(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let text = try request.string("text")
        guard text.count <= 10_000 else { throw ControlFailure.invalid("text", "at most 10,000 characters, got \(text.count)") }
        guard !text.allSatisfy(\.isWhitespace) else { throw ControlFailure.invalid("text", "must not be blank") }
        let id = try await ticket(request, for: Permissions.Operation.addNote)
        let author = request.caller.agentID ?? request.actor
        let now = Date()
        guard let noteID = try await store.addNote(ticketID: id, agentID: request.caller.agentID, author: author, body: text, now: now) else {
            throw ControlFailure.notFound("ticket", try request.string("reference"))
        }
        events.publish(DaemonEvent(kind: .noteAdded, ticketID: id, reference: try request.string("reference"), at: now, audience: [],
                                   details: ["author": author, "note": "\(noteID)", "text": text]))
        return ["note": Self.noteValue(.init(id: noteID, at: now, author: author, body: text))]
    }

    static func noteValue(_ note: TicketDetailRow.Note) -> JSONValue {
        ["id": .int(Int(note.id)), "at": .timestamp(note.at), "author": .string(note.author), "text": .string(note.body)]
    }
}

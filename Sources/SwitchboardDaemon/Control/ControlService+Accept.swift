import Foundation
import JSON
import SwitchboardCore
import SwitchboardStore

/// An agent's own levers on the shell: taking a waiting ticket and accepting an assigned one, as
/// the agent record that names the caller's Unix user. The same rules and answers as the API's
/// `…/take` and `…/accept` (a `Conflict` error where the API answers 409).
extension ControlService {
    /// The caller's agent, or why they have none.
    private func callerAgent(_ request: ControlRequest) throws -> String {
        guard let agent = request.caller.agentID else {
            throw ControlFailure.permissionDenied("Unix user \(request.credentials.user) acts as no agent; an admin links them to their agent record: "
                                                  + "switchboardctl update-agent AGENT --unix-user \(request.credentials.user)")
        }
        return agent
    }

    /// The ticket by reference when the caller knew of it (see `knewOf`); not found otherwise.
    private func knownTicket(_ request: ControlRequest) async throws -> (reference: String, id: Int64, place: Permissions.TicketPlace) {
        let reference = try request.string("reference")
        guard let found = try await store.place(of: reference), request.caller.knewOf(found.place) else { throw ControlFailure.notFound("ticket", reference) }
        return (reference, found.id, found.place)
    }

    func take(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let agent = try callerAgent(request)
        let ticket = try await knownTicket(request)
        let alreadyAssigned = ControlFailure.conflict("already_assigned", "\(ticket.reference) is already assigned to another agent")
        if let holder = ticket.place.assignee, holder != agent { throw alreadyAssigned }
        switch try await router.take(ticket.id, agentID: agent) {
        case .taken: return ["ticket": try await summary(ticket.id)]
        case .alreadyAssigned: throw alreadyAssigned
        case .notWaiting:
            throw ControlFailure.conflict("not_waiting", "\(ticket.reference) is not waiting for an agent (resolved, not routed yet, or being assigned right now)")
        case .notTheirQueue: throw ControlFailure.permissionDenied("\(ticket.reference) is not in a queue \(agent) serves")
        case .noRoom: throw ControlFailure.conflict("no_capacity", "\(agent) cannot take more now (offline, draining, or at capacity)")
        }
    }

    func accept(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let agent = try callerAgent(request)
        let ticket = try await knownTicket(request)
        let acceptedAt: Date, changed: Bool
        switch try await store.routing.accept(ticket.id, agentID: agent, actor: request.actor, now: Date()) {
        case .accepted(let at): (acceptedAt, changed) = (at, true)
        case .alreadyAccepted(let at): (acceptedAt, changed) = (at, false)
        case .notAssigned: throw ControlFailure.conflict("not_assigned", "\(ticket.reference) has no agent: take it first (switchboardctl take \(ticket.reference))")
        case .assignedToOther: throw ControlFailure.conflict("not_your_ticket", "\(ticket.reference) is assigned to another agent; only its agent accepts it")
        case .resolved: throw ControlFailure.conflict("ticket_resolved", "\(ticket.reference) is resolved")
        case .noSuchTicket: throw ControlFailure.notFound("ticket", ticket.reference)
        }
        if changed {
            events.publish(DaemonEvent(kind: .accepted, ticketID: ticket.id, reference: ticket.reference, queue: ticket.place.queue, agent: agent,
                                       at: acceptedAt, audience: [agent], details: ["agent": agent, "by": request.actor]))
        }
        return ["ticket": try await summary(ticket.id), "accepted_at": .timestamp(acceptedAt), "changed": .bool(changed)]
    }
}

import Foundation
import Hummingbird
import JSON
import SwitchboardCore
import SwitchboardStore

/// `POST /tickets/{ref}/accept`: the ticket's agent says they have it, which stops the queue's
/// acceptance timeout. Only the agent holding the ticket accepts it: acceptance is their word, so
/// a supervisor cannot give it for them (a supervisor who wants the ticket to stay assigns it by
/// hand, which sets no acceptance timeout). Accepting again answers as the first time.
extension AgentAPI {
    func accept(_ caller: APICaller, _ reference: String) async throws -> Response {
        guard let found = try await store.place(of: reference), caller.knewOf(found.place) else { throw APIFailure.notFound("ticket", reference) }
        let outcome = try await store.routing.accept(found.id, agentID: caller.agentID, actor: caller.agentID, now: timers.now)
        let acceptedAt: Date, changed: Bool
        switch outcome {
        case .accepted(let at): (acceptedAt, changed) = (at, true)
        case .alreadyAccepted(let at): (acceptedAt, changed) = (at, false)
        case .notAssigned: throw APIFailure.conflict("not_assigned", "\(reference) has no agent: take it first (POST …/take)")
        case .assignedToOther: throw APIFailure.conflict("not_your_ticket", "\(reference) is assigned to another agent; only its agent accepts it")
        case .resolved: throw APIFailure.conflict("ticket_resolved", "\(reference) is resolved")
        case .noSuchTicket: throw APIFailure.notFound("ticket", reference)
        }
        if changed {
            events.publish(DaemonEvent(kind: .accepted, ticketID: found.id, reference: reference, queue: found.place.queue, agent: caller.agentID,
                                       at: acceptedAt, audience: [caller.agentID], details: ["agent": caller.agentID, "by": caller.agentID]))
        }
        guard let detail = try await store.ticket(found.id) else { throw APIFailure.notFound("ticket", reference) }
        return APIResponse.json(["ticket": APIRepresentation.summary(detail.summary), "accepted_at": APIResponse.timestamp(acceptedAt), "changed": .bool(changed)])
    }
}

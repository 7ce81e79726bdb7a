import Foundation
import Hummingbird
import JSON
import SwitchboardCore
import SwitchboardStore

/// Canned responses for the reply box's `/shortcut` picker: those the caller may use, searched,
/// each with its body filled in for the ticket being answered (a preview: sending fills it in
/// again, from what is true then).
extension AgentAPI {
    /// `GET /canned-responses?q=&ticket=`: everyone's, the caller's teams', the caller's queues',
    /// and with `ticket` (one they may see) that ticket's queue's, with `preview`.
    func cannedResponses(_ caller: APICaller, _ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var place: Permissions.TicketPlace?, facts: ReplyFacts?
        if let reference = query.get("ticket") {
            guard let found = try await store.place(of: reference) else { throw APIFailure.notFound("ticket", reference) }
            try caller.require(.viewTicket(found.place), ticket: reference)
            place = found.place
            facts = try await store.replyFacts(ticketID: found.id)
        }
        let search = query.get("q")
        if let search, search.unicodeScalars.count > 100 { throw APIFailure.invalid("q", "at most 100 characters") }
        let found = try await store.cannedResponses.list(within: Permissions.cannedScope(caller.permissions, answering: place), matching: search, limit: 50)
        let name = await self.agentName(caller.agentID)
        return APIResponse.json(["canned_responses": .array(found.map { canned in
            guard case .object(var fields) = APIRepresentation.canned(canned) else { preconditionFailure("a canned response is an object") }
            fields["preview"] = facts.map { .string(canned.rendered(customerName: $0.customerName, agentName: name, reference: $0.reference)) } ?? .null
            return .object(fields)
        })])
    }

    /// An agent's name as customers read it (`{{agent.name}}`): their configured name.
    func agentName(_ id: String) async -> String? {
        await router.roster.agent(id)?.current.definition.name
    }

    /// A `{"type": "canned", "canned": 12}` reply's text: the response (one the caller may use on
    /// this ticket; any other is not found) with its variables filled in now.
    func cannedText(_ id: Int64, caller: APICaller, ticketID: Int64, place: Permissions.TicketPlace) async throws -> String {
        guard let canned = try await store.cannedResponses.response(id),
              Permissions.decide(caller.permissions, .useCannedResponse(canned.scope, ticket: place)) == .allowed else {
            throw APIFailure.notFound("canned response", "\(id)")
        }
        guard let facts = try await store.replyFacts(ticketID: ticketID) else { throw APIFailure.notFound("ticket", "#\(ticketID)") }
        return canned.rendered(customerName: facts.customerName, agentName: await agentName(caller.agentID), reference: facts.reference)
    }
}

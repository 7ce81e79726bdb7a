import Foundation
import JSON
import SwitchboardCore
import SwitchboardStore

/// A customer's tags from the shell (routing rules' `customerTags`): by one of their tickets, or by
/// WhatsApp number (recorded on their latest ticket); decided on that ticket, as the API's.
extension ControlService {
    func tagCustomer(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let adding = try request.optionalStrings("add") ?? [], removing = try request.optionalStrings("remove") ?? []
        for (name, tags) in [("add", adding), ("remove", removing)] {
            for tag in tags { if let problem = TagRule.problem(tag) { throw ControlFailure.invalid(name, problem) } }
        }
        guard !adding.isEmpty || !removing.isEmpty else { throw ControlFailure.invalid("add", "give tags to add or to remove") }
        let reference = try request.optionalString("reference"), waID = try request.optionalString("wa_id")
        let ticketID: Int64, shown: String
        switch (reference, waID) {
        case (let reference?, nil):
            guard let found = try await store.place(of: reference) else { throw ControlFailure.notFound("ticket", reference) }
            (ticketID, shown) = (found.id, reference)
        case (nil, let waID?):
            guard let found = try await store.customerTags.customer(waID: waID) else { throw ControlFailure.notFound("customer", waID) }
            ticketID = found.latestTicket
            shown = waID
        default:
            throw ControlFailure.invalid("reference", "give a ticket's reference or the customer's wa_id (one of them)")
        }
        guard let ticket = try await store.summary(ofTicket: ticketID) else { throw ControlFailure.notFound("ticket", shown) }
        let place = Permissions.TicketPlace(assignee: ticket.assignee, queue: ticket.queue)
        try request.require(.tagCustomer(place), hiddenAs: (reference == nil ? "customer" : "ticket", shown))
        guard let change = try await CustomerTagging.apply(store: store, events: events, ticketID: ticketID, reference: ticket.reference, place: place,
                                                           adding: adding, removing: removing, actor: request.actor, now: Date()) else {
            throw ControlFailure.notFound("ticket", shown)
        }
        return ["ticket": .string(ticket.reference), "tags": .strings(change.tags), "added": .strings(change.added), "removed": .strings(change.removed)]
    }
}

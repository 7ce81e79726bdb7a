import Foundation
import SwitchboardCore
import SwitchboardStore

/// Tags a ticket's customer for the agents' API and the control socket alike: the change and its
/// ticket events in one transaction (`CustomerTagStore`), then followers told (`customer_tags`), so
/// an open page shows the customer's tags without reading the ticket again.
enum CustomerTagging {
    static func apply(store: ControlStore, events: EventStream, ticketID: Int64, reference: String, place: Permissions.TicketPlace,
                      adding: [String], removing: [String], actor: String, now: Date) async throws -> CustomerTagStore.Change? {
        guard let customer = try await store.customerTags.customer(ofTicket: ticketID),
              let change = try await store.customerTags.change(customerID: customer, adding: adding, removing: removing, onTicket: ticketID,
                                                               actor: actor, reason: "by hand", now: now) else { return nil }
        if change.changed {
            events.publish(DaemonEvent(kind: .customerTags, ticketID: ticketID, reference: reference, queue: place.queue, agent: place.assignee, at: now,
                                       audience: [], details: ["tags": change.tags.joined(separator: ","), "added": change.added.joined(separator: ","),
                                                               "removed": change.removed.joined(separator: ","), "by": actor]))
        }
        return change
    }
}

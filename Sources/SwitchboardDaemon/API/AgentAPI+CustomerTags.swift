import Foundation
import Hummingbird
import JSON
import SwitchboardCore
import SwitchboardStore

/// The tags of a ticket's customer (routing rules' `customerTags`): who may change the ticket's
/// own tags may change its customer's (`Permissions.Operation.tagCustomer`).
extension AgentAPI {
    /// `POST /tickets/{ref}/customer/tags {"tag": "vip"}`.
    func tagCustomer(_ caller: APICaller, _ reference: String, _ request: Request) async throws -> Response {
        let body = try await APIBody.read(request)
        try body.only(["tag"])
        let tag = try body.string("tag")
        if let problem = TagRule.problem(tag) { throw APIFailure.invalid("tag", problem) }
        return try await changeCustomerTags(caller, reference, adding: [tag], removing: [])
    }

    /// `DELETE /tickets/{ref}/customer/tags/{tag}`: unchanged if the customer had no such tag.
    func untagCustomer(_ caller: APICaller, _ reference: String, _ request: Request) async throws -> Response {
        let encoded = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        guard let tag = encoded.removingPercentEncoding, !tag.isEmpty else { throw APIFailure.invalid("tag", "the tag to remove, percent-encoded") }
        return try await changeCustomerTags(caller, reference, adding: [], removing: [tag])
    }

    private func changeCustomerTags(_ caller: APICaller, _ reference: String, adding: [String], removing: [String]) async throws -> Response {
        guard let found = try await store.place(of: reference) else { throw APIFailure.notFound("ticket", reference) }
        try caller.require(.tagCustomer(found.place), ticket: reference)
        guard let change = try await CustomerTagging.apply(store: store, events: events, ticketID: found.id, reference: reference, place: found.place,
                                                           adding: adding, removing: removing, actor: caller.agentID, now: Date()) else {
            throw APIFailure.notFound("ticket", reference)
        }
        return APIResponse.json(["ticket": .string(reference), "customer_tags": APIResponse.strings(change.tags), "changed": .bool(change.changed)])
    }
}

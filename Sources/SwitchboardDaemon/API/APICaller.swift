import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardStore

/// Who is calling: the agent their bearer token was issued to, with their role and the queues they
/// may see, for `Permissions.decide` (the same function as the control socket's).
public struct APICaller: Sendable {
    public var agentID: String
    public var permissions: Permissions.Caller

    /// Throws `unauthorized` for a missing, unknown or revoked token, or a deactivated agent.
    static func authenticate(_ request: Request, store: ControlStore, now: Date) async throws -> APICaller {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { throw APIFailure.unauthorized }
        let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let found = try await store.tokens.authenticate(token, now: now), let record = try await store.agent(id: found.agentID) else {
            throw APIFailure.unauthorized
        }
        return APICaller(agentID: record.id, permissions: record.caller)
    }

    /// See `Permissions.Caller.knewOf`.
    func knewOf(_ place: Permissions.TicketPlace) -> Bool { permissions.knewOf(place) }

    /// Throws `forbidden`, or `not_found` for a ticket the caller may not know of.
    func require(_ operation: Permissions.Operation, ticket reference: String? = nil) throws {
        switch Permissions.decide(permissions, operation) {
        case .allowed: return
        case .denied(let reason): throw APIFailure.forbidden(reason)
        case .hidden: throw APIFailure.notFound("ticket", reference ?? "")
        }
    }
}

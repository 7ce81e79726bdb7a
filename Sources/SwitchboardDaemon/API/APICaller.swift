import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardStore

/// Who is calling: the agent their bearer token was issued to (or who signed in to the web inbox:
/// the session cookie), with their role and the queues they may see, for `Permissions.decide` (the
/// same function as the control socket's).
public struct APICaller: Sendable {
    public var agentID: String
    public var permissions: Permissions.Caller

    /// Throws `unauthorized` for a missing, unknown or revoked token or session, or a deactivated
    /// agent; `cross_site_request` for a change carried by the session cookie from another origin.
    static func authenticate(_ request: Request, store: ControlStore, now: Date, sessionIdle: TimeInterval) async throws -> APICaller {
        let agentID: String
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer ") else { throw APIFailure.unauthorized }
            let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
            guard let found = try await store.tokens.authenticate(token, now: now) else { throw APIFailure.unauthorized }
            agentID = found.agentID
        } else if let token = WebSignIn.sessionToken(request) {
            guard let found = try await store.signIn.authenticate(token, now: now, idle: sessionIdle) else { throw APIFailure.unauthorized }
            // The cookie goes with every request to this host: a change must come from its own pages.
            if ![.get, .head].contains(request.method), !WebSignIn.sameOrigin(request) { throw WebSignIn.crossSite }
            agentID = found.agentID
        } else {
            throw APIFailure.unauthorized
        }
        guard let record = try await store.agent(id: agentID) else { throw APIFailure.unauthorized }
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

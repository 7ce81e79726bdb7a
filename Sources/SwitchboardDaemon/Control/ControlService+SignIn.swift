import Foundation
import JSON
import NIOPosix
import SwitchboardCore
import SwitchboardStore

/// Passwords and sessions of the web inbox: set by an admin (the password never on a command line,
/// never in the audit), sessions listed and ended. Admin only.
extension ControlService {
    /// OWASP's floor for a password without multi-factor sign-in.
    static let shortestPassword = 12

    func setPassword(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let agent = try request.string("agent")
        let password = try request.string("password")
        try request.require(.manageAgents)
        guard password.count >= Self.shortestPassword else { throw ControlFailure.invalid("password", "at least \(Self.shortestPassword) characters") }
        guard password.utf8.count <= 1024 else { throw ControlFailure.invalid("password", "at most 1024 bytes") }
        // PBKDF2 at its cost takes a good part of a second: not on the cooperative pool.
        let hash = try await NIOThreadPool.singleton.runIfActive { PasswordHash.make(password) }
        guard let ended = try await store.signIn.setPassword(agentID: agent, hash: hash, by: request.actor, now: Date()) else {
            throw ControlFailure.notFound("agent", agent)
        }
        return ["agent": .string(agent), "sessions_ended": .int(ended)]
    }

    func listSessions(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let agent = try request.optionalString("agent")
        let ended = try request.optionalBool("ended") ?? false
        try request.require(.manageAgents)
        let sessions = try await store.signIn.sessions(of: agent, includingEnded: ended, now: Date(), idle: sessionIdle)
        return ["sessions": .array(sessions.map { session in
            ["id": .int(Int(session.id)), "agent": .string(session.agentID), "created_at": .timestamp(session.createdAt),
             "last_seen_at": .timestamp(session.lastSeenAt), "expires_at": .timestamp(session.expiresAt), "address": .optional(session.address),
             "user_agent": .optional(session.userAgent), "ended_at": .timestamp(session.endedAt), "ended_why": .optional(session.endedWhy)]
        })]
    }

    func endSessions(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let id = try request.optionalInt("id")
        let agent = try request.optionalString("agent")
        guard (id == nil) != (agent == nil) else { throw ControlFailure.invalid("id", "give either id (one session) or agent (all of theirs)") }
        try request.require(.manageAgents)
        let why = "revoked by \(request.actor)"
        if let id {
            guard try await store.signIn.endSession(Int64(id), why: why, now: Date()) else { throw ControlFailure.notFound("open session", "\(id)") }
            return ["ended": .int(1)]
        }
        return ["ended": .int(try await store.signIn.endSessions(of: agent ?? "", why: why, now: Date()))]
    }
}

import JSON
import Foundation
import SwitchboardCore
import SwitchboardStore

/// API tokens for the agents' HTTP API: issued (the text shown once), listed, revoked. Admin only.
extension ControlService {
    func issueToken(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let agent = try request.string("agent")
        let label = try request.optionalString("label")
        if let label, label.count > 200 { throw ControlFailure.invalid("label", "at most 200 characters") }
        try request.require(.manageAgents)
        guard let issued = try await store.tokens.issue(agentID: agent, label: label, by: request.actor, now: Date()) else {
            throw ControlFailure.notFound("agent", agent)
        }
        return ["id": .int(Int(issued.id)), "agent": .string(agent), "token": .string(issued.token.text)]
    }

    func revokeToken(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let id = try request.int("id")
        try request.require(.manageAgents)
        guard try await store.tokens.revoke(Int64(id), by: request.actor, now: Date()) != nil,
              let row = try await store.tokens.list(agentID: nil).first(where: { $0.id == Int64(id) }) else {
            throw ControlFailure.notFound("token", "\(id)")
        }
        return ["token": Self.tokenValue(row)]
    }

    func listTokens(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let agent = try request.optionalString("agent")
        try request.require(.manageAgents)
        return ["tokens": .array(try await store.tokens.list(agentID: agent).map(Self.tokenValue))]
    }

    static func tokenValue(_ row: APITokenRow) -> JSONValue {
        ["id": .int(Int(row.id)), "agent": .string(row.agentID), "label": .optional(row.label), "created_at": .timestamp(row.createdAt),
         "created_by": .string(row.createdBy), "revoked_at": .timestamp(row.revokedAt), "last_used_at": .timestamp(row.lastUsedAt)]
    }
}

import Foundation
import Postgres

/// API tokens of the agents' HTTP API: issued for one agent, stored as a hash, revocable.
public struct APITokenStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Issues a token for an active agent. Nil: no such active agent. The token's text is returned
    /// here and nowhere else.
    public func issue(agentID: String, label: String?, by actor: String, now: Date) async throws -> (id: Int64, token: APITokenSecret)? {
        let token = APITokenSecret.generate()
        let rows = try await pool.query("""
            INSERT INTO switchboard.api_tokens (agent_id, label, secret_hash, created_at, created_by)
            SELECT id, $2, $3, $4, $5 FROM switchboard.agents WHERE id = $1 AND active
            RETURNING id
            """, [agentID, label, PostgresBytes(token.hash), now, actor])
        guard let row = rows.first else { return nil }
        return (try row.decode(0), token)
    }

    /// Revokes a token. Nil: no such token; false: it was already revoked.
    public func revoke(_ id: Int64, by actor: String, now: Date) async throws -> (agentID: String, revoked: Bool)? {
        let rows = try await pool.query("""
            WITH u AS (UPDATE switchboard.api_tokens SET revoked_at = $2, revoked_by = $3 WHERE id = $1 AND revoked_at IS NULL RETURNING id)
            SELECT agent_id, EXISTS (SELECT 1 FROM u) FROM switchboard.api_tokens WHERE id = $1
            """, [id, now, actor])
        guard let row = rows.first else { return nil }
        return (try row.decode(0), try row.decode(1))
    }

    /// Tokens (never their text), newest first; one agent's or everyone's.
    public func list(agentID: String?) async throws -> [APITokenRow] {
        try await pool.query("""
            SELECT id, agent_id, label, created_at, created_by, revoked_at, last_used_at FROM switchboard.api_tokens
            WHERE $1::text IS NULL OR agent_id = $1 ORDER BY id DESC
            """, [agentID]).map { row in
            APITokenRow(id: try row.decode(0), agentID: try row.decode(1), label: try row.decode(2), createdAt: try row.decode(3),
                        createdBy: try row.decode(4), revokedAt: try row.decode(5), lastUsedAt: try row.decode(6))
        }
    }

    /// The token's id and agent when it is valid: known, not revoked, its agent active. Notes the use.
    public func authenticate(_ token: String, now: Date) async throws -> (tokenID: Int64, agentID: String)? {
        guard token.hasPrefix(APITokenSecret.prefix) else { return nil }
        let rows = try await pool.query("""
            UPDATE switchboard.api_tokens k SET last_used_at = $2 FROM switchboard.agents a
            WHERE k.secret_hash = $1 AND k.revoked_at IS NULL AND a.id = k.agent_id AND a.active
            RETURNING k.id, k.agent_id
            """, [PostgresBytes(APITokenSecret(text: token).hash), now])
        guard let row = rows.first else { return nil }
        return (try row.decode(0), try row.decode(1))
    }
}

/// A token as listed: who it is for, when it was made and last used, whether it was revoked.
public struct APITokenRow: Sendable, Equatable {
    public var id: Int64
    public var agentID: String
    public var label: String?
    public var createdAt: Date
    public var createdBy: String
    public var revokedAt: Date?
    public var lastUsedAt: Date?
}

import Foundation
import Postgres

/// Passwords and web sessions. A session is a random token in an `HttpOnly` cookie; only its
/// SHA-256 is stored, with when it ends: `idle` after it was last used, or at its absolute end.
public struct SignInStore: Sendable {
    let pool: PostgresPool
    /// Session tokens: told apart from API tokens (`sbt_`) at a glance.
    public static let sessionPrefix = "sbs_"

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    // MARK: Passwords

    /// Sets (or replaces) an active agent's password; their open sessions end. Returns how many
    /// ended; nil: no such active agent.
    @discardableResult
    public func setPassword(agentID: String, hash: PasswordHash, by actor: String, now: Date) async throws -> Int? {
        try await pool.withTransaction { transaction in
            let set = try await transaction.query("""
                INSERT INTO switchboard.agent_passwords (agent_id, hash, set_at, set_by)
                SELECT id, $2, $3, $4 FROM switchboard.agents WHERE id = $1 AND active
                ON CONFLICT (agent_id) DO UPDATE SET hash = EXCLUDED.hash, set_at = EXCLUDED.set_at, set_by = EXCLUDED.set_by
                RETURNING agent_id
                """, [agentID, hash.encoded, now, actor])
            guard !set.isEmpty else { return nil }
            return try await transaction.query("""
                UPDATE switchboard.web_sessions SET ended_at = $2, ended_why = 'password changed' WHERE agent_id = $1 AND ended_at IS NULL RETURNING id
                """, [agentID, now]).count
        }
    }

    /// The stored hash of an active agent's password; nil when the handle names no active agent
    /// with a password.
    public func password(of agentID: String) async throws -> PasswordHash? {
        try await pool.query("""
            SELECT p.hash FROM switchboard.agent_passwords p JOIN switchboard.agents a ON a.id = p.agent_id WHERE p.agent_id = $1 AND a.active
            """, [agentID]).first.map { PasswordHash(encoded: try $0.decode(0)) }
    }

    // MARK: Sessions

    /// Starts a session; returns its token (shown to the browser once, in the cookie).
    public func startSession(agentID: String, address: String?, userAgent: String?, now: Date, lifetime: TimeInterval) async throws -> APITokenSecret {
        let token = APITokenSecret.generate(prefix: Self.sessionPrefix)
        try await pool.query("""
            INSERT INTO switchboard.web_sessions (token_hash, agent_id, created_at, last_seen_at, expires_at, address, user_agent)
            VALUES ($1, $2, $3, $3, $4, $5, $6)
            """, [PostgresBytes(token.hash), agentID, now, now.addingTimeInterval(lifetime), address, userAgent.map { String($0.prefix(300)) }])
        return token
    }

    /// The session's id and agent while it lasts: not ended, used within `idle`, before its end,
    /// its agent active. Notes the use (at most once a minute, so that reading pages writes little).
    public func authenticate(_ token: String, now: Date, idle: TimeInterval) async throws -> (sessionID: Int64, agentID: String)? {
        guard token.hasPrefix(Self.sessionPrefix) else { return nil }
        let rows = try await pool.query("""
            WITH s AS (
                SELECT s.id, s.agent_id, s.last_seen_at FROM switchboard.web_sessions s JOIN switchboard.agents a ON a.id = s.agent_id AND a.active
                WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $2::timestamptz - make_interval(secs => $3)
            ),
            touched AS (
                UPDATE switchboard.web_sessions w SET last_seen_at = $2 FROM s
                WHERE w.id = s.id AND s.last_seen_at < $2::timestamptz - interval '1 minute'
            )
            SELECT id, agent_id FROM s
            """, [PostgresBytes(APITokenSecret(text: token).hash), now, idle])
        guard let row = rows.first else { return nil }
        return (try row.decode(0), try row.decode(1))
    }

    /// Ends a session (signed out, or revoked). False: no such open session.
    @discardableResult
    public func endSession(_ id: Int64, why: String, now: Date) async throws -> Bool {
        !(try await pool.query("UPDATE switchboard.web_sessions SET ended_at = $2, ended_why = $3 WHERE id = $1 AND ended_at IS NULL RETURNING id",
                               [id, now, why]).isEmpty)
    }

    /// Ends every open session of an agent; returns how many.
    public func endSessions(of agentID: String, why: String, now: Date) async throws -> Int {
        try await pool.query("UPDATE switchboard.web_sessions SET ended_at = $2, ended_why = $3 WHERE agent_id = $1 AND ended_at IS NULL RETURNING id",
                             [agentID, now, why]).count
    }

    /// A session as listed (never its token).
    public struct Session: Sendable, Equatable {
        public var id: Int64
        public var agentID: String
        public var createdAt: Date
        public var lastSeenAt: Date
        public var expiresAt: Date
        public var address: String?
        public var userAgent: String?
        public var endedAt: Date?
        public var endedWhy: String?
    }

    /// Sessions still open (and, with `ended`, those that ended), newest first; one agent's or all.
    public func sessions(of agentID: String?, includingEnded: Bool, now: Date, idle: TimeInterval) async throws -> [Session] {
        try await pool.query("""
            SELECT id, agent_id, created_at, last_seen_at, expires_at, address, user_agent, ended_at,
                   coalesce(ended_why, CASE WHEN expires_at <= $2 THEN 'expired'
                                            WHEN last_seen_at <= $2::timestamptz - make_interval(secs => $3) THEN 'idle' END)
            FROM switchboard.web_sessions
            WHERE ($1::text IS NULL OR agent_id = $1)
              AND ($4 OR (ended_at IS NULL AND expires_at > $2 AND last_seen_at > $2::timestamptz - make_interval(secs => $3)))
            ORDER BY id DESC LIMIT 1000
            """, [agentID, now, idle, includingEnded]).map { row in
            Session(id: try row.decode(0), agentID: try row.decode(1), createdAt: try row.decode(2), lastSeenAt: try row.decode(3), expiresAt: try row.decode(4),
                    address: try row.decode(5), userAgent: try row.decode(6), endedAt: try row.decode(7), endedWhy: try row.decode(8))
        }
    }
}

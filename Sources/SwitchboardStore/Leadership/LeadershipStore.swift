import Foundation
import Postgres

/// The lease row of migration 0014: claim, renew, release, and who holds it. Every duration comes
/// back as seconds from the database's `now()`, so no daemon's clock is compared with another's.
public struct LeadershipStore: Sendable {
    public enum Claim: Sendable, Equatable {
        /// This instance leads under `epoch` for `remaining` more seconds unless it renews.
        case claimed(epoch: Int64, remaining: TimeInterval)
        /// `holder` leads for `remaining` more seconds.
        case refused(holder: String?, remaining: TimeInterval)
    }

    /// The lease as the database holds it.
    public struct Lease: Sendable, Equatable {
        public var epoch: Int64
        public var node: String?
        public var address: String?
        public var since: Date?
        /// Seconds until it runs out; negative once it has.
        public var remaining: TimeInterval
        public var relayKey: String?

        public var isHeld: Bool { node != nil && remaining > 0 }
    }

    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Takes the lease if it has run out, or is this node's own (a restart), raising the epoch.
    /// `relayKey` is stored only if none is yet.
    public func claim(node: String, address: String?, lease: TimeInterval, relayKey: String) async throws -> Claim {
        let rows = try await pool.query("""
            UPDATE switchboard.leadership
               SET epoch = epoch + 1, node = $1, address = $2, since = now(), renewed_at = now(),
                   expires_at = now() + make_interval(secs => $3), relay_key = coalesce(relay_key, $4)
             WHERE expires_at <= now() OR node = $1
            RETURNING epoch, extract(epoch FROM expires_at - now())::float8
            """, [node, address, lease, relayKey])
        if let row = rows.first {
            return .claimed(epoch: try row.decode(0, as: Int64.self), remaining: try row.decode(1, as: Double.self))
        }
        let lease = try await current()
        return .refused(holder: lease.node, remaining: lease.remaining)
    }

    /// Ends the sessions of every earlier epoch, waiting up to `wait` for each to be gone, so that
    /// none of their transactions commits after the new leader read the state. Returns how many
    /// were ended and how many are still there (the caller asks again until none is).
    public func endSessions(before epoch: Int64, wait: TimeInterval = 5) async throws -> (ended: Int, remaining: Int) {
        let rows = try await pool.query("""
            WITH former AS (
                SELECT pg_terminate_backend(pid, $2) AS ended FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND application_name ~ '^switchboardd leader epoch [0-9]+$'
                   AND substring(application_name FROM 27)::bigint < $1)
            SELECT count(*) FILTER (WHERE ended), count(*) FILTER (WHERE NOT ended) FROM former
            """, [epoch, Int64(wait * 1000)])
        guard let row = rows.first else { return (0, 0) }
        return (Int(try row.decode(0, as: Int64.self)), Int(try row.decode(1, as: Int64.self)))
    }

    /// Extends the lease of `epoch`; nil when the lease is no longer this instance's.
    public func renew(epoch: Int64, node: String, lease: TimeInterval) async throws -> TimeInterval? {
        let rows = try await pool.query("""
            UPDATE switchboard.leadership SET renewed_at = now(), expires_at = now() + make_interval(secs => $3)
             WHERE epoch = $1 AND node = $2
            RETURNING extract(epoch FROM expires_at - now())::float8
            """, [epoch, node, lease])
        return try rows.first?.decode(0, as: Double.self)
    }

    /// Gives the lease up (a graceful stop), so a standby claims it at its next look.
    public func release(epoch: Int64) async throws {
        try await pool.query("UPDATE switchboard.leadership SET expires_at = 'epoch' WHERE epoch = $1", [epoch])
    }

    public func current() async throws -> Lease {
        let rows = try await pool.query("""
            SELECT epoch, node, address, since, extract(epoch FROM expires_at - now())::float8, relay_key FROM switchboard.leadership
            """)
        guard let row = rows.first else { throw PostgresError.unexpected("switchboard.leadership has no row") }
        let remaining = try row.decode(4, as: Double?.self) ?? -.infinity
        return Lease(epoch: try row.decode(0, as: Int64.self), node: try row.decode(1, as: String?.self), address: try row.decode(2, as: String?.self),
                     since: try row.decode(3, as: Date?.self), remaining: remaining, relayKey: try row.decode(5, as: String?.self))
    }
}

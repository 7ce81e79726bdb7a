import Foundation
import Postgres

/// The raw webhook bodies kept beside what was parsed from them (for replay and audit).
public struct RawWebhookStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Deletes the bodies received more than `days` ago; returns how many.
    public func purge(olderThanDays days: Double) async throws -> Int {
        let deleted = try await pool.query(
            "DELETE FROM switchboard.webhook_deliveries WHERE received_at < now() - make_interval(secs => $1)",
            [days * 86400]
        )
        return deleted.affectedRows
    }
}

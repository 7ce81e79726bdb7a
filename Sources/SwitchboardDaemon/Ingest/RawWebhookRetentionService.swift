import Logging
import Postgres
import ServiceLifecycle

/// Deletes raw webhook bodies past their retention, once an hour, until shutdown.
public struct RawWebhookRetentionService: Service {
    let pool: PostgresPool
    let retentionDays: Double
    let logger: Logger

    public init(pool: PostgresPool, retentionDays: Double, logger: Logger) {
        self.pool = pool
        self.retentionDays = retentionDays
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                await purge()
                try await Task.sleep(for: .seconds(3600))
            }
        }
    }

    /// Deletes what is past retention now; failures are logged and retried on the next round.
    public func purge() async {
        do {
            let deleted = try await pool.query(
                "DELETE FROM switchboard.webhook_deliveries WHERE received_at < now() - make_interval(secs => $1)",
                [retentionDays * 86400]
            )
            if deleted.affectedRows > 0 {
                logger.info("raw webhook bodies past retention deleted", metadata: ["count": "\(deleted.affectedRows)"])
            }
        } catch {
            logger.warning("could not delete old raw webhook bodies; will try again", metadata: ["error": "\(error)"])
        }
    }
}

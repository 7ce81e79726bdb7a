import Logging
import ServiceLifecycle
import SwitchboardStore

/// Deletes raw webhook bodies past their retention, once an hour, until shutdown.
public struct RawWebhookRetentionService: Service {
    let store: RawWebhookStore
    let retentionDays: Double
    let logger: Logger

    public init(store: RawWebhookStore, retentionDays: Double, logger: Logger) {
        self.store = store
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
            let deleted = try await store.purge(olderThanDays: retentionDays)
            if deleted > 0 {
                logger.info("raw webhook bodies past retention deleted", metadata: ["count": "\(deleted)"])
            }
        } catch {
            logger.warning("could not delete old raw webhook bodies; will try again", metadata: ["error": "\(error)"])
        }
    }
}

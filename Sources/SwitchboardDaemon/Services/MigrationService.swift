import Logging
import ServiceLifecycle
import SwitchboardStore

/// Brings the schema to head once the database is up, then marks readiness (what the services
/// that use the database wait for). Its work is done when `run` returns; the group goes on.
public struct MigrationService: Service {
    let database: DatabaseService
    let readiness: Readiness
    let onStatus: @Sendable (String) -> Void
    let logger: Logger

    public init(database: DatabaseService, readiness: Readiness, onStatus: @escaping @Sendable (String) -> Void = { _ in }, logger: Logger) {
        self.database = database
        self.readiness = readiness
        self.onStatus = onStatus
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await readiness.wait(for: [.database])
                onStatus("starting: migrations")
                let applied: [Migration]
                do {
                    applied = try await database.migrate()
                } catch where Task.isCancelled {
                    // A shutdown during the migrations (the pool answers it as its own error).
                    throw CancellationError()
                }
                logger.info("migrations at head", metadata: ["applied_now": "\(applied.count)", "known": "\(database.migrations.count)"])
                readiness.mark(.migrations)
            }
        } catch is CancellationError {
            return
        }
    }
}

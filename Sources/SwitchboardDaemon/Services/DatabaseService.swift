import Logging
import Postgres
import ServiceLifecycle
import SwitchboardStore

/// The database the daemon uses: the embedded cluster or an external server, the pool over it, and
/// the migrations. Started before the other services; stopped after them (it is first in the group).
public final class DatabaseService: Service, Sendable {
    public let pool: PostgresPool
    public let embedded: EmbeddedPostgres?
    public let migrations: [Migration]
    private let logger: Logger

    private init(pool: PostgresPool, embedded: EmbeddedPostgres?, migrations: [Migration], logger: Logger) {
        self.pool = pool
        self.embedded = embedded
        self.migrations = migrations
        self.logger = logger
    }

    /// A one-line description for STATUS= and logs.
    public var summary: String {
        if let embedded { return "embedded PostgreSQL in \(embedded.configuration.directory)" }
        return "PostgreSQL \(pool.configuration.connection)"
    }

    /// Starts the embedded cluster if the configuration names no database, and opens the pool.
    /// Waits, with back-off, for an external server that is not up yet.
    public static func start(_ configuration: SwitchboardConfiguration, logger: Logger, onWaiting: @Sendable (String) -> Void = { _ in }) async throws -> DatabaseService {
        let migrations = try MigrationCatalog.bundled()
        var embedded: EmbeddedPostgres?
        let connectionString: String
        var password: String?
        if let url = configuration.database.url {
            connectionString = url
            if let reference = configuration.database.password {
                password = try SecretReader().read(reference)
            }
        } else {
            var embeddedConfiguration = EmbeddedPostgres.Configuration(directory: configuration.stateDirectory + "/postgres")
            embeddedConfiguration.binDirectory = configuration.database.embedded.binDirectory
            embeddedConfiguration.unprivilegedUser = configuration.database.embedded.runAsUser
            let cluster = EmbeddedPostgres(configuration: embeddedConfiguration, logger: logger)
            try await cluster.start()
            embedded = cluster
            connectionString = cluster.connectionString()
        }
        let pool = PostgresPool(
            configuration: .init(
                connection: .init(connectionString: connectionString, password: password, connectTimeoutSeconds: configuration.database.connectTimeoutSeconds),
                size: configuration.database.poolSize,
                acquireTimeout: .milliseconds(Int64(configuration.database.acquireTimeoutSeconds * 1000))
            ),
            logger: logger
        )
        var delay = Duration.milliseconds(200)
        while true {
            do {
                try await pool.query("SELECT 1")
                break
            } catch let error as PostgresError where error.isConnectionProblem && embedded == nil {
                logger.warning("waiting for the database", metadata: ["error": "\(error)"])
                onWaiting("waiting for the database: \(error)")
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        return DatabaseService(pool: pool, embedded: embedded, migrations: migrations, logger: logger)
    }

    /// Applies pending migrations (under the advisory lock).
    public func migrate() async throws -> [Migration] {
        try await MigrationRunner(pool: pool, migrations: migrations, logger: logger).migrate()
    }

    public func migrationStatus() async throws -> MigrationRunner.Status {
        try await MigrationRunner(pool: pool, migrations: migrations, logger: logger).status()
    }

    /// Waits for shutdown, then closes the pool and stops the embedded cluster.
    public func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }

    public func stop() async {
        await pool.close()
        await embedded?.stop()
    }
}

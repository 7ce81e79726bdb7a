import Foundation
import Logging
import Postgres
import Synchronization
import ServiceLifecycle
import SwitchboardStore

/// The database the daemon uses: the embedded cluster or an external server, the pool over it, and
/// the migrations. First in the service group: it starts the server (or waits for an external
/// one), marks readiness, keeps an embedded server alive, and is the last to stop.
public final class DatabaseService: Service, Sendable {
    public let pool: PostgresPool
    public let embedded: EmbeddedPostgres?
    public let migrations: [Migration]
    private let readiness: Readiness?
    private let onWaiting: @Sendable (String) -> Void
    private let logger: Logger
    /// The embedded server's health, for `status` and `/metrics`.
    private let health = Mutex(EmbeddedServerHealth())
    /// Whether this service started the embedded server (and so must stop it): a server it could
    /// not start may be another daemon's.
    private let startedEmbedded = Mutex(false)

    /// The pool over the configured server, or over the embedded cluster (in the state directory)
    /// when the configuration names no database. Nothing is started yet: see `start` and `run`.
    public init(_ configuration: SwitchboardConfiguration, readiness: Readiness? = nil, sessionSetup: SessionSetup? = nil, logger: Logger,
                onWaiting: @escaping @Sendable (String) -> Void = { _ in }) throws {
        migrations = try MigrationCatalog.bundled()
        let connectionString: String
        var password: String?
        if let url = configuration.database.url {
            connectionString = url
            if let reference = configuration.database.password {
                password = try SecretReader().read(reference)
            }
            embedded = nil
        } else {
            var embeddedConfiguration = EmbeddedPostgres.Configuration(directory: configuration.stateDirectory + "/postgres")
            embeddedConfiguration.binDirectory = configuration.database.embedded.binDirectory
            embeddedConfiguration.unprivilegedUser = configuration.database.embedded.runAsUser
            let cluster = EmbeddedPostgres(configuration: embeddedConfiguration, logger: logger)
            embedded = cluster
            connectionString = cluster.connectionString()
        }
        pool = PostgresPool(
            configuration: .init(
                connection: .init(connectionString: connectionString, password: password, connectTimeoutSeconds: configuration.database.connectTimeoutSeconds,
                                  sessionSetup: sessionSetup),
                size: configuration.database.poolSize,
                acquireTimeout: .milliseconds(Int64(configuration.database.acquireTimeoutSeconds * 1000))
            ),
            logger: logger
        )
        self.readiness = readiness
        self.onWaiting = onWaiting
        self.logger = logger
    }

    /// A one-line description for STATUS= and logs.
    public var summary: String {
        if let embedded { return "embedded PostgreSQL in \(embedded.configuration.directory)" }
        return "PostgreSQL \(pool.configuration.connection)"
    }

    /// Starts the embedded cluster, if it is the database, and returns once the database answers:
    /// an external server that is not up yet is waited for, with back-off.
    public func start() async throws {
        if let embedded {
            try await embedded.start()
            startedEmbedded.withLock { $0 = true }
        }
        var delay = Duration.milliseconds(200)
        while true {
            do {
                try await pool.query("SELECT 1")
                return
            } catch let error as PostgresError where error.isConnectionProblem && embedded == nil {
                logger.warning("waiting for the database", metadata: ["error": "\(error)"])
                onWaiting("waiting for the database: \(error)")
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// Starts the database and marks readiness; keeps an embedded server running until shutdown
    /// (see `supervise`); then closes the pool and stops the embedded cluster. A shutdown during
    /// the start stops what was started.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                do {
                    try await self.start()
                } catch where Task.isCancelled {
                    // A shutdown while starting (the pool and the launcher answer it as their own errors).
                    throw CancellationError()
                }
            }
        } catch is CancellationError {
            await stop()
            return
        } catch {
            await stop()
            throw error
        }
        readiness?.mark(.database)
        if let embedded {
            await cancelWhenGracefulShutdown { await self.supervise(embedded) }
        }
        try? await gracefulShutdown()
        await stop()
    }

    /// Applies pending migrations (under the advisory lock).
    public func migrate() async throws -> [Migration] {
        try await MigrationRunner(pool: pool, migrations: migrations, logger: logger).migrate()
    }

    public func migrationStatus() async throws -> MigrationRunner.Status {
        try await MigrationRunner(pool: pool, migrations: migrations, logger: logger).status()
    }

    /// The embedded server is the daemon's to keep alive: when it dies (killed, out of memory, a
    /// crash), it is started again with back-off (1 s doubling to 30 s), each attempt logged, and
    /// its state shown by `status` and `/metrics`. Meanwhile webhooks get 503 and Meta retries;
    /// the pool reconnects by itself once the server accepts connections again.
    func supervise(_ embedded: EmbeddedPostgres) async {
        while !Task.isCancelled {
            guard let exit = await embedded.exited(), !Task.isCancelled else { return }
            health.withLock { $0.serverDied(exit, at: Date()) }
            logger.error("embedded PostgreSQL exited; starting it again", metadata: ["exit": "\(exit)", "directory": "\(embedded.configuration.directory)"])
            var delay = Duration.seconds(1)
            while !Task.isCancelled {
                do {
                    try await embedded.restart()
                    let restarts = health.withLock { state -> Int in
                        state.serverRestarted()
                        return state.restarts
                    }
                    logger.notice("embedded PostgreSQL is back", metadata: ["restarts": "\(restarts)"])
                    break
                } catch {
                    health.withLock { $0.attemptFailed("\(error)") }
                    logger.error("embedded PostgreSQL did not start again; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(30))
                }
            }
        }
    }

    /// What `status` and `/metrics` show of the database.
    public var status: DatabaseStatus {
        let usage = pool.usage
        return DatabaseStatus(embedded: embeddedHealth, poolInUse: usage.leased, poolSize: usage.size)
    }

    /// The embedded server's health (nil with an external database).
    public var embeddedHealth: EmbeddedServerHealth? {
        embedded == nil ? nil : health.withLock { $0 }
    }

    /// Closes the pool and stops the embedded server if this service started it.
    public func stop() async {
        await pool.close()
        if startedEmbedded.withLock({ $0 }) { await embedded?.stop() }
    }
}

/// The database as the daemon sees it.
public struct DatabaseStatus: Sendable, Equatable {
    /// Nil with an external server.
    public var embedded: EmbeddedServerHealth?
    public var poolInUse: Int
    public var poolSize: Int

    public init(embedded: EmbeddedServerHealth?, poolInUse: Int, poolSize: Int) {
        self.embedded = embedded
        self.poolInUse = poolInUse
        self.poolSize = poolSize
    }
}

/// The embedded server as the daemon's supervisor sees it.
public struct EmbeddedServerHealth: Sendable, Equatable {
    /// Whether it runs (false from its death until it accepts connections again).
    public private(set) var running = true
    /// How many times it was started again after dying.
    public private(set) var restarts = 0
    /// How it last exited, and when.
    public private(set) var lastExit: String?
    public private(set) var lastExitAt: Date?
    /// Why the last attempt to start it again failed (cleared once it runs).
    public private(set) var lastAttemptError: String?

    mutating func serverDied(_ exit: String, at date: Date) {
        running = false
        lastExit = exit
        lastExitAt = date
    }

    mutating func serverRestarted() {
        running = true
        restarts += 1
        lastAttemptError = nil
    }

    mutating func attemptFailed(_ error: String) {
        lastAttemptError = error
    }
}

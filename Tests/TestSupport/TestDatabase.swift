import Foundation
import Logging
import Postgres
import Synchronization

/// One embedded PostgreSQL cluster for the whole test run, and a fresh database per suite.
///
/// The cluster lives in a short directory under /tmp (Unix socket paths are limited to 107 bytes);
/// directories of earlier runs whose process is gone are removed first. The kernel stops the server
/// when the test process exits.
public enum TestDatabase {
    private static let counter = Atomic<Int>(0)

    public static let cluster: Task<EmbeddedPostgres, any Error> = Task {
        removeStaleClusters()
        let directory = "/tmp/sbtest-\(getpid())"
        let cluster = EmbeddedPostgres(configuration: fastSettings(directory: directory), logger: quietLogger)
        try await cluster.start()
        return cluster
    }

    /// Settings that trade durability for speed: test data need not survive a power cut.
    public static func fastSettings(directory: String) -> EmbeddedPostgres.Configuration {
        var configuration = EmbeddedPostgres.Configuration(directory: directory)
        configuration.settings = ["fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "300"]
        return configuration
    }

    /// Creates a new, empty database and returns its connection string.
    ///
    /// When the cluster comes up every suite asks for its database at once. Created one at a time
    /// (the server runs one `CREATE DATABASE` at a time anyway), they do not all connect at once:
    /// on two busy cores a hundred backends starting together took longer than libpq's 5 s to
    /// answer, and suites failed with "timeout expired". Connections still wait up to 30 s.
    public static func freshDatabase(_ label: String) async throws -> String {
        let cluster = try await cluster.value
        let safe = label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let name = "t_\(String(safe).prefix(40))_\(counter.add(1, ordering: .relaxed).newValue)"
        try await oneAtATime { try await cluster.createDatabaseIfMissing(name, connectTimeoutSeconds: 30) }
        return cluster.connectionString(database: name) + " connect_timeout=30"
    }

    /// The last database creation asked for; each waits for the one before it.
    private static let lastCreation = Mutex<Task<Void, any Error>?>(nil)

    private static func oneAtATime(_ work: @escaping @Sendable () async throws -> Void) async throws {
        let mine = lastCreation.withLock { last -> Task<Void, any Error> in
            let previous = last
            let mine = Task {
                _ = await previous?.result
                try await work()
            }
            last = mine
            return mine
        }
        try await mine.value
    }

    /// A pool on a fresh database.
    public static func freshPool(_ label: String, size: Int = 4, acquireTimeout: Duration = .seconds(10)) async throws -> PostgresPool {
        let connectionString = try await freshDatabase(label)
        return PostgresPool(configuration: .init(connection: .init(connectionString: connectionString), size: size, acquireTimeout: acquireTimeout), logger: quietLogger)
    }

    public static let quietLogger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    private static func removeStaleClusters() {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: "/tmp") else { return }
        for entry in entries where entry.hasPrefix("sbtest-") {
            guard let pid = Int32(entry.dropFirst("sbtest-".count)) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? fm.removeItem(atPath: "/tmp/\(entry)")
            }
        }
    }
}

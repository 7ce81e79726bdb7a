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

    /// Creates a new, empty database and returns its connection string. Its connections wait up to
    /// 30 s to be established: when the cluster comes up, every suite connects at once, and on two
    /// busy cores a backend's start took longer than the usual 5 s.
    public static func freshDatabase(_ label: String) async throws -> String {
        let cluster = try await cluster.value
        let safe = label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let name = "t_\(String(safe).prefix(40))_\(counter.add(1, ordering: .relaxed).newValue)"
        try await cluster.createDatabaseIfMissing(name)
        return cluster.connectionString(database: name) + " connect_timeout=30"
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

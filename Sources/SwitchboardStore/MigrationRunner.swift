import Logging
import Postgres

/// Applies migrations in order, each in its own transaction, under an advisory lock so that daemons
/// starting together apply each one exactly once.
public struct MigrationRunner: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// An applied migration's file changed: the database and the code no longer agree.
        case checksumMismatch(fileName: String)
        /// The database has a migration this build does not know: a newer Switchboard migrated it.
        case unknownAppliedMigration(version: Int, fileName: String)
        case failed(fileName: String, error: String)

        public var description: String {
            switch self {
            case .checksumMismatch(let name):
                return "migration \(name) was changed after it was applied; restore the released file and put the change in a new migration"
            case .unknownAppliedMigration(let version, let name):
                return "the database has migration \(name) (version \(version)), which this build does not know: it was migrated by a newer Switchboard"
            case .failed(let name, let error):
                return "migration \(name) failed: \(error)"
            }
        }
    }

    public struct Status: Sendable, Equatable {
        public var applied: [Int]
        public var pending: [Migration]
        public var isAtHead: Bool { pending.isEmpty }
    }

    /// The advisory lock key: "SWBDMIGR" in ASCII.
    static let lockKey: Int = 0x5357_4244_4D49_4752

    let pool: PostgresPool
    let migrations: [Migration]
    let logger: Logger

    public init(pool: PostgresPool, migrations: [Migration], logger: Logger) {
        self.pool = pool
        self.migrations = migrations
        self.logger = logger
    }

    /// What is applied and what is pending; throws if the history and the files disagree.
    public func status() async throws -> Status {
        try await pool.withConnection { connection in try await status(on: connection) }
    }

    /// Applies every pending migration; returns those this call applied.
    @discardableResult
    public func migrate() async throws -> [Migration] {
        try await pool.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock($1)", [Self.lockKey])
            do {
                let applied = try await applyPending(on: connection)
                try await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                return applied
            } catch {
                await connection.rollbackIfInTransaction()
                _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                throw error
            }
        }
    }

    private func applyPending(on connection: PostgresConnection) async throws -> [Migration] {
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS public.schema_migrations (
                version integer PRIMARY KEY,
                file_name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let pending = try await status(on: connection).pending
        for migration in pending {
            logger.info("applying migration", metadata: ["migration": "\(migration.fileName)"])
            do {
                try await connection.query("BEGIN")
                try await connection.simpleQuery(migration.sql)
                try await connection.query(
                    "INSERT INTO public.schema_migrations (version, file_name, checksum) VALUES ($1, $2, $3)",
                    [migration.version, migration.fileName, migration.checksum]
                )
                try await connection.query("COMMIT")
            } catch let error as PostgresError {
                await connection.rollbackIfInTransaction()
                throw Failure.failed(fileName: migration.fileName, error: "\(error)")
            }
        }
        return pending
    }

    private func status(on connection: PostgresConnection) async throws -> Status {
        let exists = try await connection.query("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
        guard try exists.first?.decode(0, as: Bool.self) == true else {
            return Status(applied: [], pending: migrations)
        }
        let rows = try await connection.query("SELECT version, file_name, checksum FROM public.schema_migrations ORDER BY version")
        var applied: [Int] = []
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for row in rows {
            let version = try row.decode(0, as: Int.self)
            let fileName = try row.decode(1, as: String.self)
            guard let migration = known[version] else {
                throw Failure.unknownAppliedMigration(version: version, fileName: fileName)
            }
            guard migration.accepts(recordedChecksum: try row.decode(2, as: String.self)) else {
                throw Failure.checksumMismatch(fileName: migration.fileName)
            }
            applied.append(version)
        }
        let appliedSet = Set(applied)
        return Status(applied: applied, pending: migrations.filter { !appliedSet.contains($0.version) })
    }
}

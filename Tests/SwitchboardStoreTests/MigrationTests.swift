import Foundation
import Logging
import Postgres
import SwitchboardStore
import Testing
import TestSupport

@Suite("Migrations")
struct MigrationTests {
    let logger = TestDatabase.quietLogger

    @Test func bundledMigrationsApplyOnceAndCreateTheSchemas() async throws {
        let pool = try await TestDatabase.freshPool("migrate_once")
        let migrations = try MigrationCatalog.bundled()
        #expect(migrations.first?.fileName == "0001_schemas.sql")
        let runner = MigrationRunner(pool: pool, migrations: migrations, logger: logger)
        #expect(try await runner.status().pending.count == migrations.count)

        let first = try await runner.migrate()
        #expect(first.map(\.fileName) == migrations.map(\.fileName))
        let second = try await runner.migrate()
        #expect(second.isEmpty)
        #expect(try await runner.status().isAtHead)

        let recorded = try await pool.query("SELECT version, file_name, checksum FROM public.schema_migrations ORDER BY version")
        #expect(recorded.count == migrations.count)
        #expect(try recorded.first?.decode(2, as: String.self) == migrations.first?.checksum)
        let schemas = try await pool.query("SELECT nspname FROM pg_namespace WHERE nspname IN ('switchboard', 'bi') ORDER BY 1")
        #expect(try schemas.map { try $0.decode(0, as: String.self) } == ["bi", "switchboard"])
    }

    @Test func concurrentRunnersApplyEachMigrationExactlyOnce() async throws {
        let connectionString = try await TestDatabase.freshDatabase("migrate_race")
        // Not idempotent on purpose: a second application would fail or double the row.
        let migrations = [
            Migration(version: 1, fileName: "0001_table.sql", sql: "CREATE TABLE applied (n int); INSERT INTO applied VALUES (1);"),
            Migration(version: 2, fileName: "0002_more.sql", sql: "INSERT INTO applied VALUES (2); SELECT pg_sleep(0.05);"),
        ]
        let outcomes = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let pool = PostgresPool(configuration: .init(connection: .init(connectionString: connectionString), size: 1), logger: logger)
                    defer { Task { await pool.close() } }
                    return try await MigrationRunner(pool: pool, migrations: migrations, logger: logger).migrate().count
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(outcomes.reduce(0, +) == 2)
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: connectionString), size: 1), logger: logger)
        let rows = try await pool.query("SELECT n FROM applied ORDER BY n")
        #expect(try rows.map { try $0.decode(0, as: Int.self) } == [1, 2])
        await pool.close()
    }

    @Test func anEditedMigrationIsRefusedByName() async throws {
        let pool = try await TestDatabase.freshPool("migrate_edited")
        let original = [Migration(version: 1, fileName: "0001_first.sql", sql: "CREATE TABLE one (id int);")]
        try await MigrationRunner(pool: pool, migrations: original, logger: logger).migrate()

        let edited = [Migration(version: 1, fileName: "0001_first.sql", sql: "CREATE TABLE one (id bigint);")]
        let runner = MigrationRunner(pool: pool, migrations: edited, logger: logger)
        await #expect(throws: MigrationRunner.Failure.checksumMismatch(fileName: "0001_first.sql")) {
            try await runner.migrate()
        }
        await #expect(throws: MigrationRunner.Failure.checksumMismatch(fileName: "0001_first.sql")) {
            try await runner.status()
        }
        #expect("\(MigrationRunner.Failure.checksumMismatch(fileName: "0001_first.sql"))".contains("0001_first.sql"))
    }

    /// 0003 shipped once with an edited comment; databases migrated by either release start, and the
    /// recorded checksum of any other text is still refused.
    @Test func bothReleasesOfTheOutboxMigrationAreAcceptedAndNothingElse() async throws {
        let pool = try await TestDatabase.freshPool("migrate_0003_releases")
        let migrations = try MigrationCatalog.bundled()
        let runner = MigrationRunner(pool: pool, migrations: migrations, logger: logger)
        try await runner.migrate()
        let edited = "050c7963692dc9251bd7bfcbe4160f11e985c2ee3f5651fc0e857655d8613cb8"
        try await pool.query("UPDATE public.schema_migrations SET checksum = $1 WHERE file_name = '0003_outbox_and_alerts.sql'", [edited])
        #expect(try await runner.status().isAtHead)
        try await pool.query("UPDATE public.schema_migrations SET checksum = $1 WHERE file_name = '0003_outbox_and_alerts.sql'", [String(repeating: "0", count: 64)])
        await #expect(throws: MigrationRunner.Failure.checksumMismatch(fileName: "0003_outbox_and_alerts.sql")) {
            try await runner.status()
        }
        // The earlier release's checksum is accepted for that file only.
        try await pool.query("UPDATE public.schema_migrations SET checksum = $1 WHERE file_name = '0003_outbox_and_alerts.sql'", [migrations[2].checksum])
        try await pool.query("UPDATE public.schema_migrations SET checksum = $1 WHERE file_name = '0002_tickets_and_messages.sql'", [edited])
        await #expect(throws: MigrationRunner.Failure.checksumMismatch(fileName: "0002_tickets_and_messages.sql")) {
            try await runner.status()
        }
    }

    @Test func aDatabaseMigratedByANewerBuildIsRefused() async throws {
        let pool = try await TestDatabase.freshPool("migrate_newer")
        let newer = [
            Migration(version: 1, fileName: "0001_a.sql", sql: "SELECT 1;"),
            Migration(version: 2, fileName: "0002_b.sql", sql: "SELECT 2;"),
        ]
        try await MigrationRunner(pool: pool, migrations: newer, logger: logger).migrate()
        await #expect(throws: MigrationRunner.Failure.unknownAppliedMigration(version: 2, fileName: "0002_b.sql")) {
            try await MigrationRunner(pool: pool, migrations: [newer[0]], logger: logger).migrate()
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        let pool = try await TestDatabase.freshPool("migrate_fail")
        let broken = [
            Migration(version: 1, fileName: "0001_ok.sql", sql: "CREATE TABLE fine (id int);"),
            Migration(version: 2, fileName: "0002_broken.sql", sql: "CREATE TABLE half (id int); SELECT no_such_function();"),
        ]
        await #expect {
            try await MigrationRunner(pool: pool, migrations: broken, logger: logger).migrate()
        } throws: { error in
            guard case MigrationRunner.Failure.failed(let fileName, let message) = error else { return false }
            return fileName == "0002_broken.sql" && message.contains("no_such_function")
        }
        let status = try await MigrationRunner(pool: pool, migrations: broken, logger: logger).status()
        #expect(status.applied == [1])
        #expect(try await pool.query("SELECT to_regclass('half') IS NULL").first?.decode(0, as: Bool.self) == true)
    }

    @Test func catalogRejectsBadFileNamesAndDuplicateVersions() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "SELECT 1;".write(to: directory.appendingPathComponent("0001_a.sql"), atomically: true, encoding: .utf8)
        try "SELECT 1;".write(to: directory.appendingPathComponent("0001_b.sql"), atomically: true, encoding: .utf8)
        #expect(throws: MigrationCatalog.Failure.self) { try MigrationCatalog.load(from: directory) }
        try FileManager.default.removeItem(at: directory.appendingPathComponent("0001_b.sql"))
        try "SELECT 1;".write(to: directory.appendingPathComponent("2_Bad Name.sql"), atomically: true, encoding: .utf8)
        #expect(throws: MigrationCatalog.Failure.self) { try MigrationCatalog.load(from: directory) }
    }
}

import Foundation
import Postgres

/// A primary and its streaming standby on this machine, as a failover test needs them: the primary
/// in `directory`/a, the standby in `directory`/b (`pg_basebackup`, `standby.signal`), both running;
/// with `synchronous`, the primary waits for the standby on every commit (`synchronous_standby_names`).
public struct StreamingPair: Sendable {
    public let directory: String
    public let primary: EmbeddedPostgres
    public let standby: EmbeddedPostgres

    public static func start(_ label: String, synchronous: Bool = false) async throws -> StreamingPair {
        let directory = try makeTemporaryDirectory(label)
        var primarySettings = TestDatabase.fastSettings(directory: directory + "/a")
        primarySettings.settings["synchronous_commit"] = "on"
        let primary = EmbeddedPostgres(configuration: primarySettings, logger: TestDatabase.quietLogger)
        try await primary.start()
        var standbySettings = TestDatabase.fastSettings(directory: directory + "/b")
        standbySettings.settings["synchronous_commit"] = "on"
        let standby = EmbeddedPostgres(configuration: standbySettings, logger: TestDatabase.quietLogger)
        try await standby.startAsStandby(of: primary)
        if synchronous {
            // Only once the standby follows: a synchronous primary alone waits forever on every commit.
            let admin = try await PostgresConnection.connect(.init(connectionString: primary.connectionString()))
            try await admin.query("ALTER SYSTEM SET synchronous_standby_names = '*'")
            try await admin.query("SELECT pg_reload_conf()")
            await admin.close()
        }
        return StreamingPair(directory: directory, primary: primary, standby: standby)
    }

    /// Both servers in one libpq connection string: the session goes to whichever is writable.
    public var connectionString: String {
        "host=\(primary.socketDirectory),\(standby.socketDirectory) port=5432,5432 user=switchboard dbname=switchboard target_session_attrs=read-write connect_timeout=2"
    }

    public func stop() async {
        await primary.stop()
        await standby.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

import Foundation
import Postgres
import Testing
import TestSupport

/// The embedded cluster's life beyond a clean start and stop: its server dying, started again, and a
/// server someone else started on its directory meanwhile.
@Suite("The embedded cluster when its server dies")
struct EmbeddedServerTests {
    @Test func aKilledServerIsReportedAndStartedAgainWithItsData() async throws {
        let directory = "/tmp/sbtest-died-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Commits reach the WAL before they are acknowledged (the test settings would lose the last ones with the server).
        var settings = TestDatabase.fastSettings(directory: directory)
        settings.settings["synchronous_commit"] = "on"
        let cluster = EmbeddedPostgres(configuration: settings, logger: TestDatabase.quietLogger)
        try await cluster.start()
        let first = try await PostgresConnection.connect(.init(connectionString: cluster.connectionString()))
        try await first.query("CREATE TABLE kept (n int)")
        try await first.query("INSERT INTO kept VALUES (1)")
        await first.close()

        let pid = try #require(cluster.serverPID)
        kill(pid, SIGKILL)
        let exit = await cluster.exited()
        #expect(exit?.contains("9") == true, "exit: \(exit ?? "nil")")
        #expect(cluster.serverPID == nil)

        // A new postmaster may find the old one's backends still attached for a moment: try again.
        var restarted = false
        for _ in 0..<100 where !restarted {
            do {
                try await cluster.restart()
                restarted = true
            } catch {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(restarted)
        #expect(cluster.serverPID != nil && cluster.serverPID != pid)
        let again = try await PostgresConnection.connect(.init(connectionString: cluster.connectionString()))
        #expect(try await again.query("SELECT count(*) FROM kept").first?.decode(0, as: Int.self) == 1)
        await again.close()
        await cluster.stop()
        #expect(processes(mentioning: directory).isEmpty)
    }

    /// Someone ran the server by hand on the daemon's directory while the daemon's was down (the way
    /// `pg_ctl start` would: not the daemon's child). Stopping the cluster stops that server too.
    @Test func stopAlsoStopsAServerSomeoneElseStartedOnTheDirectory() async throws {
        let directory = "/tmp/sbtest-foreign-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = EmbeddedPostgres(configuration: TestDatabase.fastSettings(directory: directory), logger: TestDatabase.quietLogger)
        try await cluster.start()
        let ours = try #require(cluster.serverPID)
        kill(ours, SIGKILL)
        _ = await cluster.exited()
        #expect(cluster.foreignServerPID == nil, "a dead server's pid file names no foreign server")

        // Started through a shell that exits at once, so the server is reparented, as pg_ctl's is.
        let data = cluster.dataDirectory
        let binaries = try EmbeddedPostgres.binDirectory(configured: nil)
        var command = "'\(binaries)/postgres' -D '\(data)' -k '\(data)' -c listen_addresses= -c fsync=off"
        if geteuid() == 0 { command = "setpriv --reuid=postgres --regid=postgres --init-groups -- " + command }
        var foreign: pid_t?
        for _ in 0..<100 where foreign == nil {
            let shell = try ChildProcess.spawn("/bin/sh", ["-c", "\(command) </dev/null &"], environment: ["PATH": "/usr/bin:/bin"],
                                               logFile: directory + "/foreign.log", newSession: true)
            var status: Int32 = 0
            while waitpid(shell, &status, 0) < 0 && errno == EINTR {}
            for _ in 0..<40 where foreign == nil {
                try await Task.sleep(for: .milliseconds(50))
                foreign = cluster.foreignServerPID
            }
        }
        let pid = try #require(foreign, "the hand-started server did not run")
        #expect(pid != ours)

        await cluster.stop()
        #expect(kill(pid, 0) != 0, "the hand-started server still runs after stop")
        #expect(processes(mentioning: data).isEmpty)
    }
}

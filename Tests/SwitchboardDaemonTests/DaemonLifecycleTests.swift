import Foundation
import Postgres
import SwitchboardDaemon
import Testing
import TestSupport

/// The real `switchboardd` binary, run the way systemd runs it.
@Suite("switchboardd under a systemd-like supervisor", .serialized)
struct DaemonLifecycleTests {
    private func writeConfig(_ directory: String, extra: String = "") throws -> String {
        let path = directory + "/config.json"
        try """
        {"stateDirectory": "\(directory)/state", "http": {"host": "127.0.0.1", "port": 0}, "shutdownGraceSeconds": 5\(extra)}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func httpPort(from status: String?) -> Int? {
        guard let status, let range = status.range(of: #"http 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return nil }
        return Int(status[range].split(separator: ":").last ?? "")
    }

    @Test func theWatchdogIntervalComesFromSystemdsEnvironment() {
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "2000000"]) == .seconds(2))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "\(getpid())"]) == .seconds(2))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "0"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: [:]) == nil)
    }

    @Test(arguments: [false, true])
    func readyWatchdogAndCleanStop(abstractSocket: Bool) async throws {
        let directory = try makeTemporaryDirectory("lifecycle")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = try writeConfig(directory)
        let listener = try NotifyListener(abstract: abstractSocket, directory: directory)
        let daemon = try DaemonProcess(
            arguments: ["run", "--config", config],
            environment: ["NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "2000000"],
            logFile: directory + "/daemon.log"
        )

        let ready = await listener.waitFor("READY=1")
        try #require(ready.count == 1, "no READY=1; log:\n\(daemon.log)")
        // READY=1 is sent only once /readyz answers 200.
        let port = try #require(httpPort(from: listener.lastStatus), "STATUS= names the HTTP address: \(listener.lastStatus ?? "none")")
        let readyz = try await httpGet(port: port, path: "/readyz")
        #expect(readyz.status == 200)
        #expect(try await httpGet(port: port, path: "/healthz").status == 200)
        #expect(processes(mentioning: directory + "/state/postgres/data").count >= 1)

        // Watchdog pings keep coming while the daemon runs. (Their spacing is not asserted: how fast
        // a loaded machine delivers them is not the daemon's doing.)
        let pings = await listener.waitFor("WATCHDOG=1", count: 4)
        #expect(pings.count >= 4)

        daemon.signal(SIGTERM)
        let status = await daemon.waitForExit()
        #expect(status == 0, "exit status; log:\n\(daemon.log)")
        #expect(await listener.waitFor("STOPPING=1").count == 1)
        #expect(processes(mentioning: directory + "/state/postgres/data").isEmpty, "a postgres process survived")
    }

    /// Every part starts when what it needs is ready: while the database is not up, nothing else
    /// starts, and SIGTERM then stops the daemon cleanly (exit 0, STOPPING=1), not by the signal.
    @Test func aShutdownWhileWaitingForTheDatabaseIsClean() async throws {
        let directory = try makeTemporaryDirectory("lifecycle_wait")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Port 1 on loopback: nothing listens, the connection is refused at once, again and again.
        let config = try writeConfig(directory, extra: #", "database": {"url": "host=127.0.0.1 port=1 dbname=switchboard user=switchboard"}"#)
        let listener = try NotifyListener(abstract: false, directory: directory)
        let daemon = try DaemonProcess(arguments: ["run", "--config", config], environment: ["NOTIFY_SOCKET": listener.address],
                                       logFile: directory + "/daemon.log")
        for _ in 0..<1200 where !(listener.lastStatus ?? "").hasPrefix("waiting for the database") {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(listener.lastStatus?.hasPrefix("waiting for the database") == true, "STATUS=\(listener.lastStatus ?? "-"); log:\n\(daemon.log)")
        #expect(listener.messages(with: "READY=1").isEmpty)
        #expect(!daemon.log.contains("migrations at head") && !daemon.log.contains("listening"), "nothing starts before the database:\n\(daemon.log)")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log:\n\(daemon.log)")
        #expect(await listener.waitFor("STOPPING=1").count == 1)
    }

    @Test func killedDaemonTakesItsEmbeddedServerWithIt() async throws {
        let directory = try makeTemporaryDirectory("killed")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = try writeConfig(directory)
        let listener = try NotifyListener(abstract: true, directory: directory)
        let daemon = try DaemonProcess(arguments: ["--config", config], environment: ["NOTIFY_SOCKET": listener.address], logFile: directory + "/daemon.log")
        try #require(await listener.waitFor("READY=1").count == 1, "log:\n\(daemon.log)")
        let dataDirectory = directory + "/state/postgres/data"
        #expect(!processes(mentioning: dataDirectory).isEmpty)

        daemon.signal(SIGKILL)
        _ = await daemon.waitForExit()
        var survivors = processes(mentioning: dataDirectory)
        for _ in 0..<200 where !survivors.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            survivors = processes(mentioning: dataDirectory)
        }
        #expect(survivors.isEmpty, "postgres outlived a killed daemon: \(survivors)")

        // The next start finds the cluster as it was left and comes up again.
        let listener2 = try NotifyListener(abstract: true, directory: directory)
        let again = try DaemonProcess(arguments: ["--config", config], environment: ["NOTIFY_SOCKET": listener2.address], logFile: directory + "/daemon2.log")
        #expect(await listener2.waitFor("READY=1").count == 1, "log:\n\(again.log)")
        again.signal(SIGINT)
        #expect(await again.waitForExit() == 0)
    }

    @Test func sighupReloadsAValidFileAndKeepsTheOldOneOtherwise() async throws {
        let directory = try makeTemporaryDirectory("reload")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = try writeConfig(directory)
        let listener = try NotifyListener(abstract: true, directory: directory)
        let daemon = try DaemonProcess(arguments: ["--config", config], environment: ["NOTIFY_SOCKET": listener.address], logFile: directory + "/daemon.log")
        try #require(await listener.waitFor("READY=1").count == 1, "log:\n\(daemon.log)")
        let port = try #require(httpPort(from: listener.lastStatus))

        try #"{"stateDirectory": "state", "http": {"port": "eighty"}}"#.write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForLog("configuration reload refused"))
        #expect(daemon.log.contains("http.port: expected an integer 0–65535"))
        #expect(try await httpGet(port: port, path: "/readyz").status == 200)

        _ = try writeConfig(directory, extra: #", "logging": {"level": "debug"}"#)
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForLog("configuration reloaded"))

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
    }

    @Test func twoMigrateProcessesAtOnceApplyEachMigrationOnce() async throws {
        let connectionString = try await TestDatabase.freshDatabase("two_migrators")
        let directory = try makeTemporaryDirectory("migrate2")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let escaped = connectionString.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let config = try writeConfig(directory, extra: #", "database": {"url": "\#(escaped)"}"#)

        let results = try await withThrowingTaskGroup(of: (Int32, String).self) { group in
            for _ in 0..<2 {
                group.addTask {
                    let result = try await runSwitchboardd(["migrate", "--config", config])
                    return (result.status, result.stdout + result.stderr)
                }
            }
            return try await group.reduce(into: [(Int32, String)]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.0 == 0 }, "\(results)")
        #expect(results.filter { $0.1.contains("applied 0001_schemas.sql") }.count == 1, "\(results)")
        #expect(results.filter { $0.1.contains("nothing to apply") }.count == 1, "\(results)")

        let dryRun = try await runSwitchboardd(["migrate", "--dry-run", "--config", config])
        #expect(dryRun.status == 0)
        #expect(dryRun.stdout.contains("pending: 0"))
    }
}

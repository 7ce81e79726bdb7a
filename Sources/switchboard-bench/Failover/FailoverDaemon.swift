import Foundation
import Glibc
import Postgres

/// One `switchboardd` of the failover benchmark: the repository's example configuration pointed at
/// a database outside it (so a killed daemon takes no database with it), the Graph API stand-in,
/// its own HTTP port, control socket and state, and a `cluster` section naming it. Its process is
/// started, killed with SIGKILL and started again as `SoakDaemon`'s is (the same waiting thread and
/// exit bookkeeping), but any number of them run side by side.
final class FailoverDaemon {
    struct Settings {
        var databaseURL: String
        var graphPort: Int
        var leaseSeconds: Double
        var renewSeconds: Double
        /// Agents added to the example's (all online, in the support queue, English and Spanish).
        var extraAgents: [String]
        var extraAgentCapacity: Int
    }

    static let appSecret = "failover-app-secret"

    let node: String
    let directory: String
    let executable: String
    let switchboardctl: String
    let port: Int
    let configPath: String
    /// The running daemon's process id; its exit status lands in `exits` (written by its waiting thread).
    private var pid: pid_t?
    private let exits = ExitStatuses()
    /// Every start appends to the same log, so what a killed instance said stays readable.
    var logPath: String { directory + "/daemon.log" }
    var controlSocket: String { directory + "/control.sock" }

    init(node: String, directory: String, executable: String, settings: Settings) throws {
        self.node = node
        self.directory = directory
        self.executable = executable
        self.switchboardctl = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("switchboardctl").path
        self.port = try freeLoopbackPort()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let example = try Data(contentsOf: URL(fileURLWithPath: "config.example.json"))
        guard var config = try JSONSerialization.jsonObject(with: example) as? [String: Any],
              var whatsapp = config["whatsapp"] as? [String: Any], var database = config["database"] as? [String: Any],
              var routing = config["routing"] as? [String: Any], var control = config["control"] as? [String: Any],
              var api = config["api"] as? [String: Any], let agents = routing["agents"] as? [[String: Any]] else {
            throw FailoverFailure("config.example.json (run from the repository's root) lacks a section")
        }
        let accessToken = FileManager.default.currentDirectoryPath + "/dev/graph-access-token"
        guard FileManager.default.isReadableFile(atPath: accessToken) else { throw FailoverFailure("no \(accessToken) (run from the repository's root)") }
        for (name, value) in [("app-secret", Self.appSecret), ("verify-token", "failover-verify")] {
            try value.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        config["stateDirectory"] = directory + "/state"
        config["http"] = ["host": "127.0.0.1", "port": port]
        database["url"] = settings.databaseURL
        database["acquireTimeoutSeconds"] = 2
        database["connectTimeoutSeconds"] = 2
        config["database"] = database
        whatsapp["appSecret"] = ["file": directory + "/app-secret"]
        whatsapp["verifyToken"] = ["file": directory + "/verify-token"]
        whatsapp["accessToken"] = ["file": accessToken]
        whatsapp["graphAPI"] = ["baseURL": "http://127.0.0.1:\(settings.graphPort)", "version": "v24.0", "timeoutSeconds": 10]
        config["whatsapp"] = whatsapp
        // The example's queues, rules and automation as they are; more agents, so that tickets keep
        // being assigned while agents resolve theirs.
        routing["agents"] = agents + settings.extraAgents.map {
            ["id": $0, "name": $0, "role": "agent", "teams": ["support"], "capacity": settings.extraAgentCapacity,
             "skills": ["lang:en": 5, "lang:es": 5], "queues": ["support"], "presence": "online"] as [String: Any]
        }
        config["routing"] = routing
        control["socket"] = directory + "/control.sock"
        config["control"] = control
        // Agents resolving through the API stay online for the whole run.
        api["presenceSilenceSeconds"] = 86_400
        config["api"] = api
        config["cluster"] = ["node": node, "advertiseURL": "http://127.0.0.1:\(port)", "leaseSeconds": settings.leaseSeconds,
                             "renewSeconds": settings.renewSeconds]
        configPath = directory + "/config.json"
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: configPath))
    }

    /// Starts the daemon and returns how long it took until `/readyz` answered 200.
    @discardableResult
    func start() async throws -> Duration {
        let started = ContinuousClock.now
        var environment = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "CREDENTIALS_DIRECTORY", "JOURNAL_STREAM"] {
            environment.removeValue(forKey: key)
        }
        let pid = try ChildProcess.spawn(executable, ["run", "--config", configPath], environment: environment, logFile: logPath, newSession: true)
        self.pid = pid
        exits.watch(pid)
        try await waitReady(since: started, timeout: .seconds(120))
        return .now - started
    }

    /// Whether the last process started has ended (or none was started).
    var hasExited: Bool {
        guard let pid else { return true }
        return exits.status(of: pid) != nil
    }

    /// How the last process ended, as "exit status N" or "killed by signal N"; nil while it runs.
    var exitDescription: String? {
        guard let pid, let status = exits.status(of: pid) else { return nil }
        return (status & 0x7F) == 0 ? "exit status \((status >> 8) & 0xFF)" : "killed by signal \(status & 0x7F)"
    }

    /// Polls `/readyz` until it answers 200.
    func waitReady(since: ContinuousClock.Instant = .now, timeout: Duration) async throws {
        while ContinuousClock.now - since < timeout {
            if (try? await get("/readyz").status) == 200 { return }
            if hasExited { throw FailoverFailure("daemon \(node) exited (\(exitDescription ?? "?")); see \(logPath)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw FailoverFailure("daemon \(node) was not ready after \(timeout); see \(logPath)")
    }

    /// SIGKILL, and wait until the process is gone (its sockets closed).
    func kill9() async {
        guard let pid, !hasExited else { return }
        kill(pid, SIGKILL)
        while !hasExited { try? await Task.sleep(for: .milliseconds(2)) }
    }

    /// Stops the daemon as systemd would; returns its exit status (128 + signal if one ended it).
    func stop() async -> Int32 {
        guard let pid else { return 0 }
        if !hasExited { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + .seconds(60)
        while !hasExited && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if !hasExited {
            kill(pid, SIGKILL)
            while !hasExited { try? await Task.sleep(for: .milliseconds(20)) }
        }
        let status = exits.status(of: pid) ?? 0
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    /// Whether `/metrics` says this instance leads (`switchboard_leader 1`); nil when it does not answer.
    func leads() async -> Bool? {
        guard let answer = try? await get("/metrics"), answer.status == 200 else { return nil }
        let text = String(decoding: answer.body, as: UTF8.self)
        if text.contains("\nswitchboard_leader 1") { return true }
        if text.contains("\nswitchboard_leader 0") { return false }
        return nil
    }

    func get(_ path: String) async throws -> (status: Int, body: [UInt8]) {
        let port = self.port
        return try await onThread { try HTTPLoadClient(port: port).request("GET", path: path, headers: []) }
    }

    /// Runs `switchboardctl ARGUMENTS --json --socket …` and returns its parsed output.
    func control(_ arguments: [String]) async throws -> Any {
        let output = try await ChildCommand.run(switchboardctl, arguments + ["--json", "--socket", controlSocket])
        guard output.status == 0 else { throw FailoverFailure("switchboardctl \(arguments.joined(separator: " ")) on \(node): \(output.stderr)\(output.stdout)") }
        return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
    }

    /// The log's lines that contain any of `words`, last `limit` of them.
    func logLines(containing words: [String], limit: Int = 20) -> [String] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return Array(text.split(separator: "\n").filter { line in words.contains { line.contains($0) } }.suffix(limit).map(String.init))
    }
}

extension ExitStatuses {
    /// Waits for `pid` on a thread of its own and records its status.
    func watch(_ pid: pid_t) {
        Thread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            statuses.withLock { $0[pid] = status }
        }.start()
    }

    func status(of pid: pid_t) -> Int32? {
        statuses.withLock { $0[pid] }
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FailoverFailure("socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw FailoverFailure("no free port: \(String(cString: strerror(errno)))") }
    return Int(UInt16(bigEndian: address.sin_port))
}

struct FailoverFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

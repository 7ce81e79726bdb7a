import Foundation
import Glibc
import Postgres
import Synchronization

/// The daemon under test: its configuration, its process, killed and started again.
final class SoakDaemon {
    let directory: String
    let executable: String
    let switchboardctl: String
    let port: Int
    let configPath: String
    /// The running daemon's process id, and its exit status once it has ended (set by the thread
    /// that waits for it). Not Foundation's `Process`: its wait hung after a SIGKILL here.
    private var pid: pid_t?
    private let exits = ExitStatuses()
    private var logPath: String { directory + "/daemon.log" }

    var dataDirectory: String { directory + "/state/postgres/data" }
    var controlSocket: String { directory + "/control.sock" }
    var connectionString: String { "host=\(dataDirectory) port=5432 user=switchboard dbname=switchboard connect_timeout=2" }
    static let appSecret = "soak-app-secret"
    var appSecret: String { Self.appSecret }

    /// Writes the configuration: the repository's example with `agents` agents of `capacity` in one
    /// least-loaded queue, every ticket routed there, and the API's presence silence long enough
    /// that agents resolving through the API stay online.
    init(directory: String, executable: String, agents: [String], capacity: Int) throws {
        self.directory = directory
        self.executable = executable
        self.switchboardctl = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("switchboardctl").path
        self.port = try Self.freePort()
        let example = try Data(contentsOf: URL(fileURLWithPath: "config.example.json"))
        guard var config = try JSONSerialization.jsonObject(with: example) as? [String: Any],
              var whatsapp = config["whatsapp"] as? [String: Any], var routing = config["routing"] as? [String: Any],
              var control = config["control"] as? [String: Any], var api = config["api"] as? [String: Any] else {
            throw SoakFailure("config.example.json (run from the repository's root) lacks a section")
        }
        for (name, value) in [("app-secret", Self.appSecret), ("verify-token", "soak-verify")] {
            try value.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        config["stateDirectory"] = directory + "/state"
        config["http"] = ["host": "127.0.0.1", "port": port]
        whatsapp["appSecret"] = ["file": directory + "/app-secret"]
        whatsapp["verifyToken"] = ["file": directory + "/verify-token"]
        config["whatsapp"] = whatsapp
        routing["queues"] = [["name": "support", "strategy": "least-loaded", "steps": [["skills": [String: Int]()]]],
                             ["name": "supervisors", "strategy": "least-loaded", "steps": [["skills": [String: Int]()]]]]
        routing["rules"] = [["name": "everyone", "queue": "support"]]
        routing["agents"] = agents.map { ["id": $0, "name": $0, "role": "agent", "teams": ["support"], "capacity": capacity, "skills": ["lang:en": 5],
                                         "queues": ["support"], "presence": "online"] as [String: Any] }
        config["routing"] = routing
        control["socket"] = directory + "/control.sock"
        config["control"] = control
        api["presenceSilenceSeconds"] = 86_400
        config["api"] = api
        configPath = directory + "/config.json"
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: configPath))
    }

    /// Starts the daemon and returns how long it took until `/readyz` answered 200.
    func start() async throws -> Duration {
        let started = ContinuousClock.now
        var environment = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "CREDENTIALS_DIRECTORY", "JOURNAL_STREAM"] {
            environment.removeValue(forKey: key)
        }
        let pid = try ChildProcess.spawn(executable, ["run", "--config", configPath], environment: environment, logFile: logPath, newSession: true)
        self.pid = pid
        let exits = self.exits
        Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            exits.statuses.withLock { $0[pid] = status }
        }.start()
        try await waitReady(since: started, timeout: .seconds(120))
        return .now - started
    }

    private var hasExited: Bool {
        guard let pid else { return true }
        return exits.statuses.withLock { $0[pid] != nil }
    }

    /// Polls `/readyz` until it answers 200.
    func waitReady(since: ContinuousClock.Instant = .now, timeout: Duration) async throws {
        while ContinuousClock.now - since < timeout {
            if (try? await get("/readyz").status) == 200 { return }
            if hasExited { throw SoakFailure("the daemon exited; see \(logPath)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw SoakFailure("the daemon was not ready after \(timeout); see \(logPath)")
    }

    func kill9() async {
        guard let pid, !hasExited else { return }
        kill(pid, SIGKILL)
        while !hasExited { try? await Task.sleep(for: .milliseconds(5)) }
    }

    /// Stops the daemon as systemd would; returns its exit status (128 + signal if one ended it).
    func stop() async -> Int32 {
        guard let pid else { return 0 }
        if !hasExited { kill(pid, SIGTERM) }
        while !hasExited { try? await Task.sleep(for: .milliseconds(20)) }
        let status = exits.statuses.withLock { $0[pid] ?? 0 }
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    /// The embedded server's postmaster, from its pid file.
    var postmasterPID: pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first.flatMap { pid_t($0) }
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> (status: Int, body: [UInt8]) {
        let port = self.port
        return try await onThread { try HTTPLoadClient(port: port).request("GET", path: path, headers: headers) }
    }

    /// Runs `switchboardctl ARGUMENTS --json --socket …` and returns its parsed output.
    func control(_ arguments: [String]) async throws -> Any {
        let output = try await ChildCommand.run(switchboardctl, arguments + ["--json", "--socket", controlSocket])
        guard output.status == 0 else { throw SoakFailure("switchboardctl \(arguments.joined(separator: " ")): \(output.stderr)\(output.stdout)") }
        return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw SoakFailure("no free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Exit statuses of the daemons this run started, by process id (written by their waiting threads).
final class ExitStatuses: Sendable {
    let statuses = Mutex<[pid_t: Int32]>([:])
}

struct SoakFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs blocking work (sockets) on a thread of its own, never on the cooperative pool.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

import Foundation
import Glibc
import Postgres
import Synchronization

/// One `switchboardd run --config …` of a benchmark (soak, failover, restart): spawned in a session
/// of its own without systemd's variables, waited for by a thread of its own (not Foundation's
/// `Process`: its wait hung after a SIGKILL here), polled for `/readyz`, killed or stopped as
/// systemd would. Every start appends to the same log, so what a killed instance said stays readable.
final class DaemonProcess {
    /// Names the daemon in errors ("daemon b exited …").
    let name: String
    let executable: String
    let configPath: String
    let logPath: String
    let port: Int
    /// The last process started; its exit status lands in `exits` (written by its waiting thread).
    private(set) var pid: pid_t?
    private let exits = ExitStatuses()

    init(name: String, executable: String, configPath: String, logPath: String, port: Int) {
        self.name = name
        self.executable = executable
        self.configPath = configPath
        self.logPath = logPath
        self.port = port
    }

    /// Starts the daemon and waits until `/readyz` answers 200; returns the spawn's instant and
    /// the first 200's (polled every 10 ms from a thread of its own, so the figure is not the
    /// cooperative pool's scheduling).
    @discardableResult
    func start(timeout: Duration = .seconds(120)) async throws -> (spawned: ContinuousClock.Instant, ready: ContinuousClock.Instant) {
        var environment = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "CREDENTIALS_DIRECTORY", "JOURNAL_STREAM"] {
            environment.removeValue(forKey: key)
        }
        let spawned = ContinuousClock.now
        let pid = try ChildProcess.spawn(executable, ["run", "--config", configPath], environment: environment, logFile: logPath, newSession: true)
        self.pid = pid
        exits.watch(pid)
        let ready = try await waitReady(since: spawned, timeout: timeout)
        return (spawned, ready)
    }

    /// Polls `/readyz` until it answers 200; fails as soon as the process has ended.
    @discardableResult
    func waitReady(since: ContinuousClock.Instant = .now, timeout: Duration) async throws -> ContinuousClock.Instant {
        let port = self.port, exits = self.exits, pid = self.pid
        let ready: ContinuousClock.Instant? = try await onThread {
            while ContinuousClock.now - since < timeout {
                if let pid, exits.status(of: pid) != nil { return nil }
                if let client = try? HTTPLoadClient(port: port), (try? client.request("GET", path: "/readyz", headers: []).status) == 200 {
                    return ContinuousClock.now
                }
                usleep(10_000)
            }
            return nil
        }
        if let ready { return ready }
        if hasExited { throw DaemonFailure("daemon \(name) exited (\(exitDescription ?? "not started")); see \(logPath)") }
        throw DaemonFailure("daemon \(name) was not ready after \(timeout); see \(logPath)")
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

    /// SIGKILL, and wait until the process is gone (its sockets closed).
    func kill9() async {
        guard let pid, !hasExited else { return }
        kill(pid, SIGKILL)
        while !hasExited { try? await Task.sleep(for: .milliseconds(2)) }
    }

    /// SIGTERM as systemd sends it, SIGKILL after `grace`; returns the exit status (128 + signal if
    /// one ended it).
    func stop(grace: Duration = .seconds(90)) async -> Int32 {
        guard let pid else { return 0 }
        if !hasExited { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        while !hasExited && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if !hasExited {
            kill(pid, SIGKILL)
            while !hasExited { try? await Task.sleep(for: .milliseconds(20)) }
        }
        let status = exits.status(of: pid) ?? 0
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> (status: Int, body: [UInt8]) {
        let port = self.port
        return try await onThread { try HTTPLoadClient(port: port).request("GET", path: path, headers: headers) }
    }

    /// A `/proc/PID/status` memory figure (VmHWM, VmRSS) in MiB; 0 once the process is gone.
    func memoryMiB(_ field: String) -> Double {
        guard let pid, let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kib = Double(line.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "") else { return 0 }
        return kib / 1024
    }

    /// User and system CPU the running process has used, seconds.
    var cpuSeconds: Double { pid.map(processCPUSeconds) ?? 0 }

    /// The log's lines that contain any of `words`, last `limit` of them.
    func logLines(containing words: [String], limit: Int = 20) -> [String] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return Array(text.split(separator: "\n").filter { line in words.contains { line.contains($0) } }.suffix(limit).map(String.init))
    }
}

/// Exit statuses of the processes this run started, by process id (written by their waiting threads).
final class ExitStatuses: Sendable {
    private let statuses = Mutex<[pid_t: Int32]>([:])

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

struct DaemonFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// User and system CPU of a process so far, seconds, from `/proc/PID/stat` (fields 14 and 15); 0
/// once it is gone.
func processCPUSeconds(_ pid: pid_t) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else { return 0 }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw DaemonFailure("socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw DaemonFailure("no free port: \(String(cString: strerror(errno)))") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Runs blocking work (sockets) on a thread of its own, never on the cooperative pool.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

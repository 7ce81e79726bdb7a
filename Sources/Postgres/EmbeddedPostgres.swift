import CLibPQ
import Foundation
import Glibc
import Logging
import Synchronization

/// A PostgreSQL cluster the daemon runs itself, from the installed server binaries.
///
/// For a first run and for tests: `initdb` into a directory on first start, then `postgres` listening
/// only on a Unix socket in that directory (no TCP), reachable only by the owning user. When the
/// daemon runs as root the server runs as an unprivileged user (PostgreSQL refuses root). The server
/// gets `SIGQUIT` from the kernel if the daemon dies (`PR_SET_PDEATHSIG` through `setpriv`), so no
/// server outlives it.
public final class EmbeddedPostgres: Sendable {
    public struct Configuration: Sendable {
        /// Holds `data/` (the cluster, also its socket directory), `postgres.log` and a lock file.
        public var directory: String
        /// The superuser and the database created for the daemon.
        public var user: String = "switchboard"
        public var database: String = "switchboard"
        /// Server binaries; found with `pg_config --bindir` or Debian's layout when nil.
        public var binDirectory: String?
        /// The Unix user to run the server as when the daemon is root; `postgres` by default.
        public var unprivilegedUser: String = "postgres"
        /// Extra `-c name=value` server settings (tests turn off fsync, for example).
        public var settings: [String: String] = [:]
        /// How long to wait for the server to accept connections.
        public var startTimeout: Duration = .seconds(60)

        public init(directory: String) {
            self.directory = directory
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case binariesNotFound(String)
        case directory(String)
        case locked(String)
        case initdbFailed(String)
        case startFailed(String)

        public var description: String {
            switch self {
            case .binariesNotFound(let m): return "PostgreSQL server binaries not found: \(m)"
            case .directory(let m): return "embedded PostgreSQL directory: \(m)"
            case .locked(let m): return m
            case .initdbFailed(let m): return "initdb failed: \(m)"
            case .startFailed(let m): return "embedded PostgreSQL did not start: \(m)"
            }
        }
    }

    private struct State: ~Copyable {
        var pid: pid_t?
        var exit: String?
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
        /// Callers of `exited()`, answered with the exit's description (nil: they were cancelled).
        var exitWatchers: [UInt64: CheckedContinuation<String?, Never>] = [:]
        var nextWatcher: UInt64 = 0
        var lockDescriptor: Int32 = -1
        var binaries: String?
    }

    public let configuration: Configuration
    private let logger: Logger
    private let state = Mutex(State())

    public init(configuration: Configuration, logger: Logger = Logger(label: "postgres.embedded")) {
        self.configuration = configuration
        self.logger = logger
    }

    public var dataDirectory: String { configuration.directory + "/data" }
    public var logFile: String { configuration.directory + "/postgres.log" }
    /// Where the server's socket lives: the data directory, private to the server's user.
    public var socketDirectory: String { dataDirectory }
    public static let port = 5432

    /// A libpq connection string for `database` (the daemon's own by default).
    public func connectionString(database: String? = nil) -> String {
        "host='\(socketDirectory)' port=\(Self.port) user='\(configuration.user)' dbname='\(database ?? configuration.database)'"
    }

    /// Initializes the cluster on first use, starts the server and waits until it accepts connections.
    public func start() async throws {
        try await runOnNewThread(name: "pg-embedded-start") { [self] in try self.prepare(replicating: nil) }
        let pidReady = try await spawnServer()
        logger.info("embedded PostgreSQL started", metadata: ["pid": "\(pidReady)", "directory": "\(configuration.directory)"])
        try await runOnNewThread(name: "pg-embedded-wait") { [self] in try self.waitUntilAccepting() }
        try await createDatabaseIfMissing(configuration.database)
    }

    /// Starts this cluster as a streaming standby of `primary` (a running embedded cluster): copied
    /// with `pg_basebackup -R` the first time (which writes `standby.signal` and
    /// `primary_conninfo`), then started; it follows the primary until promoted. For failover tests
    /// and for trying a primary/standby pair on one machine.
    public func startAsStandby(of primary: EmbeddedPostgres) async throws {
        try await runOnNewThread(name: "pg-embedded-start") { [self] in try self.prepare(replicating: primary) }
        let pid = try await spawnServer()
        logger.info("embedded PostgreSQL standby started", metadata: ["pid": "\(pid)", "directory": "\(configuration.directory)"])
        try await runOnNewThread(name: "pg-embedded-wait") { [self] in try self.waitUntilAccepting() }
    }

    /// Makes a standby the primary (`pg_promote`), waiting until it accepts writes.
    public func promote() async throws {
        let admin = try await PostgresConnection.connect(.init(connectionString: connectionString(database: "postgres")), logger: logger)
        do {
            let promoted = try await admin.query("SELECT pg_promote(true, 60)").first?.decode(0, as: Bool.self)
            guard promoted == true else { throw PostgresError.unexpected("pg_promote did not finish within 60 seconds") }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
    }

    /// Waits until the server this process started exits and says how (`exit status 0`, `killed by
    /// signal 9`); at once if it is not running. Nil when the calling task is cancelled first.
    public func exited() async -> String? {
        let id = state.withLock { state -> UInt64 in
            state.nextWatcher += 1
            return state.nextWatcher
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
                let answer = state.withLock { state -> String?? in
                    if let exit = state.exit { return .some(exit) }
                    if state.pid == nil { return .some("never started") }
                    if Task.isCancelled { return .some(nil) }
                    state.exitWatchers[id] = continuation
                    return .none
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            let watcher = state.withLock { $0.exitWatchers.removeValue(forKey: id) }
            watcher?.resume(returning: nil)
        }
    }

    /// Starts the server again after it died (the cluster is prepared and the directory locked),
    /// and waits until it accepts connections; a server started by an attempt that timed out is
    /// waited for again rather than started twice.
    public func restart() async throws {
        if serverPID == nil {
            let pid = try await spawnServer()
            logger.notice("embedded PostgreSQL started again", metadata: ["pid": "\(pid)", "directory": "\(configuration.directory)"])
        }
        try await runOnNewThread(name: "pg-embedded-wait") { [self] in try self.waitUntilAccepting() }
    }

    /// A server running on this cluster's data directory that this process did not start (someone
    /// ran `pg_ctl start` by hand while ours was down): its process id, from `postmaster.pid`.
    public var foreignServerPID: pid_t? {
        guard let contents = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let first = contents.split(separator: "\n").first, let pid = pid_t(first), pid > 0, pid != serverPID,
              ChildProcess.isAlive(pid),
              let cmdline = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8), cmdline.contains("postgres"),
              // A pid file left by our killed server may name a process that reused the number: the
              // postmaster runs in its data directory, another process does not.
              let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd"),
              URL(fileURLWithPath: cwd).standardizedFileURL.path == URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        else { return nil }
        return pid
    }

    /// Fast shutdown (`SIGINT`): running statements are cancelled, data is flushed. Escalates to
    /// immediate shutdown and then `SIGKILL` if the server does not exit in time. A server that
    /// someone else started on this cluster's directory while ours was down is stopped the same way,
    /// and the log says so: the directory is this daemon's (it holds its lock), and a server left
    /// running would keep the next start from owning it.
    public func stop(timeout: Duration = .seconds(10)) async {
        guard let pid = state.withLock({ $0.exit == nil ? $0.pid : nil }) else {
            if let foreign = foreignServerPID {
                logger.warning("stopping the embedded PostgreSQL server that this daemon did not start", metadata: ["pid": "\(foreign)", "directory": "\(dataDirectory)"])
                await stopForeign(foreign, timeout: timeout)
            }
            releaseLock()
            return
        }
        kill(pid, SIGINT)
        if await !waitForExit(timeout: timeout) {
            logger.warning("embedded PostgreSQL did not stop in time; sending SIGQUIT")
            kill(pid, SIGQUIT)
            if await !waitForExit(timeout: .seconds(5)) {
                kill(pid, SIGKILL)
                _ = await waitForExit(timeout: .seconds(5))
            }
        }
        logger.info("embedded PostgreSQL stopped")
        releaseLock()
    }

    /// The server's process id while it runs.
    public var serverPID: pid_t? {
        state.withLock { $0.exit == nil ? $0.pid : nil }
    }

    /// Creates a database if it does not exist (tests use one per suite).
    public func createDatabaseIfMissing(_ name: String, connectTimeoutSeconds: Int? = nil) async throws {
        guard name.range(of: "^[A-Za-z_][A-Za-z0-9_]{0,62}$", options: .regularExpression) != nil else {
            throw PostgresError.unexpected("invalid database name \(name)")
        }
        let admin = try await PostgresConnection.connect(.init(connectionString: connectionString(database: "postgres"), connectTimeoutSeconds: connectTimeoutSeconds),
                                                         logger: logger)
        do {
            let exists = try await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])
            if exists.isEmpty {
                // Identifiers cannot be parameters; the name was checked against a strict pattern above.
                try await admin.simpleQuery("CREATE DATABASE \"\(name)\"")
            }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
    }

    // MARK: Preparation (blocking, on a thread of its own)

    /// Creates the directory and, the first time, the cluster: `initdb`, or (`replicating`) a copy
    /// of that primary with `pg_basebackup`.
    private func prepare(replicating primary: EmbeddedPostgres?) throws {
        let binaries = try Self.binDirectory(configured: configuration.binDirectory)
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: configuration.directory, withIntermediateDirectories: true)
        } catch {
            throw Failure.directory("cannot create \(configuration.directory): \(error.localizedDescription)")
        }
        guard (socketDirectory + "/.s.PGSQL.\(Self.port)").utf8.count < 108 else {
            throw Failure.directory("\(configuration.directory) is too long for a Unix socket path; choose a shorter state directory")
        }
        try takeLock()
        let owner = try serverUser()
        if let owner { try checkReachable(configuration.directory, by: owner) }
        stopOrphanedServer()
        if !fm.fileExists(atPath: dataDirectory + "/PG_VERSION") {
            try? fm.removeItem(atPath: dataDirectory)
            guard mkdir(dataDirectory, 0o700) == 0 else {
                throw Failure.directory("cannot create \(dataDirectory): \(String(cString: strerror(errno)))")
            }
            if let owner, chown(dataDirectory, owner.uid, owner.gid) != 0 {
                throw Failure.directory("cannot hand \(dataDirectory) to \(configuration.unprivilegedUser): \(String(cString: strerror(errno)))")
            }
            if let primary {
                logger.info("copying the primary for a standby", metadata: ["directory": "\(dataDirectory)", "primary": "\(primary.dataDirectory)"])
                let (executable, arguments) = command(binaries + "/pg_basebackup", [
                    "-D", dataDirectory, "-h", primary.socketDirectory, "-p", String(Self.port), "-U", primary.configuration.user,
                    "-R", "-X", "stream", "--checkpoint=fast",
                ], owner: owner, parentDeathSignal: false)
                do {
                    try ChildProcess.run(executable, arguments, environment: Self.childEnvironment, logFile: logFile)
                } catch {
                    throw Failure.initdbFailed("pg_basebackup: \(error); see \(logFile): \(lastLines(of: logFile))")
                }
                // The primary's socket lives in its data directory: the copy took its lock file too.
                try? fm.removeItem(atPath: dataDirectory + "/.s.PGSQL.\(Self.port).lock")
            } else {
                logger.info("initializing embedded PostgreSQL cluster", metadata: ["directory": "\(dataDirectory)"])
                let (executable, arguments) = command(binaries + "/initdb", [
                    "-D", dataDirectory, "-U", configuration.user, "--auth-local=trust", "--auth-host=reject",
                    "--encoding=UTF8", "--no-locale", "--no-instructions",
                ], owner: owner, parentDeathSignal: false)
                do {
                    try ChildProcess.run(executable, arguments, environment: Self.childEnvironment, logFile: logFile)
                } catch {
                    throw Failure.initdbFailed("\(error); see \(logFile): \(lastLines(of: logFile))")
                }
            }
        }
        state.withLock { $0.binaries = binaries }
    }

    /// A second daemon on the same directory would fight over one cluster; a lock file prevents it.
    private func takeLock() throws {
        let path = configuration.directory + "/embedded-postgres.lock"
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure.directory("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw Failure.locked("another process is using the embedded PostgreSQL in \(configuration.directory)")
        }
        state.withLock { $0.lockDescriptor = fd }
    }

    private func releaseLock() {
        let fd = state.withLock { state -> Int32 in
            defer { state.lockDescriptor = -1 }
            return state.lockDescriptor
        }
        if fd >= 0 { close(fd) }
    }

    /// A server left running by a daemon that could not stop it: we hold the lock, so it is nobody's.
    private func stopOrphanedServer() {
        guard let contents = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let first = contents.split(separator: "\n").first, let pid = pid_t(first), pid > 0,
              ChildProcess.isAlive(pid),
              let cmdline = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
              cmdline.contains("postgres")
        else { return }
        logger.warning("stopping an orphaned embedded PostgreSQL server", metadata: ["pid": "\(pid)"])
        kill(pid, SIGINT)
        for _ in 0..<200 where ChildProcess.isAlive(pid) {
            usleep(50_000)
        }
        if ChildProcess.isAlive(pid) { kill(pid, SIGKILL) }
    }

    private struct Owner { let uid: uid_t; let gid: gid_t }

    /// The server's user must be able to walk down to its data directory; initdb's own error for a
    /// directory under a private home (`/root` is 0700) is obscure, so say it plainly first.
    private func checkReachable(_ directory: String, by owner: Owner) throws {
        var path = URL(fileURLWithPath: directory).standardizedFileURL.path
        while true {
            var info = stat()
            if stat(path, &info) == 0 {
                let mode = info.st_mode
                let searchable = info.st_uid == owner.uid ? mode & S_IXUSR != 0
                    : info.st_gid == owner.gid ? mode & S_IXGRP != 0
                    : mode & S_IXOTH != 0
                if !searchable {
                    throw Failure.directory("the server runs as \(configuration.unprivilegedUser), which cannot enter \(path) (mode \(String(mode & 0o777, radix: 8))); choose a state directory that user can reach, such as /var/lib/switchboard")
                }
            }
            if path == "/" || path.isEmpty { return }
            path = URL(fileURLWithPath: path).deletingLastPathComponent().path
        }
    }

    /// The unprivileged user to run as when we are root; nil when we are not root.
    private func serverUser() throws -> Owner? {
        guard geteuid() == 0 else { return nil }
        guard let entry = getpwnam(configuration.unprivilegedUser) else {
            throw Failure.startFailed("running as root, the server must run as an unprivileged user, but no user named \(configuration.unprivilegedUser) exists")
        }
        return Owner(uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    /// Wraps a command in `setpriv` to drop to the server's user and, for the server, to ask the
    /// kernel for `SIGQUIT` when the daemon dies.
    private func command(_ executable: String, _ arguments: [String], owner: Owner?, parentDeathSignal: Bool) -> (String, [String]) {
        var wrapper: [String] = []
        if owner != nil {
            wrapper += ["--reuid=\(configuration.unprivilegedUser)", "--regid=\(configuration.unprivilegedUser)", "--init-groups"]
        }
        if parentDeathSignal { wrapper.append("--pdeathsig=SIGQUIT") }
        let candidates: [String] = ["/usr/bin/setpriv", "/bin/setpriv"]
        guard !wrapper.isEmpty, let setpriv = candidates.first(where: { access($0, X_OK) == 0 }) else {
            return (executable, arguments)
        }
        return (setpriv, wrapper + ["--", executable] + arguments)
    }

    private static let childEnvironment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C", "LANG": "C"]

    // MARK: Server process

    /// Starts the server from a thread that then waits for it: the parent-death signal is tied to
    /// the thread that spawned the process, so that thread lives exactly as long as the server.
    private func spawnServer() async throws -> pid_t {
        guard let binaries = state.withLock({ $0.binaries }) else {
            throw Failure.startFailed("the cluster was not prepared")
        }
        let owner = try serverUser()
        var arguments = [
            "-D", dataDirectory, "-k", socketDirectory, "-p", String(Self.port),
            "-c", "listen_addresses=", "-c", "unix_socket_permissions=0700",
        ]
        for (name, value) in configuration.settings.sorted(by: { $0.key < $1.key }) {
            arguments += ["-c", "\(name)=\(value)"]
        }
        let (executable, fullArguments) = command(binaries + "/postgres", arguments, owner: owner, parentDeathSignal: true)
        let logFile = self.logFile
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<pid_t, any Error>) in
            let thread = Thread { [self] in
                let pid: pid_t
                do {
                    pid = try ChildProcess.spawn(executable, fullArguments, environment: Self.childEnvironment, logFile: logFile, newSession: true)
                } catch {
                    continuation.resume(throwing: Failure.startFailed("\(error)"))
                    return
                }
                state.withLock { $0.pid = pid; $0.exit = nil }
                continuation.resume(returning: pid)
                let result = ChildProcess.wait(pid)
                let (waiters, watchers) = state.withLock { state -> ([CheckedContinuation<Void, Never>], [CheckedContinuation<String?, Never>]) in
                    state.exit = result.description
                    defer {
                        state.exitWaiters = []
                        state.exitWatchers = [:]
                    }
                    return (state.exitWaiters, Array(state.exitWatchers.values))
                }
                waiters.forEach { $0.resume() }
                watchers.forEach { $0.resume(returning: result.description) }
            }
            thread.name = "pg-embedded-server"
            thread.start()
        }
    }

    private func waitUntilAccepting() throws {
        let deadline = ContinuousClock.now + configuration.startTimeout
        let conninfo = connectionString(database: "postgres")
        while ContinuousClock.now < deadline {
            if let exit = state.withLock({ $0.exit }) {
                throw Failure.startFailed("the server exited (\(exit)); see \(logFile): \(lastLines(of: logFile))")
            }
            if PQping(conninfo) == PQPING_OK { return }
            usleep(50_000)
        }
        throw Failure.startFailed("not accepting connections after \(configuration.startTimeout); see \(logFile)")
    }

    /// Stops a server that is not our child: signals, and polls for its end (it cannot be waited for).
    private func stopForeign(_ pid: pid_t, timeout: Duration) async {
        for (signal, bound) in [(SIGINT, timeout), (SIGQUIT, Duration.seconds(5)), (SIGKILL, Duration.seconds(5))] {
            kill(pid, signal)
            let deadline = ContinuousClock.now + bound
            while ChildProcess.isAlive(pid) && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            if !ChildProcess.isAlive(pid) {
                logger.info("embedded PostgreSQL stopped", metadata: ["pid": "\(pid)"])
                return
            }
        }
    }

    /// Returns false if the server still runs after `timeout`.
    private func waitForExit(timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let done = self.state.withLock { state -> Bool in
                        if state.exit != nil { return true }
                        state.exitWaiters.append(continuation)
                        return false
                    }
                    if done { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            if first {
                group.cancelAll()
                return true
            }
            // The timer won; the exit waiter stays registered and is resumed when the server exits.
            return false
        }
    }

    // MARK: Helpers

    /// The directory of `postgres` and `initdb`.
    public static func binDirectory(configured: String?) throws -> String {
        if let configured {
            guard access(configured + "/postgres", X_OK) == 0 else {
                throw Failure.binariesNotFound("no executable postgres in \(configured)")
            }
            return configured
        }
        if let fromPgConfig = try? runPgConfig(), access(fromPgConfig + "/postgres", X_OK) == 0 {
            return fromPgConfig
        }
        let debian = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: debian)) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions where access("\(debian)/\(version)/bin/postgres", X_OK) == 0 {
            return "\(debian)/\(version)/bin"
        }
        throw Failure.binariesNotFound("install the Debian package postgresql, or set the bin directory")
    }

    private static func runPgConfig() throws -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["pg_config", "--bindir"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func lastLines(of path: String, count: Int = 5) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n").suffix(count).joined(separator: " | ")
    }
}

import Foundation
import Glibc
import Postgres
import Synchronization

/// Listening sockets held by a test the way systemd holds a socket unit's: they outlive each daemon
/// started on them, so connections made between two daemons wait in the backlog.
public final class ActivationSockets: Sendable {
    /// The control socket (a Unix stream socket) and the HTTP listener (TCP on 127.0.0.1).
    public let control: CInt, http: CInt
    public let controlPath: String
    public let httpPort: Int

    public init(controlPath: String) throws {
        self.controlPath = controlPath
        let control = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var unixAddress = sockaddr_un()
        unixAddress.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &unixAddress.sun_path) { raw in
            for (index, byte) in controlPath.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let boundUnix = withUnsafePointer(to: &unixAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(control, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard boundUnix == 0, listen(control, 64) == 0 else { throw ActivationError(what: "control socket \(controlPath)", errno: errno) }

        let http = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var inetAddress = sockaddr_in()
        inetAddress.sin_family = sa_family_t(AF_INET)
        inetAddress.sin_addr.s_addr = inet_addr("127.0.0.1")
        inetAddress.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let boundInet = withUnsafeMutablePointer(to: &inetAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(http, address, length) == 0 && listen(http, 64) == 0 && getsockname(http, address, &length) == 0
            }
        }
        guard boundInet else { throw ActivationError(what: "HTTP socket", errno: errno) }
        self.control = control
        self.http = http
        httpPort = Int(UInt16(bigEndian: inetAddress.sin_port))
    }

    deinit {
        close(control)
        close(http)
        unlink(controlPath)
    }
}

public struct ActivationError: Error, CustomStringConvertible {
    let what: String
    let errno: Int32
    public var description: String { "\(what): \(String(cString: strerror(errno)))" }
}

/// `switchboardd` started the way systemd starts a socket-activated `Type=notify` service: the
/// sockets as descriptors 3 and 4 named by `LISTEN_FDNAMES`, `LISTEN_PID` set to the daemon's own pid
/// (a shell sets it, then becomes the daemon with `exec`), and whatever else the caller adds
/// (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `CREDENTIALS_DIRECTORY`).
///
/// Spawned with the embedded cluster's `ChildProcess.spawn` (signal mask and dispositions reset: the
/// cooperative pool's threads block signals, and a child inherits that) and reaped by this object alone.
public final class SocketActivatedDaemon: Sendable {
    public let pid: pid_t
    public let logFile: String
    private let exitStatus = Mutex<Int32?>(nil)

    public init(sockets: ActivationSockets, arguments: [String], environment: [String: String], logFile: String) throws {
        self.logFile = logFile
        var env = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "CREDENTIALS_DIRECTORY", "JOURNAL_STREAM"] {
            env.removeValue(forKey: key)
        }
        env.merge(environment) { $1 }
        env["LISTEN_FDS"] = "2"
        env["LISTEN_FDNAMES"] = "control:http"

        // Copies above 3 and 4, so that dup2 onto 3 and 4 always copies (and clears close-on-exec).
        let control = fcntl(sockets.control, F_DUPFD_CLOEXEC, 10), http = fcntl(sockets.http, F_DUPFD_CLOEXEC, 10)
        defer {
            close(control)
            close(http)
        }
        let shell = [#"LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@""#, DaemonProcess.executablePath] + arguments
        pid = try ChildProcess.spawn("/bin/sh", ["-c"] + shell, environment: env, logFile: logFile, newSession: false,
                                     descriptors: [(control, 3), (http, 4)])
    }

    public func signal(_ signal: Int32) { kill(pid, signal) }

    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// Waits for the daemon to exit (polling; bounded) and returns its exit status, or nil.
    public func waitForExit(attempts: Int = 600) async -> Int32? {
        for _ in 0..<attempts {
            if let status = reap() { return status }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    private func reap() -> Int32? {
        exitStatus.withLock { known in
            if let known { return known }
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
            known = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            return known
        }
    }

    /// A daemon still running when its test ends is killed; it is reaped when the test process
    /// exits (no blocking wait here).
    deinit {
        if reap() == nil { kill(pid, SIGKILL) }
    }
}

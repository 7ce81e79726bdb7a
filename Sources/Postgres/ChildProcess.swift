import Foundation
import Glibc

/// Spawning and reaping of helper processes (initdb, postgres) with `posix_spawn`.
///
/// Every function here blocks; callers run them on threads they own, never on the cooperative pool.
/// Public for the tests, which start the daemon the same way (with systemd's passed sockets).
public enum ChildProcess {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// glibc's `POSIX_SPAWN_SETSID` (a GNU extension Swift does not import): the child starts its
    /// own session, so a Ctrl-C in the daemon's terminal reaches the daemon only, which then stops
    /// the child in order.
    private static let spawnSetSID: Int32 = 0x80

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later; a GNU extension Swift
    /// does not import), looked up once with its C calling convention.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, CInt) -> CInt
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// Starts `executable` with `arguments`; stdout and stderr append to `logFile`, stdin is /dev/null,
    /// and each of `descriptors` is copied to its target number (systemd's passed sockets: 3, 4, …;
    /// sources must not be those numbers themselves, or the copy would keep close-on-exec).
    /// Signal dispositions and mask are reset to defaults in the child.
    public static func spawn(_ executable: String, _ arguments: [String], environment: [String: String], logFile: String, newSession: Bool,
                             descriptors: [(source: CInt, target: CInt)] = []) throws -> pid_t {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        for descriptor in descriptors {
            precondition(descriptor.source != descriptor.target && descriptor.source > 2, "a passed descriptor is copied from another, higher number")
            posix_spawn_file_actions_adddup2(&fileActions, descriptor.source, descriptor.target)
        }
        // Nothing else is inherited. A descriptor without close-on-exec that another thread has
        // open (a pipe to a command being read to its end) would otherwise live on in a server
        // that runs for hours, and its reader would wait for an end that never comes.
        let keep = descriptors.map(\.target).max() ?? 2
        if let addCloseFrom = Self.addCloseFrom {
            _ = addCloseFrom(&fileActions, max(keep, 2) + 1)
        } else {
            let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.compactMap(CInt.init) ?? []
            for fd in open where fd > max(keep, 2) { posix_spawn_file_actions_addclose(&fileActions, fd) }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if newSession { flags |= spawnSetSID }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &fileActions, &attributes, argv, envp)
        guard status == 0 else {
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Waits for `pid` to exit; returns a description such as "exit status 1" or "signal 9".
    static func wait(_ pid: pid_t) -> (success: Bool, description: String) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return (false, "waitpid failed: \(String(cString: strerror(errno)))") }
        }
        let signal = status & 0x7f
        if signal == 0 {
            let code = (status >> 8) & 0xff
            return (code == 0, "exit status \(code)")
        }
        return (false, "signal \(signal)")
    }

    /// Runs a command to completion.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String], logFile: String) throws {
        let pid = try spawn(executable, arguments, environment: environment, logFile: logFile, newSession: true)
        let result = wait(pid)
        guard result.success else {
            throw Failure(description: "\(URL(fileURLWithPath: executable).lastPathComponent) failed (\(result.description))")
        }
    }

    /// Whether a process with this id exists (possibly owned by another user).
    static func isAlive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}

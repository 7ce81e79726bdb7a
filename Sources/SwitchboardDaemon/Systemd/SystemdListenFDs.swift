import Foundation
import Glibc

/// Sockets systemd opened for us (socket activation): `LISTEN_PID` names this process and
/// `LISTEN_FDS` counts descriptors from 3. The variables are removed once read, so children do not
/// inherit them.
enum SystemdListenFDs {
    static let firstDescriptor: CInt = 3

    /// The first passed descriptor, if systemd passed any to this process.
    static func take(environment: [String: String] = ProcessInfo.processInfo.environment) -> CInt? {
        defer {
            unsetenv("LISTEN_PID")
            unsetenv("LISTEN_FDS")
            unsetenv("LISTEN_FDNAMES")
        }
        guard let pid = environment["LISTEN_PID"].flatMap(Int32.init), pid == getpid(),
              let count = environment["LISTEN_FDS"].flatMap(Int.init), count >= 1 else { return nil }
        return firstDescriptor
    }
}

import Foundation
import Glibc

/// Sockets systemd opened for us (socket activation): `LISTEN_PID` names this process, `LISTEN_FDS`
/// counts descriptors from 3, and `LISTEN_FDNAMES` names them (`FileDescriptorName=` in the socket
/// unit). The variables are removed once read, so children do not inherit them.
enum SystemdListenFDs {
    static let firstDescriptor: CInt = 3

    /// The passed descriptors by name (unnamed ones are called "unknown", as systemd does); empty
    /// when the variables are absent or name another process.
    static func take(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String: CInt] {
        defer {
            unsetenv("LISTEN_PID")
            unsetenv("LISTEN_FDS")
            unsetenv("LISTEN_FDNAMES")
        }
        guard let pid = environment["LISTEN_PID"].flatMap(Int32.init), pid == getpid(),
              let count = environment["LISTEN_FDS"].flatMap(Int.init), count >= 1 else { return [:] }
        let names = environment["LISTEN_FDNAMES"].map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) } ?? []
        var descriptors: [String: CInt] = [:]
        for index in 0..<count {
            let name = index < names.count && !names[index].isEmpty ? names[index] : "unknown"
            if descriptors[name] == nil { descriptors[name] = firstDescriptor + CInt(index) }
        }
        return descriptors
    }

    /// The HTTP listener: the descriptor named "http" (never an unnamed one: that is the control socket).
    static func httpSocket(in descriptors: [String: CInt]) -> CInt? { descriptors["http"] }

    /// The control socket: the descriptor named "control", or a single unnamed one.
    static func controlSocket(in descriptors: [String: CInt]) -> CInt? {
        descriptors["control"] ?? (descriptors.count == 1 ? descriptors["unknown"] : nil)
    }
}

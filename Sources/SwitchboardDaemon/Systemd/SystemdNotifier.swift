import Foundation
import Logging

/// Sends `sd_notify` messages (READY=1, STATUS=…, STOPPING=1, WATCHDOG=1) to `$NOTIFY_SOCKET`.
///
/// Supports filesystem and abstract (`@name`) socket addresses. A failure to notify is logged and
/// never fatal: the daemon works the same without systemd.
public struct SystemdNotifier: Sendable {
    let socketPath: String?
    let logger: Logger

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger) {
        let path = environment["NOTIFY_SOCKET"]
        self.socketPath = (path?.isEmpty ?? true) ? nil : path
        self.logger = logger
    }

    public var isEnabled: Bool { socketPath != nil }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func status(_ status: String) { send("STATUS=\(status)") }
    public func stopping(status: String) { send("STOPPING=1\nSTATUS=\(status)") }
    public func watchdog() { send("WATCHDOG=1") }

    /// Sends one datagram without blocking; returns whether it was sent.
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            logger.debug("sd_notify: cannot create socket", metadata: ["errno": "\(errno)"])
            return false
        }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else {
            logger.warning("sd_notify: NOTIFY_SOCKET path too long", metadata: ["path": "\(socketPath)"])
            return false
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in pathBytes.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (pathBytes.first == 0 ? 0 : 1))
        let sent = message.utf8CString.withUnsafeBufferPointer { buffer in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                    sendto(fd, buffer.baseAddress, buffer.count - 1, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), sockaddrPointer, length)
                }
            }
        }
        if sent < 0 {
            logger.debug("sd_notify failed", metadata: ["errno": "\(errno)", "message": "\(message.prefix(20))"])
            return false
        }
        return true
    }

    /// The watchdog interval systemd expects (`WATCHDOG_USEC`), if it applies to this process.
    public static func watchdogInterval(environment: [String: String] = ProcessInfo.processInfo.environment) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], pid != String(getpid()) { return nil }
        return .microseconds(Int64(usec))
    }
}

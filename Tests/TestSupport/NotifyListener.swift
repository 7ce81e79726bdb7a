import Foundation
import Synchronization

/// Plays systemd's side of `sd_notify`: a datagram socket that records every message with the time it
/// arrived. Supports a filesystem path or an abstract name (`@name`).
public final class NotifyListener: Sendable {
    public struct Message: Sendable {
        public let text: String
        public let receivedAt: ContinuousClock.Instant
    }

    /// What to put in `NOTIFY_SOCKET`.
    public let address: String
    private let fd: Int32
    private let messages = Mutex<[Message]>([])

    public init(abstract: Bool, directory: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let name = abstract ? "@switchboard-test-\(UUID().uuidString.prefix(12))" : directory + "/notify.sock"
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0 else { throw POSIXError(.EADDRINUSE) }
        self.fd = fd
        address = name
        let thread = Thread { [self] in self.receiveLoop() }
        thread.start()
    }

    private func receiveLoop() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { return }
            let text = String(decoding: buffer[0..<count], as: UTF8.self)
            let now = ContinuousClock.now
            messages.withLock { $0.append(Message(text: text, receivedAt: now)) }
        }
    }

    public var received: [Message] { messages.withLock { $0 } }

    /// Messages holding a line equal to `line` (e.g. "READY=1").
    public func messages(with line: String) -> [Message] {
        received.filter { $0.text.split(separator: "\n").contains { $0 == line } }
    }

    /// Polls until `count` messages holding `line` arrived (bounded); returns them.
    public func waitFor(_ line: String, count: Int = 1, attempts: Int = 1200) async -> [Message] {
        for _ in 0..<attempts {
            let found = messages(with: line)
            if found.count >= count { return found }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return messages(with: line)
    }

    /// The value of the last `STATUS=` line received.
    public var lastStatus: String? {
        received.reversed().lazy.compactMap { message in
            message.text.split(separator: "\n").first { $0.hasPrefix("STATUS=") }.map { String($0.dropFirst(7)) }
        }.first
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

import Foundation

/// A client of a Server-Sent Events stream over loopback, for tests: sends one GET and reads what
/// arrives as it arrives (`curl -N`). The socket calls block, so they run on threads of their own.
public final class EventStreamClient: @unchecked Sendable {
    // @unchecked: `fd` is set once in init and only read after; `received` is guarded by `lock`.
    private let fd: Int32
    private let lock = NSLock()
    private var received = ""

    public init(port: Int, path: String, headers: [String: String]) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        // Reads give up after 100 ms so a waiting reader can check again.
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        let request = Array((head + "\r\n").utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit { close(fd) }

    /// Everything received so far (headers and body as text).
    public var text: String { lock.withLock { received } }

    /// Reads until what arrived contains `expected` (true), or the stream ends or `timeout` passes
    /// (false). An upper bound on a condition, generous for a loaded machine.
    public func waitFor(_ expected: String, timeout: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        return await withCheckedContinuation { continuation in
            Thread {
                var buffer = [UInt8](repeating: 0, count: 8192)
                while ContinuousClock.now < deadline {
                    if self.text.contains(expected) { return continuation.resume(returning: true) }
                    let n = recv(self.fd, &buffer, buffer.count, 0)
                    if n == 0 { break }
                    if n > 0 {
                        let chunk = String(decoding: buffer[0..<n], as: UTF8.self)
                        self.lock.withLock { self.received += chunk }
                    }
                }
                continuation.resume(returning: self.text.contains(expected))
            }.start()
        }
    }

    /// Lines of what arrived ("\r\n" is one Character in Swift: split on scalars).
    private var lines: [Substring] {
        Substring(text).split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" }
    }

    /// The ids of the events received (`id:` lines), in order.
    public var eventIDs: [String] {
        lines.filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)).trimmingCharacters(in: .whitespaces) }
    }

    /// The kinds of the events received (`event:` lines), in order.
    public var eventKinds: [String] {
        lines.filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
    }
}

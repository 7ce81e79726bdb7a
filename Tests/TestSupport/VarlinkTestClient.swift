import Foundation
import Glibc

/// A plain Varlink client for tests: raw bytes in and out of a Unix socket, so a test can send
/// exactly what a broken or hostile client would. Each blocking socket call runs on a thread of its
/// own, never on the cooperative pool.
///
/// `@unchecked Sendable`: the descriptor and the buffer are used only inside those thread bodies,
/// and a test awaits each operation before starting the next, so they are never touched by two
/// threads at once.
public final class VarlinkTestClient: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit { close(fd) }

    public static func connect(_ path: String) async throws -> VarlinkTestClient {
        try await onThread {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: Array(path.utf8))
                raw[path.utf8.count] = 0
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard result == 0 else {
                close(fd)
                throw Failure(description: "connect \(path): \(String(cString: strerror(errno)))")
            }
            // A reply or event that never comes ends the wait after two minutes (receive answers
            // nil) instead of hanging the test run.
            var patience = timeval(tv_sec: 120, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, socklen_t(MemoryLayout<timeval>.size))
            return VarlinkTestClient(fd: fd)
        }
    }

    /// Sends bytes as they are (a failure to send, e.g. the daemon closed first, is ignored).
    public func send(_ bytes: [UInt8]) async throws {
        try await Self.onThread {
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    /// Sends one call.
    public func send(method: String, parameters: String = "{}", more: Bool = false) async throws {
        let text = #"{"method": "\#(method)", "parameters": \#(parameters)\#(more ? #", "more": true"# : "")}"#
        try await send(Array(text.utf8) + [0])
    }

    /// The next message's JSON text, or nil when the daemon closed the connection.
    public func receive() async throws -> String? {
        try await Self.onThread {
            while true {
                if let end = self.buffer.firstIndex(of: 0) {
                    let message = Array(self.buffer[..<end])
                    self.buffer.removeSubrange(...end)
                    return String(decoding: message, as: UTF8.self)
                }
                var chunk = [UInt8](repeating: 0, count: 65536)
                let count = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return nil }
                self.buffer += chunk[0..<count]
            }
        }
    }

    /// One call and its reply, parsed.
    public func call(_ method: String, _ parameters: String = "{}") async throws -> [String: Any] {
        try await send(method: method, parameters: parameters)
        guard let reply = try await receive() else { throw Failure(description: "connection closed before the reply to \(method)") }
        return try Self.object(reply)
    }

    /// The next event of a `Watch` stream whose kind is not in `skipping` (nil: the stream ended).
    public func nextEvent(skipping: Set<String> = []) async throws -> [String: Any]? {
        while let frame = try await receive() {
            let object = try Self.object(frame)
            guard let event = (object["parameters"] as? [String: Any])?["event"] as? [String: Any] else { throw Failure(description: "not an event: \(frame)") }
            if let kind = event["kind"] as? String, skipping.contains(kind) { continue }
            return event
        }
        return nil
    }

    public static func object(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw Failure(description: "not a JSON object: \(text)")
        }
        return object
    }

    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}

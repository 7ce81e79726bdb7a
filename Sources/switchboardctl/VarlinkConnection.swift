import Foundation
import Glibc
import SwitchboardCore

/// A blocking Varlink client over a Unix socket: this is a command-line tool, its main thread may
/// wait on the socket.
final class VarlinkConnection {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A Varlink error reply: its name and parameters (as text: errors must be Sendable).
    struct RemoteError: Error {
        let name: String
        let parameters: [String: String]
        let problems: [String]

        init(name: String, parameters: [String: Any]) {
            self.name = name
            self.problems = parameters["problems"] as? [String] ?? []
            self.parameters = parameters.mapValues { value in
                if let text = value as? String { return text }
                return (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])).map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            }
        }
    }

    private let fd: Int32
    private var decoder = VarlinkFrameDecoder(maxMessageBytes: 64 * 1024 * 1024)
    private var ready: [[UInt8]] = []

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw Failure(description: "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot connect to \(path): \(reason) (is switchboardd running? --socket names another path)")
        }
    }

    deinit { close(fd) }

    /// Sends one call.
    func send(method: String, parameters: [String: Any], more: Bool = false) throws {
        var call: [String: Any] = ["method": method, "parameters": parameters]
        if more { call["more"] = true }
        var data = try JSONSerialization.data(withJSONObject: call)
        data.append(0)
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw Failure(description: "send: \(String(cString: strerror(errno)))")
                }
                offset += written
            }
        }
    }

    /// The next reply: its parameters and whether more follow; a Varlink error is thrown.
    func receive() throws -> (parameters: [String: Any], continues: Bool) {
        while ready.isEmpty {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "receive: \(String(cString: strerror(errno)))")
            }
            if count == 0 { throw Failure(description: "the daemon closed the connection") }
            ready += try decoder.append(buffer[0..<count])
        }
        let message = ready.removeFirst()
        guard let object = try JSONSerialization.jsonObject(with: Data(message)) as? [String: Any] else {
            throw Failure(description: "the daemon sent something that is not a JSON object")
        }
        if let error = object["error"] as? String {
            throw RemoteError(name: error, parameters: object["parameters"] as? [String: Any] ?? [:])
        }
        return (object["parameters"] as? [String: Any] ?? [:], object["continues"] as? Bool ?? false)
    }

    /// One call, one reply.
    func call(_ method: String, _ parameters: [String: Any] = [:]) throws -> [String: Any] {
        try send(method: method, parameters: parameters)
        return try receive().parameters
    }
}

import Glibc
import JSON
import Varlink

/// A blocking Varlink client over a Unix socket: this is a command-line tool, its main thread may
/// wait on the socket.
final class VarlinkConnection {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A Varlink error reply: its name and parameters (as text).
    struct RemoteError: Error {
        let name: String
        let parameters: [String: String]
        let problems: [String]

        init(name: String, parameters: JSONValue) {
            self.name = name
            self.problems = parameters["problems"]?.array.compactMap(\.string) ?? []
            var texts: [String: String] = [:]
            if case .object(let members) = parameters {
                for (key, value) in members { texts[key] = value.string ?? JSONWriter.write(value) }
            }
            self.parameters = texts
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
    func send(method: String, parameters: JSONValue, more: Bool = false) throws {
        var call: [String: JSONValue] = ["method": .string(method), "parameters": parameters]
        if more { call["more"] = true }
        let bytes = Array(JSONWriter.write(.object(call)).utf8) + [0]
        try bytes.withUnsafeBytes { buffer in
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
    func receive() throws -> (parameters: JSONValue, continues: Bool) {
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
        let object: JSONValue
        do {
            object = try JSONParser.parse(message)
        } catch {
            throw Failure(description: "the daemon sent something that is not JSON: \(error)")
        }
        guard object.isObject else { throw Failure(description: "the daemon sent something that is not a JSON object") }
        if let error = object["error"]?.string {
            throw RemoteError(name: error, parameters: object["parameters"] ?? [:])
        }
        return (object["parameters"] ?? [:], object["continues"]?.bool ?? false)
    }

    /// One call, one reply.
    func call(_ method: String, _ parameters: JSONValue = [:]) throws -> JSONValue {
        try send(method: method, parameters: parameters)
        return try receive().parameters
    }
}

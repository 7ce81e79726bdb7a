import Foundation
import Glibc

/// One keep-alive HTTP/1.1 connection over loopback with blocking sockets, driven from a thread of its
/// own: the smallest load generator that measures the server rather than itself.
final class HTTPLoadClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 65536)
    private var pending: [UInt8] = []

    init(port: Int) throws {
        fd = try LoopbackSocket.connect(port: port)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// Sends one POST and returns the response status.
    func post(path: String, headers: [(String, String)], body: [UInt8]) throws -> Int {
        try request("POST", path: path, headers: headers, body: body).status
    }

    /// Sends one request and returns the response's status and body.
    func request(_ method: String, path: String, headers: [(String, String)], body: [UInt8] = []) throws -> (status: Int, body: [UInt8]) {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        try write(Array(head.utf8) + body)
        return try readResponse()
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    /// Reads one response: status line, headers, a body of Content-Length bytes.
    private func readResponse() throws -> (status: Int, body: [UInt8]) {
        while true {
            if let end = headerEnd() {
                let head = String(decoding: pending[..<end], as: UTF8.self)
                let lines = head.split(separator: "\r\n")
                guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
                    throw Failure(description: "bad status line: \(lines.first ?? "")")
                }
                let length = lines.dropFirst().compactMap { line -> Int? in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                    return Int(parts[1].trimmingCharacters(in: .whitespaces))
                }.first ?? 0
                let total = end + 4 + length
                while pending.count < total { try fill() }
                let body = Array(pending[(end + 4)..<total])
                pending.removeFirst(total)
                return (status, body)
            }
            try fill()
        }
    }

    private func headerEnd() -> Int? {
        guard pending.count >= 4 else { return nil }
        for index in 0...(pending.count - 4) where pending[index] == 13 && pending[index + 1] == 10 && pending[index + 2] == 13 && pending[index + 3] == 10 {
            return index
        }
        return nil
    }

    private func fill() throws {
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { throw Failure(description: count == 0 ? "server closed the connection" : "recv: \(String(cString: strerror(errno)))") }
        pending.append(contentsOf: buffer[0..<count])
    }
}

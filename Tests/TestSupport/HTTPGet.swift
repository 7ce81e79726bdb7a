import Foundation

/// A reply without an HTTP status line, with what arrived.
public struct UnreadableResponse: Error, CustomStringConvertible {
    public let raw: String
    public let receiveError: Int32
    public var description: String { "no HTTP status line in \(raw.utf8.count) bytes (errno \(receiveError)): \(raw.prefix(200))" }
}

/// A minimal HTTP/1.1 GET over loopback, for health checks in tests (no client library needed).
public func httpGet(host: String = "127.0.0.1", port: Int, path: String) async throws -> (status: Int, body: String) {
    try await httpRequest(host: host, port: port, method: "GET", path: path)
}

/// A minimal HTTP/1.1 request over loopback, on a thread of its own (the socket calls block).
public func httpRequest(host: String = "127.0.0.1", port: Int, method: String, path: String, headers: [String: String] = [:],
                        body: [UInt8] = []) async throws -> (status: Int, body: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result { try blockingRequest(host: host, port: port, method: method, path: path, headers: headers, body: body) })
        }.start()
    }
}

private func blockingRequest(host: String, port: Int, method: String, path: String, headers: [String: String], body: [UInt8]) throws -> (status: Int, body: String) {
    let fd = try connectAndSend(host: host, port: port, method: method, path: path, headers: headers, body: body)
    defer { close(fd) }
    return try readResponse(fd)
}

/// A request written to the server's socket before `sent` returns; its answer read with `response()`.
/// For a request that must be on its way before something else happens (a daemon restarting).
public final class HTTPRequestInFlight: Sendable {
    let fd: CInt

    private init(fd: CInt) { self.fd = fd }

    public static func sent(host: String = "127.0.0.1", port: Int, method: String, path: String, headers: [String: String] = [:],
                            body: [UInt8] = []) async throws -> HTTPRequestInFlight {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    HTTPRequestInFlight(fd: try connectAndSend(host: host, port: port, method: method, path: path, headers: headers, body: body))
                })
            }.start()
        }
    }

    /// Waits for the whole answer (the server closes the connection after it).
    public func response() async throws -> (status: Int, body: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try readResponse(self.fd) }) }.start()
        }
    }

    deinit { close(fd) }
}

private func connectAndSend(host: String, port: Int, method: String, path: String, headers: [String: String], body: [UInt8]) throws -> CInt {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, host, &addr.sin_addr)
    let connected = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        throw POSIXError(.ECONNREFUSED)
    }
    var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
    for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
    if !body.isEmpty || method != "GET" { head += "Content-Length: \(body.count)\r\n" }
    let request = Array((head + "\r\n").utf8) + body
    var sent = 0
    while sent < request.count {
        let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else {
            close(fd)
            throw POSIXError(.EPIPE)
        }
        sent += n
    }
    return fd
}

/// The status line and headers of a GET, as sent (for header checks).
public func httpRequestHead(host: String = "127.0.0.1", port: Int, path: String) async throws -> String {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result {
                let fd = try connectAndSend(host: host, port: port, method: "GET", path: path, headers: [:], body: [])
                defer { close(fd) }
                let text = String(decoding: readAll(fd), as: UTF8.self)
                return text.components(separatedBy: "\r\n\r\n").first.map { $0 + "\r\n" } ?? text
            })
        }.start()
    }
}

private func readAll(_ fd: CInt) -> [UInt8] {
    var response = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        // A signal (a child process ending) interrupts the call; that is not the end of the response.
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        response += buffer[0..<n]
    }
    return response
}

private func readResponse(_ fd: CInt) throws -> (status: Int, body: String) {
    let response = readAll(fd)
    let text = String(decoding: response, as: UTF8.self)
    let statusLine = text.split(separator: "\r\n").first ?? ""
    let parts = statusLine.split(separator: " ")
    guard parts.count >= 2, let status = Int(parts[1]) else { throw UnreadableResponse(raw: text, receiveError: errno) }
    let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    return (status, body)
}

/// A whole HTTP answer, its bytes untouched (files, ranges): the status, the headers (names in
/// lowercase; a repeated header's values joined with ", ") and the body (a chunked one decoded).
public struct HTTPExchange: Sendable {
    public let status: Int
    public let headers: [String: String]
    public let body: [UInt8]
}

public struct MalformedResponse: Error, CustomStringConvertible {
    public let description: String
}

/// One request over loopback (`Connection: close`), on a thread of its own, answered as bytes.
public func httpExchange(host: String = "127.0.0.1", port: Int, method: String = "GET", path: String, headers: [String: String] = [:],
                         body: [UInt8] = []) async throws -> HTTPExchange {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result {
                let fd = try connectAndSend(host: host, port: port, method: method, path: path, headers: headers, body: body)
                defer { close(fd) }
                return try parseExchange(readAll(fd))
            })
        }.start()
    }
}

private func parseExchange(_ bytes: [UInt8]) throws -> HTTPExchange {
    let separator: [UInt8] = [13, 10, 13, 10]
    guard let end = bytes.indices.dropLast(3).first(where: { bytes[$0..<($0 + 4)].elementsEqual(separator) }) else {
        throw MalformedResponse(description: "no end of the header in \(bytes.count) bytes")
    }
    let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
    let statusParts = lines.first?.split(separator: " ") ?? []
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw MalformedResponse(description: "status line \(lines.first ?? "")") }
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        let name = line[..<colon].lowercased(), value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        headers[name] = headers[name].map { $0 + ", " + value } ?? value
    }
    var body = Array(bytes[(end + 4)...])
    if headers["transfer-encoding"]?.lowercased() == "chunked" {
        var decoded: [UInt8] = [], index = 0
        while let lineEnd = body[index...].firstIndex(of: 13), let size = Int(String(decoding: body[index..<lineEnd], as: UTF8.self)
            .split(separator: ";").first ?? "", radix: 16), size > 0 {
            let start = lineEnd + 2
            guard start + size <= body.count else { throw MalformedResponse(description: "a chunk runs past the end") }
            decoded += body[start..<(start + size)]
            index = start + size + 2
        }
        body = decoded
    }
    return HTTPExchange(status: status, headers: headers, body: body)
}

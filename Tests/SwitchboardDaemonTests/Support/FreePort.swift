import Foundation
import Synchronization

struct NoFreePort: Error {}

/// Ports for daemons and stand-ins a test starts itself, chosen before the process binds them.
///
/// Below the kernel's ephemeral range: a port the kernel picks for a socket bound to port 0 can be
/// handed out again, to a connection another test opens (or to the next such call) before the daemon
/// binds it, and a run of the whole suite makes thousands of connections. A port of this process's
/// choosing below the range is given only to sockets that ask for it, and never twice by this
/// process.
enum FreePort {
    private static let given = Mutex<Set<Int>>([])

    static func next() throws -> Int {
        let lowestEphemeral = ephemeralRangeStart()
        guard lowestEphemeral > 20_000 else {
            // A machine whose ephemeral range leaves no room below it: the kernel's choice.
            guard let port = try bound(to: 0) else { throw NoFreePort() }
            return port
        }
        for _ in 0..<500 {
            let port = Int.random(in: 10_000..<lowestEphemeral)
            guard given.withLock({ $0.insert(port).inserted }) else { continue }
            if try bound(to: port) != nil { return port }
        }
        throw NoFreePort()
    }

    /// `net.ipv4.ip_local_port_range`'s first port (Linux's default, 32768, if it cannot be read).
    private static func ephemeralRangeStart() -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32_768
    }

    /// The port a socket on 127.0.0.1 bound to `port` got (the kernel's choice for 0), the socket
    /// closed again; nil if something else holds it.
    private static func bound(to port: Int) throws -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NoFreePort() }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }
}

import Foundation
import Glibc
import Synchronization

/// Many Server-Sent Events connections read by one thread with `poll`: what 1,000 agents' clients
/// look like to the server, at a few kilobytes each on this side. Every complete event whose kind
/// is watched is reported with its ticket reference and the instant it was read.
final class EventStreamClients: Sendable {
    struct Receipt: Sendable {
        var ticket: String
        var kind: String
        var at: ContinuousClock.Instant
    }

    private struct State {
        var receipts: [Receipt] = []
        var opened = 0
        var stopped = false
    }

    private let state = Mutex(State())
    private let fds: [Int32]
    private let kinds: Set<String>

    /// Connects and sends each request (one bearer token per connection).
    init(port: Int, tokens: [String], kinds: Set<String>) throws {
        var fds: [Int32] = []
        for token in tokens {
            let fd = try LoopbackSocket.connect(port: port)
            let request = LoopbackSocket.eventStreamRequest(token: token)
            _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            fds.append(fd)
        }
        self.fds = fds
        self.kinds = kinds
    }

    /// Reads until `stop()`, on a thread of its own.
    func start() {
        Thread { self.readLoop() }.start()
    }

    func stop() { state.withLock { $0.stopped = true } }

    /// Connections whose stream has begun (the `retry:` line arrived).
    var opened: Int { state.withLock { $0.opened } }

    func takeReceipts() -> [Receipt] { state.withLock { state in defer { state.receipts = [] }; return state.receipts } }

    private func readLoop() {
        var polls = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var pending = [[UInt8]](repeating: [], count: fds.count)
        var started = [Bool](repeating: false, count: fds.count)
        var buffer = [UInt8](repeating: 0, count: 65536)
        let separator: [UInt8] = [10, 10]
        while !state.withLock({ $0.stopped }) {
            let ready = poll(&polls, nfds_t(polls.count), 100)
            guard ready > 0 else { continue }
            var found: [Receipt] = []
            var newlyOpened = 0
            for index in polls.indices where polls[index].revents != 0 {
                polls[index].revents = 0
                while true {
                    let n = recv(polls[index].fd, &buffer, buffer.count, 0)
                    guard n > 0 else { break }
                    let now = ContinuousClock.now
                    pending[index].append(contentsOf: buffer[0..<n])
                    while let range = pending[index].firstRange(of: separator) {
                        let frame = String(decoding: pending[index][..<range.lowerBound], as: UTF8.self)
                        pending[index].removeSubrange(..<range.upperBound)
                        if !started[index], frame.contains("retry:") {
                            started[index] = true
                            newlyOpened += 1
                        }
                        guard let kindLine = frame.split(separator: "\n").first(where: { $0.hasPrefix("event: ") }) else { continue }
                        let kind = String(kindLine.dropFirst(7))
                        guard kinds.contains(kind), let ticket = Self.ticket(in: frame) else { continue }
                        found.append(Receipt(ticket: ticket, kind: kind, at: now))
                    }
                }
            }
            state.withLock { state in
                state.receipts.append(contentsOf: found)
                state.opened += newlyOpened
            }
        }
        for fd in fds { close(fd) }
    }

    /// The value of `"ticket":"…"` in the frame's data.
    static func ticket(in frame: String) -> String? {
        guard let start = frame.range(of: "\"ticket\":\"") else { return nil }
        let rest = frame[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }
}

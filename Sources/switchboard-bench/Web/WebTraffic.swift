import Foundation
import Glibc
import Synchronization
import WhatsApp

/// Meta's side of the web benchmark: signed text-message webhooks over keep-alive connections, for
/// seeding (many messages per delivery, as fast as the daemon takes them) and for load (one message
/// per delivery at a fixed rate, open loop), noting the wall-clock instant each was acknowledged —
/// the instant a page's render and an event-stream client's read are measured from.
enum WebTraffic {
    static let appSecret = "bench-app-secret"
    static let businessNumber = "106540352242922"
    static let displayNumber = "15550783881"

    struct Message {
        var customer: String
        var name: String
        var wamid: String
        var timestamp: Int
        var text: String
    }

    /// One delivery: a change per customer, each with that customer's messages in order.
    static func delivery(_ messages: [Message]) -> [UInt8] {
        var order: [String] = []
        var byCustomer: [String: [Message]] = [:]
        for message in messages {
            if byCustomer[message.customer] == nil { order.append(message.customer) }
            byCustomer[message.customer, default: []].append(message)
        }
        let changes = order.map { customer -> String in
            let list = byCustomer[customer] ?? []
            let texts = list.map { m in
                #"{"from":"\#(m.customer)","id":"\#(m.wamid)","timestamp":"\#(m.timestamp)","type":"text","text":{"body":"\#(m.text)"}}"#
            }.joined(separator: ",")
            return #"{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"\#(displayNumber)","phone_number_id":"\#(businessNumber)"},"contacts":[{"profile":{"name":"\#(list.first?.name ?? "")"},"wa_id":"\#(customer)"}],"messages":[\#(texts)]}}"#
        }.joined(separator: ",")
        return Array(#"{"object":"whatsapp_business_account","entry":[{"id":"419561257915477","changes":[\#(changes)]}]}"#.utf8)
    }

    /// Posts every delivery over `connections` keep-alive connections as fast as they are taken;
    /// returns the number not answered 200.
    static func seed(port: Int, deliveries: [[UInt8]], connections: Int) async throws -> Int {
        let next = SharedCounter(), failed = SharedCounter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, connections) {
                group.addTask {
                    try await onThread {
                        let client = try HTTPLoadClient(port: port)
                        let signer = WebhookSignature(appSecret: appSecret)
                        while true {
                            let index = next.increment() - 1
                            guard index < deliveries.count else { return }
                            let body = deliveries[index]
                            let status = try client.post(path: "/webhooks/whatsapp", headers: [("X-Hub-Signature-256", signer.headerValue(for: body))], body: body)
                            if status != 200 { _ = failed.increment() }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        return failed.increment() - 1
    }

    /// What a paced sender saw: each message's acknowledgement instant (Unix seconds, wall clock),
    /// the time from sending to the 200, and how many were not answered 200.
    struct Paced: Sendable {
        var acknowledged: [Int: Double] = [:]
        var ackMilliseconds: [Double] = []
        var non200 = 0
        var behind = 0
    }

    /// Sends `count` single-message deliveries at `rate` per second from `start` (open loop: a late
    /// answer does not move the schedule, the next one is sent at once); `message(i)` builds the i-th.
    static func paced(port: Int, count: Int, rate: Double, start: ContinuousClock.Instant,
                      message: @escaping @Sendable (Int) -> Message) async throws -> Paced {
        try await onThread {
            let client = try HTTPLoadClient(port: port)
            let signer = WebhookSignature(appSecret: appSecret)
            var result = Paced()
            for index in 0..<count {
                let due = start + .nanoseconds(Int64(Double(index) / rate * 1e9))
                let wait = due - ContinuousClock.now
                if wait > .zero { Thread.sleep(forTimeInterval: wait.seconds) } else if wait < .milliseconds(-50) { result.behind += 1 }
                let body = delivery([message(index)])
                let sent = ContinuousClock.now
                let status = try client.post(path: "/webhooks/whatsapp", headers: [("X-Hub-Signature-256", signer.headerValue(for: body))], body: body)
                let acknowledged = Date().timeIntervalSince1970
                result.ackMilliseconds.append(Double((ContinuousClock.now - sent).nanoseconds) / 1e6)
                if status == 200 { result.acknowledged[index] = acknowledged } else { result.non200 += 1 }
            }
            return result
        }
    }

    /// Runs blocking work on a thread of its own (not the cooperative pool).
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }
}

/// A counter shared by threads.
final class SharedCounter: Sendable {
    private let value = Mutex(0)

    /// Adds one; returns the new value.
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}

/// One agent's event stream (`GET /api/v1/events` with a bearer token) read on a thread of its own:
/// the instant (wall clock) each marked message's event was read, for the baseline the page's render
/// is compared with — the same events, read by a client that only parses them.
final class MarkedEventClient: Sendable {
    private struct State {
        var seen: [Int: Double] = [:]
        var events = 0
        var opened = false
        var stopped = false
    }

    private let state = Mutex(State())
    private let fd: Int32
    private let marker: [UInt8]

    init(port: Int, token: String, marker: String) throws {
        let fd = try LoopbackSocket.connect(port: port)
        let request = LoopbackSocket.eventStreamRequest(token: token)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
        self.marker = Array(marker.utf8)
    }

    func start() { Thread { self.readLoop() }.start() }

    func stop() { state.withLock { $0.stopped = true } }

    var opened: Bool { state.withLock { $0.opened } }
    var events: Int { state.withLock { $0.events } }

    /// The marks read so far (number → Unix seconds), cleared.
    func take() -> [Int: Double] { state.withLock { state in defer { state.seen = [:] }; return state.seen } }

    private func readLoop() {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let separator: [UInt8] = [10, 10]
        while !state.withLock({ $0.stopped }) {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else {
                if n == 0 { break }
                continue
            }
            let now = Date().timeIntervalSince1970
            pending.append(contentsOf: buffer[0..<n])
            var found: [Int] = []
            var frames = 0, opened = false
            while let range = pending.firstRange(of: separator) {
                let frame = Array(pending[..<range.lowerBound])
                pending.removeSubrange(..<range.upperBound)
                if frame.starts(with: Array("retry:".utf8)) || frame.firstRange(of: Array("\nretry:".utf8)) != nil { opened = true }
                if frame.firstRange(of: Array("event: ".utf8)) != nil { frames += 1 }
                if let number = Self.mark(in: frame, marker: marker) { found.append(number) }
            }
            state.withLock { state in
                state.events += frames
                if opened { state.opened = true }
                for number in found where state.seen[number] == nil { state.seen[number] = now }
            }
        }
        close(fd)
    }

    /// The digits after the marker, if the frame carries it.
    static func mark(in frame: [UInt8], marker: [UInt8]) -> Int? {
        guard let range = frame.firstRange(of: marker) else { return nil }
        var value = 0, digits = 0
        for byte in frame[range.upperBound...] {
            guard byte >= 48 && byte <= 57 else { break }
            value = value * 10 + Int(byte - 48)
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}

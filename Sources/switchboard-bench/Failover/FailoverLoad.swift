import Foundation
import Glibc
import Synchronization
import SwitchboardCore
import WhatsApp

/// Customers writing through signed webhooks at a fixed rate, spread evenly over several daemons:
/// each target gets its share of new messages (single-message deliveries, unique wamids) on its own
/// keep-alive connections, each on a thread of its own. A delivery that is not acknowledged (the
/// daemon is dead: connection refused; or it answered 503) is sent again a second later to the next
/// target — a load balancer in front of the instances, as Meta's retries would reach them. Every
/// attempt is recorded (when it was sent, to which target, its status) so that a gap can be
/// looked at afterwards.
final class FailoverLoad: Sendable {
    struct Attempt: Sendable {
        /// Nanoseconds from the load's start to when the request was sent.
        var sentAt: Int64
        var latency: Int64
        var target: Int
        /// The HTTP status; 0 when the connection was refused or broke.
        var status: Int
    }

    struct Ack: Sendable {
        var wamid: String
        var customer: String
        var helpLine: Bool
    }

    private struct Delivery: Sendable {
        var wamid: String
        var customer: String
        var helpLine: Bool
        var body: [UInt8]
        var dueAt: ContinuousClock.Instant
    }

    private struct Lane {
        var next = 0
        var retries: [Delivery] = []
        var retryHead = 0
    }

    private struct State {
        var running = true
        var producing = true
        var start = ContinuousClock.now
        /// Time spent producing so far (paused time left out), up to the last pause.
        var producedFor: Duration = .zero
        var producingSince = ContinuousClock.now
        var lanes: [Lane]
        var attempts: [Attempt] = []
        var acknowledged: [Ack] = []
        var random: SeededRandom
        /// Customers who wrote so far, per line (main, help), for returning customers.
        var customers: [[String]] = [[], []]
        var nextCustomer = 0
    }

    static let mainLine = "106540352242922"
    static let helpLine = "106540352242923"

    private let state: Mutex<State>
    private let began = ContinuousClock.now
    private let ports: [Int]
    private let ratePerTarget: Double
    private let prefix: String
    private let customerPrefix: String
    private let helpLineShare: Double
    private let newCustomerShare: Double
    private let signature: WebhookSignature
    private let started = Mutex(0)
    private let finished = Mutex(0)

    /// `prefix` (wamids) and `customerPrefix` (four digits of the customers' numbers) keep one run
    /// part's messages and customers apart from another's.
    init(ports: [Int], rate: Int, prefix: String, customerPrefix: String, helpLineShare: Double, newCustomerShare: Double, appSecret: String, seed: UInt64) {
        self.ports = ports
        self.ratePerTarget = Double(rate) / Double(ports.count)
        self.prefix = prefix
        self.customerPrefix = customerPrefix
        self.helpLineShare = helpLineShare
        self.newCustomerShare = newCustomerShare
        self.signature = WebhookSignature(appSecret: appSecret)
        self.state = Mutex(State(lanes: Array(repeating: Lane(), count: ports.count), random: SeededRandom(seed: seed)))
    }

    /// Nanoseconds since this load was made: the clock of `Attempt.sentAt`.
    func now() -> Int64 { (ContinuousClock.now - began).nanoseconds }

    func start(connectionsPerTarget: Int) {
        state.withLock {
            $0.start = .now
            $0.producingSince = .now
        }
        for target in ports.indices {
            for index in 0..<connectionsPerTarget {
                let thread = Thread { [self] in worker(target: target) }
                thread.name = "failover-load-\(target)-\(index)"
                started.withLock { $0 += 1 }
                thread.start()
            }
        }
    }

    /// Stops making new messages (deliveries not yet acknowledged are still retried) or resumes.
    func setProducing(_ producing: Bool) {
        state.withLock { state in
            if !producing && state.producing { state.producedFor += state.producingSince.duration(to: .now) }
            if producing && !state.producing {
                state.producingSince = .now
                // Resume at the rate from now, not with a burst for the paused time.
                for lane in state.lanes.indices {
                    let onSchedule = Int((state.start.duration(to: .now).seconds * ratePerTarget).rounded(.down))
                    state.lanes[lane].next = max(state.lanes[lane].next, onSchedule)
                }
            }
            state.producing = producing
        }
    }

    /// New messages handed to the connections so far and the time spent making them: the rate
    /// achieved (below the one asked for when the daemons answer too slowly for the connections).
    var produced: (messages: Int, seconds: Double) {
        state.withLock { state in
            (state.lanes.reduce(0) { $0 + $1.next }, (state.producedFor + (state.producing ? state.producingSince.duration(to: .now) : .zero)).seconds)
        }
    }

    var retriesPending: Int { state.withLock { $0.lanes.reduce(0) { $0 + $1.retries.count - $1.retryHead } } }
    var attempts: [Attempt] { state.withLock { $0.attempts } }
    var acknowledged: [Ack] { state.withLock { $0.acknowledged } }

    /// When (load clock) the first 200 answered after `moment` came, if one did. Attempts are
    /// recorded as they are answered, so only the latest few are looked at.
    func firstAcknowledgement(answeredAfter moment: Int64) -> Int64? {
        state.withLock { state in
            var first: Int64?
            for attempt in state.attempts.reversed() {
                let answeredAt = attempt.sentAt + attempt.latency
                // Recorded a moment after being answered: well before `moment`, nothing later follows.
                if answeredAt < moment - 1_000_000_000 { break }
                if attempt.status == 200 && answeredAt > moment { first = min(first ?? answeredAt, answeredAt) }
            }
            return first
        }
    }

    /// Stops every connection; false if some did not finish within 30 s (a request left hanging).
    @discardableResult
    func stop() -> Bool {
        state.withLock { $0.running = false }
        let count = started.withLock { $0 }
        let deadline = ContinuousClock.now + .seconds(30)
        while finished.withLock({ $0 }) < count {
            if ContinuousClock.now > deadline { return false }
            usleep(10_000)
        }
        return true
    }

    private func worker(target: Int) {
        var client: HTTPLoadClient?
        let port = ports[target]
        while let delivery = nextDelivery(target: target) {
            let now = ContinuousClock.now
            if delivery.dueAt > now {
                let wait = delivery.dueAt - now
                usleep(UInt32(min(1_000_000, max(0, wait.nanoseconds / 1000))))
            }
            var status = 0
            let sentAt = self.now()
            do {
                if client == nil { client = try HTTPLoadClient(port: port) }
                status = try client?.post(path: "/webhooks/whatsapp", headers: [("X-Hub-Signature-256", signature.headerValue(for: delivery.body))],
                                          body: delivery.body) ?? 0
            } catch {
                client = nil
            }
            let latency = self.now() - sentAt
            state.withLock { state in
                state.attempts.append(Attempt(sentAt: sentAt, latency: latency, target: target, status: status))
                if status == 200 {
                    state.acknowledged.append(Ack(wamid: delivery.wamid, customer: delivery.customer, helpLine: delivery.helpLine))
                    return
                }
                var again = delivery
                again.dueAt = .now + .seconds(1)
                state.lanes[(target + 1) % state.lanes.count].retries.append(again)
            }
            // A dead instance refuses at once: do not spin.
            if status == 0 { usleep(20_000) }
        }
        finished.withLock { $0 += 1 }
    }

    /// The next delivery for `target`: a retry that is due, else a new message at its moment in the
    /// target's schedule; nil once stopped.
    private func nextDelivery(target: Int) -> Delivery? {
        while true {
            let choice = state.withLock { state -> (Delivery?, wait: Bool) in
                guard state.running else { return (nil, false) }
                let now = ContinuousClock.now
                if state.lanes[target].retryHead < state.lanes[target].retries.count, state.lanes[target].retries[state.lanes[target].retryHead].dueAt <= now {
                    let delivery = state.lanes[target].retries[state.lanes[target].retryHead]
                    state.lanes[target].retryHead += 1
                    if state.lanes[target].retryHead > 4096 && state.lanes[target].retryHead * 2 > state.lanes[target].retries.count {
                        state.lanes[target].retries.removeFirst(state.lanes[target].retryHead)
                        state.lanes[target].retryHead = 0
                    }
                    return (delivery, false)
                }
                guard state.producing else { return (nil, true) }
                let index = state.lanes[target].next
                state.lanes[target].next += 1
                let due = state.start + .nanoseconds(Int64(Double(index) / ratePerTarget * 1e9))
                return (makeDelivery(target: target, index: index, due: due, state: &state), false)
            }
            if let delivery = choice.0 { return delivery }
            if !choice.wait { return nil }
            usleep(20_000)
        }
    }

    private func makeDelivery(target: Int, index: Int, due: ContinuousClock.Instant, state: inout State) -> Delivery {
        let helpLine = Double.random(in: 0..<1, using: &state.random) < helpLineShare
        let line = helpLine ? 1 : 0
        let customer: String
        if state.customers[line].isEmpty || Double.random(in: 0..<1, using: &state.random) < newCustomerShare {
            state.nextCustomer += 1
            customer = customerPrefix + String(format: "%08d", state.nextCustomer)
            state.customers[line].append(customer)
        } else {
            // A recent customer writing again (the last few hundred: their tickets are still open).
            let recent = state.customers[line].suffix(300)
            customer = recent[recent.startIndex + Int.random(in: 0..<recent.count, using: &state.random)]
        }
        let wamid = "wamid.\(prefix)-\(target)-\(index)"
        let phoneNumberID = helpLine ? Self.helpLine : Self.mainLine
        let display = helpLine ? "15550783882" : "15550783881"
        let body = """
            {"object":"whatsapp_business_account","entry":[{"id":"419561257915477","changes":[{"field":"messages","value":{
            "messaging_product":"whatsapp","metadata":{"display_phone_number":"\(display)","phone_number_id":"\(phoneNumberID)"},
            "contacts":[{"profile":{"name":"Customer \(customer.suffix(6))"},"wa_id":"\(customer)"}],
            "messages":[{"from":"\(customer)","id":"\(wamid)","timestamp":"\(Int(Date().timeIntervalSince1970))","type":"text",
            "text":{"body":"Hello, this is message \(index) about my order"}}]}}]}]}
            """
        return Delivery(wamid: wamid, customer: customer, helpLine: helpLine, body: Array(body.utf8), dueAt: due)
    }
}

/// What the attempts of a time window say, per target.
struct WindowCounts {
    var sent = 0
    var ok = 0
    var unavailable = 0
    var refused = 0
    var other: [Int: Int] = [:]

    var errors: Int { sent - ok }

    static func of(_ attempts: [FailoverLoad.Attempt], from: Int64, to: Int64, target: Int? = nil) -> WindowCounts {
        var counts = WindowCounts()
        for attempt in attempts where attempt.sentAt >= from && attempt.sentAt < to && (target == nil || attempt.target == target) {
            counts.add(attempt.status)
        }
        return counts
    }

    mutating func add(_ status: Int) {
        sent += 1
        switch status {
        case 200: ok += 1
        case 503: unavailable += 1
        case 0: refused += 1
        default: other[status, default: 0] += 1
        }
    }

    mutating func add(_ other: WindowCounts) {
        sent += other.sent
        ok += other.ok
        unavailable += other.unavailable
        refused += other.refused
        for (status, count) in other.other { self.other[status, default: 0] += count }
    }

    var summary: String {
        guard sent > 0 else { return "none sent" }
        var text = "\(sent) sent, \(ok) × 200, \(unavailable) × 503, \(refused) refused or broken"
        if !other.isEmpty { text += ", other: " + other.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", ") }
        return text + " (\(format(Double(errors) * 100 / Double(sent), 1)) % not acknowledged)"
    }
}

import Foundation
import Glibc
import Synchronization
import SwitchboardCore
import WhatsApp

/// Customers writing through signed webhooks at a fixed rate over several keep-alive connections,
/// each on a thread of its own. A delivery that is not acknowledged (the daemon is down, or answers
/// 503) is sent again a second later, as Meta does; only a 200 counts as acknowledged.
final class SoakLoad: Sendable {
    struct Counts: Sendable {
        var sent = 0
        var acknowledged = 0
        var unavailable = 0
        var refusedConnections = 0
        var otherStatuses: [Int: Int] = [:]
    }

    private struct Delivery: Sendable {
        var wamid: String
        var body: [UInt8]
        var dueAt: ContinuousClock.Instant
    }

    private struct State {
        var running = true
        /// New messages are made while true; retries continue either way.
        var producing = true
        var next = 0
        var start = ContinuousClock.now
        /// Deliveries to send again, in the order they fall due (each is due a second after its
        /// failure, so appending keeps the order); `retryHead` is the next one.
        var retries: [Delivery] = []
        var retryHead = 0
        var acknowledged: Set<String> = []
        var counts = Counts()
        var random: SeededRandom
    }

    private let state: Mutex<State>
    private let port: Int
    private let rate: Int
    private let customers: Int
    private let signature: WebhookSignature
    private let started = Mutex(0)
    private let finished = Mutex(0)

    init(port: Int, rate: Int, customers: Int, appSecret: String, seed: UInt64) {
        self.port = port
        self.rate = rate
        self.customers = customers
        self.signature = WebhookSignature(appSecret: appSecret)
        self.state = Mutex(State(random: SeededRandom(seed: seed)))
    }

    func start(connections: Int) {
        state.withLock { $0.start = .now }
        for index in 0..<connections {
            let thread = Thread { [self] in worker() }
            thread.name = "soak-load-\(index)"
            started.withLock { $0 += 1 }
            thread.start()
        }
    }

    /// Stops making new messages (deliveries not yet acknowledged are still retried) or resumes.
    func setProducing(_ producing: Bool) {
        state.withLock { state in
            if producing && !state.producing {
                // Resume at the rate from now, not with a burst for the paused time.
                state.start = .now - .nanoseconds(Int64(Double(state.next) / Double(rate) * 1e9))
            }
            state.producing = producing
        }
    }

    var retriesPending: Int { state.withLock { $0.retries.count - $0.retryHead } }
    var counts: Counts { state.withLock { $0.counts } }
    var acknowledged: Set<String> { state.withLock { $0.acknowledged } }

    func stop() {
        state.withLock { $0.running = false }
        let count = started.withLock { $0 }
        while finished.withLock({ $0 }) < count { usleep(10_000) }
    }

    private func worker() {
        var client: HTTPLoadClient?
        while let delivery = nextDelivery() {
            let now = ContinuousClock.now
            if delivery.dueAt > now {
                let wait = delivery.dueAt - now
                usleep(UInt32(min(1_000_000, wait.components.seconds * 1_000_000 + wait.components.attoseconds / 1_000_000_000_000)))
            }
            var status = 0
            do {
                if client == nil { client = try HTTPLoadClient(port: port) }
                status = try client?.post(path: "/webhooks/whatsapp", headers: [("X-Hub-Signature-256", signature.headerValue(for: delivery.body))],
                                          body: delivery.body) ?? 0
            } catch {
                client = nil
            }
            state.withLock { state in
                state.counts.sent += 1
                switch status {
                case 200:
                    state.counts.acknowledged += 1
                    state.acknowledged.insert(delivery.wamid)
                    return
                case 0: state.counts.refusedConnections += 1
                case 503: state.counts.unavailable += 1
                default: state.counts.otherStatuses[status, default: 0] += 1
                }
                var again = delivery
                again.dueAt = .now + .seconds(1)
                state.retries.append(again)
            }
            if status == 0 { usleep(20_000) }
        }
        finished.withLock { $0 += 1 }
    }

    /// The next delivery: a retry that is due, else a new message at its moment in the schedule;
    /// nil once stopped.
    private func nextDelivery() -> Delivery? {
        while true {
            let choice = state.withLock { state -> (Delivery?, wait: Bool) in
                guard state.running else { return (nil, false) }
                let now = ContinuousClock.now
                if state.retryHead < state.retries.count, state.retries[state.retryHead].dueAt <= now {
                    let delivery = state.retries[state.retryHead]
                    state.retryHead += 1
                    if state.retryHead > 4096 && state.retryHead * 2 > state.retries.count {
                        state.retries.removeFirst(state.retryHead)
                        state.retryHead = 0
                    }
                    return (delivery, false)
                }
                guard state.producing else { return (nil, true) }
                let index = state.next
                state.next += 1
                let due = state.start + .nanoseconds(Int64(Double(index) / Double(rate) * 1e9))
                let customer = Int.random(in: 0..<customers, using: &state.random)
                return (makeDelivery(index: index, customer: customer, due: due), false)
            }
            if let delivery = choice.0 { return delivery }
            if !choice.wait { return nil }
            usleep(20_000)
        }
    }

    private func makeDelivery(index: Int, customer: Int, due: ContinuousClock.Instant) -> Delivery {
        let wamid = "wamid.SOAK-\(index)"
        let waID = "4477" + String(format: "%08d", customer)
        let body = """
            {"object":"whatsapp_business_account","entry":[{"id":"419561257915477","changes":[{"field":"messages","value":{
            "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
            "contacts":[{"profile":{"name":"Soak customer \(customer)"},"wa_id":"\(waID)"}],
            "messages":[{"from":"\(waID)","id":"\(wamid)","timestamp":"\(Int(Date().timeIntervalSince1970))","type":"text",
            "text":{"body":"Hello, this is message \(index) about my order"}}]}}]}]}
            """
        return Delivery(wamid: wamid, body: Array(body.utf8), dueAt: due)
    }
}

/// Agents resolving their tickets through the API as soon as they are assigned: each agent lists
/// its open tickets and resolves them, round after round, on a thread of its own.
final class SoakResolver: Sendable {
    private let port: Int
    private let tokens: [(agent: String, token: String)]
    private let running = Mutex(true)
    private let resolved = Mutex(0)
    private let done = Mutex(false)

    init(port: Int, tokens: [(agent: String, token: String)]) {
        self.port = port
        self.tokens = tokens
    }

    var resolvedCount: Int { resolved.withLock { $0 } }

    func start() {
        running.withLock { $0 = true }
        done.withLock { $0 = false }
        Thread { [self] in loop() }.start()
    }

    func stop() {
        running.withLock { $0 = false }
        while !done.withLock({ $0 }) { usleep(10_000) }
    }

    private func loop() {
        var client: HTTPLoadClient?
        while running.withLock({ $0 }) {
            for (agent, token) in tokens {
                do {
                    if client == nil { client = try HTTPLoadClient(port: port) }
                    guard let connection = client else { continue }
                    let auth = [("Authorization", "Bearer \(token)")]
                    let list = try connection.request("GET", path: "/api/v1/tickets?status=open&assignee=\(agent)&limit=50", headers: auth)
                    guard list.status == 200, let object = try? JSONSerialization.jsonObject(with: Data(list.body)) as? [String: Any],
                          let tickets = object["tickets"] as? [[String: Any]] else { continue }
                    for ticket in tickets {
                        guard ticket["assignee"] as? String == agent, let reference = ticket["reference"] as? String else { continue }
                        let answer = try connection.request("POST", path: "/api/v1/tickets/\(reference)/status", headers: auth,
                                                            body: Array(#"{"status": "resolved"}"#.utf8))
                        if answer.status == 200 { resolved.withLock { $0 += 1 } }
                    }
                } catch {
                    client = nil
                    usleep(50_000)
                }
            }
            usleep(20_000)
        }
        done.withLock { $0 = true }
    }
}

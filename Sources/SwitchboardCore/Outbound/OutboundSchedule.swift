import DequeModule
import Foundation

/// Decides which queued send of one business number goes next, and when: the per-customer pacing (a minimum gap after each completed send), one send in
/// flight per customer so a customer's messages arrive in order, and the pauses that failures impose.
///
/// A value-type state machine: the sender actor feeds it events (`add`, `finished`) and asks
/// `next(now:)` what to do. Time is an input; nothing here sleeps or reads a clock.
public struct OutboundSchedule: Sendable {
    public struct Item: Sendable, Equatable {
        public var id: UUID
        /// The customer the send goes to (pacing and ordering are per customer).
        public var customer: String
        /// Not before this time (set by retries).
        public var notBefore: Date
        /// Queue order across customers: older first.
        public var sequence: Int64

        public init(id: UUID, customer: String, notBefore: Date, sequence: Int64) {
            self.id = id
            self.customer = customer
            self.notBefore = notBefore
            self.sequence = sequence
        }
    }

    public enum Decision: Sendable, Equatable {
        /// Send this item now (it is marked in flight).
        case send(Item)
        /// Nothing can go before this time.
        case wait(until: Date)
        /// Nothing to do until an event (a new item, a finished send, a resume).
        case idle
    }

    /// How a send ended, as far as scheduling is concerned.
    public enum Completion: Sendable, Equatable {
        /// Done with this item (sent or failed for good).
        case done
        /// Keep it at the head of its customer's queue; try again at `at`.
        case retry(at: Date)
        /// As `retry`, and nothing else goes to this customer before `until`.
        case throttleCustomer(until: Date)
        /// As `retry`, and nothing goes through the number before `until`.
        case throttleNumber(until: Date)
        /// Keep it queued and send nothing more until `resume()`.
        case suspend
    }

    public struct Limits: Sendable, Equatable {
        /// Minimum gap between the end of one send to a customer and the start of the next.
        public var customerInterval: TimeInterval
        /// Most sends in flight at once.
        public var maxInFlight: Int

        public init(customerInterval: TimeInterval, maxInFlight: Int) {
            precondition(customerInterval >= 0 && maxInFlight >= 1, "invalid outbound limits")
            self.customerInterval = customerInterval
            self.maxInFlight = maxInFlight
        }
    }

    public let limits: Limits
    private var queues: [String: Deque<Item>] = [:]
    private var known: Set<UUID> = []
    private var inFlight: [UUID: String] = [:]
    /// Customers with a send in flight: their next message waits for it (order).
    private var busyCustomers: Set<String> = []
    private var customerReadyAt: [String: Date] = [:]
    private var numberReadyAt: Date?
    public private(set) var isSuspended = false

    public init(limits: Limits) {
        self.limits = limits
    }

    /// Items waiting or in flight.
    public var count: Int { known.count }
    public var inFlightCount: Int { inFlight.count }

    public func contains(_ id: UUID) -> Bool { known.contains(id) }

    /// Queues an item behind its customer's earlier ones; an item already known is ignored.
    public mutating func add(_ item: Item) {
        guard known.insert(item.id).inserted else { return }
        queues[item.customer, default: []].append(item)
    }

    /// Stops sending (an expired token): queued items stay, nothing starts until `resume()`.
    public mutating func suspend() { isSuspended = true }
    public mutating func resume() { isSuspended = false }

    public mutating func next(now: Date) -> Decision {
        if isSuspended || inFlight.count >= limits.maxInFlight { return .idle }
        if let numberReadyAt, numberReadyAt > now { return .wait(until: numberReadyAt) }

        var best: Item?
        var earliest: Date?
        for (customer, queue) in queues where !busyCustomers.contains(customer) {
            guard let head = queue.first else { continue }
            let readyAt = max(head.notBefore, customerReadyAt[customer] ?? head.notBefore)
            if readyAt <= now {
                if head.sequence < best?.sequence ?? .max { best = head }
            } else if readyAt < earliest ?? .distantFuture {
                earliest = readyAt
            }
        }
        guard let item = best else { return earliest.map { .wait(until: $0) } ?? .idle }
        inFlight[item.id] = item.customer
        busyCustomers.insert(item.customer)
        return .send(item)
    }

    /// Reports how the send of `id` ended at `now`.
    public mutating func finished(_ id: UUID, _ completion: Completion, now: Date) {
        guard let customer = inFlight.removeValue(forKey: id) else {
            preconditionFailure("finished a send that was not in flight")
        }
        busyCustomers.remove(customer)
        customerReadyAt[customer] = now.addingTimeInterval(limits.customerInterval)
        switch completion {
        case .done:
            queues[customer]?.removeFirst()
            known.remove(id)
            if queues[customer]?.isEmpty == true { queues[customer] = nil }
        case .retry(let at):
            queues[customer]?[0].notBefore = at
        case .throttleCustomer(let until):
            queues[customer]?[0].notBefore = until
            customerReadyAt[customer] = max(until, customerReadyAt[customer] ?? until)
        case .throttleNumber(let until):
            queues[customer]?[0].notBefore = until
            numberReadyAt = max(until, numberReadyAt ?? until)
        case .suspend:
            isSuspended = true
        }
        pruneReadyTimes(now: now)
    }

    /// Forgets pacing of customers with nothing queued whose gap has passed, so memory follows the queue.
    private mutating func pruneReadyTimes(now: Date) {
        guard customerReadyAt.count > 4 * max(queues.count, 256) else { return }
        customerReadyAt = customerReadyAt.filter { $0.value > now || queues[$0.key] != nil }
    }
}

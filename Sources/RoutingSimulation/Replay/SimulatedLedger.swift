import Foundation
import Synchronization
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore

/// Records assignments in memory: the simulator measures routing decisions, not storage (the latency
/// benchmark measures the commit against PostgreSQL).
public final class SimulatedLedger: AssignmentLedger {
    private let made = Mutex<[(AssignmentRecord, Date)]>([])

    public init() {}

    public func commit(_ records: [AssignmentRecord], now: Date) async throws -> [Int64: TicketStatus] {
        made.withLock { $0 += records.map { ($0, now) } }
        return Dictionary(uniqueKeysWithValues: records.map { ($0.ticketID, TicketStatus.open) })
    }

    /// The assignments committed since the last call, with when.
    public func drain() -> [(AssignmentRecord, Date)] {
        made.withLock { made in
            defer { made = [] }
            return made
        }
    }
}

/// The queue actors by name, filled once they exist (their move handlers look each other up).
final class SimulatedQueues: Sendable {
    let queues = Mutex<[String: QueueActor]>([:])
    subscript(name: String) -> QueueActor? { queues.withLock { $0[name] } }
}

/// The tickets waiting for an agent, with the queue each waits in (a step's move changes it), so
/// that a customer giving up can be taken out of the right queue.
final class WaitingTickets: Sendable {
    struct Entry {
        var ticket: QueueMatcher.WaitingTicket
        var queue: String
    }

    private let entries = Mutex<[Int64: Entry]>([:])

    func add(_ ticket: QueueMatcher.WaitingTicket, in queue: String) { entries.withLock { $0[ticket.ticket.id] = Entry(ticket: ticket, queue: queue) } }
    subscript(id: Int64) -> Entry? { entries.withLock { $0[id] } }
    @discardableResult
    func remove(_ id: Int64) -> Entry? { entries.withLock { $0.removeValue(forKey: id) } }
}

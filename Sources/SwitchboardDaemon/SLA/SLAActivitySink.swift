import SwitchboardCore
import SwitchboardStore

/// What the SLA engine must hear about tickets: routing tells it of starts, customer messages and
/// status changes; the outbox of agents' replies.
public protocol SLAActivitySink: Sendable {
    /// Tickets classified into a queue: new ones start their SLA, reopened ones restart their clocks.
    func ticketsStarted(_ ticketIDs: [Int64], reopened: Set<Int64>) async
    func customerWrote(_ ticketIDs: [Int64]) async
    /// A person answered the customer (not a note, not an automatic message).
    func agentReplied(_ ticketID: Int64) async
    func statusChanged(_ ticketID: Int64, from: TicketStatus, to: TicketStatus) async
}

/// Carries out the escalations that change routing (priority, queue, tags), through the routing
/// actors that own the ticket's place.
public protocol SLAEscalator: Sendable {
    /// False when an action could not be applied (the database refused or was away; logged): the
    /// alert stays stored, and the next start acts on it again.
    func escalate(_ ticketID: Int64, actions: [SLAPolicy.Action], reason: String) async -> Bool
}

/// Where the SLA engine stores its steps: PostgreSQL in the daemon, memory in the benchmark.
public protocol SLALedger: Sendable {
    func save(_ changes: [SLAChange]) async throws
}

import Foundation

/// An agent's ticket that is not resolved, as stored.
public struct AssignedTicket: Sendable, Equatable {
    public var ticketID: Int64
    public var agentID: String
    public var queue: String?
    public var status: TicketStatus
    public var assignedAt: Date?

    public init(ticketID: Int64, agentID: String, queue: String?, status: TicketStatus, assignedAt: Date?) {
        self.ticketID = ticketID
        self.agentID = agentID
        self.queue = queue
        self.status = status
        self.assignedAt = assignedAt
    }
}

/// Where a ticket stands for routing: its priority, queue and agent. Nil placement: resolved or unknown.
public struct TicketPlacement: Sendable, Equatable {
    public var priority: WaitingOrder.Priority
    public var queue: String?
    public var assignee: String?

    public init(priority: WaitingOrder.Priority, queue: String?, assignee: String?) {
        self.priority = priority
        self.queue = queue
        self.assignee = assignee
    }
}

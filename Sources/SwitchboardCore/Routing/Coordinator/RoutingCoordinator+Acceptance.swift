import Foundation

/// Acceptance deadlines: in a queue with `acceptWithin`, an agent must accept or answer a ticket
/// routing gave them within that time, or it moves on to someone else (who is not them).
extension RoutingCoordinator {
    /// What the database says of an assignment when its acceptance time is up.
    public struct AcceptanceFacts: Sendable, Equatable {
        /// Who holds the ticket now, since when, and its status (nil assignee: nobody, or resolved).
        public var assignee: String?
        public var assignedAt: Date?
        public var status: TicketStatus
        /// The latest reply sent on the ticket and the latest `accepted` event.
        public var lastReplyAt: Date?
        public var acceptedAt: Date?

        public init(assignee: String?, assignedAt: Date?, status: TicketStatus, lastReplyAt: Date?, acceptedAt: Date?) {
            self.assignee = assignee
            self.assignedAt = assignedAt
            self.status = status
            self.lastReplyAt = lastReplyAt
            self.acceptedAt = acceptedAt
        }
    }

    /// Routing committed these assignments at `at`: each in a queue that asks for acceptance gets its deadline.
    public mutating func assignmentsCommitted(_ assignments: [(ticketID: Int64, agentID: String, queue: String)], at: Date) -> [Action] {
        assignments.compactMap { assignment in
            guard let within = configuration.queue(named: assignment.queue)?.acceptWithin else { return nil }
            acceptance[assignment.ticketID] = AcceptanceDeadline(agentID: assignment.agentID, assignedAt: at)
            return .schedule(.acceptance(ticketID: assignment.ticketID), at: at.addingTimeInterval(within))
        }
    }

    /// Assignments found at start: open ones in queues that ask for acceptance get their deadlines
    /// from when they were made.
    public mutating func assignmentsLoaded(_ tickets: [AssignedTicket]) -> [Action] {
        tickets.compactMap { ticket in
            guard ticket.status == .open, let at = ticket.assignedAt, let queue = ticket.queue,
                  let within = configuration.queue(named: queue)?.acceptWithin else { return nil }
            acceptance[ticket.ticketID] = AcceptanceDeadline(agentID: ticket.agentID, assignedAt: at)
            return .schedule(.acceptance(ticketID: ticket.ticketID), at: at.addingTimeInterval(within))
        }
    }

    mutating func acceptanceDue(_ ticketID: Int64) -> [Action] {
        guard let deadline = acceptance.removeValue(forKey: ticketID) else { return [] }
        return [.checkAcceptance(ticketID: ticketID, agentID: deadline.agentID, assignedAt: deadline.assignedAt)]
    }

    /// Whether the agent let the time run out: they still hold the open ticket from that
    /// assignment, and have neither replied on it nor accepted it since.
    public static func acceptanceMissed(_ facts: AcceptanceFacts, agentID: String, assignedAt: Date) -> Bool {
        // Stored times are rounded to the microsecond: the same assignment may read back a hair later.
        guard facts.assignee == agentID, facts.status == .open, let current = facts.assignedAt,
              current.timeIntervalSince(assignedAt) < storedTimeResolution else { return false }
        if let reply = facts.lastReplyAt, reply >= current { return false }
        if let accepted = facts.acceptedAt, accepted >= current { return false }
        return true
    }

    /// How far apart two readings of one stored time may be (PostgreSQL keeps microseconds; a `Date`
    /// has more): assignments closer than this are the same one.
    static let storedTimeResolution: TimeInterval = 0.001

    /// The facts of an assignment whose time is up: a miss sends the ticket to someone else, and
    /// the agent's queues match (they have room again).
    public func acceptanceChecked(_ ticketID: Int64, agentID: String, assignedAt: Date, _ facts: AcceptanceFacts) -> [Action] {
        guard Self.acceptanceMissed(facts, agentID: agentID, assignedAt: assignedAt) else { return [] }
        return [.returnToQueues(TicketReturn(ticketIDs: [ticketID], agentID: agentID, kind: .acceptanceMissed,
                                             reason: "not accepted or answered in time", excludeAgent: true, unlessAcceptedSince: assignedAt)),
                .matchQueuesOf(agentID: agentID)]
    }
}

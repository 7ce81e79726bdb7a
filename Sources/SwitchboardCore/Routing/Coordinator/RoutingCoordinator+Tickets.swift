import Foundation

/// What may be done to a ticket by hand (an agent or a supervisor), and what follows a change.
extension RoutingCoordinator {
    /// A change to a ticket, in two parts: what its agents' and queue's actors must learn under the
    /// ticket's lock, right after the database change (only `isMemoryChange` actions: anything that
    /// waits for a round there could wait for this very lock); and what follows once it is released.
    public struct Reaction: Sendable, Equatable {
        public var underLock: [Action]
        public var then: [Action]

        public init(underLock: [Action] = [], then: [Action] = []) {
            self.underLock = underLock
            self.then = then
        }
    }

    /// The ticket's stored status changed. Resolved: its agent (or its queue) lets it go and the
    /// agent's queues match. Pending or open: its agent holds it with that status.
    public mutating func statusChanged(_ ticketID: Int64, to status: TicketStatus, assignee: String?, queue: String?) -> Reaction {
        var reaction = Reaction()
        if let assignee {
            reaction.underLock.append(status == .resolved ? .agentDrops(agentID: assignee, ticketID: ticketID)
                                                          : .agentHolds(agentID: assignee, ticketID: ticketID, status))
            reaction.then.append(.matchQueuesOf(agentID: assignee))
        } else if status == .resolved, let queue {
            reaction.underLock.append(.queueForgets(queue: queue, ticketID: ticketID))
        }
        if status == .resolved, acceptance.removeValue(forKey: ticketID) != nil {
            // Resolved: nobody has to accept it any more. (Pending keeps the deadline: a ticket the
            // customer opens again before it must still be accepted or answered.)
            reaction.then.append(.cancel(.acceptance(ticketID: ticketID)))
        }
        return reaction
    }

    // MARK: A supervisor assigns

    public enum ManualAssignStep: Sendable, Equatable {
        case refuse(ManualAssignOutcome)
        /// Assign it; first take it out of this queue where it waits (so no round proposes it meanwhile).
        case assign(takingOutOf: String?)
    }

    /// A supervisor gives a ticket to an agent: any routed, unresolved ticket, from its queue or
    /// from another agent. Capacity and skills are the supervisor's call, not checked.
    public func manualAssign(_ placement: TicketPlacement?, to agentID: String) -> ManualAssignStep {
        guard presence[agentID] != nil else { return .refuse(.unknownAgent) }
        guard let placement else { return .refuse(.notAssignable("the ticket is resolved")) }
        guard let queue = placement.queue else { return .refuse(.notAssignable("the ticket is not routed yet")) }
        if placement.assignee == agentID { return .refuse(.alreadyHeld) }
        return .assign(takingOutOf: placement.assignee == nil ? queue : nil)
    }

    /// The assignment by hand is stored: the new agent holds it, the previous one lets it go and
    /// their queues match again.
    public mutating func manuallyAssigned(_ ticketID: Int64, to agentID: String, previous: String?, status: TicketStatus) -> Reaction {
        var reaction = Reaction(underLock: [.agentHolds(agentID: agentID, ticketID: ticketID, status)])
        if let previous {
            reaction.underLock.append(.agentDrops(agentID: previous, ticketID: ticketID))
            reaction.then.append(.matchQueuesOf(agentID: previous))
        }
        if acceptance.removeValue(forKey: ticketID) != nil { reaction.then.append(.cancel(.acceptance(ticketID: ticketID))) }
        return reaction
    }

    // MARK: An agent takes

    public enum TakeStep: Sendable, Equatable {
        case refuse(TakeOutcome)
        /// They hold it already (a retried request): not an error.
        case alreadyTheirs
        /// Take it out of this queue, reserve the agent's capacity, then store the assignment.
        case take(fromQueue: String)
    }

    /// An agent takes a waiting ticket of a queue they serve. Whether it still waits there (a round
    /// may be placing it right now) and whether they have room is for the queue and the agent's
    /// actor to say, at once, without waiting: see `TakeOutcome`.
    public func take(_ placement: TicketPlacement?, by agentID: String, serving queues: [String]) -> TakeStep {
        guard let placement else { return .refuse(.notWaiting) }
        if placement.assignee == agentID { return .alreadyTheirs }
        if placement.assignee != nil { return .refuse(.alreadyAssigned) }
        guard let queue = placement.queue else { return .refuse(.notWaiting) }
        guard queues.contains(queue) else { return .refuse(.notTheirQueue) }
        return .take(fromQueue: queue)
    }

    // MARK: Back to the queue by hand

    /// A supervisor takes a ticket from its agent back to its queue: nil when nobody holds it.
    public func unassign(_ ticketID: Int64, _ placement: TicketPlacement?, by actor: String) -> TicketReturn? {
        guard let placement, let assignee = placement.assignee else { return nil }
        return TicketReturn(ticketIDs: [ticketID], agentID: assignee, reason: "unassigned by \(actor)")
    }
}

/// What a supervisor's assignment by hand came to.
public enum ManualAssignOutcome: Sendable, Equatable {
    case assigned(previous: String?)
    case alreadyHeld
    case unknownAgent
    /// Resolved, unknown, or not routed yet (no queue to return to).
    case notAssignable(String)
}

/// What an agent's take came to.
public enum TakeOutcome: Sendable, Equatable {
    case taken
    /// Not waiting: resolved, unknown, not routed yet, or being placed by a round right now.
    case notWaiting
    /// Another agent holds it (they took it, or routing gave it to them, first).
    case alreadyAssigned
    /// The agent does not serve the ticket's queue.
    case notTheirQueue
    /// Not online, draining, or at capacity.
    case noRoom
}

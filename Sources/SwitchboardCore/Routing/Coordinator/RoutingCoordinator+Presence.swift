import Foundation

/// Presence and the grace period: an agent who is away or offline longer than
/// `presenceGraceSeconds` gives their open tickets back, unless the ticket's queue keeps them.
extension RoutingCoordinator {
    /// An agent routing knows (loaded at start, added, or re-created): an absent agent who holds
    /// tickets has a grace period running from when they left.
    public mutating func agentLoaded(_ agentID: String, _ presence: Presence, holdsTickets: Bool) -> [Action] {
        self.presence[agentID] = presence
        guard presence.presence != .online, holdsTickets else { return [] }
        return [.schedule(.presenceGrace(agentID: agentID), at: graceEnd(from: presence.since))]
    }

    /// The stored presence changed. Online: matching at once. Away or offline: the grace period starts.
    public mutating func presenceChanged(_ agentID: String, to new: AgentPresence, at date: Date, by actor: String) -> [Action] {
        let previous = presence[agentID]
        var actions: [Action] = []
        if previous?.presence != new {
            presence[agentID] = Presence(new, since: date)
            actions.append(.announcePresence(agentID: agentID, new, by: actor))
        }
        if new == .online {
            actions += [.cancel(.presenceGrace(agentID: agentID)), .matchQueuesOf(agentID: agentID)]
        } else {
            actions.append(.schedule(.presenceGrace(agentID: agentID), at: graceEnd(from: presence[agentID]?.since ?? date)))
        }
        return actions
    }

    func graceEnded(_ agentID: String) -> [Action] {
        guard let current = presence[agentID], current.presence != .online else { return [] }
        return [.collectTicketsOfAbsentAgent(agentID)]
    }

    /// The absent agent's unresolved tickets, read after their grace period ended: the open ones
    /// go back to their queues, unless the agent is back or the queue keeps them.
    public func absentAgentTickets(_ agentID: String, _ tickets: [AssignedTicket]) -> [Action] {
        guard let current = presence[agentID], current.presence != .online else { return [] }
        let returning = tickets.filter { $0.agentID == agentID && $0.status == .open && !keepsTicketsWhenAgentAway($0.queue) }
        guard !returning.isEmpty else { return [] }
        return [.returnToQueues(TicketReturn(ticketIDs: returning.map(\.ticketID), agentID: agentID,
                                             reason: "agent \(current.presence.rawValue) past the grace period"))]
    }

    /// The absent agent's tickets could not be read: try again shortly.
    public func absentAgentTicketsUnreadable(_ agentID: String, now: Date) -> [Action] {
        [.schedule(.presenceGrace(agentID: agentID), at: now.addingTimeInterval(5))]
    }

    /// The customer wrote to these pending tickets, now open again and counted for their agents.
    /// One whose agent has been gone past the grace period goes to someone else.
    public func customerWrote(to tickets: [AssignedTicket], now: Date) -> [Action] {
        tickets.compactMap { ticket in
            guard let current = presence[ticket.agentID], current.presence != .online, now >= graceEnd(from: current.since),
                  !keepsTicketsWhenAgentAway(ticket.queue) else { return nil }
            return .returnToQueues(TicketReturn(ticketIDs: [ticket.ticketID], agentID: ticket.agentID,
                                                reason: "customer wrote while the agent was \(current.presence.rawValue)"))
        }
    }

    func graceEnd(from since: Date) -> Date { since.addingTimeInterval(configuration.presenceGraceSeconds) }

    func keepsTicketsWhenAgentAway(_ queue: String?) -> Bool {
        queue.flatMap(configuration.queue(named:))?.keepTicketsWhenAgentAway ?? false
    }
}

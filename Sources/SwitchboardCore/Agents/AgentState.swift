import Foundation

/// The live state of one agent: presence, the tickets they hold, and the capacity reserved for
/// assignments being committed. The agent actor owns one; `reserve` is the single place where capacity
/// is taken, so two queues proposing the same agent at once can never push them past capacity.
public struct AgentState: Sendable, Equatable {
    public var definition: AgentDefinition
    public var presence: AgentPresence
    public private(set) var presenceSince: Date
    /// Assigned tickets that are not resolved, with whether each is pending.
    public private(set) var tickets: [Int64: TicketStatus]
    /// Tickets proposed to this agent whose assignment is being committed.
    public private(set) var reserved: Set<Int64>
    public private(set) var lastAssignedAt: Date?
    public var pendingCountsAgainstCapacity: Bool
    /// Receives no new assignments (set by a supervisor or the agent); held tickets stay.
    public var draining: Bool

    public init(definition: AgentDefinition, presence: AgentPresence, presenceSince: Date, tickets: [Int64: TicketStatus] = [:],
                lastAssignedAt: Date? = nil, pendingCountsAgainstCapacity: Bool = true, draining: Bool = false) {
        self.definition = definition
        self.presence = presence
        self.presenceSince = presenceSince
        self.tickets = tickets
        self.reserved = []
        self.lastAssignedAt = lastAssignedAt
        self.pendingCountsAgainstCapacity = pendingCountsAgainstCapacity
        self.draining = draining
    }

    /// Tickets counting against capacity: reserved ones, open ones, and pending ones if configured.
    public var load: Int {
        reserved.count + tickets.values.filter { $0 == .open || ($0 == .pending && pendingCountsAgainstCapacity) }.count
    }

    public var snapshot: AgentSnapshot {
        AgentSnapshot(id: definition.id, presence: presence, capacity: definition.capacity, load: load, skills: definition.skills, lastAssignedAt: lastAssignedAt,
                      draining: draining)
    }

    /// Takes one unit of capacity for `ticket` if the agent can take it now: online, not draining, below capacity,
    /// and every requirement met. Re-checked here, on the agent's own state, because the queue's
    /// snapshot may be stale by the time it asks.
    public mutating func reserve(_ ticket: Int64, requirements: [SkillRequirement]) -> Bool {
        guard snapshot.isEligible(for: requirements) else { return false }
        precondition(!reserved.contains(ticket), "a ticket is proposed by one queue round at a time")
        reserved.insert(ticket)
        return true
    }

    /// The reserved assignment is committed with the ticket's status as stored: the ticket is the
    /// agent's — unless it was resolved and dropped between the commit and this call, and keeping a
    /// status change that arrived in that gap.
    public mutating func confirm(_ ticket: Int64, status: TicketStatus, at date: Date) {
        lastAssignedAt = date
        guard reserved.remove(ticket) != nil else { return }
        if tickets[ticket] == nil, status != .resolved { tickets[ticket] = status }
    }

    /// The reserved assignment was not committed: the capacity is free again.
    public mutating func release(_ ticket: Int64) {
        reserved.remove(ticket)
    }

    /// A ticket assigned earlier (found at start, or assigned by a supervisor).
    public mutating func hold(_ ticket: Int64, status: TicketStatus) {
        if status == .resolved { tickets.removeValue(forKey: ticket) } else { tickets[ticket] = status }
    }

    /// The ticket was resolved, reassigned or returned to the queue. Returns whether the agent held it.
    @discardableResult
    public mutating func drop(_ ticket: Int64) -> Bool {
        let reservedNow = reserved.remove(ticket) != nil
        return tickets.removeValue(forKey: ticket) != nil || reservedNow
    }

    /// The database says the agent does not hold the ticket: forget it, but keep a reservation
    /// (the round that made it settles it).
    public mutating func forget(_ ticket: Int64) {
        tickets.removeValue(forKey: ticket)
    }

    public mutating func setPresence(_ presence: AgentPresence, at date: Date) {
        guard presence != self.presence else { return }
        self.presence = presence
        presenceSince = date
    }
}

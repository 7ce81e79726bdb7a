import Foundation

/// Routing's decisions outside a queue's matching round, as a value: events in, actions out, as
/// `QueueStateMachine` does for a round. The router actor reads what a decision needs (the
/// database, the agents' actors), feeds it in, and performs the actions in one `switch`; nothing
/// here waits, stores or reads a clock.
///
/// It owns what these decisions remember between events: each agent's presence and since when,
/// the acceptance deadlines running, which queues a supervisor paused, whether the daemon drains,
/// and the work owed to the database after a failure. Each event decides and changes that state in
/// one synchronous step, so no decision rests on state read before an `await`.
public struct RoutingCoordinator: Sendable {
    /// The timers the coordinator sets; the router arms them and hands them back in `timerFired`.
    public enum Timer: Hashable, Sendable {
        /// The agent went away or offline: when the grace period ends, their open tickets go back.
        case presenceGrace(agentID: String)
        /// An assignment in a queue with `acceptWithin`: when the time is up, was it accepted?
        case acceptance(ticketID: Int64)
        /// Work the database refused is tried again.
        case recovery
    }

    public enum Action: Sendable, Equatable {
        case schedule(Timer, at: Date)
        case cancel(Timer)
        /// Run a matching round in every queue the agent serves (they may have room now).
        case matchQueuesOf(agentID: String)
        /// Tell followers the agent's presence changed, and who changed it.
        case announcePresence(agentID: String, AgentPresence, by: String)
        /// Read the agent's unresolved tickets from the database, then call `absentAgentTickets`.
        case collectTicketsOfAbsentAgent(String)
        /// Read whether the assignment was accepted or answered, then call `acceptanceChecked`.
        case checkAcceptance(ticketID: Int64, agentID: String, assignedAt: Date)
        /// Take these tickets from the agent (one event of the return's kind each) and queue them again.
        case returnToQueues(TicketReturn)
        /// Every unresolved ticket of the agent goes back to its queue (the agent left).
        case handBack(agentID: String, reason: String)
        /// A queue assigns nothing while held (paused by a supervisor, or the daemon draining).
        case holdQueue(String, Bool)
        /// Do this work the database owes, then call `recoveryFinished`.
        case recover(RecoveryWork)
        // Memory of the agents' and queues' actors, changed under the ticket's lock right after the
        // database change, so each ticket's changes reach them in commit order.
        case agentHolds(agentID: String, ticketID: Int64, TicketStatus)
        case agentDrops(agentID: String, ticketID: Int64)
        case queueForgets(queue: String, ticketID: Int64)
    }

    /// Tickets to take from an agent and queue again, with the event that says why.
    public struct TicketReturn: Sendable, Equatable {
        public var ticketIDs: [Int64]
        public var agentID: String
        public var kind: TicketEventKind
        public var reason: String
        /// The agent is not offered these tickets again (they let the acceptance time run out).
        public var excludeAgent: Bool
        /// Who the event names as having done it.
        public var actor: String
        /// Taken only if the acceptance of the assignment made then is still missed when the
        /// ticket is locked to take it (`acceptanceMissed` again, on facts read under the lock).
        public var unlessAcceptedSince: Date?

        public init(ticketIDs: [Int64], agentID: String, kind: TicketEventKind = .unassigned, reason: String, excludeAgent: Bool = false,
                    actor: String = "routing", unlessAcceptedSince: Date? = nil) {
            self.actor = actor
            self.unlessAcceptedSince = unlessAcceptedSince
            self.ticketIDs = ticketIDs
            self.agentID = agentID
            self.kind = kind
            self.reason = reason
            self.excludeAgent = excludeAgent
        }
    }

    /// Who is present, as routing last heard it.
    public struct Presence: Sendable, Equatable {
        public var presence: AgentPresence
        public var since: Date

        public init(_ presence: AgentPresence, since: Date) {
            self.presence = presence
            self.since = since
        }
    }

    struct AcceptanceDeadline: Equatable {
        var agentID: String
        var assignedAt: Date
    }

    public internal(set) var configuration: RoutingConfiguration
    public internal(set) var presence: [String: Presence] = [:]
    var acceptance: [Int64: AcceptanceDeadline] = [:]
    /// Queues a supervisor paused (stored, so they stay paused across restarts).
    public internal(set) var pausedQueues: Set<String> = []
    /// The whole daemon assigns nothing new (not stored: a restart, which a drain usually precedes, ends it).
    public internal(set) var isDraining = false
    var queueNames: Set<String>
    var recovery = RecoveryState()

    public init(configuration: RoutingConfiguration) {
        self.configuration = configuration
        self.queueNames = Set(configuration.queues.map(\.name))
    }

    /// A timer the coordinator set has come due.
    public mutating func timerFired(_ timer: Timer, now: Date) -> [Action] {
        switch timer {
        case .presenceGrace(let agentID): graceEnded(agentID)
        case .acceptance(let ticketID): acceptanceDue(ticketID)
        case .recovery: recoveryDue()
        }
    }
}

extension RoutingCoordinator.Action {
    /// Whether it only changes what an agent's or a queue's actor remembers, without waiting for
    /// anything: the only kind performed while a ticket's lock is held.
    public var isMemoryChange: Bool {
        switch self {
        case .agentHolds, .agentDrops, .queueForgets: true
        default: false
        }
    }
}

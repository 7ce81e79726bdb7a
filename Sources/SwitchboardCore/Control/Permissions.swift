/// Who may do what: one pure function, used by the control socket and (later) the agents' HTTP API,
/// so the two can never disagree.
public enum Permissions {
    /// The person asking, as the daemon identified them.
    public struct Caller: Sendable, Equatable {
        public var role: Role
        /// The agent record they act as (agents always have one; supervisors and admins may not).
        public var agentID: String?
        /// Queues whose tickets they may see besides their own; nil: every queue.
        public var visibleQueues: Set<String>?

        public init(role: Role, agentID: String?, visibleQueues: Set<String>?) {
            self.role = role
            self.agentID = agentID
            self.visibleQueues = visibleQueues
        }
    }

    /// Where a ticket is, for deciding who may see or change it.
    public struct TicketPlace: Sendable, Equatable {
        public var assignee: String?
        public var queue: String?

        public init(assignee: String?, queue: String?) {
            self.assignee = assignee
            self.queue = queue
        }
    }

    public enum Operation: Sendable, Equatable {
        /// Daemon status, queues, agents, SLA risk, the event stream.
        case readOverview
        case showAgent(String)
        case setPresence(agent: String)
        /// Stop (or resume) new assignments to an agent.
        case drainAgent(String)
        /// Add, change or remove agents; issue and revoke API tokens.
        case manageAgents
        case pauseQueue
        case drainDaemon
        case reloadConfiguration
        case viewTicket(TicketPlace)
        /// Assign, reassign or unassign by hand.
        case assignTicket(TicketPlace)
        case setPriority(TicketPlace)
        /// Status, tags, replies: the ticket's agent's work.
        case changeTicket(TicketPlace)
        /// Internal notes: anyone who may see the ticket.
        case addNote(TicketPlace)
    }

    public enum Decision: Sendable, Equatable {
        case allowed
        /// Refused, with the reason shown to the caller.
        case denied(String)
        /// Answered as if the ticket did not exist: the caller may not know it does.
        case hidden
    }

    public static func decide(_ caller: Caller, _ operation: Operation) -> Decision {
        switch operation {
        case .readOverview:
            return .allowed
        case .showAgent(let agent):
            return caller.role >= .supervisor || caller.agentID == agent ? .allowed : .denied("agents may see only themselves")
        case .setPresence(let agent):
            return caller.role >= .supervisor || caller.agentID == agent ? .allowed : .denied("agents may change only their own presence")
        case .drainAgent(let agent):
            return caller.role >= .supervisor || caller.agentID == agent ? .allowed : .denied("agents may drain only themselves")
        case .manageAgents, .drainDaemon, .reloadConfiguration:
            return caller.role == .admin ? .allowed : .denied("needs the admin role")
        case .pauseQueue:
            return caller.role >= .supervisor ? .allowed : .denied("needs the supervisor role")
        case .viewTicket(let place):
            return canSee(caller, place) ? .allowed : .hidden
        case .assignTicket(let place), .setPriority(let place):
            guard canSee(caller, place) else { return .hidden }
            return caller.role >= .supervisor ? .allowed : .denied("needs the supervisor role")
        case .addNote(let place):
            return canSee(caller, place) ? .allowed : .hidden
        case .changeTicket(let place):
            guard canSee(caller, place) else { return .hidden }
            if caller.role >= .supervisor || (place.assignee != nil && place.assignee == caller.agentID) { return .allowed }
            return .denied("only the ticket's agent or a supervisor may change it")
        }
    }

    /// Agents see their own tickets and the unassigned tickets of their queues; supervisors the
    /// tickets of the queues they oversee; admins everything.
    public static func canSee(_ caller: Caller, _ place: TicketPlace) -> Bool {
        if caller.role == .admin { return true }
        if let assignee = place.assignee, assignee == caller.agentID { return true }
        guard let visible = caller.visibleQueues else { return caller.role >= .supervisor }
        guard let queue = place.queue, visible.contains(queue) else { return false }
        return caller.role >= .supervisor || place.assignee == nil
    }
}

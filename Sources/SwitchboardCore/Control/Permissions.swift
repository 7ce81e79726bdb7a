/// Who may do what, and who may see what: pure functions used by the control socket, the agents'
/// HTTP API, their event stream and the control socket's `Watch`, so none of them can disagree.
/// "Who may see ticket T?" is `ticketScope(_:)`; the SQL that lists tickets is built from it.
public enum Permissions {
    /// The person asking, as the daemon identified them.
    public struct Caller: Sendable, Equatable {
        public var role: Role
        /// The agent record they act as (agents always have one; supervisors and admins may not).
        public var agentID: String?
        /// Queues whose tickets they may see besides their own; nil: every queue.
        public var visibleQueues: Set<String>?
        /// The agents who share a team with them (themselves included): the agents a supervisor
        /// oversees. Nil: every agent (admins, and a supervisor without an agent record).
        public var team: Set<String>?
        /// The names of the teams they are in (canned responses scoped to a team). Nil: every team —
        /// only for a caller who sees every queue (admins, a supervisor without an agent record), so
        /// a caller built without it who sees some queues is in no team rather than in all.
        public var teams: Set<String>?

        public init(role: Role, agentID: String?, visibleQueues: Set<String>?, team: Set<String>? = nil, teams: Set<String>? = nil) {
            self.role = role
            self.agentID = agentID
            self.visibleQueues = visibleQueues
            self.team = team
            self.teams = teams ?? (visibleQueues == nil ? nil : [])
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
        /// Daemon status, queues, agents, SLA risk, the event stream (each filtered by `canSee`).
        case readOverview
        case showAgent(String)
        case setPresence(agent: String)
        /// Stop (or resume) new assignments to an agent.
        case drainAgent(String)
        /// Add, change or remove agents; issue and revoke API tokens.
        case manageAgents
        case pauseQueue(String)
        case drainDaemon
        case reloadConfiguration
        case viewTicket(TicketPlace)
        /// Assign, reassign or unassign by hand; `to` is the agent it goes to (nil: back to the queue).
        case assignTicket(TicketPlace, to: String?)
        case setPriority(TicketPlace)
        /// Status, tags, replies: the ticket's agent's work.
        case changeTicket(TicketPlace)
        /// Internal notes: anyone who may see the ticket.
        case addNote(TicketPlace)
        /// Add, change or remove a canned response of this scope.
        case manageCannedResponse(CannedScope)
        /// Send (or preview) a canned response of this scope; `ticket`: the ticket it answers, whose
        /// queue's responses its viewers may use too.
        case useCannedResponse(CannedScope, ticket: TicketPlace?)
        /// Tag or untag the customer of this ticket.
        case tagCustomer(TicketPlace)
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
            return canSee(caller, agent: agent) ? .allowed : .denied(outsideTeam(caller, "see only themselves", "see only the agents of their teams"))
        case .setPresence(let agent):
            return canSee(caller, agent: agent) ? .allowed
                : .denied(outsideTeam(caller, "change only their own presence", "change the presence of the agents of their teams only"))
        case .drainAgent(let agent):
            return canSee(caller, agent: agent) ? .allowed : .denied(outsideTeam(caller, "drain only themselves", "drain only the agents of their teams"))
        case .manageAgents, .drainDaemon, .reloadConfiguration:
            return caller.role == .admin ? .allowed : .denied("needs the admin role")
        case .pauseQueue(let queue):
            guard caller.role >= .supervisor else { return .denied("needs the supervisor role") }
            return canSee(caller, queue: queue) ? .allowed : .denied("supervisors may pause only their teams' queues")
        case .viewTicket(let place), .addNote(let place):
            return canSee(caller, place) ? .allowed : .hidden
        case .assignTicket(let place, let target):
            guard canSee(caller, place) else { return .hidden }
            guard caller.role >= .supervisor else { return .denied("needs the supervisor role") }
            if let target, !canSee(caller, agent: target) { return .denied("supervisors may assign only to the agents of their teams") }
            return .allowed
        case .setPriority(let place):
            guard canSee(caller, place) else { return .hidden }
            return caller.role >= .supervisor ? .allowed : .denied("needs the supervisor role")
        case .changeTicket(let place):
            guard canSee(caller, place) else { return .hidden }
            if caller.role >= .supervisor || (place.assignee != nil && place.assignee == caller.agentID) { return .allowed }
            return .denied("only the ticket's agent or a supervisor may change it")
        case .manageCannedResponse(let scope):
            if caller.role == .admin { return .allowed }
            guard caller.role >= .supervisor else { return .denied("needs the supervisor role") }
            switch scope {
            case .everyone: return .denied("only admins manage canned responses for everyone")
            case .team(let team):
                return inTeam(caller, team) ? .allowed : .denied("supervisors may manage canned responses only for their teams")
            case .queue(let queue):
                return canSee(caller, queue: queue) ? .allowed : .denied("supervisors may manage canned responses only for their teams' queues")
            }
        case .useCannedResponse(let scope, let ticket):
            if let ticket, !canSee(caller, ticket) { return .hidden }
            return cannedScope(caller, answering: ticket).contains(scope) ? .allowed : .hidden
        case .tagCustomer(let place):
            // Stricter than seeing the ticket: a customer's tags outlive the ticket and steer the
            // routing of every later one (`customerTags` rules), so it takes what changing the
            // ticket's own tags takes.
            guard canSee(caller, place) else { return .hidden }
            if caller.role >= .supervisor || (place.assignee != nil && place.assignee == caller.agentID) { return .allowed }
            return .denied("only the ticket's agent or a supervisor may tag its customer")
        }
    }

    /// Whether the caller is in the team (admins and callers who see every queue: every team).
    static func inTeam(_ caller: Caller, _ team: String) -> Bool {
        caller.role == .admin || (caller.teams?.contains(team) ?? true)
    }

    private static func outsideTeam(_ caller: Caller, _ forAgents: String, _ forSupervisors: String) -> String {
        caller.role >= .supervisor ? "supervisors may \(forSupervisors)" : "agents may \(forAgents)"
    }

    // MARK: Seeing

    /// The tickets a caller may see, as a value both `canSee` and the SQL that lists tickets use.
    public struct TicketScope: Sendable, Equatable {
        /// Every ticket (admins; supervisors without an agent record).
        public var everything: Bool
        /// Tickets assigned to this agent.
        public var assignee: String?
        /// Tickets in these queues...
        public var queues: Set<String>
        /// ...assigned or not (supervisors), or only those waiting for an agent (agents).
        public var assignedInQueues: Bool

        public init(everything: Bool, assignee: String?, queues: Set<String>, assignedInQueues: Bool) {
            self.everything = everything
            self.assignee = assignee
            self.queues = queues
            self.assignedInQueues = assignedInQueues
        }

        public func contains(_ place: TicketPlace) -> Bool {
            if everything { return true }
            if let assignee, place.assignee == assignee { return true }
            guard let queue = place.queue, queues.contains(queue) else { return false }
            return assignedInQueues || place.assignee == nil
        }
    }

    /// Who may see which ticket: agents their own tickets and the unassigned tickets of their
    /// queues; supervisors every ticket of the queues of their teams; admins everything.
    public static func ticketScope(_ caller: Caller) -> TicketScope {
        if caller.role == .admin || (caller.visibleQueues == nil && caller.role >= .supervisor) {
            return TicketScope(everything: true, assignee: nil, queues: [], assignedInQueues: true)
        }
        return TicketScope(everything: false, assignee: caller.agentID, queues: caller.visibleQueues ?? [], assignedInQueues: caller.role >= .supervisor)
    }

    public static func canSee(_ caller: Caller, _ place: TicketPlace) -> Bool {
        ticketScope(caller).contains(place)
    }

    /// An agent: themselves; supervisors the agents of their teams; admins everyone.
    public static func canSee(_ caller: Caller, agent: String) -> Bool {
        if caller.role == .admin || caller.agentID == agent { return true }
        guard caller.role >= .supervisor else { return false }
        return caller.team?.contains(agent) ?? true
    }

    /// A queue's figures and settings: the queues whose tickets one may see.
    public static func canSee(_ caller: Caller, queue: String) -> Bool {
        let scope = ticketScope(caller)
        return scope.everything || scope.queues.contains(queue)
    }

    /// Something followers hear of: a ticket's event if the ticket is visible or the event is
    /// addressed to the caller; an agent's presence if the agent is.
    public struct EventPlace: Sendable, Equatable {
        /// Nil: the event is about an agent (presence), not a ticket.
        public var ticket: TicketPlace?
        /// The agent it concerns (the ticket's agent, or whose presence changed).
        public var agent: String?
        /// Agents it is addressed to.
        public var audience: [String]
        /// For an event about a queue (paused, resumed): the queue.
        public var queue: String?

        public init(ticket: TicketPlace?, agent: String?, audience: [String], queue: String? = nil) {
            self.ticket = ticket
            self.agent = agent
            self.audience = audience
            self.queue = queue
        }
    }

    public static func canSee(_ caller: Caller, event: EventPlace) -> Bool {
        guard let ticket = event.ticket else {
            if let agent = event.agent { return canSee(caller, agent: agent) }
            if let queue = event.queue { return canSee(caller, queue: queue) }
            return caller.role == .admin
        }
        if let me = caller.agentID, event.audience.contains(me) { return true }
        return canSee(caller, ticket)
    }
}

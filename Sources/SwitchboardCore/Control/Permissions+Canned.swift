extension Permissions {
    /// The canned responses a caller may use, as one value that both `decide(.useCannedResponse)`
    /// and the SQL listing them are built from (as `TicketScope` is for tickets), so the picker
    /// never offers what sending would refuse.
    public struct CannedResponseScope: Sendable, Equatable {
        /// Every canned response (admins).
        public var everything: Bool
        /// Team-scoped responses of these teams; nil: every team.
        public var teams: Set<String>?
        /// Queue-scoped responses of these queues; nil: every queue.
        public var queues: Set<String>?

        public init(everything: Bool, teams: Set<String>?, queues: Set<String>?) {
            self.everything = everything
            self.teams = teams
            self.queues = queues
        }

        public func contains(_ scope: CannedScope) -> Bool {
            if everything { return true }
            switch scope {
            case .everyone: return true
            case .team(let team): return teams?.contains(team) ?? true
            case .queue(let queue): return queues?.contains(queue) ?? true
            }
        }
    }

    /// Everyone's responses, their teams' and their queues' (those whose tickets they see); with a
    /// ticket they may see, also its queue's (a supervisor's ticket in a queue they do not serve).
    public static func cannedScope(_ caller: Caller, answering ticket: TicketPlace? = nil) -> CannedResponseScope {
        if caller.role == .admin { return CannedResponseScope(everything: true, teams: nil, queues: nil) }
        let tickets = ticketScope(caller)
        var queues: Set<String>? = tickets.everything ? nil : tickets.queues
        if let ticket, let queue = ticket.queue, canSee(caller, ticket) { queues?.insert(queue) }
        return CannedResponseScope(everything: false, teams: caller.teams, queues: queues)
    }
}

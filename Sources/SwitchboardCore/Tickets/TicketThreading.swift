import Foundation

/// Which ticket a customer's new message belongs to.
///
/// A message goes to the customer's open or pending ticket with that business number (a pending
/// ticket becomes open again); if their last ticket was resolved within `reopenWithin`, it reopens;
/// otherwise a new ticket starts.
public enum TicketThreading {
    /// The customer's most recent ticket with the business number, as far as threading needs it.
    public struct LatestTicket: Sendable, Equatable {
        public var id: Int64
        public var status: TicketStatus
        public var resolvedAt: Date?
        /// Until when the customer's messages answer this resolved ticket's satisfaction survey
        /// (`CSATSurvey.openUntil`): they are attached to it instead of reopening it.
        public var surveyOpenUntil: Date?

        public init(id: Int64, status: TicketStatus, resolvedAt: Date?, surveyOpenUntil: Date? = nil) {
            self.id = id
            self.status = status
            self.resolvedAt = resolvedAt
            self.surveyOpenUntil = surveyOpenUntil
        }
    }

    public enum Decision: Sendable, Equatable {
        /// Add the message to this ticket, which is open.
        case append(to: Int64)
        /// Add the message to this pending ticket and open it again.
        case wakeUp(Int64)
        /// Add the message to this resolved ticket and reopen it.
        case reopen(Int64)
        /// Start a new ticket.
        case newTicket
        /// Add the message to this pending or resolved ticket and change nothing else: what the
        /// customer sent asks for no answer (see `asksForAnswer`).
        case attach(to: Int64)
    }

    /// Whether a message of this WhatsApp type is something the customer waits on. A reaction, the
    /// deletion of a message or an edit of one is not: it neither opens, wakes nor reopens a
    /// ticket, nor starts an SLA clock (a 👍 to "anything else?" after the ticket was resolved
    /// leaves it resolved).
    public static func asksForAnswer(type: String) -> Bool {
        ConversationTurn.saysSomething(type: type)
    }

    /// `receivedAt` is when Switchboard received the message (its own clock, not the customer's);
    /// `asksForAnswer` is false when none of the customer's messages being threaded together asks
    /// for one.
    public static func decide(latest: LatestTicket?, receivedAt: Date, reopenWithin: TimeInterval, asksForAnswer: Bool = true) -> Decision {
        guard let latest else { return .newTicket }
        if !asksForAnswer, latest.status != .open { return .attach(to: latest.id) }
        switch latest.status {
        case .open:
            return .append(to: latest.id)
        case .pending:
            return .wakeUp(latest.id)
        case .resolved:
            if let open = latest.surveyOpenUntil, receivedAt < open { return .attach(to: latest.id) }
            guard let resolvedAt = latest.resolvedAt, reopenWithin > 0,
                  receivedAt.timeIntervalSince(resolvedAt) <= reopenWithin
            else { return .newTicket }
            return .reopen(latest.id)
        }
    }
}

extension TicketThreading {
    /// Where a ticket stands in routing: who holds it and where it waits.
    public struct RoutingPlace: Sendable, Equatable {
        public var assignee: String?
        public var queue: String?
        /// When the customer started waiting for an agent (the queue's order and wait figures).
        public var waitingSince: Date?
        /// Agents who missed their acceptance time on it and are not offered it again.
        public var excludedAgents: [String]

        public init(assignee: String?, queue: String?, waitingSince: Date?, excludedAgents: [String]) {
            self.assignee = assignee
            self.queue = queue
            self.waitingSince = waitingSince
            self.excludedAgents = excludedAgents
        }
    }

    /// What a reopen does to the ticket's place, committed in the same transaction as the message
    /// that reopens it: the previous agent's slot is given back and the ticket returns to routing, to
    /// be classified again as if new, waiting from now, with no exclusions.
    ///
    /// The previous agent is kept when they may take it now through sticky routing: their id stays
    /// in `last_assignee`, and `QueueMatcher` offers them the ticket first if they are online, not
    /// draining, have room and meet the requirements; otherwise the best agent gets it. The reopen
    /// never leaves the ticket counted for the agent in the database while routing has not decided:
    /// a restart in between would count it for them, and routing would not (issue #16).
    public static func placeAfterReopen(receivedAt: Date) -> RoutingPlace {
        RoutingPlace(assignee: nil, queue: nil, waitingSince: receivedAt, excludedAgents: [])
    }
}

import Foundation
import SwitchboardCore

/// What classification needs of a ticket that has no queue yet, and who helped the customer last.
public struct UnroutedTicket: Sendable, Equatable {
    public var ticketID: Int64
    public var customerID: Int64
    public var facts: TicketFacts
    /// The language stored for the customer (a guess from the text may replace it).
    public var knownLanguage: String?
    public var createdAt: Date
    public var customerWindowExpiresAt: Date?
    /// The agent who last had one of this customer's tickets, and when that contact ended.
    public var lastAgent: String?
    public var lastContactAt: Date?
    /// It had a queue before: a reopened ticket, to be classified again (its SLA clocks restart).
    public var routedBefore: Bool = false
    /// Its triage menu, when it had one that ended: the rule's name, the outcome (`chosen`,
    /// `unanswered`, `timed_out`) and the choice. Tickets whose menu still waits are not unrouted.
    public var triage: (rule: String, outcome: String, choice: String?)?

    public static func == (a: UnroutedTicket, b: UnroutedTicket) -> Bool {
        a.ticketID == b.ticketID && a.customerID == b.customerID && a.facts == b.facts && a.knownLanguage == b.knownLanguage && a.createdAt == b.createdAt
            && a.customerWindowExpiresAt == b.customerWindowExpiresAt && a.lastAgent == b.lastAgent && a.lastContactAt == b.lastContactAt
            && a.routedBefore == b.routedBefore && a.triage?.rule == b.triage?.rule && a.triage?.outcome == b.triage?.outcome && a.triage?.choice == b.triage?.choice
    }
}

/// Classification's outcome for one ticket, to store.
public struct RoutingDecision: Sendable, Equatable {
    public var ticketID: Int64
    public var customerID: Int64
    public var rule: RoutingRules.Match
    /// The language found for the customer, stored on them when they had none.
    public var language: String?

    public init(ticketID: Int64, customerID: Int64, rule: RoutingRules.Match, language: String?) {
        self.ticketID = ticketID
        self.customerID = customerID
        self.rule = rule
        self.language = language
    }
}

/// A ticket waiting in a queue, as stored.
public struct StoredWaitingTicket: Sendable, Equatable {
    public var queue: String
    public var waiting: QueueMatcher.WaitingTicket
}

/// An assignment to commit, with the explanation the `assigned` event keeps.
public struct AssignmentRecord: Sendable, Equatable {
    public var ticketID: Int64
    public var agentID: String
    public var queue: String
    public var strategy: RoutingStrategy
    /// 0-based index of the routing step in force.
    public var stepIndex: Int
    public var reason: String
    /// For a person reading the event: why this agent.
    public var detail: String
    public var requirements: [SkillRequirement]

    public init(ticketID: Int64, agentID: String, queue: String, strategy: RoutingStrategy, stepIndex: Int, reason: String, detail: String = "",
                requirements: [SkillRequirement]) {
        self.ticketID = ticketID
        self.agentID = agentID
        self.queue = queue
        self.strategy = strategy
        self.stepIndex = stepIndex
        self.reason = reason
        self.detail = detail
        self.requirements = requirements
    }
}

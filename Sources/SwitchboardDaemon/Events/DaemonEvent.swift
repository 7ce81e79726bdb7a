import Foundation
import JSON
import SwitchboardCore

/// Something the daemon tells whoever follows it live (the control socket's `Watch`, the agents'
/// event stream): assignments and acceptances, messages, status and priority changes, moves, tags,
/// notes, SLA warnings and breaches, presence.
public struct DaemonEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case assigned
        /// The ticket's agent accepted it (details: agent, by).
        case accepted
        case unassigned
        /// To another queue: the event's queue is the new one (details: from, by, why).
        case moved
        /// A tag was added (details: tag, by, why).
        case tagged
        case priorityChanged = "priority_changed"
        case noteAdded = "note_added"
        /// A message on the ticket, in or out (details: direction, type).
        case message
        /// One of our messages was sent, delivered, read or failed (details: message, status).
        case messageStatus = "message_status"
        case statusChanged = "status_changed"
        /// An agent's presence (no ticket).
        case presence
        case slaWarning = "sla_warning"
        case slaBreach = "sla_breach"
        /// A ticket waits in a queue for an agent: routed there, or back from its agent (details: why).
        case queued
        /// A tag was removed (details: tag, by).
        case untagged
        /// A note's `@handle` named the agent it is addressed to (details: author, note, text).
        case mentioned
        /// A queue was paused or resumed (no ticket; the event's queue; details: paused, by).
        case queuePaused = "queue_paused"
        /// An agent stopped (or resumed) taking new tickets (no ticket; details: draining, by).
        case agentDraining = "agent_draining"
        /// The ticket's customer's tags changed (details: tags, added, removed — comma-joined — and by).
        case customerTags = "customer_tags"

        /// Kinds about an agent or a queue rather than a ticket.
        var concernsNoTicket: Bool { isAboutAnAgent || self == .queuePaused }
        /// Kinds about an agent: those who watch everyone's presence hear of them.
        var isAboutAnAgent: Bool { self == .presence || self == .agentDraining }
    }

    public var kind: Kind
    /// Nil for events about an agent rather than a ticket (presence).
    public var ticketID: Int64?
    /// `T-1042`; nil when the publisher did not have it at hand (a follower looks it up).
    public var reference: String?
    /// The ticket's queue and agent at the time, when known (for followers' filters).
    public var queue: String?
    public var agent: String?
    public var at: Date
    /// Who must hear of it (agent handles), e.g. the supervisors of the ticket's team; empty: anyone
    /// following may see it, nobody in particular is told.
    public var audience: [String]
    public var details: [String: String]
    /// For a `message` event (details `message`: its id), filled in by the enricher: the message as
    /// the API shows it, and, when it changes another one (an edit, a deletion, a reaction), that
    /// message as it now stands — what a follower needs to show it without reading the ticket.
    public var message: JSONValue?
    public var changedMessage: JSONValue?

    public init(kind: Kind, ticketID: Int64?, reference: String?, queue: String? = nil, agent: String? = nil, at: Date, audience: [String], details: [String: String]) {
        self.kind = kind
        self.ticketID = ticketID
        self.reference = reference
        self.queue = queue
        self.agent = agent
        self.at = at
        self.audience = audience
        self.details = details
    }
}

extension DaemonEvent {
    /// The event with what the publisher left out taken from its ticket as it stands now: the
    /// reference and queue, and the agent unless the event says the ticket had none.
    public func filling(reference: String, queue: String?, assignee: String?) -> DaemonEvent {
        var event = self
        event.reference = event.reference ?? reference
        event.queue = event.queue ?? queue
        if !saysTicketHadNoAgent { event.agent = event.agent ?? assignee }
        return event
    }

    /// The ticket had no agent when this happened (it waits in a queue, or it just began): a
    /// follower looking the ticket up later must not credit it to whoever took it since.
    var saysTicketHadNoAgent: Bool {
        kind == .queued || (kind == .message && details["new_ticket"] == "true")
    }

    /// Whether a follower should look its ticket up to fill it in: a ticket event missing its
    /// reference, queue or agent — except a new ticket's first message (no queue or agent yet)
    /// and a waiting ticket (no agent).
    var needsTicketLookup: Bool {
        guard ticketID != nil else { return false }
        if kind == .message, details["new_ticket"] == "true" { return reference == nil }
        return reference == nil || queue == nil || (agent == nil && !saysTicketHadNoAgent)
    }

    /// What `Permissions.canSee(_:event:)` needs to decide who may see it.
    public var place: Permissions.EventPlace {
        .init(ticket: kind.concernsNoTicket ? nil : .init(assignee: agent, queue: queue), agent: agent, audience: audience,
              queue: kind.concernsNoTicket ? queue : nil)
    }
}

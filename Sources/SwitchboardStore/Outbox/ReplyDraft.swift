import Foundation
import SwitchboardCore

/// A reply as the outbox records it, already checked and encoded by the caller (the daemon knows the
/// Cloud API's shapes; the store only knows rows).
public struct ReplyDraft: Sendable {
    /// The ticket it answers (`T-1042`).
    public var ticketReference: String
    /// The message type stored on the ticket (`text`, `template`, `image`, …, `read`).
    public var kind: String
    /// Allowed only inside the customer service window.
    public var isFreeForm: Bool
    /// Becomes a message on the ticket (false for a read receipt).
    public var isMessage: Bool
    /// What a person reads on the ticket.
    public var readableText: String?
    /// Structured parts for `messages.details` (JSON text).
    public var detailsJSON: String
    /// Who wrote it (an agent's name, `automation:…`); recorded on the events.
    public var author: String?
    /// An uploaded file (`media.id`) the reply carries: it becomes the message's file.
    public var file: Int64?
    /// For an automatic message: its cause's key (recorded once in `automation_sends`), reason and rule.
    public var automation: Automation?

    public struct Automation: Sendable, Equatable {
        public var key: String
        public var reason: String
        public var rule: String?

        public init(key: String, reason: String, rule: String?) {
            self.key = key
            self.reason = reason
            self.rule = rule
        }
    }

    /// A person's answer to the customer, which is what SLA clocks wait for: not an automatic
    /// message (no author, or `automation:…`), not a reaction or a read receipt
    /// (`ConversationTurn`).
    public var isAgentReply: Bool {
        guard isMessage, ConversationTurn.saysSomething(type: kind), let author, !author.isEmpty else { return false }
        return !author.hasPrefix("automation:")
    }

    public init(ticketReference: String, kind: String, isFreeForm: Bool, isMessage: Bool, readableText: String?, detailsJSON: String = "{}", author: String?, file: Int64? = nil) {
        self.ticketReference = ticketReference
        self.kind = kind
        self.isFreeForm = isFreeForm
        self.isMessage = isMessage
        self.readableText = readableText
        self.detailsJSON = detailsJSON
        self.author = author
        self.file = file
    }
}

/// An automatic message whose cause already has a send (or a decision not to send) recorded: the
/// decision was taken again, and nothing is done twice.
public struct AutomaticMessageAlreadyRecorded: Error, Equatable {
    public var key: String
}

/// The customer a reply goes to, as the ticket knows them.
public struct ReplyRecipient: Sendable, Equatable {
    public var waID: String?
    public var userID: String?
}

/// A reply the outbox accepted.
public struct QueuedReply: Sendable, Equatable {
    /// Switchboard's id of the send (`messages.outbound_id`, `biz_opaque_callback_data`).
    public var id: UUID
    public var ticketID: Int64
    public var businessNumber: String
    /// The message on the ticket (nil for a read receipt, which is none).
    public var messageID: Int64?
    /// Why sending through this number is paused, when it is: the reply waits until it resumes.
    public var sendingPausedReason: String?
}

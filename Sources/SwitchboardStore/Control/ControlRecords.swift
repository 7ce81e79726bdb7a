import Foundation

/// A ticket in a list (control `ListTickets`, later the agents' API).
public struct TicketSummaryRow: Sendable, Equatable {
    public var reference: String
    public var status: String
    public var priority: String
    public var queue: String?
    public var assignee: String?
    public var customer: String?
    public var updatedAt: Date
    public var id: Int64

    /// Where the next page starts: after this ticket.
    public var cursor: TicketCursor { TicketCursor(updatedAt: updatedAt, id: id) }
}

/// A place in the newest-activity-first order of tickets.
public struct TicketCursor: Sendable, Equatable {
    public var updatedAt: Date
    public var id: Int64

    public init(updatedAt: Date, id: Int64) {
        self.updatedAt = updatedAt
        self.id = id
    }
}

/// One ticket with its history, for `ShowTicket`.
public struct TicketDetailRow: Sendable {
    public struct Message: Sendable, Equatable {
        public var id: Int64
        public var wamid: String?
        /// For an edit or a revoke: the message it changes.
        public var targetWamid: String?
        public var at: Date
        public var direction: String
        public var type: String
        public var body: String?
        public var status: String?
        /// The structured parts as ingest stored them (JSON object text): media as Meta described
        /// it, location, choice, reaction, context, referral, errors.
        public var details: String
        /// Why Meta refused an outbound message.
        public var errorCode: Int?
        public var errorTitle: String?
        /// The file it carries, as Switchboard keeps it.
        public var media: MediaRow?
        /// Who sent an outbound message: an agent's id, `automation:…`, or `business_app` (sent from
        /// the WhatsApp Business app on the same number); nil for the customer's.
        public var sentBy: String? = nil
    }

    /// A message's file: what the API needs to show or offer it.
    public struct MediaRow: Sendable, Equatable {
        public var id: Int64
        public var kind: String
        public var state: String
        public var mimeType: String?
        public var size: Int?
        public var fileName: String?
        public var failure: String?
    }

    public struct Event: Sendable, Equatable {
        public var id: Int64 = 0
        public var at: Date
        public var kind: String
        public var actor: String?
        /// JSON object text.
        public var data: String
    }

    /// An internal note.
    public struct Note: Sendable, Equatable {
        public var id: Int64
        public var at: Date
        public var author: String
        public var body: String

        public init(id: Int64, at: Date, author: String, body: String) {
            self.id = id
            self.at = at
            self.author = author
            self.body = body
        }
    }

    public var id: Int64
    public var summary: TicketSummaryRow
    public var tags: [String]
    public var createdAt: Date
    public var customerWindowExpiresAt: Date?
    public var messages: [Message]
    public var notes: [Note]
    public var events: [Event]
    public var sla: [SLAClockRow]
    /// With only the latest messages: the later messages that change them (not shown themselves),
    /// and whether older messages remain.
    public var messageChanges: [Message] = []
    public var moreMessages = false
    /// The customer's tags (routing rules' `customerTags`).
    public var customerTags: [String] = []
}

/// An open SLA clock (`bi.sla_open_clocks`), for `AtRisk` and `ShowTicket`.
public struct SLAClockRow: Sendable, Equatable {
    public var ticket: String
    public var policy: String
    public var clock: String
    public var paused: Bool
    public var warnAt: Date?
    public var deadline: Date?
    public var warnedAt: Date?
    public var breachedAt: Date?
    public var queue: String?
    public var assignee: String?
}

/// An agent's stored fields the roster does not hold.
public struct AgentAccountRow: Sendable, Equatable {
    public var id: String
    public var unixUser: String?
    public var fromConfiguration: Bool
}

/// One audited control call.
public struct AuditEntry: Sendable, Equatable {
    public var unixUser: String
    public var uid: UInt32
    public var role: String
    public var method: String
    /// JSON object text, secrets removed.
    public var arguments: String
    /// `ok` or the error's name.
    public var result: String
    public var detail: String?

    public init(unixUser: String, uid: UInt32, role: String, method: String, arguments: String, result: String, detail: String?) {
        self.unixUser = unixUser
        self.uid = uid
        self.role = role
        self.method = method
        self.arguments = arguments
        self.result = result
        self.detail = detail
    }
}

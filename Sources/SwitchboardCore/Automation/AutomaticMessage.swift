import Foundation

/// A message Switchboard decides to send by itself: what it says, why, and the key that makes it
/// happen once — derived from its cause, so deciding it again (a second message in the same closed
/// period, the same webhook after a crash) finds the key taken and sends nothing.
public struct AutomaticMessage: Sendable, Equatable {
    public enum Reason: String, Sendable, CaseIterable {
        case greeting
        case outOfHours = "out_of_hours"
        case triageMenu = "triage_menu"
        case triageRetry = "triage_retry"
        case autoClose = "auto_close"
        case csatSurvey = "csat_survey"
        case csatThanks = "csat_thanks"
    }

    /// An interactive menu: reply buttons (up to three) or a list (up to ten rows).
    public struct Menu: Sendable, Equatable {
        public struct Row: Sendable, Equatable {
            public var id: String
            public var title: String
        }

        public var style: AutomationConfiguration.TriageRule.Style
        public var body: String
        /// The list's button (ignored for buttons).
        public var button: String
        public var rows: [Row]
    }

    public enum Content: Sendable, Equatable {
        case text(String)
        case menu(Menu)
        /// An approved template without parameters (outside the customer service window).
        case template(MessageTemplate)

        /// Allowed only inside the customer service window.
        public var isFreeForm: Bool {
            if case .template = self { return false }
            return true
        }
    }

    public var key: String
    public var reason: Reason
    /// The configured rule it comes from.
    public var rule: String?
    public var content: Content

    public init(key: String, reason: Reason, rule: String?, content: Content) {
        self.key = key
        self.reason = reason
        self.rule = rule
        self.content = content
    }

    /// The author recorded on the ticket: `automation:<reason>`, which never stops an SLA clock.
    public var author: String { "automation:\(reason.rawValue)" }
}

/// What automation knows of a ticket when it decides.
public struct AutomationTicket: Sendable, Equatable {
    public var id: Int64
    public var reference: String
    public var businessNumber: String
    public var queue: String?
    public var status: TicketStatus
    public var customerName: String?
    public var customerLanguage: String?
    /// The agent holding it (their name, for `{{agent.name}}`).
    public var agentName: String?
    public var windowExpiresAt: Date?
    /// When a person last wrote to the customer on this number (an agent's reply or the Business
    /// app), on this ticket or an earlier one: a template an agent sent, answered by the customer
    /// with a new ticket, is a conversation the business started.
    public var lastAgentReplyAt: Date?
    /// A person answered the customer on this ticket (its first response): a survey asks how that went.
    public var personReplied: Bool

    public init(id: Int64, reference: String, businessNumber: String, queue: String? = nil, status: TicketStatus = .open, customerName: String? = nil,
                customerLanguage: String? = nil, agentName: String? = nil, windowExpiresAt: Date? = nil, lastAgentReplyAt: Date? = nil,
                personReplied: Bool = true) {
        self.id = id
        self.reference = reference
        self.businessNumber = businessNumber
        self.queue = queue
        self.status = status
        self.customerName = customerName
        self.customerLanguage = customerLanguage
        self.agentName = agentName
        self.windowExpiresAt = windowExpiresAt
        self.lastAgentReplyAt = lastAgentReplyAt
        self.personReplied = personReplied
    }

    /// The values of the variables a text may name (`team.back` is added by out-of-hours).
    public var variables: [String: String] {
        var values = ["ticket.reference": reference]
        if let customerName { values["customer.name"] = customerName }
        if let agentName { values["agent.name"] = agentName }
        return values
    }

    /// A text in the customer's language with its variables filled in.
    public func say(_ text: LocalizedText, extra: [String: String] = [:]) -> String {
        TextVariables.render(text.text(for: customerLanguage), values: variables.merging(extra) { $1 })
    }

    /// A new customer's language is not stored until routing guesses it: their text tells it sooner.
    public mutating func guessLanguage(from text: String?) {
        if customerLanguage == nil { customerLanguage = text.flatMap(LanguageGuess.guess) }
    }

    public func windowIsOpen(at now: Date) -> Bool {
        CustomerServiceWindow.allowsFreeForm(expiresAt: windowExpiresAt, now: now)
    }
}

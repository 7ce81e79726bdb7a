import Foundation

/// One ticket's satisfaction survey, as a state machine: sent once when the ticket is resolved (a
/// list inside the window, the configured template outside it, nothing without one); the customer's
/// 1–5 rating, then an optional comment, are taken while the survey is open — and while it is, the
/// customer's messages on the resolved ticket are its answers rather than reasons to reopen it
/// (`openUntil`, which threading reads). A reply after it expires is a normal message.
public struct CSATSurvey: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case notSent
        case awaitingRating(expiresAt: Date)
        case awaitingComment(rating: Int, until: Date)
        /// Rated (and commented, or the comment's time passed), or expired.
        case finished
    }

    public enum Event: Sendable, Equatable {
        /// The ticket was resolved: by a person, or by auto-close.
        case resolved(automatically: Bool, now: Date)
        case customerWrote(choiceID: String?, text: String?, asksForAnswer: Bool, now: Date)
    }

    public enum Action: Sendable, Equatable {
        case send(AutomaticMessage)
        /// Record the survey as sent (`channel`: interactive or template), open until `expiresAt`.
        case recordSent(channel: String, expiresAt: Date)
        case recordRating(Int, at: Date, commentUntil: Date?)
        case recordComment(String, at: Date)
        /// Nothing sent, and why (for the log and the ticket's automation record).
        case skip(String)
    }

    public let configuration: AutomationConfiguration.CSAT
    public let ticket: AutomationTicket
    public private(set) var state: State

    public init(configuration: AutomationConfiguration.CSAT, ticket: AutomationTicket, state: State = .notSent) {
        self.configuration = configuration
        self.ticket = ticket
        self.state = state
    }

    /// Whether the customer's message at `date` answers the survey (threading attaches it to the
    /// resolved ticket instead of reopening it).
    public var openUntil: Date? {
        switch state {
        case .awaitingRating(let expiresAt): expiresAt
        case .awaitingComment(_, let until): until
        case .notSent, .finished: nil
        }
    }

    public mutating func event(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.notSent, .resolved(let automatically, let now)):
            guard automatically ? configuration.afterAutoClose : configuration.afterAgentResolve else {
                state = .finished
                return [.skip(automatically ? "auto-closed tickets are not surveyed (csat.afterAutoClose)" : "csat.afterAgentResolve is false")]
            }
            guard ticket.personReplied else {
                state = .finished
                return [.skip("nobody answered the customer on this ticket")]
            }
            let expiresAt = now.addingTimeInterval(configuration.expiresAfter)
            let key = "csat:\(ticket.id)"
            if ticket.windowIsOpen(at: now) {
                let language = ticket.customerLanguage
                let rows = configuration.ratings.enumerated().map { AutomaticMessage.Menu.Row(id: "csat:\($0.offset + 1)", title: $0.element.text(for: language)) }
                state = .awaitingRating(expiresAt: expiresAt)
                return [.send(AutomaticMessage(key: key, reason: .csatSurvey, rule: nil,
                                               content: .menu(.init(style: .list, body: ticket.say(configuration.prompt), button: configuration.button.text(for: language), rows: rows)))),
                        .recordSent(channel: "interactive", expiresAt: expiresAt)]
            }
            guard let template = configuration.template else {
                state = .finished
                return [.skip("the customer service window had closed and csat.template names no template")]
            }
            state = .awaitingRating(expiresAt: expiresAt)
            return [.send(AutomaticMessage(key: key, reason: .csatSurvey, rule: nil, content: .template(template))),
                    .recordSent(channel: "template", expiresAt: expiresAt)]

        case (.awaitingRating(let expiresAt), .customerWrote(let choiceID, let text, let asksForAnswer, let now)):
            guard asksForAnswer, now < expiresAt, let rating = Self.rating(choiceID: choiceID, text: text) else { return [] }
            let commentUntil = configuration.commentWithin > 0 ? now.addingTimeInterval(configuration.commentWithin) : nil
            state = commentUntil.map { .awaitingComment(rating: rating, until: $0) } ?? .finished
            var actions: [Action] = [.recordRating(rating, at: now, commentUntil: commentUntil)]
            if let thanks = configuration.thanks {
                actions.append(.send(AutomaticMessage(key: "csat_thanks:\(ticket.id)", reason: .csatThanks, rule: nil, content: .text(ticket.say(thanks)))))
            }
            return actions

        case (.awaitingComment(_, let until), .customerWrote(let choiceID, let text, let asksForAnswer, let now)):
            guard asksForAnswer, now < until, choiceID == nil, let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return [] }
            state = .finished
            return [.recordComment(text, at: now)]

        case (.notSent, .customerWrote), (.awaitingRating, .resolved), (.awaitingComment, .resolved), (.finished, _):
            // Once per ticket: a second resolution (after a reopening) asks nothing again.
            return []
        }
    }

    /// A rating from the list (`csat:4`), or typed as a digit 1–5 (a template's reply is text).
    public static func rating(choiceID: String?, text: String?) -> Int? {
        if let choiceID, choiceID.hasPrefix("csat:"), let value = Int(choiceID.dropFirst(5)), (1...5).contains(value) { return value }
        // A template's quick reply carries the business's own payload; its title (or typed text) says the number.
        guard let typed = text?.trimmingCharacters(in: .whitespacesAndNewlines), typed.count == 1, let value = Int(typed), (1...5).contains(value) else { return nil }
        return value
    }
}

import Foundation

/// One ticket's triage menu, as a state machine: sent instead of routing at once; the customer's
/// choice routes the ticket (with the option's tags, customer tags and language); free text instead
/// of a choice is answered with the menu again, then routed by the fallback; so is silence past the
/// timeout. The store keeps the state (`triage_sessions`), so a restart resumes where it was.
public struct TriageStateMachine: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// Not started: the menu has not been sent.
        case idle
        /// The menu was sent `asked` times; past `deadline` the fallback routes the ticket.
        case asking(asked: Int, deadline: Date)
        case chosen(String)
        /// Free text `maxAsks` times.
        case unanswered
        case timedOut

        /// The name the store keeps.
        public var name: String {
            switch self {
            case .idle: "idle"
            case .asking: "asking"
            case .chosen: "chosen"
            case .unanswered: "unanswered"
            case .timedOut: "timed_out"
            }
        }
    }

    public enum Event: Sendable, Equatable {
        case start(now: Date)
        /// A customer's message on the ticket: an interactive reply's id, or text.
        case customerWrote(choiceID: String?, text: String?, asksForAnswer: Bool, now: Date)
        case deadlinePassed(now: Date)
    }

    /// How the ticket leaves triage.
    public enum Outcome: Sendable, Equatable {
        case chosen(AutomationConfiguration.TriageRule.Option)
        /// No choice (free text `maxAsks` times, or the timeout): the rule's fallback routes it.
        case fallback(routingRule: String?, why: String)
    }

    public enum Action: Sendable, Equatable {
        /// Send the menu (`retry`: after free text), keyed by how many times it has been sent.
        case send(AutomaticMessage)
        /// Keep the new state (and its deadline).
        case record(State)
        /// Classify and queue the ticket now.
        case route(Outcome)
    }

    public let rule: AutomationConfiguration.TriageRule
    public let ticket: AutomationTicket
    public private(set) var state: State

    public init(rule: AutomationConfiguration.TriageRule, ticket: AutomationTicket, state: State = .idle) {
        self.rule = rule
        self.ticket = ticket
        self.state = state
    }

    /// The first triage rule for a new ticket, if any: by business number (a ticket in triage has no
    /// queue yet, so a rule with `queues` never applies).
    public static func rule(for ticket: AutomationTicket, in configuration: AutomationConfiguration) -> AutomationConfiguration.TriageRule? {
        configuration.triage.first { $0.scope.matches(businessNumber: ticket.businessNumber, queue: nil) }
    }

    public mutating func event(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.idle, .start(let now)):
            // A menu is free-form: with the window already closed (a ticket found late), route at once.
            guard ticket.windowIsOpen(at: now) else {
                state = .timedOut
                return [.record(state), .route(.fallback(routingRule: rule.fallbackRule, why: "the customer service window had closed"))]
            }
            state = .asking(asked: 1, deadline: now.addingTimeInterval(rule.timeout))
            return [.send(menu(attempt: 1)), .record(state)]

        case (.asking(let asked, let deadline), .customerWrote(let choiceID, let text, let asksForAnswer, let now)):
            guard asksForAnswer else { return [] }
            if let option = choice(id: choiceID, text: text) {
                state = .chosen(option.id)
                return [.record(state), .route(.chosen(option))]
            }
            if now >= deadline { return self.event(.deadlinePassed(now: now)) }
            guard asked < rule.maxAsks, ticket.windowIsOpen(at: now) else {
                state = .unanswered
                return [.record(state), .route(.fallback(routingRule: rule.fallbackRule, why: "no choice after \(asked) menus"))]
            }
            state = .asking(asked: asked + 1, deadline: now.addingTimeInterval(rule.timeout))
            return [.send(menu(attempt: asked + 1)), .record(state)]

        case (.asking(_, let deadline), .deadlinePassed(let now)):
            guard now >= deadline else { return [] }
            state = .timedOut
            return [.record(state), .route(.fallback(routingRule: rule.fallbackRule, why: "no answer within \(Int(rule.timeout / 60)) minutes"))]

        case (.idle, _), (.asking, .start), (.chosen, _), (.unanswered, _), (.timedOut, _):
            // Started twice, or a message or a deadline after triage ended: nothing to do.
            return []
        }
    }

    /// The option a reply chooses: an interactive reply's id; or typed, the option's number or its
    /// title (ignoring case and accents), for customers whose app shows no buttons.
    func choice(id: String?, text: String?) -> AutomationConfiguration.TriageRule.Option? {
        if let id, let option = rule.options.first(where: { $0.id == id }) { return option }
        guard let typed = text.map(Self.fold), !typed.isEmpty else { return nil }
        if let number = Int(typed), rule.options.indices.contains(number - 1) { return rule.options[number - 1] }
        return rule.options.first { option in option.title.allTexts.contains { Self.fold($0) == typed } || Self.fold(option.id) == typed }
    }

    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
            .trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters))
    }

    func menu(attempt: Int) -> AutomaticMessage {
        let language = ticket.customerLanguage
        let rows = rule.options.map { AutomaticMessage.Menu.Row(id: $0.id, title: $0.title.text(for: language)) }
        let body = ticket.say(attempt == 1 ? rule.prompt : rule.retryPrompt)
        return AutomaticMessage(key: "triage:\(ticket.id):\(attempt)", reason: attempt == 1 ? .triageMenu : .triageRetry, rule: rule.name,
                                content: .menu(.init(style: rule.style, body: body, button: rule.button.text(for: language), rows: rows)))
    }
}

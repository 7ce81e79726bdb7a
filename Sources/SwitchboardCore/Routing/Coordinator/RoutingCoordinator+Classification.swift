import Foundation

/// Classifying a ticket, and what routing does with each message ingest committed.
extension RoutingCoordinator {
    public struct Classification: Sendable, Equatable {
        public var rule: RoutingRules.Match
        /// The language guessed from the text, to store on the customer.
        public var guessedLanguage: String?
    }

    /// The rule that places a ticket. The language guessed from the first message wins over the
    /// one stored for the customer (people write in the language they want help in); without a
    /// business-hours calendar every ticket is within business hours. Nil: no rule matched (the
    /// configuration's last rule catches every ticket, so this is a configuration error).
    ///
    /// After a triage menu (`triage`): a choice adds its id to the menu choices and, for a language
    /// menu, its language wins over any guess (the customer said which one); without a choice, the
    /// fallback rule named by the menu places the ticket, if it names one.
    public func classify(_ facts: TicketFacts, knownLanguage: String?, createdAt: Date, triage: TriageResult? = nil) -> Classification? {
        var facts = facts
        let words = facts.firstMessageText.map(RoutingRules.words) ?? []
        var guessed = LanguageGuess.guess(words: words)
        switch triage {
        case .chosen(let id, let language)?:
            facts.menuChoice.append(id)
            if let language { guessed = nil; facts.language = language } else { facts.language = guessed ?? knownLanguage }
        case .fallback(let rule?)?:
            if let index = configuration.rules.firstIndex(where: { $0.name == rule }) {
                let found = configuration.rules[index]
                return Classification(rule: .init(index: index, name: found.name, actions: found.actions), guessedLanguage: guessed)
            }
            facts.language = guessed ?? knownLanguage
        case .fallback(nil)?, nil:
            facts.language = guessed ?? knownLanguage
        }
        facts.withinBusinessHours = configuration.businessHours?.contains(createdAt) ?? true
        return RoutingRules.classify(facts, words: words, rules: configuration.rules).map { Classification(rule: $0, guessedLanguage: guessed) }
    }

    /// How a triage menu ended, for classification.
    public enum TriageResult: Sendable, Equatable {
        /// The option's id, and its language for a language menu.
        case chosen(String, language: String?)
        /// No choice: the menu's fallback routing rule, or nil for the rules as usual.
        case fallback(String?)
    }

    /// What routing owes each message ingest committed, by how threading placed it.
    public struct IngestFollowUp: Sendable, Equatable {
        /// New tickets, and reopened ones (the reopen returned them to routing in its transaction).
        public var route: [Int64] = []
        /// Pending tickets the customer wrote to: open again, counted for their agent again.
        public var wake: [Int64] = []
        /// Tickets the customer wrote to that have an agent or a queue: the SLA's next-response clock.
        public var customerWrote: [Int64] = []
    }

    /// `asksForAnswer` false (a reaction, an edit, a deletion): the next-response clock does not start.
    public static func followUp(_ messages: [(ticketID: Int64, threading: TicketThreading.Decision, asksForAnswer: Bool)]) -> IngestFollowUp {
        var followUp = IngestFollowUp()
        var reopened: [Int64] = []
        for message in messages {
            switch message.threading {
            case .newTicket: followUp.route.append(message.ticketID)
            case .reopen: reopened.append(message.ticketID)
            case .wakeUp:
                followUp.wake.append(message.ticketID)
                followUp.customerWrote.append(message.ticketID)
            case .append: if message.asksForAnswer { followUp.customerWrote.append(message.ticketID) }
            case .attach: continue
            }
        }
        followUp.route += reopened
        return followUp
    }
}

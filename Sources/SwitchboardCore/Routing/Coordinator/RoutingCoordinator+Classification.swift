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
    public func classify(_ facts: TicketFacts, knownLanguage: String?, createdAt: Date) -> Classification? {
        var facts = facts
        let guessed = facts.firstMessageText.flatMap(LanguageGuess.guess)
        facts.language = guessed ?? knownLanguage
        facts.withinBusinessHours = configuration.businessHours?.contains(createdAt) ?? true
        return RoutingRules.classify(facts, rules: configuration.rules).map { Classification(rule: $0, guessedLanguage: guessed) }
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

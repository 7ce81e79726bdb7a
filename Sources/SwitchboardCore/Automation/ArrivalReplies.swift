import Foundation

/// Greetings and out-of-hours replies: what to say when a customer's message has been stored.
///
/// Each is keyed by its cause, so however many messages a customer sends in one closed period the
/// out-of-hours reply is decided many times and recorded once. Never for our own messages or the
/// Business app's (they are not the customer writing), never for a reaction or an edit (they ask for
/// no answer), never while a person answered within the rule's quiet time, and no greeting for a
/// conversation the business started.
public enum ArrivalReplies {
    /// One customer message on a ticket.
    public struct Arrival: Sendable, Equatable {
        public var ticket: AutomationTicket
        public var receivedAt: Date
        /// The message started the ticket.
        public var startedTicket: Bool
        /// From the customer: not an echo of the Business app, not one of ours.
        public var fromCustomer: Bool
        /// Says something (not a reaction, an edit or a deletion).
        public var asksForAnswer: Bool
        /// The ticket is waiting on a triage menu: the menu speaks for us.
        public var inTriage: Bool

        public init(ticket: AutomationTicket, receivedAt: Date, startedTicket: Bool, fromCustomer: Bool = true, asksForAnswer: Bool = true,
                    inTriage: Bool = false) {
            self.ticket = ticket
            self.receivedAt = receivedAt
            self.startedTicket = startedTicket
            self.fromCustomer = fromCustomer
            self.asksForAnswer = asksForAnswer
            self.inTriage = inTriage
        }
    }

    /// The messages to send for `arrival`, at most one: out of hours it is the out-of-hours reply
    /// (which greets too); otherwise, for a new ticket, the greeting.
    public static func decide(_ arrival: Arrival, configuration: AutomationConfiguration, now: Date) -> [AutomaticMessage] {
        guard arrival.fromCustomer, arrival.asksForAnswer, arrival.ticket.status != .resolved else { return [] }
        let ticket = arrival.ticket
        if let rule = configuration.outOfHours.first(where: { $0.scope.matches(businessNumber: ticket.businessNumber, queue: ticket.queue) }),
           let closed = rule.calendar.closedPeriod(at: arrival.receivedAt) {
            if let replied = ticket.lastAgentReplyAt, arrival.receivedAt.timeIntervalSince(replied) < rule.quietAfterAgentReply { return [] }
            guard ticket.windowIsOpen(at: now) else { return [] }
            let since = closed.since.map { String(Int64($0.timeIntervalSince1970)) } ?? "open"
            let back = closed.until.map { backText($0, timeZone: rule.calendar.timeZone, language: rule.text.language(for: ticket.customerLanguage)) } ?? ""
            return [AutomaticMessage(key: "out_of_hours:\(ticket.id):\(since)", reason: .outOfHours, rule: rule.name,
                                     content: .text(ticket.say(rule.text, extra: ["team.back": back])))]
        }
        // A conversation the business started (a person wrote to the customer in the last day) needs no welcome.
        if let wrote = ticket.lastAgentReplyAt, arrival.receivedAt.timeIntervalSince(wrote) < 86_400 { return [] }
        guard arrival.startedTicket, !arrival.inTriage, ticket.windowIsOpen(at: now),
              let greeting = configuration.greetings.first(where: { $0.scope.matches(businessNumber: ticket.businessNumber, queue: ticket.queue) })
        else { return [] }
        return [AutomaticMessage(key: "greeting:\(ticket.id)", reason: .greeting, rule: greeting.name, content: .text(ticket.say(greeting.text)))]
    }

    /// When the team is back, as the customer reads it: the weekday and time in the calendar's
    /// zone, in their language (`Monday 09:00 (Europe/Madrid)`, `lunes 09:00 (Europe/Madrid)`).
    public static func backText(_ opening: Date, timeZone: TimeZone, language: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: language.isEmpty ? "en" : language)
        formatter.timeZone = timeZone
        formatter.setLocalizedDateFormatFromTemplate("EEEE HH:mm")
        return "\(formatter.string(from: opening)) (\(timeZone.identifier))"
    }
}

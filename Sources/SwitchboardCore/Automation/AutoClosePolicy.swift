import Foundation

/// When a ticket the customer has left is resolved by itself: a pending ticket (waiting on the
/// customer) after `pendingAfter` without a customer message, counted from the later of their last
/// message and the moment it was set pending; an open ticket only in a queue that asks for it.
public enum AutoClosePolicy {
    public struct Candidate: Sendable, Equatable {
        public var status: TicketStatus
        public var queue: String?
        public var lastCustomerMessageAt: Date?
        public var pendingSince: Date?
        public var createdAt: Date

        public init(status: TicketStatus, queue: String?, lastCustomerMessageAt: Date?, pendingSince: Date?, createdAt: Date) {
            self.status = status
            self.queue = queue
            self.lastCustomerMessageAt = lastCustomerMessageAt
            self.pendingSince = pendingSince
            self.createdAt = createdAt
        }
    }

    /// When the ticket falls due, or nil if it never does as it stands.
    public static func dueAt(_ ticket: Candidate, configuration: AutomationConfiguration.AutoClose) -> Date? {
        let quietSince = [ticket.lastCustomerMessageAt, ticket.createdAt].compactMap { $0 }.max() ?? ticket.createdAt
        switch ticket.status {
        case .resolved:
            return nil
        case .pending:
            return max(quietSince, ticket.pendingSince ?? quietSince).addingTimeInterval(configuration.pendingAfter)
        case .open:
            guard let queue = ticket.queue, let after = configuration.openAfterByQueue[queue] else { return nil }
            return quietSince.addingTimeInterval(after)
        }
    }

    public static func isDue(_ ticket: Candidate, configuration: AutomationConfiguration.AutoClose, now: Date) -> Bool {
        guard let due = dueAt(ticket, configuration: configuration) else { return false }
        return now >= due
    }

    /// The closing message, keyed by the quiet stretch it ends (inside the window only).
    public static func closingMessage(_ ticket: AutomationTicket, quietSince: Date, configuration: AutomationConfiguration.AutoClose, now: Date) -> AutomaticMessage? {
        guard let text = configuration.closingText, ticket.windowIsOpen(at: now) else { return nil }
        return AutomaticMessage(key: "auto_close:\(ticket.id):\(Int64(quietSince.timeIntervalSince1970))", reason: .autoClose, rule: nil, content: .text(ticket.say(text)))
    }
}

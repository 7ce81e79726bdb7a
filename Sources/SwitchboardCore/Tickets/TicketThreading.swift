import Foundation

/// Which ticket a customer's new message belongs to.
///
/// A message goes to the customer's open or pending ticket with that business number (a pending
/// ticket becomes open again); if their last ticket was resolved within `reopenWithin`, it reopens;
/// otherwise a new ticket starts.
public enum TicketThreading {
    /// The customer's most recent ticket with the business number, as far as threading needs it.
    public struct LatestTicket: Sendable, Equatable {
        public var id: Int64
        public var status: TicketStatus
        public var resolvedAt: Date?

        public init(id: Int64, status: TicketStatus, resolvedAt: Date?) {
            self.id = id
            self.status = status
            self.resolvedAt = resolvedAt
        }
    }

    public enum Decision: Sendable, Equatable {
        /// Add the message to this ticket, which is open.
        case append(to: Int64)
        /// Add the message to this pending ticket and open it again.
        case wakeUp(Int64)
        /// Add the message to this resolved ticket and reopen it.
        case reopen(Int64)
        /// Start a new ticket.
        case newTicket
    }

    /// `receivedAt` is when Switchboard received the message (its own clock, not the customer's).
    public static func decide(latest: LatestTicket?, receivedAt: Date, reopenWithin: TimeInterval) -> Decision {
        guard let latest else { return .newTicket }
        switch latest.status {
        case .open:
            return .append(to: latest.id)
        case .pending:
            return .wakeUp(latest.id)
        case .resolved:
            guard let resolvedAt = latest.resolvedAt, reopenWithin > 0,
                  receivedAt.timeIntervalSince(resolvedAt) <= reopenWithin
            else { return .newTicket }
            return .reopen(latest.id)
        }
    }
}

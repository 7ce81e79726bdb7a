import Foundation

/// The order in which a queue serves waiting tickets: priority first, then age. A ticket whose
/// customer service window closes within `windowBoost` counts as urgent, so the customer is answered
/// while a free-form reply is still allowed.
public struct WaitingOrder: Sendable, Equatable {
    public enum Priority: Int, Sendable, CaseIterable, Comparable {
        case low = 0, normal, high, urgent

        public static func < (a: Priority, b: Priority) -> Bool { a.rawValue < b.rawValue }
    }

    public struct Ticket: Sendable, Equatable {
        public var id: Int64
        public var priority: Priority
        /// When it started waiting (kept when a ticket comes back to the queue).
        public var waitingSince: Date
        public var customerWindowExpiresAt: Date?

        public init(id: Int64, priority: Priority, waitingSince: Date, customerWindowExpiresAt: Date? = nil) {
            self.id = id
            self.priority = priority
            self.waitingSince = waitingSince
            self.customerWindowExpiresAt = customerWindowExpiresAt
        }
    }

    /// A window closing within this long boosts a ticket to urgent; 0 turns the boost off.
    public var windowBoost: TimeInterval

    public init(windowBoost: TimeInterval) {
        self.windowBoost = windowBoost
    }

    public func effectivePriority(of ticket: Ticket, now: Date) -> Priority {
        guard windowBoost > 0, let closes = ticket.customerWindowExpiresAt, closes > now,
              closes.timeIntervalSince(now) <= windowBoost else { return ticket.priority }
        return .urgent
    }

    /// Tickets in serving order at `now`: higher effective priority first, then older, then lower id.
    public func sorted(_ tickets: [Ticket], now: Date) -> [Ticket] {
        tickets.sorted { a, b in
            let pa = effectivePriority(of: a, now: now), pb = effectivePriority(of: b, now: now)
            if pa != pb { return pa > pb }
            if a.waitingSince != b.waitingSince { return a.waitingSince < b.waitingSince }
            return a.id < b.id
        }
    }
}

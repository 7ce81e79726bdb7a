import Foundation

/// The order in which a queue serves waiting tickets: priority first, then age. A ticket whose
/// customer service window closes within `windowBoost` counts as urgent, so the customer is answered
/// while a free-form reply is still allowed. With `agingStep` set, a ticket also gains one priority level
/// for every `agingStep` it has waited, so low-priority tickets are not starved.
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

    /// Waiting this long raises a ticket one priority level (up to urgent); 0 turns aging off.
    public var agingStep: TimeInterval

    public init(windowBoost: TimeInterval, agingStep: TimeInterval = 0) {
        self.windowBoost = windowBoost
        self.agingStep = agingStep
    }

    public func effectivePriority(of ticket: Ticket, now: Date) -> Priority {
        if windowBoost > 0, let closes = ticket.customerWindowExpiresAt, closes > now, closes.timeIntervalSince(now) <= windowBoost {
            return .urgent
        }
        guard agingStep > 0 else { return ticket.priority }
        let levels = Int((now.timeIntervalSince(ticket.waitingSince) / agingStep).rounded(.down))
        return Priority(rawValue: min(Priority.urgent.rawValue, ticket.priority.rawValue + max(0, levels))) ?? .urgent
    }

    /// When `ticket` next gains a level by aging (nil: aging off or already urgent).
    public func nextAging(of ticket: Ticket, now: Date) -> Date? {
        guard agingStep > 0, ticket.priority < .urgent else { return nil }
        let levels = max(0, Int((now.timeIntervalSince(ticket.waitingSince) / agingStep).rounded(.down)))
        guard ticket.priority.rawValue + levels < Priority.urgent.rawValue else { return nil }
        return ticket.waitingSince.addingTimeInterval(Double(levels + 1) * agingStep)
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

extension WaitingOrder.Priority {
    /// As the tickets table and the configuration spell it.
    public var name: String {
        switch self {
        case .low: return "low"
        case .normal: return "normal"
        case .high: return "high"
        case .urgent: return "urgent"
        }
    }

    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }
}

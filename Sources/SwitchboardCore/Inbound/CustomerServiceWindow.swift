import Foundation

/// WhatsApp's customer service window: free-form replies are allowed for 24 hours after the customer's
/// last message; outside it only approved templates may be sent.
public enum CustomerServiceWindow {
    public static let length: TimeInterval = 24 * 60 * 60

    /// When the window opened by a customer message received at `lastInbound` closes.
    public static func closes(afterInboundAt lastInbound: Date) -> Date {
        lastInbound.addingTimeInterval(length)
    }

    /// Whether a free-form reply may be sent at `now`.
    public static func allowsFreeForm(expiresAt: Date?, now: Date) -> Bool {
        guard let expiresAt else { return false }
        return now < expiresAt
    }
}

extension CustomerServiceWindow {
    /// Refuses a free-form reply when the window is closed at `now`; templates (and read receipts)
    /// are not free-form and always pass.
    public static func refusal(freeForm: Bool, expiresAt: Date?, now: Date) -> ReplyRefusal? {
        guard freeForm, !allowsFreeForm(expiresAt: expiresAt, now: now) else { return nil }
        return .customerWindowClosed(closedAt: expiresAt)
    }
}

import Foundation

/// WhatsApp's typing indicator shows "typing…" for up to 25 seconds or until the next message, so
/// one every `interval` per ticket keeps it up while an agent writes; a client that reports every
/// keystroke sends no more than that.
public struct TypingThrottle: Sendable {
    public let interval: TimeInterval
    private var lastSent: [Int64: Date] = [:]

    public init(interval: TimeInterval = 20) {
        self.interval = interval
    }

    /// Whether an indicator for `ticketID` goes out now (and, if so, it is counted as sent); when it
    /// does not, when the next one may.
    public mutating func admit(_ ticketID: Int64, now: Date) -> (admitted: Bool, nextAt: Date) {
        if let last = lastSent[ticketID], now.timeIntervalSince(last) < interval {
            return (false, last.addingTimeInterval(interval))
        }
        // Forget tickets whose interval is over, so the table holds only the ones being typed in.
        if lastSent.count > 1024 { lastSent = lastSent.filter { now.timeIntervalSince($0.value) < interval } }
        lastSent[ticketID] = now
        return (true, now.addingTimeInterval(interval))
    }

    /// The send did not happen (Meta refused it): the next request may try again at once.
    public mutating func forget(_ ticketID: Int64) {
        lastSent[ticketID] = nil
    }
}

import DequeModule
import Foundation

/// At most `perSecond` admissions in any one-second window (for a rate under one per second: one per
/// `1/perSecond` seconds). Admissions are recorded at the time they are granted, so a caller that
/// was late (a long sleep, a busy machine) never causes a burst later.
///
/// Used right before a request leaves: time spent before that (a database round trip) does not count.
public struct RateWindow: Sendable {
    private var admitted: Deque<Date> = []
    private let capacity: Int
    private let length: TimeInterval

    public init(perSecond: Double) {
        precondition(perSecond > 0, "a rate must be positive")
        capacity = max(1, Int(perSecond.rounded(.down)))
        length = Double(capacity) / perSecond
    }

    /// Admits (and records) a start at `now`, or returns when to ask again.
    public mutating func admit(now: Date) -> Date? {
        while let oldest = admitted.first, oldest <= now.addingTimeInterval(-length) { admitted.removeFirst() }
        if admitted.count >= capacity, let oldest = admitted.first {
            return oldest.addingTimeInterval(length)
        }
        admitted.append(now)
        return nil
    }
}

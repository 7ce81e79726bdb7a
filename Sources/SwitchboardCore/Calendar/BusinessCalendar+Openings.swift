import Foundation

extension BusinessCalendar {
    /// A stretch of closed time: from the last closing before it (nil if none in the last year) to
    /// the next opening (nil if none in the next year).
    public struct ClosedPeriod: Sendable, Equatable {
        public var since: Date?
        public var until: Date?

        public init(since: Date?, until: Date?) {
            self.since = since
            self.until = until
        }
    }

    /// The closed period `date` falls in, or nil when the calendar is open then.
    public func closedPeriod(at date: Date) -> ClosedPeriod? {
        guard !contains(date) else { return nil }
        return ClosedPeriod(since: lastClosing(before: date), until: nextOpening(after: date))
    }

    /// The first open instant after `date` (within a year).
    public func nextOpening(after date: Date) -> Date? {
        var start = date
        for _ in 0..<53 {
            let end = start.addingTimeInterval(7 * 86_400)
            if let first = openIntervals(from: start, to: end).first { return first.lowerBound }
            start = end
        }
        return nil
    }

    /// The end of the last open interval before `date` (within a year).
    public func lastClosing(before date: Date) -> Date? {
        var end = date
        for _ in 0..<53 {
            let start = end.addingTimeInterval(-7 * 86_400)
            if let last = openIntervals(from: start, to: end).last { return last.upperBound }
            end = start
        }
        return nil
    }
}

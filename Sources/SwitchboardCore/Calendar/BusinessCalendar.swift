import Foundation

/// When a support team works: an IANA time zone, opening intervals per weekday (several a day, and
/// intervals that run past midnight), and holidays (whole days, or closed hours on a day). Business
/// time is counted only inside these hours, by `elapsed` and `deadline`, across daylight-saving
/// changes (intervals are local wall-clock times; a day with a spring-forward gap is shorter).
public struct BusinessCalendar: Sendable, Equatable {
    /// Local wall-clock minutes: `start` 0..<1440, `length` 1...1440 (past midnight when start +
    /// length > 1440).
    public struct Interval: Sendable, Hashable {
        public var start: Int
        public var length: Int

        public init(start: Int, length: Int) {
            precondition((0..<1440).contains(start) && (1...1440).contains(length), "an interval starts within a day and lasts at most a day (configuration checks it)")
            self.start = start
            self.length = length
        }

        public var end: Int { start + length }
    }

    /// A local calendar day.
    public struct Day: Sendable, Hashable, Comparable {
        public var year: Int, month: Int, day: Int

        public init(year: Int, month: Int, day: Int) {
            self.year = year
            self.month = month
            self.day = day
        }

        public static func < (a: Day, b: Day) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }
    }

    /// What a holiday closes.
    public enum Closure: Sendable, Equatable {
        case wholeDay
        /// These local hours of the day (within it, not past midnight).
        case hours([Interval])
    }

    public var timeZone: TimeZone
    /// Index 0 is Sunday … 6 Saturday.
    public var week: [[Interval]]
    public var holidays: [Day: Closure]

    public init(timeZone: TimeZone, week: [[Interval]], holidays: [Day: Closure] = [:]) {
        precondition(week.count == 7, "one entry per weekday")
        self.timeZone = timeZone
        self.week = week
        self.holidays = holidays
    }

    /// Open every minute of every day: 24×7 is a calendar too.
    public static func alwaysOpen(timeZone: TimeZone = TimeZone(identifier: "UTC") ?? .current) -> BusinessCalendar {
        BusinessCalendar(timeZone: timeZone, week: Array(repeating: [Interval(start: 0, length: 1440)], count: 7))
    }

    /// The weekday names the configuration uses, Sunday first.
    public static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    private var isAlwaysOpen: Bool {
        holidays.isEmpty && week.allSatisfy { $0 == [Interval(start: 0, length: 1440)] }
    }

    private var hasOpenTime: Bool { week.contains { !$0.isEmpty } }

    private var gregorian: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    // MARK: Queries

    /// Whether `date` falls in working hours.
    public func contains(_ date: Date) -> Bool {
        openIntervals(from: date, to: date.addingTimeInterval(1)).contains { $0.contains(date) }
    }

    /// Business seconds between `from` and `to` (0 when `to` is not later).
    public func elapsed(from: Date, to: Date) -> TimeInterval {
        guard to > from else { return 0 }
        if isAlwaysOpen { return to.timeIntervalSince(from) }
        return openIntervals(from: from, to: to).reduce(0) { $0 + $1.upperBound.timeIntervalSince($1.lowerBound) }
    }

    /// The instant at which `duration` business seconds have passed since `start`. A calendar with no
    /// opening hours never gets there (`Date.distantFuture`; configuration refuses one).
    public func deadline(from start: Date, adding duration: TimeInterval) -> Date {
        guard duration > 0 else { return start }
        if isAlwaysOpen { return start.addingTimeInterval(duration) }
        guard hasOpenTime else { return .distantFuture }
        var remaining = duration
        var windowStart = start
        // A year of windows at most: holidays could close weeks, not a whole year of opening hours.
        for _ in 0..<53 {
            let windowEnd = windowStart.addingTimeInterval(7 * 86_400)
            for interval in openIntervals(from: windowStart, to: windowEnd) {
                let length = interval.upperBound.timeIntervalSince(interval.lowerBound)
                if length >= remaining { return interval.lowerBound.addingTimeInterval(remaining) }
                remaining -= length
            }
            windowStart = windowEnd
        }
        return .distantFuture
    }

    // MARK: Open intervals

    /// The open time within [from, to), as sorted, disjoint ranges of instants.
    func openIntervals(from: Date, to: Date) -> [Range<Date>] {
        guard to > from else { return [] }
        let calendar = gregorian
        // Start a day early: yesterday's interval may run past midnight into the range.
        guard var day = calendar.date(byAdding: .day, value: -1, to: calendar.startOfDay(for: from)) else { return [] }
        var open: [Range<Date>] = []
        var closed: [Range<Date>] = []
        while day < to {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            guard let year = parts.year, let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday else { break }
            let local = Day(year: year, month: month, day: dayOfMonth)
            for interval in week[weekday - 1] {
                if let range = absolute(local, interval.start, interval.end, calendar) { open.append(range) }
            }
            if let closure = holidays[local] {
                let hours: [Interval]
                switch closure {
                case .wholeDay: hours = [Interval(start: 0, length: 1440)]
                case .hours(let closed): hours = closed
                }
                for interval in hours {
                    if let range = absolute(local, interval.start, interval.end, calendar) { closed.append(range) }
                }
            }
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { break }
            day = next
        }
        return Self.subtract(Self.union(open), Self.union(closed)).compactMap { range in
            let lower = max(range.lowerBound, from), upper = min(range.upperBound, to)
            return lower < upper ? lower..<upper : nil
        }
    }

    /// The instants of local minutes `start`..<`end` on `day` (`end` may pass midnight).
    private func absolute(_ day: Day, _ start: Int, _ end: Int, _ calendar: Calendar) -> Range<Date>? {
        func instant(_ minute: Int) -> Date? {
            let base = DateComponents(year: day.year, month: day.month, day: day.day + minute / 1440, hour: (minute % 1440) / 60, minute: minute % 60)
            return calendar.date(from: base)
        }
        guard let lower = instant(start), let upper = instant(end), lower < upper else { return nil }
        return lower..<upper
    }

    static func union(_ ranges: [Range<Date>]) -> [Range<Date>] {
        var merged: [Range<Date>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    static func subtract(_ open: [Range<Date>], _ closed: [Range<Date>]) -> [Range<Date>] {
        guard !closed.isEmpty else { return open }
        var result: [Range<Date>] = []
        for range in open {
            var pieces = [range]
            for hole in closed where hole.overlaps(range) {
                pieces = pieces.flatMap { piece -> [Range<Date>] in
                    guard hole.overlaps(piece) else { return [piece] }
                    var parts: [Range<Date>] = []
                    if piece.lowerBound < hole.lowerBound { parts.append(piece.lowerBound..<hole.lowerBound) }
                    if hole.upperBound < piece.upperBound { parts.append(hole.upperBound..<piece.upperBound) }
                    return parts
                }
            }
            result += pieces
        }
        return result
    }
}

import Foundation

/// The hours a support team works, in one time zone: for each weekday, intervals of minutes after
/// midnight (`09:00-13:00`, `14:00-18:00`). Routing rules test "within business hours"; the SLA
/// clocks of a later issue count only these hours.
public struct BusinessHours: Sendable, Equatable {
    public struct Interval: Sendable, Equatable {
        /// Minutes after local midnight; `end` is exclusive and at most 1440.
        public var start: Int
        public var end: Int

        public init(start: Int, end: Int) {
            precondition(0 <= start && start < end && end <= 1440, "an interval lies within one day (configuration checks it)")
            self.start = start
            self.end = end
        }
    }

    public var timeZone: TimeZone
    /// Index 0 is Sunday … 6 Saturday, as `Calendar` numbers weekdays minus one.
    public var week: [[Interval]]

    public init(timeZone: TimeZone, week: [[Interval]]) {
        precondition(week.count == 7, "one entry per weekday")
        self.timeZone = timeZone
        self.week = week
    }

    /// Whether `date` falls in working hours.
    public func contains(_ date: Date) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        guard let weekday = parts.weekday, let hour = parts.hour, let minute = parts.minute else { return false }
        let minuteOfDay = hour * 60 + minute
        return week[weekday - 1].contains { $0.start <= minuteOfDay && minuteOfDay < $0.end }
    }

    /// The weekday names the configuration uses, Sunday first.
    public static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Reads `"09:00-18:00"` (end `24:00` allowed); nil when malformed.
    public static func parseInterval(_ text: String) -> Interval? {
        let halves = text.split(separator: "-", omittingEmptySubsequences: false)
        guard halves.count == 2, let start = minutes(halves[0]), let end = minutes(halves[1]), start < end else { return nil }
        return Interval(start: start, end: end)
    }

    private static func minutes(_ text: Substring) -> Int? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0...24).contains(hour), (0...59).contains(minute), hour * 60 + minute <= 1440 else { return nil }
        return hour * 60 + minute
    }
}

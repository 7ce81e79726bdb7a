import Foundation

extension BusinessCalendar {
    /// Reads `{"timeZone": "Europe/Madrid", "days": {"mon": ["09:00-13:00", "14:00-18:00"], …},
    /// "holidays": {"2026-12-25": "closed", "2026-12-24": ["14:00-24:00"]}}`, or `{"alwaysOpen": true}`
    /// with an optional time zone. Reports an unknown zone, a malformed or overlapping interval, a
    /// malformed holiday, and a calendar that is never open.
    public static func read(_ object: ConfigObject) -> BusinessCalendar? {
        let zoneName = object.string("timeZone", default: "UTC")
        let zone = TimeZone(identifier: zoneName)
        if zone == nil { object.report("timeZone", "unknown time zone \"\(zoneName)\" (an IANA name such as \"Europe/Madrid\")") }
        if object.bool("alwaysOpen", default: false) {
            if object.value("days") != nil { object.report("days", "not with alwaysOpen") }
            _ = object.value("holidays")
            object.finish()
            return zone.map { BusinessCalendar.alwaysOpen(timeZone: $0) }
        }
        var week = [[Interval]](repeating: [], count: 7)
        var valid = true
        if let days = object.object("days") {
            for (index, name) in dayNames.enumerated() {
                for (path, value) in days.array(name) {
                    guard case .string(let text) = value, let interval = parseInterval(text, allowOvernight: true) else {
                        object.diagnosticsSink.report(path, "expected \"HH:MM-HH:MM\" (an end before the start runs past midnight), got \(value.shownInError)")
                        valid = false
                        continue
                    }
                    week[index].append(interval)
                }
            }
            if let overlap = firstOverlap(week) {
                days.report(dayNames[overlap.day], "intervals overlap: \(overlap.first) and \(overlap.second)")
                valid = false
            }
            days.finish()
        } else {
            object.report("days", "required: e.g. {\"mon\": [\"09:00-18:00\"], …}, or \"alwaysOpen\": true")
            valid = false
        }
        if valid && week.allSatisfy(\.isEmpty) {
            object.report("days", "the calendar is never open; give at least one interval")
            valid = false
        }
        var holidays: [Day: Closure] = [:]
        if let entries = object.object("holidays") {
            for key in entries.keys.sorted() {
                guard let day = parseDay(key) else {
                    entries.report(key, "not a date like \"2026-12-25\"")
                    _ = entries.value(key)
                    valid = false
                    continue
                }
                switch entries.value(key) {
                case .string("closed"):
                    holidays[day] = .wholeDay
                case .array(let values):
                    var closed: [Interval] = []
                    for (index, value) in values.enumerated() {
                        guard case .string(let text) = value, let interval = parseInterval(text, allowOvernight: false) else {
                            entries.diagnosticsSink.report("\(entries.keyPath(key))[\(index)]", "expected closed hours \"HH:MM-HH:MM\" within the day, got \(value.shownInError)")
                            valid = false
                            continue
                        }
                        closed.append(interval)
                    }
                    holidays[day] = .hours(closed)
                case let other:
                    entries.report(key, "expected \"closed\" or a list of closed hours, got \(other?.shownInError ?? "null")")
                    valid = false
                }
            }
            entries.finish()
        }
        object.finish()
        guard let zone, valid else { return nil }
        return BusinessCalendar(timeZone: zone, week: week, holidays: holidays)
    }

    /// `"09:00-18:00"`; `"22:00-06:00"` runs past midnight when `allowOvernight`; `"00:00-24:00"` is
    /// the whole day. Nil when malformed or empty.
    public static func parseInterval(_ text: String, allowOvernight: Bool) -> Interval? {
        let halves = text.split(separator: "-", omittingEmptySubsequences: false)
        guard halves.count == 2, let start = minutes(halves[0]), let end = minutes(halves[1]), start < 1440, start != end else { return nil }
        if end > start { return Interval(start: start, length: end - start) }
        guard allowOvernight, end < 1440 else { return nil }
        return Interval(start: start, length: 1440 - start + end)
    }

    static func parseDay(_ text: String) -> Day? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), (1...12).contains(month), (1...31).contains(day) else { return nil }
        var components = DateComponents(year: year, month: month, day: day)
        components.calendar = Calendar(identifier: .gregorian)
        guard components.isValidDate else { return nil }
        return Day(year: year, month: month, day: day)
    }

    private static func minutes(_ text: Substring) -> Int? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0...24).contains(hour), (0...59).contains(minute), hour * 60 + minute <= 1440 else { return nil }
        return hour * 60 + minute
    }

    /// Two intervals of the week (Sunday 00:00 = minute 0, wrapping at the week's end) that overlap.
    static func firstOverlap(_ week: [[Interval]]) -> (day: Int, first: String, second: String)? {
        var spans: [(start: Int, end: Int, day: Int, text: String)] = []
        for (day, intervals) in week.enumerated() {
            for interval in intervals {
                let start = day * 1440 + interval.start
                spans.append((start, start + interval.length, day, describe(interval)))
            }
        }
        let weekLength = 7 * 1440
        for (i, a) in spans.enumerated() {
            for b in spans[(i + 1)...] {
                // Compare on the circle: shift b by a week either way.
                for shift in [-weekLength, 0, weekLength] where a.start < b.end + shift && b.start + shift < a.end {
                    return (max(a.day, b.day), "\(dayNames[a.day]) \(a.text)", "\(dayNames[b.day]) \(b.text)")
                }
            }
        }
        return nil
    }

    static func describe(_ interval: Interval) -> String {
        func clock(_ minute: Int) -> String { String(format: "%02d:%02d", (minute % 1440) / 60, minute % 60) }
        return "\(clock(interval.start))-\(interval.end == 1440 ? "24:00" : clock(interval.end))"
    }
}

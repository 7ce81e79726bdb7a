import Foundation
import SwitchboardCore
import Testing

@Suite("Business time: deadline and elapsed across lunch breaks, nights, holidays and DST")
struct BusinessCalendarTests {
    static let madrid = TimeZone(identifier: "Europe/Madrid")!

    static func calendar(_ days: [String: [String]], holidays: [String: [String]?] = [:], zone: TimeZone = madrid) -> BusinessCalendar {
        var week = [[BusinessCalendar.Interval]](repeating: [], count: 7)
        for (name, intervals) in days {
            week[BusinessCalendar.dayNames.firstIndex(of: name)!] = intervals.map { BusinessCalendar.parseInterval($0, allowOvernight: true)! }
        }
        var closed: [BusinessCalendar.Day: BusinessCalendar.Closure] = [:]
        for (date, intervals) in holidays {
            let parts = date.split(separator: "-").map { Int($0)! }
            closed[BusinessCalendar.Day(year: parts[0], month: parts[1], day: parts[2])] =
                intervals.map { .hours($0.map { BusinessCalendar.parseInterval($0, allowOvernight: false)! }) } ?? .wholeDay
        }
        return BusinessCalendar(timeZone: zone, week: week, holidays: closed)
    }

    /// Weekdays 09:00–13:00 and 14:00–18:00 (a lunch break), Christmas closed, Christmas Eve from 14:00.
    static let office = calendar(["mon": ["09:00-13:00", "14:00-18:00"], "tue": ["09:00-13:00", "14:00-18:00"], "wed": ["09:00-13:00", "14:00-18:00"],
                                  "thu": ["09:00-13:00", "14:00-18:00"], "fri": ["09:00-13:00", "14:00-18:00"]],
                                 holidays: ["2026-12-25": nil, "2026-12-24": ["14:00-24:00"]])
    /// A night desk, 22:00–06:00 every day.
    static let nights = calendar(Dictionary(uniqueKeysWithValues: BusinessCalendar.dayNames.map { ($0, ["22:00-06:00"]) }))

    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func aLunchBreakAndTheNightAreNotCounted() {
        // Monday 2026-11-23 12:30 Madrid (11:30Z) + 1 h of business time = 14:30 (after lunch).
        #expect(Self.office.deadline(from: Self.at("2026-11-23T11:30:00Z"), adding: 3600) == Self.at("2026-11-23T13:30:00Z"))
        // Friday 17:30 + 2 h = Monday 10:30.
        #expect(Self.office.deadline(from: Self.at("2026-11-27T16:30:00Z"), adding: 7200) == Self.at("2026-11-30T09:30:00Z"))
        #expect(Self.office.elapsed(from: Self.at("2026-11-27T16:30:00Z"), to: Self.at("2026-11-30T09:30:00Z")) == 7200)
        // A ticket opened at night starts its clock at 09:00.
        #expect(Self.office.deadline(from: Self.at("2026-11-23T02:00:00Z"), adding: 60) == Self.at("2026-11-23T08:01:00Z"))
    }

    @Test func holidaysAreSkippedWholeOrInPart() {
        // Christmas Eve (Thursday) 12:00 Madrid + 3 h: one hour until 13:00, closed from 14:00, Christmas
        // closed, then the weekend: the remaining 2 h run Monday the 28th from 09:00.
        #expect(Self.office.deadline(from: Self.at("2026-12-24T11:00:00Z"), adding: 3 * 3600) == Self.at("2026-12-28T10:00:00Z"))
        #expect(Self.office.contains(Self.at("2026-12-23T10:00:00Z")))
        #expect(!Self.office.contains(Self.at("2026-12-25T10:00:00Z")))
        #expect(!Self.office.contains(Self.at("2026-12-24T14:30:00Z")))
    }

    @Test func springForwardAndFallBackCountRealSeconds() {
        let always = BusinessCalendar.alwaysOpen(timeZone: Self.madrid)
        #expect(always.elapsed(from: Self.at("2026-03-28T23:00:00Z"), to: Self.at("2026-03-29T05:00:00Z")) == 6 * 3600)
        // The night desk on the night clocks go forward (2026-03-29 02:00 → 03:00): 22:00–06:00 local is 7 real hours.
        #expect(Self.nights.elapsed(from: Self.at("2026-03-28T12:00:00Z"), to: Self.at("2026-03-29T12:00:00Z")) == 7 * 3600)
        // And on the night they go back (2026-10-25 03:00 → 02:00): 9 real hours.
        #expect(Self.nights.elapsed(from: Self.at("2026-10-24T12:00:00Z"), to: Self.at("2026-10-25T12:00:00Z")) == 9 * 3600)
        // A night interval runs past midnight: Saturday 23:00 Madrid (22:00Z) + 2 h = Sunday 01:00.
        #expect(Self.nights.deadline(from: Self.at("2026-11-21T22:00:00Z"), adding: 7200) == Self.at("2026-11-22T00:00:00Z"))
    }

    @Test func twentyFourSevenIsPlainTime() {
        let always = BusinessCalendar.alwaysOpen()
        let start = Self.at("2026-11-25T10:00:00Z")
        #expect(always.deadline(from: start, adding: 90) == start.addingTimeInterval(90))
        #expect(always.elapsed(from: start, to: start.addingTimeInterval(86_400 * 3)) == 86_400 * 3)
    }

    /// Random starts and durations over a year with both DST changes, for three calendars:
    /// elapsed(s, deadline(s, d)) == d; deadline is monotonic in d; elapsed is additive.
    @Test(arguments: 0..<40)
    func deadlineAndElapsedAgree(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed) &+ 77)
        let yearStart = Self.at("2026-01-01T00:00:00Z").timeIntervalSince1970
        for calendar in [Self.office, Self.nights, BusinessCalendar.alwaysOpen(timeZone: Self.madrid)] {
            let start = Date(timeIntervalSince1970: yearStart + Double(Int.random(in: 0..<(365 * 86_400), using: &random)))
            let d1 = Double(Int.random(in: 1...(40 * 3600), using: &random))
            let d2 = d1 + Double(Int.random(in: 0...(8 * 3600), using: &random))
            let first = calendar.deadline(from: start, adding: d1)
            let second = calendar.deadline(from: start, adding: d2)
            #expect(abs(calendar.elapsed(from: start, to: first) - d1) < 1e-6, "\(start) + \(d1)")
            #expect(first <= second)
            let middle = Date(timeIntervalSince1970: (start.timeIntervalSince1970 + second.timeIntervalSince1970) / 2)
            #expect(abs(calendar.elapsed(from: start, to: middle) + calendar.elapsed(from: middle, to: second) - calendar.elapsed(from: start, to: second)) < 1e-6)
            #expect(calendar.contains(first.addingTimeInterval(-0.5)), "the deadline falls in open time")
        }
    }

    private func read(_ json: String) -> (BusinessCalendar?, [String]) {
        let diagnostics = ConfigDiagnostics()
        let value = (try? JSONDecoder().decode(ConfigValue.self, from: Data(json.utf8))) ?? .null
        let calendar = BusinessCalendar.read(ConfigObject(value, path: "calendar", diagnostics: diagnostics))
        return (calendar, diagnostics.issues.map(\.description))
    }

    @Test func theConfigurationReadsHoursHolidaysAndTwentyFourSeven() {
        let (office, problems) = read(#"""
            {"timeZone": "Europe/Madrid", "days": {"mon": ["09:00-13:00", "14:00-18:00"], "tue": ["09:00-13:00", "14:00-18:00"],
             "wed": ["09:00-13:00", "14:00-18:00"], "thu": ["09:00-13:00", "14:00-18:00"], "fri": ["09:00-13:00", "14:00-18:00"]},
             "holidays": {"2026-12-25": "closed", "2026-12-24": ["14:00-24:00"]}}
            """#)
        #expect(problems == [])
        #expect(office == Self.office)
        let (always, none) = read(#"{"alwaysOpen": true, "timeZone": "Europe/Madrid"}"#)
        #expect(none == [])
        #expect(always == BusinessCalendar.alwaysOpen(timeZone: Self.madrid))
        let (never, refused) = read(#"{"days": {}, "holidays": {"2026-12-25": "open"}}"#)
        #expect(never == nil)
        #expect(refused == ["calendar.days: the calendar is never open; give at least one interval",
                            #"calendar.holidays.2026-12-25: expected "closed" or a list of closed hours, got "open""#])
    }
}

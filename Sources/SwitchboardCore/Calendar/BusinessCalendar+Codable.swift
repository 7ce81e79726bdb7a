import Foundation

/// A calendar as stored with the SLA policy fixed on a ticket: readable JSON whose encoding is the
/// same for the same calendar (holidays sorted), so one policy version has one checksum. Decoding
/// checks what the initialisers assume and throws instead of trapping on a damaged row.
extension BusinessCalendar: Codable {
    private enum CodingKeys: String, CodingKey { case timeZone, week, holidays }
    private enum HolidayKeys: String, CodingKey { case day, closed }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(timeZone.identifier, forKey: .timeZone)
        try container.encode(week, forKey: .week)
        var list = container.nestedUnkeyedContainer(forKey: .holidays)
        for (day, closure) in holidays.sorted(by: { $0.key < $1.key }) {
            var entry = list.nestedContainer(keyedBy: HolidayKeys.self)
            try entry.encode(String(format: "%04d-%02d-%02d", day.year, day.month, day.day), forKey: .day)
            switch closure {
            case .wholeDay: try entry.encode("all", forKey: .closed)
            case .hours(let intervals): try entry.encode(intervals, forKey: .closed)
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let identifier = try container.decode(String.self, forKey: .timeZone)
        guard let zone = TimeZone(identifier: identifier) else {
            throw DecodingError.dataCorruptedError(forKey: .timeZone, in: container, debugDescription: "unknown time zone \(identifier)")
        }
        let week = try container.decode([[Interval]].self, forKey: .week)
        guard week.count == 7 else {
            throw DecodingError.dataCorruptedError(forKey: .week, in: container, debugDescription: "expected 7 days, got \(week.count)")
        }
        var holidays: [Day: Closure] = [:]
        var list = try container.nestedUnkeyedContainer(forKey: .holidays)
        while !list.isAtEnd {
            let entry = try list.nestedContainer(keyedBy: HolidayKeys.self)
            let text = try entry.decode(String.self, forKey: .day)
            let parts = text.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 3 else {
                throw DecodingError.dataCorruptedError(forKey: .day, in: entry, debugDescription: "expected YYYY-MM-DD, got \(text)")
            }
            let day = Day(year: parts[0], month: parts[1], day: parts[2])
            if let all = try? entry.decode(String.self, forKey: .closed), all == "all" {
                holidays[day] = .wholeDay
            } else {
                holidays[day] = .hours(try entry.decode([Interval].self, forKey: .closed))
            }
        }
        self.init(timeZone: zone, week: week, holidays: holidays)
    }
}

extension BusinessCalendar.Interval: Codable {
    private enum CodingKeys: String, CodingKey { case start, length }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(start, forKey: .start)
        try container.encode(length, forKey: .length)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let start = try container.decode(Int.self, forKey: .start)
        let length = try container.decode(Int.self, forKey: .length)
        guard (0..<1440).contains(start), (1...1440).contains(length) else {
            throw DecodingError.dataCorruptedError(forKey: .start, in: container, debugDescription: "an interval starts within a day and lasts at most a day: \(start)+\(length)")
        }
        self.init(start: start, length: length)
    }
}

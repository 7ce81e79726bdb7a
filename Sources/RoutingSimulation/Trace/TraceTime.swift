/// A moment in a trace file: seconds from the trace's start (`0`, `93.5`), or an ISO-8601 date and
/// time (`2024-03-04T08:00:00`, `2024-03-04 08:00:00.250`, `…Z`, `…+02:00`). A timestamp without
/// an offset is read as UTC: call-centre logs carry local time, and what matters is that the
/// arrivals and the shifts use the same clock.
public enum TraceTime: Equatable, Sendable {
    case seconds(Double)
    /// Seconds since 1970-01-01T00:00:00Z.
    case timestamp(Double)

    public var value: Double {
        switch self {
        case .seconds(let value), .timestamp(let value): value
        }
    }

    public var isTimestamp: Bool { if case .timestamp = self { true } else { false } }

    public init?(_ text: String) {
        if let seconds = Double(text), seconds.isFinite, seconds >= 0, text.allSatisfy({ $0.isNumber || $0 == "." }) {
            self = .seconds(seconds)
        } else if let since1970 = TraceTime.parseTimestamp(text) {
            self = .timestamp(since1970)
        } else {
            return nil
        }
    }

    /// `YYYY-MM-DD[T| ]HH:MM[:SS[.fff]][Z|±HH[:MM]]`.
    private static func parseTimestamp(_ text: String) -> Double? {
        let characters = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= characters.count else { return nil }
            var value = 0
            for character in characters[index..<index + digits] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(character) else { return nil }
                value = value * 10 + Int(character - UInt8(ascii: "0"))
            }
            index += digits
            return value
        }
        func skip(_ allowed: String) -> Bool {
            guard index < characters.count, allowed.utf8.contains(characters[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2), skip("T "),
              let hour = number(2), skip(":"), let minute = number(2) else { return nil }
        var second = 0.0
        if skip(":") {
            guard let whole = number(2) else { return nil }
            second = Double(whole)
            if skip(".") {
                let first = index
                while index < characters.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(characters[index]) { index += 1 }
                guard index > first, let fraction = Double("0." + String(decoding: characters[first..<index], as: UTF8.self)) else { return nil }
                second += fraction
            }
        }
        var offset = 0
        if skip("Zz") {
            // UTC
        } else if index < characters.count, characters[index] == UInt8(ascii: "+") || characters[index] == UInt8(ascii: "-") {
            let sign = characters[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = number(2) else { return nil }
            _ = skip(":")
            let minutes = index < characters.count ? number(2) : 0
            guard let minutes else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard index == characters.count, (1...12).contains(month), (1...daysIn(month, of: year)).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        let days = daysSince1970(year: year, month: month, day: day)
        return Double(days * 86_400 + hour * 3600 + minute * 60 - offset) + second
    }

    private static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's `days_from_civil`).
    private static func daysSince1970(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

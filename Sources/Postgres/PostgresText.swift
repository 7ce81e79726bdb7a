import Foundation

/// The text formats of PostgreSQL values this layer reads and writes.
///
/// Sessions run with `TimeZone=UTC`, `DateStyle=ISO` and `bytea_output=hex`, so one format is enough.
public enum PostgresText {
    public struct Failure: Error, Sendable, Equatable {
        public var reason: String
        public init(_ reason: String) { self.reason = reason }
    }

    // MARK: Numbers

    static func encode(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "Infinity" }
        if value == -.infinity { return "-Infinity" }
        return "\(value)"
    }

    // MARK: Timestamps

    /// `2026-11-25 06:12:04.123456+00`, with microsecond precision as the server keeps it.
    static func encode(_ date: Date) -> String {
        let totalMicros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        var micros = Int64(totalMicros)
        var seconds = micros.floorDivided(by: 1_000_000)
        micros -= seconds * 1_000_000
        let days = seconds.floorDivided(by: 86_400)
        seconds -= days * 86_400
        let (y, m, d) = civil(fromDays: days)
        let hh = seconds / 3600, mm = (seconds % 3600) / 60, ss = seconds % 60
        var text = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2)) \(pad(hh, 2)):\(pad(mm, 2)):\(pad(ss, 2))"
        if micros != 0 { text += ".\(pad(micros, 6))" }
        return text + "+00"
    }

    /// Parses `YYYY-MM-DD[ HH:MM:SS[.ffffff]][+HH[:MM[:SS]]|-HH…]`, the ISO output of date, timestamp
    /// and timestamptz. A value without an offset is taken as UTC.
    static func decodeTimestamp(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { decodeTimestamp(bytes: $0) }
    }

    /// The same, from the text's bytes (a cell read in place).
    static func decodeTimestamp(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var scanner = ByteScanner(bytes)
        guard let year = scanner.integer(digits: 4...), scanner.take(UInt8(ascii: "-")),
              let month = scanner.integer(digits: 2...2), scanner.take(UInt8(ascii: "-")),
              let day = scanner.integer(digits: 2...2),
              (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var seconds = days(fromCivil: year, month, day) * 86_400
        var micros: Int64 = 0
        if scanner.take(UInt8(ascii: " ")) || scanner.take(UInt8(ascii: "T")) {
            guard let hh = scanner.integer(digits: 2...2), scanner.take(UInt8(ascii: ":")),
                  let mm = scanner.integer(digits: 2...2), scanner.take(UInt8(ascii: ":")),
                  let ss = scanner.integer(digits: 2...2)
            else { return nil }
            seconds += hh * 3600 + mm * 60 + ss
            if scanner.take(UInt8(ascii: ".")) {
                let start = scanner.index
                guard let fraction = scanner.integer(digits: 1...9) else { return nil }
                let count = scanner.index - start
                var scaled = fraction
                if count < 6 { for _ in count..<6 { scaled *= 10 } }
                if count > 6 { for _ in 6..<count { scaled /= 10 } }
                micros = scaled
            }
            if let sign = scanner.peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                scanner.index += 1
                guard let oh = scanner.integer(digits: 2...2) else { return nil }
                var offset = oh * 3600
                if scanner.take(UInt8(ascii: ":")) {
                    guard let om = scanner.integer(digits: 2...2) else { return nil }
                    offset += om * 60
                    if scanner.take(UInt8(ascii: ":")) {
                        guard let os = scanner.integer(digits: 2...2) else { return nil }
                        offset += os
                    }
                }
                seconds -= sign == UInt8(ascii: "+") ? offset : -offset
            }
        }
        guard scanner.isAtEnd else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDivided(by: 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    // MARK: bytea

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func encodeBytea(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(2 + bytes.count * 2)
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "x"))
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decodeBytea(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else {
            return nil
        }
        var out = [UInt8]()
        out.reserveCapacity((utf8.count - 2) / 2)
        var i = 2
        while i < utf8.count {
            guard let hi = hexValue(utf8[i]), let lo = hexValue(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    // MARK: Arrays

    /// A one-dimensional array literal; every element quoted, so any text survives.
    ///
    /// Built as UTF-8 bytes: a batch's columns (a webhook's raw body among them) pass through here
    /// on every ingest, and appending scalar by scalar to a `String` was a sixth of the daemon's CPU.
    /// Only `"` and `\` are escaped; both are ASCII, and no byte of a multi-byte UTF-8 sequence is.
    static func encodeArray(_ elements: [String?]) -> String {
        var length = 2
        for element in elements { length += (element?.utf8.count ?? 4) + 3 }
        var out: [UInt8] = []
        out.reserveCapacity(length)
        out.append(UInt8(ascii: "{"))
        for (i, element) in elements.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            guard let element else {
                out.append(contentsOf: "NULL".utf8)
                continue
            }
            out.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses a one-dimensional array in the server's output format; `nil` elements are SQL NULL.
    static func decodeArray(_ text: String) -> [String?]? {
        let bytes = Array(text.utf8)
        guard bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return nil }
        if bytes.count == 2 { return [] }
        var result: [String?] = []
        var i = 1
        let end = bytes.count - 1
        while i < end {
            var element = [UInt8]()
            if bytes[i] == UInt8(ascii: "\"") {
                i += 1
                while i < end && bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") { i += 1 }
                    guard i < end else { return nil }
                    element.append(bytes[i])
                    i += 1
                }
                guard i < end else { return nil }
                i += 1
                result.append(String(decoding: element, as: UTF8.self))
            } else {
                while i < end && bytes[i] != UInt8(ascii: ",") {
                    if bytes[i] == UInt8(ascii: "{") { return nil }  // nested arrays are not supported
                    element.append(bytes[i])
                    i += 1
                }
                let raw = String(decoding: element, as: UTF8.self)
                result.append(raw == "NULL" ? nil : raw)
            }
            if i < end {
                guard bytes[i] == UInt8(ascii: ",") else { return nil }
                i += 1
            }
        }
        return result
    }
}

/// A cursor over ASCII bytes for the small parsers above, read in place (valid while the buffer is).
struct ByteScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var isAtEnd: Bool { index == bytes.count }
    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func take(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    /// Reads a run of decimal digits whose length lies in `digits`.
    mutating func integer(digits: some RangeExpression<Int>) -> Int64? {
        var value: Int64 = 0
        var count = 0
        while let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
            value = value * 10 + Int64(c - UInt8(ascii: "0"))
            count += 1
            index += 1
            if count > 18 { return nil }
        }
        return digits.contains(count) ? value : nil
    }
}

extension Int64 {
    /// Division rounding towards negative infinity.
    func floorDivided(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}

import Foundation
import SwitchboardCore

/// What PostgreSQL cannot hold, made into what it can, before a delivery is written.
///
/// `text` and `jsonb` refuse U+0000 (a raw NUL, or the JSON escape `\u0000`): PostgreSQL answers
/// 22P05 or 22P02 and the whole transaction fails. Every NUL in the strings of a message or a
/// status (text, names, ids, and the JSON kept beside them) is stored as U+FFFD, the replacement
/// character, the same way each time, so a resent delivery still finds its message by `wamid`.
/// The raw body (`bytea`) keeps the bytes exactly as Meta sent them.
public enum StorableText {
    public static let replacement = "\u{FFFD}"

    public static func text(_ value: String) -> String {
        value.utf8.contains(0) ? value.replacingOccurrences(of: "\u{0}", with: replacement) : value
    }

    public static func text(_ value: String?) -> String? {
        value.map(text)
    }

    /// JSON text with every `\u0000` escape (and any raw NUL) replaced; other escapes are kept as
    /// they are (`\\u0000` is a backslash followed by the letters "u0000", not a NUL).
    public static func json(_ value: String) -> String {
        let bytes = Array(value.utf8)
        guard bytes.contains(0) || value.contains("\\u0000") else { return value }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        let fffd = Array("\\ufffd".utf8)
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0 {
                out += fffd
                index += 1
            } else if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                if bytes[index + 1] == UInt8(ascii: "u"), index + 5 < bytes.count, bytes[(index + 2)...(index + 5)].allSatisfy({ $0 == UInt8(ascii: "0") }) {
                    out += fffd
                    index += 6
                } else {
                    out += [byte, bytes[index + 1]]
                    index += 2
                }
            } else {
                out.append(byte)
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension IncomingDelivery {
    /// The delivery as PostgreSQL can store it (see `StorableText`).
    public var storable: IncomingDelivery {
        var copy = self
        copy.messages = messages.map { message in
            var m = message
            m.wamid = StorableText.text(m.wamid)
            m.businessNumberID = StorableText.text(m.businessNumberID)
            m.businessDisplayNumber = StorableText.text(m.businessDisplayNumber)
            m.customerWaID = StorableText.text(m.customerWaID)
            m.customerUserID = StorableText.text(m.customerUserID)
            m.customerName = StorableText.text(m.customerName)
            m.type = StorableText.text(m.type)
            m.body = StorableText.text(m.body)
            m.detailsJSON = StorableText.json(m.detailsJSON)
            m.payloadJSON = StorableText.json(m.payloadJSON)
            m.targetWamid = StorableText.text(m.targetWamid)
            return m
        }
        copy.statuses = statuses.map { status in
            var s = status
            s.wamid = StorableText.text(s.wamid)
            s.status = StorableText.text(s.status)
            s.errorTitle = StorableText.text(s.errorTitle)
            s.errorsJSON = StorableText.json(s.errorsJSON)
            s.payloadJSON = StorableText.json(s.payloadJSON)
            return s
        }
        copy.decodeProblem = StorableText.text(decodeProblem)
        return copy
    }
}

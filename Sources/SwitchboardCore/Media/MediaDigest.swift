import Foundation

/// Checking a file against the SHA-256 Meta gave for it: the webhook gives it in base64, the media
/// lookup in hex; sample payloads carry truncated or made-up values, so a value that is neither is
/// "cannot check", never "does not match".
public enum MediaDigest {
    public enum Verdict: Sendable, Equatable {
        case matches
        case differs
        /// Meta's value is not a SHA-256 in hex or base64.
        case uncheckable
    }

    public static func check(_ digest: [UInt8], against expected: String?) -> Verdict {
        guard let expected, let wanted = decode(expected) else { return .uncheckable }
        return wanted == digest ? .matches : .differs
    }

    /// The 32 bytes a hex or base64 SHA-256 stands for.
    public static func decode(_ text: String) -> [UInt8]? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.count == 64, trimmed.allSatisfy(\.isHexDigit) {
            var bytes: [UInt8] = []
            var index = trimmed.startIndex
            while index < trimmed.endIndex {
                let next = trimmed.index(index, offsetBy: 2)
                guard let byte = UInt8(trimmed[index..<next], radix: 16) else { return nil }
                bytes.append(byte)
                index = next
            }
            return bytes
        }
        guard let data = Data(base64Encoded: trimmed), data.count == 32 else { return nil }
        return Array(data)
    }

    /// Lowercase hex, as the API and the `ETag` show a digest.
    public static func hex(_ digest: [UInt8]) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

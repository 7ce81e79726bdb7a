/// What a tag may be, on a ticket or on a customer: one word of at most 64 characters. One rule for
/// the API, the control socket and the triage menu, written as the OpenAPI document's schema says
/// it (`^\S+$`, `maxLength: 64`: code points, and ECMAScript's whitespace).
public enum TagRule {
    public static let maxLength = 64

    /// Why the tag is refused, or nil.
    public static func problem(_ tag: String) -> String? {
        guard !tag.isEmpty, tag.unicodeScalars.count <= maxLength, !tag.unicodeScalars.contains(where: isWhitespace) else {
            return "1 to \(maxLength) characters, no spaces, got \"\(tag)\""
        }
        return nil
    }

    /// ECMAScript's `\s` (what a JSON Schema `pattern` means by whitespace).
    public static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF: return true
        default: return false
        }
    }
}

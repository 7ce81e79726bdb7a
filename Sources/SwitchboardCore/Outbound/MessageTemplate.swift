/// A WhatsApp message template the agents may send when the customer service window is closed
/// (`whatsapp.templates` in the configuration): its name and language as approved in Meta's
/// WhatsApp Manager, and its body text with `{{1}}`, `{{2}}`… where the parameters go.
public struct MessageTemplate: Sendable, Equatable {
    public var name: String
    public var language: String
    public var text: String

    public init(name: String, language: String, text: String) {
        self.name = name
        self.language = language
        self.text = text
    }

    /// How many body parameters the text takes: its highest `{{n}}`.
    public var parameters: Int {
        var highest = 0
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            guard let close = rest.range(of: "}}") else { break }
            if let number = Int(rest[..<close.lowerBound]) { highest = max(highest, number) }
            rest = rest[close.upperBound...]
        }
        return highest
    }

    /// Meta's rule for template names: lower-case letters, digits and underscores.
    public static func isValidName(_ name: String) -> Bool {
        (1...512).contains(name.count) && name.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// A language code as Meta lists them: `en`, `en_US`, `pt_BR`, `zh_CN`.
    public static func isValidLanguage(_ code: String) -> Bool {
        let parts = code.split(separator: "_", omittingEmptySubsequences: false)
        guard let first = parts.first, (2...3).contains(first.count), first.allSatisfy({ ("a"..."z").contains($0) }) else { return false }
        guard parts.count <= 2 else { return false }
        return parts.count == 1 || (parts[1].count == 2 && parts[1].allSatisfy { ("A"..."Z").contains($0) })
    }
}

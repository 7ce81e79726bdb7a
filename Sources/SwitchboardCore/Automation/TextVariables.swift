import Foundation

/// Variables in the text of canned responses and automatic messages: `{{customer.name}}`,
/// `{{agent.name}}`, `{{ticket.reference}}`, `{{team.back}}`, each with an optional default after a
/// bar (`{{customer.name|there}}`). Rendered when the message is sent, from what is true then, so a
/// canned response chosen an hour ago never carries a stale name.
public enum TextVariables {
    /// The variables a text may name.
    public static let known: Set<String> = ["customer.name", "agent.name", "ticket.reference", "team.back"]

    /// A problem with a text's variables, said for the person who wrote it.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case unknown(String)
        case unclosed

        public var description: String {
            switch self {
            case .unknown(let name):
                "unknown variable {{\(name)}} (known: \(TextVariables.known.sorted().map { "{{\($0)}}" }.joined(separator: ", ")))"
            case .unclosed:
                "a variable opened with {{ is not closed with }}"
            }
        }
    }

    /// One piece of a text: words as written, or a variable with its default.
    enum Piece: Equatable {
        case text(Substring)
        case variable(name: String, fallback: String?)
    }

    /// Whether every variable is known and closed; `allowed` narrows `known` (a canned response has
    /// no `team.back`).
    public static func check(_ text: String, allowed: Set<String> = known) -> Problem? {
        switch pieces(text) {
        case .failure(let problem): return problem
        case .success(let pieces):
            for case .variable(let name, _) in pieces where !allowed.contains(name) { return .unknown(name) }
            return nil
        }
    }

    /// The text with each variable replaced by its value, or its default when the value is missing
    /// or empty, or nothing when it has neither. A text that does not parse is returned as written
    /// (configuration and the store refuse such texts before they get here).
    public static func render(_ text: String, values: [String: String]) -> String {
        guard case .success(let pieces) = pieces(text) else { return text }
        var rendered = ""
        for piece in pieces {
            switch piece {
            case .text(let words):
                rendered += words
            case .variable(let name, let fallback):
                if let value = values[name], !value.isEmpty { rendered += value } else { rendered += fallback ?? "" }
            }
        }
        return rendered
    }

    static func pieces(_ text: String) -> Result<[Piece], Problem> {
        var pieces: [Piece] = []
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.text(rest[rest.startIndex..<open.lowerBound])) }
            guard let close = rest[open.upperBound...].range(of: "}}") else { return .failure(.unclosed) }
            let inside = rest[open.upperBound..<close.lowerBound]
            let parts = inside.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            pieces.append(.variable(name: name, fallback: parts.count > 1 ? String(parts[1]) : nil))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.text(rest)) }
        return .success(pieces)
    }
}

import Foundation

/// Classification: the first rule whose conditions all hold decides queue, priority, skills and tags.
public enum RoutingRules {
    public struct Match: Sendable, Equatable {
        /// Position of the rule in the configuration, for the `routed` event's explanation.
        public var index: Int
        public var name: String
        public var actions: RoutingRule.Actions
    }

    /// The first matching rule, or nil when none matches (configuration requires a catch-all last).
    public static func classify(_ facts: TicketFacts, rules: [RoutingRule]) -> Match? {
        classify(facts, words: facts.firstMessageText.map(Self.words) ?? [], rules: rules)
    }

    /// As `classify(_:rules:)`, with the first message's `words` already folded.
    public static func classify(_ facts: TicketFacts, words: [String], rules: [RoutingRule]) -> Match? {
        for (index, rule) in rules.enumerated() where matches(rule.conditions, facts, words: words) {
            return Match(index: index, name: rule.name, actions: rule.actions)
        }
        return nil
    }

    static func matches(_ conditions: RoutingRule.Conditions, _ facts: TicketFacts, words: [String]) -> Bool {
        if let numbers = conditions.businessNumbers, !numbers.contains(facts.businessNumber) { return false }
        if let countries = conditions.countries, !(facts.country.map(countries.contains) ?? false) { return false }
        if let languages = conditions.languages {
            guard let language = facts.language?.lowercased() else { return false }
            let primary = language.split(separator: "-").first.map(String.init) ?? language
            if !languages.contains(where: { $0.lowercased() == language || $0.lowercased() == primary }) { return false }
        }
        if let phrases = conditions.keywordPhrases {
            if !phrases.contains(where: { containsPhrase($0, in: words) }) { return false }
        }
        if let choices = conditions.menuChoices, !facts.menuChoice.contains(where: choices.contains) { return false }
        if let tags = conditions.customerTags, tags.isDisjoint(with: facts.customerTags) { return false }
        if let within = conditions.withinBusinessHours, within != facts.withinBusinessHours { return false }
        return true
    }

    /// Lowercased words without accents: "¿Factura?" → ["factura"]. Folded without a locale, which
    /// folds as en_US_POSIX did (it has no folding rules of its own); given a locale, Foundation
    /// builds a CFLocale on every call.
    public static func words(_ text: String) -> [String] {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
            .split { !($0.isLetter || $0.isNumber) }
            .map(String.init)
    }

    public static func containsPhrase(_ phrase: [String], in words: [String]) -> Bool {
        guard !phrase.isEmpty, phrase.count <= words.count else { return false }
        for start in 0...(words.count - phrase.count) where Array(words[start..<(start + phrase.count)]) == phrase {
            return true
        }
        return false
    }
}

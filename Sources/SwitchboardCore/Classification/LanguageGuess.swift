/// Guesses the language of a customer's first message from common function words, so that a rule can
/// send Spanish writers to Spanish speakers. Deliberately small: six languages, and no guess at all
/// unless one language clearly leads (then the customer's known language, if any, stands).
public enum LanguageGuess {
    /// Frequent short words that are rare in the other listed languages (after accent folding).
    static let markers: [(language: String, words: Set<String>)] = [
        ("en", ["the", "is", "my", "i", "you", "and", "to", "of", "it", "have", "with", "for", "not", "this", "hello", "hi", "please", "thanks", "can", "what", "how", "order", "help", "want", "was", "are", "be"]),
        ("es", ["el", "la", "los", "las", "es", "mi", "yo", "usted", "y", "que", "de", "por", "favor", "hola", "gracias", "quiero", "tengo", "pedido", "como", "necesito", "ayuda", "un", "una", "no", "con", "para", "factura", "esta", "cuenta"]),
        ("pt", ["o", "os", "as", "meu", "minha", "voce", "obrigado", "obrigada", "ola", "nao", "quero", "tenho", "pedido", "ajuda", "com", "para", "uma", "e", "do", "da", "conta", "preciso"]),
        ("fr", ["le", "les", "je", "vous", "et", "est", "mon", "ma", "bonjour", "merci", "pour", "avec", "pas", "une", "commande", "aide", "du", "des", "suis", "ai"]),
        ("de", ["der", "die", "das", "ich", "sie", "und", "ist", "mein", "meine", "hallo", "danke", "bitte", "nicht", "mit", "fur", "eine", "bestellung", "hilfe", "habe"]),
        ("it", ["il", "lo", "gli", "io", "lei", "sono", "mio", "mia", "ciao", "grazie", "per", "non", "con", "una", "ordine", "aiuto", "ho", "della", "buongiorno"]),
    ]

    /// An ISO 639-1 code, or nil when the text gives no clear answer.
    public static func guess(_ text: String) -> String? { guess(words: RoutingRules.words(text)) }

    /// As `guess(_:)`, with the text's words already folded (`RoutingRules.words`).
    public static func guess(words: [String]) -> String? {
        guard !words.isEmpty else { return nil }
        var scores: [(language: String, score: Int)] = markers.map { marker in
            (marker.language, words.reduce(0) { $0 + (marker.words.contains($1) ? 1 : 0) })
        }
        scores.sort { ($0.score, $1.language) > ($1.score, $0.language) }
        guard let best = scores.first, best.score > 0 else { return nil }
        // A tie, or a lead of one word in a long text, is no answer.
        let runnerUp = scores.dropFirst().first?.score ?? 0
        guard best.score > runnerUp, best.score - runnerUp >= (words.count >= 8 ? 2 : 1) else { return nil }
        return best.language
    }
}

/// `@handle` mentions in an internal note: the agents it names, each once, in order. A handle is
/// an agent id (`AgentDefinition.isValidID`); an `@` inside a word (an e-mail address) is not a
/// mention, and a full stop or dash ending a sentence is not part of the handle.
public enum Mentions {
    public static func handles(in text: String) -> [String] {
        var found: [String] = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            defer { index += 1 }
            guard characters[index] == "@" else { continue }
            if index > 0, isHandleCharacter(characters[index - 1]) { continue }
            var end = index + 1
            while end < characters.count, isHandleCharacter(characters[end]) { end += 1 }
            var handle = String(characters[(index + 1)..<end])
            while let last = handle.last, last == "." || last == "-" || last == "_" { handle.removeLast() }
            index = end - 1
            if AgentDefinition.isValidID(handle), !found.contains(handle) { found.append(handle) }
        }
        return found
    }

    static func isHandleCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "." || character == "_" || character == "-")
    }
}

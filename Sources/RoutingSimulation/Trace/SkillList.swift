import Foundation
import SwitchboardCore

/// Skills as a trace's files write them: names separated by spaces, each with an optional level,
/// as the configuration spells them (`product:billing=4 lang:es`).
enum SkillList {
    /// What a type needs: `name` (any level), `name>=3` or `name=3` (at least 3).
    static func requirements(_ text: String) -> Result<[SkillRequirement], SkillListError> {
        parse(text, bare: 1).map { levels in levels.map { SkillRequirement($0.name, atLeast: $0.level) } }
    }

    /// What a group of agents has: `name` (proficiency 5: the work they are staffed for) or `name=3`.
    static func proficiencies(_ text: String) -> Result<[String: Int], SkillListError> {
        parse(text, bare: 5).map { levels in Dictionary(levels.map { ($0.name, $0.level) }, uniquingKeysWith: max) }
    }

    private static func parse(_ text: String, bare: Int) -> Result<[(name: String, level: Int)], SkillListError> {
        var skills: [(name: String, level: Int)] = []
        for token in text.split(whereSeparator: \.isWhitespace).map(String.init) {
            let parts = token.replacingOccurrences(of: ">=", with: "=").split(separator: "=", omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard !name.isEmpty, parts.count <= 2, !name.contains(">") else { return .failure(SkillListError(token: token, reason: "is not a skill (name, name=3 or name>=3)")) }
            guard parts.count == 2 else {
                skills.append((name, bare))
                continue
            }
            guard let level = Int(parts[1]), (1...5).contains(level) else {
                return .failure(SkillListError(token: token, reason: "has a level outside 1–5"))
            }
            skills.append((name, level))
        }
        return .success(skills)
    }
}

struct SkillListError: Error {
    var token: String
    var reason: String

    var message: String { "\"\(token)\" \(reason)" }
}

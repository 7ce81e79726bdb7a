/// An agent as an administrator declares it (in the configuration file or through the control
/// commands): who they are and what they can take. Presence and load are live state, not definition.
public struct AgentDefinition: Sendable, Equatable {
    /// A short login-like handle: `ana`, `li.wei`.
    public var id: String
    public var name: String
    public var role: Role
    public var teams: [String]
    /// Open tickets at once.
    public var capacity: Int
    /// Skill → proficiency 1–5.
    public var skills: [String: Int]
    /// The queues whose tickets this agent takes.
    public var queues: [String]

    public init(id: String, name: String, role: Role = .agent, teams: [String] = [], capacity: Int, skills: [String: Int] = [:], queues: [String]) {
        self.id = id
        self.name = name
        self.role = role
        self.teams = teams
        self.capacity = capacity
        self.skills = skills
        self.queues = queues
    }

    /// Letters, digits, `.`, `_`, `-`; 1–64 characters, starting with a letter or digit.
    public static func isValidID(_ id: String) -> Bool {
        guard (1...64).contains(id.count), let first = id.unicodeScalars.first, first.properties.isAlphabetic || ("0"..."9").contains(first) else { return false }
        return id.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-_".unicodeScalars.contains($0)) }
    }
}

/// What a person may do in Switchboard; each role includes everything of the one before.
public enum Role: String, Sendable, CaseIterable, Comparable {
    case agent, supervisor, admin

    private var rank: Int {
        switch self {
        case .agent: return 0
        case .supervisor: return 1
        case .admin: return 2
        }
    }

    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

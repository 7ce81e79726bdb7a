/// Who may use the control socket, by Unix identity: the configuration names users and groups per
/// role; root is always an admin; anyone else is refused.
public struct ControlAccess: Sendable, Equatable {
    public struct Grant: Sendable, Equatable {
        public var users: Set<String>
        public var groups: Set<String>

        public init(users: Set<String> = [], groups: Set<String> = []) {
            self.users = users
            self.groups = groups
        }

        func matches(user: String, groups memberOf: [String]) -> Bool {
            users.contains(user) || !groups.isDisjoint(with: memberOf)
        }
    }

    public var admins: Grant
    public var supervisors: Grant
    public var agents: Grant

    public init(admins: Grant = Grant(), supervisors: Grant = Grant(), agents: Grant = Grant()) {
        self.admins = admins
        self.supervisors = supervisors
        self.agents = agents
    }

    /// The highest role the identity is granted; nil: not allowed at all.
    public func role(uid: UInt32, user: String, groups: [String]) -> Role? {
        if uid == 0 || admins.matches(user: user, groups: groups) { return .admin }
        if supervisors.matches(user: user, groups: groups) { return .supervisor }
        if agents.matches(user: user, groups: groups) { return .agent }
        return nil
    }
}

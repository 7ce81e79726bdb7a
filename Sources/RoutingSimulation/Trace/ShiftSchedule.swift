/// How many agents of each skill group are on shift when: the shifts CSV, one row per slot and group
/// (`start,skills,agents`), the long form every workforce-management export melts into. A row
/// staffs its group from `start` for one slot (half an hour unless told); a slot without a row for a
/// group has none of it, and two rows for the same slot and group add up.
public struct ShiftSchedule: Sendable {
    /// Agents with the same skills, interchangeable for routing.
    public struct Group: Sendable, Equatable {
        /// As the file first wrote them (for messages).
        public var label: String
        public var skills: [String: Int]
        /// The line that first named the group.
        public var line: Int
    }

    public struct Slot: Sendable, Equatable {
        public var line: Int
        public var start: Double
        public var group: Int
        public var agents: Int
    }

    public let file: String
    public let groups: [Group]
    public let slots: [Slot]
    public let slotSeconds: Double
    public let usesTimestamps: Bool

    /// Columns `start` (the same form as the arrivals: seconds or timestamps), `skills` (or `skill`:
    /// `billing`, `billing tech=2`) and `agents`.
    public init(table: CSVTable, slotSeconds: Double = 1800) throws(TraceError) {
        let skillsColumn = table.has("skills") || !table.has("skill") ? "skills" : "skill"
        try table.require(["start", skillsColumn, "agents"])
        file = table.file
        self.slotSeconds = slotSeconds
        var groups: [Group] = []
        var indexBySkills: [[String: Int]: Int] = [:]
        var slots: [Slot] = []
        var timestamps: Bool?
        for row in table.rows {
            let start = try TraceArrivals.time(table, row, "start", sameFormAs: &timestamps)
            let label = table.value(skillsColumn, in: row)
            let skills: [String: Int]
            switch SkillList.proficiencies(label) {
            case .success(let parsed): skills = parsed
            case .failure(let problem): throw table.error(row, skillsColumn, problem.message)
            }
            guard !skills.isEmpty else { throw table.error(row, skillsColumn, "is empty: which skills do these agents have?") }
            let countText = table.value("agents", in: row)
            guard let agents = Int(countText), agents >= 0 else { throw table.error(row, "agents", "\"\(countText)\" is not a number of agents (0 or more)") }
            let group = indexBySkills[skills] ?? {
                groups.append(Group(label: label, skills: skills, line: row.line))
                indexBySkills[skills] = groups.count - 1
                return groups.count - 1
            }()
            slots.append(Slot(line: row.line, start: start.value, group: group, agents: agents))
        }
        guard !slots.isEmpty else { throw TraceError(file: table.file, line: 1, reason: "has no shifts") }
        self.groups = groups
        self.slots = slots
        usesTimestamps = timestamps ?? false
    }

    /// The most agents of `group` on shift at once: how many the simulation creates.
    public func peak(of group: Int) -> Int {
        headcounts(of: group).map(\.agents).max() ?? 0
    }

    /// When the headcount of `group` changes, and to what, in time order (starting from none).
    public func headcounts(of group: Int) -> [(at: Double, agents: Int)] {
        let rows = slots.filter { $0.group == group }
        let edges = Set(rows.flatMap { [$0.start, $0.start + slotSeconds] }).sorted()
        var changes: [(at: Double, agents: Int)] = []
        for edge in edges {
            let count = rows.filter { $0.start <= edge && edge < $0.start + slotSeconds }.reduce(0) { $0 + $1.agents }
            if count != (changes.last?.agents ?? 0) { changes.append((edge, count)) }
        }
        return changes
    }
}

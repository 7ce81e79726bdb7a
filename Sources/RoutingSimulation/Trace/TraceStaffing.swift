import SwitchboardCore

/// Who answers a trace: the shifts file, or a fixed number of agents per skill set the types need,
/// on shift all the time.
public enum TraceStaffing: Sendable {
    case shifts(ShiftSchedule)
    case constant(agentsPerGroup: Int)
}

/// The agents a staffing makes, each serving every queue for which it meets all the skills of at
/// least one type (what an administrator would configure), with their shift changes as presence.
struct TraceStaff {
    var agents: [AgentDefinition] = []
    var initialPresence: [String: AgentPresence] = [:]
    /// In time order.
    var changes: [PresenceChange] = []
    var groupCount = 0
    var notes: [String] = []

    init(_ staffing: TraceStaffing, routes: [String: TypeRoute], capacity: Int) {
        switch staffing {
        case .constant(let count):
            // One group per skill set a type needs, proficient (5) in each.
            let skillSets = Set(routes.values.map { route in Dictionary(route.requirements.map { ($0.skill, 5) }, uniquingKeysWith: max) })
            let key = { (skills: [String: Int]) in skills.keys.sorted().joined(separator: " ") }
            for (index, skills) in skillSets.sorted(by: { key($0) < key($1) }).enumerated() {
                let serving = TraceStaff.queues(fitting: skills, routes: routes)
                agents += (0..<count).map { TraceStaff.agent(group: index, number: $0, skills: skills, queues: serving, capacity: capacity) }
            }
            groupCount = skillSets.count
        case .shifts(let schedule):
            for (index, group) in schedule.groups.enumerated() {
                let serving = TraceStaff.queues(fitting: group.skills, routes: routes)
                if serving.isEmpty {
                    // Not an error: a day's trace may lack a type the desk is staffed for. But a
                    // misspelt skill shows here.
                    let needs = Set(routes.values.flatMap { $0.requirements.map(\.description) }).sorted().joined(separator: ", ")
                    notes.append("\(schedule.file):\(group.line): agents with \"\(group.label)\" fit no type of the trace and answer nothing (types need: \(needs))")
                }
                let members = (0..<schedule.peak(of: index)).map { TraceStaff.agent(group: index, number: $0, skills: group.skills, queues: serving, capacity: capacity) }
                agents += members
                for member in members { initialPresence[member.id] = .offline }
                changes += TraceStaff.shiftChanges(schedule.headcounts(of: index), members: members)
            }
            groupCount = schedule.groups.count
            changes = changes.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        }
    }

    /// The first `n` members are on shift while the headcount is `n`: when it drops, the
    /// highest-numbered go offline (and finish what they hold).
    private static func shiftChanges(_ headcounts: [(at: Double, agents: Int)], members: [AgentDefinition]) -> [PresenceChange] {
        var changes: [PresenceChange] = []
        var onShift = 0
        for (at, count) in headcounts {
            for member in members[min(onShift, count)..<max(onShift, count)] {
                changes.append(PresenceChange(at: at, agent: member.id, presence: count > onShift ? .online : .offline))
            }
            onShift = count
        }
        return changes
    }

    private static func queues(fitting skills: [String: Int], routes: [String: TypeRoute]) -> [String] {
        Set(routes.values.filter { $0.requirements.allSatisfy { $0.isMet(by: skills) } }.map(\.queue)).sorted()
    }

    /// `g01-003`: the third agent of the first group; ids sort as the groups and numbers do, which
    /// is the order round robin rotates in and every strategy breaks ties by.
    private static func agent(group: Int, number: Int, skills: [String: Int], queues: [String], capacity: Int) -> AgentDefinition {
        let id = "g" + padded(group + 1, 2) + "-" + padded(number + 1, 3)
        return AgentDefinition(id: id, name: id, capacity: capacity, skills: skills, queues: queues)
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

import Foundation

/// Orders the agents eligible for a ticket, best first. Pure: the queue actor calls it with a snapshot
/// of its agents; ties always break the same way (by agent id), so a decision can be replayed.
public enum AgentRanking {
    /// - Parameters:
    ///   - lastServed: for `roundRobin`, the agent who got the queue's previous ticket; the rotation
    ///     continues after it in id order.
    public static func rank(
        _ agents: [AgentSnapshot], strategy: RoutingStrategy, requirements: [SkillRequirement], lastServed: String? = nil
    ) -> [AgentSnapshot] {
        let eligible = agents.filter { $0.isEligible(for: requirements) }
        switch strategy {
        case .leastLoaded:
            return eligible.sorted { ($0.occupancy, $0.load, $0.id) < ($1.occupancy, $1.load, $1.id) }
        case .longestIdle:
            let never = Date.distantPast
            return eligible.sorted { ($0.lastAssignedAt ?? never, $0.id) < ($1.lastAssignedAt ?? never, $1.id) }
        case .roundRobin:
            let ordered = eligible.sorted { $0.id < $1.id }
            guard let lastServed, let next = ordered.firstIndex(where: { $0.id > lastServed }) else { return ordered }
            return Array(ordered[next...] + ordered[..<next])
        case .bestSkill:
            func score(_ agent: AgentSnapshot) -> Int {
                requirements.reduce(0) { $0 + (agent.skills[$1.skill] ?? 0) }
            }
            return eligible.sorted { (-score($0), $0.occupancy, $0.id) < (-score($1), $1.occupancy, $1.id) }
        }
    }
}

/// How a queue ranks the agents eligible for a ticket.
public enum RoutingStrategy: String, Sendable, CaseIterable {
    /// Lowest load relative to capacity.
    case leastLoaded = "least-loaded"
    /// Longest since the last assignment (never assigned first).
    case longestIdle = "longest-idle"
    /// Rotation in a fixed order, continuing after the agent who got the previous ticket.
    case roundRobin = "round-robin"
    /// Highest proficiency on the required skills, load as the tie-break.
    case bestSkill = "best-skill"
}

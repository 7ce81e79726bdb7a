import Foundation

/// What ranking needs to know of one agent at one moment.
public struct AgentSnapshot: Sendable, Equatable {
    public var id: String
    public var presence: AgentPresence
    /// Open tickets at once.
    public var capacity: Int
    /// Tickets counting against capacity now.
    public var load: Int
    /// Skill name → proficiency 1–5.
    public var skills: [String: Int]
    /// When the agent last received a ticket (nil: never).
    public var lastAssignedAt: Date?
    /// Draining: online and working, but receiving no new assignments.
    public var draining: Bool

    public init(id: String, presence: AgentPresence, capacity: Int, load: Int, skills: [String: Int], lastAssignedAt: Date? = nil, draining: Bool = false) {
        self.id = id
        self.presence = presence
        self.capacity = capacity
        self.load = load
        self.skills = skills
        self.lastAssignedAt = lastAssignedAt
        self.draining = draining
    }

    public var hasSpareCapacity: Bool { load < capacity }

    /// Load relative to capacity, 0…1 (an agent with no capacity is full).
    public var occupancy: Double { capacity > 0 ? Double(load) / Double(capacity) : 1 }

    /// Online, not draining, with spare capacity: could take some ticket now.
    public var isAvailable: Bool { presence == .online && !draining && hasSpareCapacity }

    /// Available, and every requirement met.
    public func isEligible(for requirements: [SkillRequirement]) -> Bool {
        isAvailable && requirements.allSatisfy { $0.isMet(by: skills) }
    }
}

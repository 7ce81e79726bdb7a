import Foundation

/// Everything routing is configured with: queues, the ordered rules, the agents a small team declares
/// in the file, and the options that apply across queues.
public struct RoutingConfiguration: Sendable, Equatable {
    public var queues: [QueueDefinition]
    /// Tried in order; the last one has no conditions and catches the rest.
    public var rules: [RoutingRule]
    /// Agents declared in the file, loaded into the database at start and on reload.
    public var agents: [AgentDefinition]
    /// Presence the file gives its agents at start (absent: as stored, `offline` for a new agent).
    public var initialPresence: [String: AgentPresence]
    /// Whether a pending ticket (waiting on the customer) counts against its agent's capacity.
    public var pendingCountsAgainstCapacity: Bool
    /// How long a returning customer's ticket prefers their last agent; 0 turns stickiness off.
    public var stickySeconds: TimeInterval
    /// How long an agent may be away or offline before their tickets return to the queue.
    public var presenceGraceSeconds: TimeInterval
    /// For rules with `withinBusinessHours`; nil: always within.
    public var businessHours: BusinessCalendar?

    public init(queues: [QueueDefinition], rules: [RoutingRule], agents: [AgentDefinition] = [], initialPresence: [String: AgentPresence] = [:],
                pendingCountsAgainstCapacity: Bool = true, stickySeconds: TimeInterval = 86_400, presenceGraceSeconds: TimeInterval = 120,
                businessHours: BusinessCalendar? = nil) {
        self.queues = queues
        self.rules = rules
        self.agents = agents
        self.initialPresence = initialPresence
        self.pendingCountsAgainstCapacity = pendingCountsAgainstCapacity
        self.stickySeconds = stickySeconds
        self.presenceGraceSeconds = presenceGraceSeconds
        self.businessHours = businessHours
    }

    /// Without a `routing` section: one queue, `default`, that every ticket goes to, and no agents.
    public static let standard = RoutingConfiguration(
        queues: [QueueDefinition(name: "default")],
        rules: [RoutingRule(name: "default", actions: .init(queue: "default"))]
    )

    public func queue(named name: String) -> QueueDefinition? { queues.first { $0.name == name } }
}

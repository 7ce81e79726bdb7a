import Foundation
import SwitchboardCore

/// One simulated ticket as it arrives, already classified: the simulator replays routing from the
/// queue on, so a synthetic scenario runs its facts through `RoutingRules.classify` first and a
/// recorded trace names queue, priority and skills through its types.
public struct SimulatedArrival: Sendable {
    public var id: Int64
    /// Seconds on the simulation's clock (from the start, or since 1970 for a trace with timestamps).
    public var at: Double
    /// What the figures are grouped by (a trace's type).
    public var type: String
    public var queue: String
    public var priority: WaitingOrder.Priority
    /// The skills its rule asks for; the queue's steps may relax them.
    public var requirements: [SkillRequirement]
    /// Scaled into a handle time by the scenario's `handleTime` (a trace: the recorded seconds).
    public var work: Double
    /// Seconds the customer waits for an agent before giving up; nil: for ever.
    public var patience: Double?

    public init(id: Int64, at: Double, type: String, queue: String, priority: WaitingOrder.Priority = .normal,
                requirements: [SkillRequirement] = [], work: Double, patience: Double? = nil) {
        self.id = id
        self.at = at
        self.type = type
        self.queue = queue
        self.priority = priority
        self.requirements = requirements
        self.work = work
        self.patience = patience
    }
}

/// An agent starting or ending a shift. Off shift is the daemon's `offline`: routing offers the
/// agent nothing new, and what they hold they finish.
public struct PresenceChange: Sendable, Equatable {
    public var at: Double
    public var agent: String
    public var presence: AgentPresence

    public init(at: Double, agent: String, presence: AgentPresence) {
        self.at = at
        self.agent = agent
        self.presence = presence
    }
}

/// What one simulation needs: the routing configuration, the trace, how long an agent takes.
public struct SimulationScenario: Sendable {
    public typealias HandleTime = @Sendable (_ agent: AgentDefinition, _ requirements: [SkillRequirement], _ work: Double, _ concurrent: Int) -> Double

    public var name: String
    /// Queues and agents; the rules are not consulted (arrivals come classified).
    public var routing: RoutingConfiguration
    /// In time order.
    public var arrivals: [SimulatedArrival]
    /// Seconds an agent spends on a ticket that needs `requirements`, for `work` units of work,
    /// holding `concurrent` tickets at once (this one included).
    public var handleTime: HandleTime
    /// A ticket is answered in time when assigned within this many seconds.
    public var slaTarget: Double
    /// Arrivals before this (seconds) warm the system up and are not measured.
    public var warmup: Double
    /// Presence at the start; an agent not named here starts online.
    public var initialPresence: [String: AgentPresence]
    /// Shift starts and ends, in time order.
    public var presenceChanges: [PresenceChange]

    public init(name: String, routing: RoutingConfiguration, arrivals: [SimulatedArrival], handleTime: @escaping HandleTime, slaTarget: Double,
                warmup: Double, initialPresence: [String: AgentPresence] = [:], presenceChanges: [PresenceChange] = []) {
        self.name = name
        self.routing = routing
        self.arrivals = arrivals
        self.handleTime = handleTime
        self.slaTarget = slaTarget
        self.warmup = warmup
        self.initialPresence = initialPresence
        self.presenceChanges = presenceChanges
    }
}

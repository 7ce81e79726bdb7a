import Foundation

/// A queue as configured: how it ranks agents, its routing steps, and how it treats waiting and
/// assigned tickets.
public struct QueueDefinition: Sendable, Equatable {
    public var name: String
    public var strategy: RoutingStrategy
    public var steps: [RoutingStep]
    /// Serving order: priority, window boost, aging.
    public var order: WaitingOrder
    /// Keep an agent's tickets with them when they go away or offline (otherwise they return to the
    /// queue after the presence grace period).
    public var keepTicketsWhenAgentAway: Bool
    /// When set, an assigned agent must accept or answer within this long, else the ticket moves on
    /// to the next agent and the miss is recorded.
    public var acceptWithin: TimeInterval?

    public init(name: String, strategy: RoutingStrategy = .leastLoaded, steps: [RoutingStep] = [RoutingStep(requirements: [], timeout: nil)],
                order: WaitingOrder = WaitingOrder(windowBoost: 1800), keepTicketsWhenAgentAway: Bool = false, acceptWithin: TimeInterval? = nil) {
        self.name = name
        self.strategy = strategy
        self.steps = steps
        self.order = order
        self.keepTicketsWhenAgentAway = keepTicketsWhenAgentAway
        self.acceptWithin = acceptWithin
    }

    /// What the matcher needs of the queue.
    public var matcherQueue: QueueMatcher.Queue {
        QueueMatcher.Queue(name: name, strategy: strategy, steps: steps, order: order)
    }
}

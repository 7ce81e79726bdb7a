import Foundation

/// What an SLA policy promises and to which tickets; fixed on a ticket when it starts, so a later
/// change of the policy applies to new tickets only.
public struct SLAPolicy: Sendable, Equatable {
    /// Which tickets: each condition is optional; within one, any listed value matches.
    public struct Conditions: Sendable, Equatable {
        public var queues: Set<String>?
        public var priorities: Set<WaitingOrder.Priority>?
        public var tags: Set<String>?
        public var businessNumbers: Set<String>?

        public init(queues: Set<String>? = nil, priorities: Set<WaitingOrder.Priority>? = nil, tags: Set<String>? = nil, businessNumbers: Set<String>? = nil) {
            self.queues = queues
            self.priorities = priorities
            self.tags = tags
            self.businessNumbers = businessNumbers
        }

        public func matches(queue: String?, priority: WaitingOrder.Priority, tags ticketTags: Set<String>, businessNumber: String) -> Bool {
            if let queues, !(queue.map(queues.contains) ?? false) { return false }
            if let priorities, !priorities.contains(priority) { return false }
            if let tags, tags.isDisjoint(with: ticketTags) { return false }
            if let businessNumbers, !businessNumbers.contains(businessNumber) { return false }
            return true
        }
    }

    /// What to do on a warning or a breach.
    public enum Action: Sendable, Equatable {
        /// Tell the supervisors of the ticket's team (event stream and log).
        case notifySupervisors
        /// One priority level up (urgent stays urgent).
        case raisePriority
        case moveTo(queue: String)
        case addTag(String)
    }

    public var name: String
    public var conditions: Conditions
    public var calendarName: String
    public var targets: SLATargets
    public var onWarning: [Action]
    public var onBreach: [Action]

    public init(name: String, conditions: Conditions = Conditions(), calendarName: String, targets: SLATargets, onWarning: [Action] = [], onBreach: [Action] = []) {
        self.name = name
        self.conditions = conditions
        self.calendarName = calendarName
        self.targets = targets
        self.onWarning = onWarning
        self.onBreach = onBreach
    }
}

extension Array where Element == SLAPolicy {
    /// The first policy whose conditions hold (nil: no promise for this ticket).
    public func policy(queue: String?, priority: WaitingOrder.Priority, tags: Set<String>, businessNumber: String) -> SLAPolicy? {
        first { $0.conditions.matches(queue: queue, priority: priority, tags: tags, businessNumber: businessNumber) }
    }
}

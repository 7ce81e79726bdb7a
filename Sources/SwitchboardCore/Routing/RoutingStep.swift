import Foundation

/// One stage of a queue's requirements. After `timeout` the next, looser step applies; the last step
/// has none, or moves the ticket to another queue when it runs out.
///
/// The routing rule names the skills a ticket needs (`lang:es>=3`); a step may say how proficient an
/// agent must be in them for now (`ruleSkillLevel` 4 first, then 2, then 0 for anyone), and may add
/// requirements of its own.
public struct RoutingStep: Sendable, Equatable {
    public var requirements: [SkillRequirement]
    /// The proficiency required in the rule's skills while this step applies: nil keeps the rule's
    /// levels, 1–5 replaces them, 0 drops them.
    public var ruleSkillLevel: Int?
    /// How long this step applies; nil only for the last step.
    public var timeout: TimeInterval?
    /// For the last step: the queue the ticket moves to when its timeout passes.
    public var moveToQueue: String?

    public init(requirements: [SkillRequirement], timeout: TimeInterval?, moveToQueue: String? = nil, ruleSkillLevel: Int? = nil) {
        precondition(ruleSkillLevel.map { (0...5).contains($0) } ?? true, "a rule skill level is 0–5 (configuration checks it)")
        self.requirements = requirements
        self.ruleSkillLevel = ruleSkillLevel
        self.timeout = timeout
        self.moveToQueue = moveToQueue
    }
}

extension RoutingStep {
    /// What an agent needs under this step, for a ticket whose rule requires `ruleRequirements`.
    public func requirements(given ruleRequirements: [SkillRequirement]) -> [SkillRequirement] {
        let fromRule: [SkillRequirement]
        switch ruleSkillLevel {
        case nil: fromRule = ruleRequirements
        case 0: fromRule = []
        case let level?: fromRule = ruleRequirements.map { SkillRequirement($0.skill, atLeast: level) }
        }
        return fromRule + requirements
    }
}

/// Which step is in force for a ticket that entered the queue at `since`.
public enum RoutingSteps {
    public enum InForce: Sendable, Equatable {
        /// Step `index` applies until `until` (nil: for good).
        case step(index: Int, until: Date?)
        /// Every step ran out and the last one moves the ticket to this queue.
        case move(toQueue: String)
    }

    /// - Precondition: `steps` is not empty and only its last step lacks a timeout (configuration checks it).
    public static func inForce(_ steps: [RoutingStep], since: Date, now: Date) -> InForce {
        precondition(!steps.isEmpty, "a queue has at least one step")
        var start = since
        for (index, step) in steps.enumerated() {
            guard let timeout = step.timeout else {
                precondition(index == steps.count - 1, "only the last step may lack a timeout")
                return .step(index: index, until: nil)
            }
            let end = start.addingTimeInterval(timeout)
            if now < end { return .step(index: index, until: end) }
            if index == steps.count - 1 {
                if let queue = step.moveToQueue { return .move(toQueue: queue) }
                return .step(index: index, until: nil)
            }
            start = end
        }
        preconditionFailure("the loop returns at the last step")
    }
}

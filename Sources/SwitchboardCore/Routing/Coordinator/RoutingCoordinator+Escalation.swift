import Foundation

/// What an SLA escalation's actions do to a ticket.
extension RoutingCoordinator {
    public enum EscalationStep: Sendable, Equatable {
        /// Nothing for routing to do (supervisors are told by the SLA engine; the ticket is resolved
        /// or already at the top or in the target).
        case none
        case addTag(String)
        /// The ticket's new priority; a waiting ticket takes its new place in the queue.
        case setPriority(WaitingOrder.Priority)
        /// Into another queue, taken from its agent first (the escalation says the promise needs
        /// someone else), or out of its queue if it waits there.
        case move(from: String, to: String, takingFrom: String?)
    }

    /// One escalation action on the ticket as it is placed now.
    public static func escalationStep(_ action: SLAPolicy.Action, _ placement: TicketPlacement?) -> EscalationStep {
        switch action {
        case .notifySupervisors:
            return .none
        case .addTag(let tag):
            return .addTag(tag)
        case .raisePriority:
            guard let placement, let higher = WaitingOrder.Priority(rawValue: placement.priority.rawValue + 1) else { return .none }
            return .setPriority(higher)
        case .moveTo(let target):
            guard let placement, let from = placement.queue, from != target else { return .none }
            return .move(from: from, to: target, takingFrom: placement.assignee)
        }
    }
}

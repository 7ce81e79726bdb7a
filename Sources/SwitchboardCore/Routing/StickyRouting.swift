import Foundation

/// The sticky-agent rule: a returning customer's ticket is offered first to the agent who last
/// helped them (the assignee of their most recently assigned ticket), for `stickySeconds` after
/// that contact ended (the ticket was resolved, or last changed). 0 turns it off.
public enum StickyRouting {
    public static func preference(lastAgent: String?, lastContactAt: Date?, stickySeconds: TimeInterval) -> (agent: String, until: Date)? {
        guard stickySeconds > 0, let lastAgent, let lastContactAt else { return nil }
        return (lastAgent, lastContactAt.addingTimeInterval(stickySeconds))
    }
}

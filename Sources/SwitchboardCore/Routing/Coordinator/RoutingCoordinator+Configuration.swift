import Foundation

/// Agents and queues coming and going: at start, on reload, and through the control commands.
extension RoutingCoordinator {
    /// At start, assignments of agents that are no longer active (removed while the daemon was
    /// down): each such agent's tickets go back to their queues.
    public static func orphanedHandBacks(_ assignments: [AssignedTicket], activeAgents: Set<String>) -> [Action] {
        Set(assignments.map(\.agentID)).subtracting(activeAgents).sorted().map { .handBack(agentID: $0, reason: "agent deactivated") }
    }

    /// An agent was deactivated (removed by a command or from the file): they are forgotten and their
    /// tickets go back to their queues.
    public mutating func agentRemoved(_ agentID: String, reason: String) -> [Action] {
        presence.removeValue(forKey: agentID)
        return [.cancel(.presenceGrace(agentID: agentID)), .handBack(agentID: agentID, reason: reason)]
    }

    /// What a reloaded routing section changes beyond the settings it carries: agents no longer
    /// active leave (see `agentRemoved`), and the queues it adds and keeps.
    public struct Reconfiguration: Sendable, Equatable {
        public var removedAgents: [String]
        public var addedQueues: [QueueDefinition]
        public var keptQueues: [QueueDefinition]
        public var actions: [Action]
    }

    /// A reloaded routing section: rules and settings apply from now; agents routing knows but
    /// the database no longer has active are removed; queues it adds start held if the daemon drains
    /// or they were paused. A queue it drops keeps its actor until its tickets are gone.
    public mutating func reconfigure(_ new: RoutingConfiguration, activeAgents: Set<String>) -> Reconfiguration {
        configuration = new
        let removed = presence.keys.filter { !activeAgents.contains($0) }.sorted()
        var actions: [Action] = []
        for agentID in removed { actions += agentRemoved(agentID, reason: "agent deactivated") }
        let added = new.queues.filter { !queueNames.contains($0.name) }
        let kept = new.queues.filter { queueNames.contains($0.name) }
        queueNames.formUnion(added.map(\.name))
        for queue in added { actions.append(.holdQueue(queue.name, isHeld(queue.name))) }
        return Reconfiguration(removedAgents: removed, addedQueues: added, keptQueues: kept, actions: actions)
    }
}

import Foundation
import SwitchboardCore
import SwitchboardStore

/// Building routing from the database at start, and applying a reloaded configuration.
extension TicketRouter {
    /// Loads agents (the configuration's first), assignments, waiting tickets in order, and timers
    /// from their stored start times; then routes what ingest committed but nobody routed.
    public func rebuild() async throws {
        let now = timers.now
        try await agentStore.syncConfigured(configuration.agents, presence: configuration.initialPresence, now: now)
        let active = try await agentStore.loadActive()
        for stored in active { roster.set(makeAgent(stored, configuration), queues: stored.definition.queues) }
        let assignments = try await store.assignments()
        for assignment in assignments { await roster.agent(assignment.agentID)?.hold(assignment.ticketID, status: assignment.status) }
        coordinator.pausedQueuesLoaded(try await store.pausedQueues())
        for definition in configuration.queues {
            let queue = makeQueue(definition)
            queues[definition.name] = queue
            await queue.setPaused(coordinator.isHeld(definition.name))
        }
        try await loadStoredWaiting()
        let activeIDs = Set(active.map(\.definition.id))
        await perform(RoutingCoordinator.orphanedHandBacks(assignments, activeAgents: activeIDs))
        try await route(nil)
        let holding = Set(assignments.map(\.agentID))
        for stored in active {
            await perform(coordinator.agentLoaded(stored.definition.id, .init(stored.presence, since: stored.presenceSince),
                                                  holdsTickets: holding.contains(stored.definition.id)))
        }
        await perform(coordinator.assignmentsLoaded(assignments.filter { activeIDs.contains($0.agentID) }))
        rebuilt = true
        let waiters = rebuildWaiters
        rebuildWaiters = []
        waiters.forEach { $0.resume() }
        logger.info("routing rebuilt", metadata: ["agents": "\(roster.all.count)", "queues": "\(queues.count)", "assigned": "\(assignments.count)"])
    }

    /// Applies a reloaded routing section: rules at once, queue settings at the next round, agents
    /// synchronised with the database. A queue added is created; a queue removed keeps its actor
    /// until its tickets are gone (they can no longer be routed there).
    public func reconfigure(_ new: RoutingConfiguration) async throws {
        await untilRebuilt()
        try await agentStore.syncConfigured(new.agents, presence: new.initialPresence, now: timers.now)
        let active = try await agentStore.loadActive()
        let change = coordinator.reconfigure(new, activeAgents: Set(active.map(\.definition.id)))
        // What the coordinator decided is done first, so an agent whose tickets cannot be read now
        // (below) leaves no removed agent holding tickets and no queue without its actor.
        for agentID in change.removedAgents { roster.remove(agentID) }
        for definition in change.addedQueues { queues[definition.name] = makeQueue(definition) }
        await perform(change.actions)
        var unreadable: (any Error)?
        for stored in active {
            do { try await agentStillActive(stored, new) } catch { unreadable = unreadable ?? error }
        }
        // Every queue matches again with the agents as they are now (a kept queue's new settings
        // start a round).
        for definition in change.keptQueues { await queues[definition.name]?.reconfigure(definition) }
        for definition in change.addedQueues { await queues[definition.name]?.match() }
        if let unreadable { throw unreadable }
    }

    /// An agent the reloaded file or the database still has: their actor takes the new definition,
    /// or (new, or back after a removal) is created holding what the database says they hold.
    private func agentStillActive(_ stored: StoredAgent, _ configuration: RoutingConfiguration) async throws {
        if let existing = roster.agent(stored.definition.id) {
            await existing.update(stored.definition, pendingCountsAgainstCapacity: configuration.pendingCountsAgainstCapacity)
            roster.set(existing, queues: stored.definition.queues)
            return
        }
        roster.set(makeAgent(stored, configuration), queues: stored.definition.queues)
        try await loadHoldings(of: stored)
    }

    func makeAgent(_ stored: StoredAgent, _ configuration: RoutingConfiguration) -> AgentActor {
        AgentActor(state: AgentState(definition: stored.definition, presence: stored.presence, presenceSince: stored.presenceSince,
                                     lastAssignedAt: stored.lastAssignedAt, pendingCountsAgainstCapacity: configuration.pendingCountsAgainstCapacity,
                                     draining: stored.draining))
    }

    /// A new actor for an agent the database may still credit with tickets: it holds them too, and
    /// the coordinator knows of them (an absent one's grace period runs).
    /// If they cannot be read, the actor is removed again: an agent routing would count as free
    /// must not be offered tickets (the next reload or command adds them again).
    func loadHoldings(of stored: StoredAgent) async throws {
        let held: [Int64]
        do {
            held = try await store.assignments(of: stored.definition.id).map(\.ticketID)
            if !held.isEmpty { try await reconcile(held) }
        } catch {
            roster.remove(stored.definition.id)
            throw error
        }
        await perform(coordinator.agentLoaded(stored.definition.id, .init(stored.presence, since: stored.presenceSince), holdsTickets: !held.isEmpty))
    }
}

import Foundation
import SwitchboardCore
import SwitchboardStore

/// Agents and queues managed through the control commands and the API: presence, capacity,
/// draining, pausing, adding and removing agents.
extension TicketRouter {
    /// Sets an agent's presence. Online: matching at once. Away or offline: after the grace period,
    /// their open tickets return to the queue (unless the queue keeps them). False: unknown agent.
    public func setPresence(_ agentID: String, to presence: AgentPresence, actor: String) async throws -> Bool {
        await untilRebuilt()
        let now = timers.now
        guard try await agentStore.setPresence(agentID, to: presence, at: now, actor: actor), let agent = roster.agent(agentID) else { return false }
        let actions = coordinator.presenceChanged(agentID, to: presence, at: now, by: actor)
        await agent.setPresence(presence, at: now)
        await perform(actions)
        return true
    }

    /// Changes an agent's capacity; more capacity matches at once. False: unknown agent.
    public func setCapacity(_ agentID: String, to capacity: Int) async throws -> Bool {
        await untilRebuilt()
        guard try await agentStore.setCapacity(agentID, to: capacity, at: timers.now), let agent = roster.agent(agentID) else { return false }
        await agent.setCapacity(capacity)
        await matchQueues(of: agentID)
        return true
    }

    /// Stops (or resumes) new assignments to one agent; what they hold stays with them. Nil:
    /// unknown agent; else whether anything changed.
    public func setDraining(agent agentID: String, _ draining: Bool, actor: String = "control") async throws -> Bool? {
        await untilRebuilt()
        guard let changed = try await agentStore.setDraining(agentID, draining, at: timers.now), let agent = roster.agent(agentID) else { return nil }
        await agent.setDraining(draining)
        if changed {
            events?.publish(DaemonEvent(kind: .agentDraining, ticketID: nil, reference: nil, agent: agentID, at: timers.now, audience: [],
                                        details: ["draining": "\(draining)", "by": actor]))
        }
        if !draining { await matchQueues(of: agentID) }
        return changed
    }

    /// Stops (or resumes) every new assignment; running work continues. Returns whether anything changed.
    public func setDraining(_ draining: Bool) async -> Bool {
        await untilRebuilt()
        guard let actions = coordinator.drain(draining) else { return false }
        logger.notice(draining ? "daemon draining: no new assignments" : "daemon drain ended: assigning again")
        await perform(actions)
        return true
    }

    /// Pauses (or resumes) one queue; stored, so it stays paused across restarts. Nil: unknown
    /// queue; else whether anything changed.
    public func setPaused(queue name: String, _ paused: Bool, actor: String) async throws -> Bool? {
        await untilRebuilt()
        switch coordinator.pause(name, paused) {
        case .unknownQueue: return nil
        case .unchanged: return false
        case .store:
            do {
                try await store.setQueuePaused(name, paused, actor: actor, now: timers.now)
            } catch {
                coordinator.pauseNotStored(name, paused)
                throw error
            }
            await perform(coordinator.pauseStored(name))
            events?.publish(DaemonEvent(kind: .queuePaused, ticketID: nil, reference: nil, queue: name, at: timers.now, audience: [],
                                        details: ["paused": "\(paused)", "by": actor]))
            return true
        }
    }

    /// Creates or changes an agent; their queues match at once. Throws the store's error (e.g. the
    /// Unix user already names another agent).
    public func upsertAgent(_ definition: AgentDefinition, unixUser: String?) async throws {
        await untilRebuilt()
        try await agentStore.upsert(definition, unixUser: unixUser, now: timers.now)
        if let existing = roster.agent(definition.id) {
            await existing.update(definition, pendingCountsAgainstCapacity: configuration.pendingCountsAgainstCapacity)
            roster.set(existing, queues: definition.queues)
        } else {
            let stored = try await agentStore.loadActive().first { $0.definition.id == definition.id }
                ?? StoredAgent(definition: definition, presence: .offline, presenceSince: timers.now, lastAssignedAt: nil, fromConfiguration: false)
            roster.set(makeAgent(stored, configuration), queues: definition.queues)
            // Back after a removal whose hand-back had not finished: count what the database says they hold.
            try await loadHoldings(of: stored)
        }
        await matchQueues(of: definition.id)
    }

    /// Deactivates an agent; their open and pending tickets return to their queues. False: unknown.
    public func removeAgent(_ agentID: String, actor: String) async throws -> Bool {
        await untilRebuilt()
        guard try await agentStore.deactivate(agentID, at: timers.now, actor: actor) else { return false }
        roster.remove(agentID)
        await perform(coordinator.agentRemoved(agentID, reason: "agent removed"))
        return true
    }
}

import Foundation
import JSON
import SwitchboardCore
import SwitchboardStore

/// A ticket's status and the changes made to it by hand. Each runs its database change and the
/// actors' memory of it under the ticket's lock; on failure the tickets are read again once the
/// database answers (`needRecovery`).
extension TicketRouter {
    public typealias ManualAssignOutcome = SwitchboardCore.ManualAssignOutcome
    public typealias TakeOutcome = SwitchboardCore.TakeOutcome

    /// Resolves a ticket, sets it pending or opens it again; freed capacity is matched at once.
    /// False: unknown ticket, or it already had that status.
    /// `also`: an event saying why, recorded with the change (auto-close's `auto_resolved`, with its data).
    public func setStatus(_ ticketID: Int64, to status: TicketStatus, actor: String, also: (TicketEventKind, JSONValue)? = nil) async throws -> Bool {
        await untilRebuilt()
        let changed = try await underLock(ticketID) { () -> (RoutingStore.StatusChange, [RoutingCoordinator.Action])? in
            guard let change = try await store.setStatus(ticketID, to: status, actor: actor, now: timers.now,
                                                         also: also.map { ($0.0, $0.1.jsonText) }) else { return nil }
            let reaction = coordinator.statusChanged(ticketID, to: status, assignee: change.assignee, queue: change.queue)
            await performUnderLock(reaction.underLock)
            return (change, reaction.then)
        }
        guard let (change, then) = changed else { return false }
        events?.publish(DaemonEvent(kind: .statusChanged, ticketID: ticketID, reference: nil, queue: change.queue, agent: change.assignee, at: timers.now,
                                    audience: change.assignee.map { [$0] } ?? [], details: ["status": status.rawValue, "previous": change.previous.rawValue, "by": actor]))
        await sla?.statusChanged(ticketID, from: change.previous, to: status)
        await perform(then)
        if status == .resolved, let automation {
            let automatically = actor == AutomationEngine.autoCloseActor
            work.spawn { await automation.resolved(ticketID, automatically: automatically) }
        }
        if status == .pending, let automation { await automation.ticketSetPending() }
        return true
    }

    /// A supervisor gives the ticket to an agent: out of its queue, or away from its agent (whose
    /// queues then match again). Capacity and skills are the supervisor's call, not checked.
    public func assign(_ ticketID: Int64, to agentID: String, actor: String) async throws -> ManualAssignOutcome {
        await untilRebuilt()
        enum Step { case done(ManualAssignOutcome), assigned(RoutingStore.ManualAssignment, then: [RoutingCoordinator.Action]), putBack }
        let step = try await underLock(ticketID) { () -> Step in
            let removed: Bool
            switch coordinator.manualAssign(try await store.placement(ticketID), to: agentID) {
            case .refuse(let outcome):
                return .done(outcome)
            case .assign(let queueName):
                // Out of the queue first: a round holding it finds it taken when it commits, and lets it go.
                removed = if let queueName { await queues[queueName]?.remove(ticketID) ?? false } else { false }
            }
            guard let done = try await store.assign(ticketID, to: agentID, actor: actor, reason: "assigned by \(actor)", now: timers.now) else {
                return removed ? .putBack : .done(.alreadyHeld)
            }
            let reaction = coordinator.manuallyAssigned(ticketID, to: agentID, previous: done.previous, status: done.status)
            await performUnderLock(reaction.underLock)
            return .assigned(done, then: reaction.then)
        }
        switch step {
        case .done(let outcome):
            return outcome
        case .putBack:
            try await enqueueStored([ticketID])
            return .alreadyHeld
        case .assigned(let done, let then):
            for action in then {
                // Matching waits for rounds: started, not awaited. The rest (a timer) at once.
                if case .matchQueuesOf = action { work.spawn { await self.perform([action]) } } else { await perform([action]) }
            }
            events?.publish(DaemonEvent(kind: .assigned, ticketID: ticketID, reference: nil, queue: done.queue, agent: agentID, at: timers.now,
                                        audience: [agentID] + (done.previous.map { [$0] } ?? []),
                                        details: ["agent": agentID, "queue": done.queue ?? "", "why": "assigned by \(actor)", "previous": done.previous ?? ""]))
            return .assigned(previous: done.previous)
        }
    }

    /// An agent takes an unassigned ticket of a queue they serve, within their capacity: the
    /// capacity is reserved on the agent first (the same reservation routing makes), so a take and
    /// a routing round can never together push the agent past it.
    public func take(_ ticketID: Int64, agentID: String) async throws -> TakeOutcome {
        await untilRebuilt()
        guard let agent = roster.agent(agentID) else { return .notTheirQueue }
        enum Step { case done(TakeOutcome, queue: String?), putBack(TakeOutcome) }
        let step = try await underLock(ticketID, enqueueingAfterFailure: true) { () -> Step in
            let serving = await agent.current.definition.queues
            switch coordinator.take(try await store.placement(ticketID), by: agentID, serving: serving) {
            case .refuse(let outcome): return .done(outcome, queue: nil)
            case .alreadyTheirs: return .done(.taken, queue: nil)
            case .take(let queueName):
                // A round placing it right now decides (possibly for this very agent).
                guard let queue = queues[queueName], await queue.removeIfWaiting(ticketID) else { return .done(.notWaiting, queue: nil) }
                guard await agent.reserve(ticketID, requirements: []) else { return .putBack(.noRoom) }
                if try await commitTake(ticketID, by: agent) { return .done(.taken, queue: queueName) }
                // Refused: someone holds it now, or nobody does (the agent was just deactivated):
                // then it waits in its queue again.
                let holder = try await store.placement(ticketID)?.assignee
                return holder == nil ? .putBack(.notWaiting) : .done(.alreadyAssigned, queue: nil)
            }
        }
        switch step {
        case .putBack(let outcome):
            try await enqueueStored([ticketID])
            return outcome
        case .done(let outcome, let queueName):
            if let queueName {
                events?.publish(DaemonEvent(kind: .assigned, ticketID: ticketID, reference: nil, queue: queueName, agent: agentID, at: timers.now,
                                            audience: [agentID], details: ["agent": agentID, "queue": queueName, "why": "taken by \(agentID)"]))
            }
            return outcome
        }
    }

    /// Stores a take whose capacity is reserved: confirmed on the agent, or released if the
    /// database says someone else has it (or fails).
    private func commitTake(_ ticketID: Int64, by agent: AgentActor) async throws -> Bool {
        let done: RoutingStore.ManualAssignment?
        do {
            done = try await store.assign(ticketID, to: agent.id, actor: agent.id, reason: "taken by \(agent.id)", now: timers.now, onlyIfUnassigned: true)
        } catch {
            await agent.release(ticketID)
            throw error
        }
        guard let done else {
            await agent.release(ticketID)
            return false
        }
        await agent.confirm(ticketID, status: done.status, at: timers.now)
        return true
    }

    /// Takes a ticket from its agent back to its queue. False: it has no agent (or is resolved).
    public func unassign(_ ticketID: Int64, actor: String) async throws -> Bool {
        await untilRebuilt()
        let outcome = try await underLock(ticketID) { () -> (RoutingCoordinator.TicketReturn, [StoredWaitingTicket])? in
            guard var back = coordinator.unassign(ticketID, try await store.placement(ticketID), by: actor) else { return nil }
            back.actor = actor
            return (back, try await takeBackLocked(back))
        }
        guard let (back, waiting) = outcome, !waiting.isEmpty else { return false }
        await returned(back, waiting)
        await matchQueues(of: back.agentID)
        return true
    }

    /// Sets a ticket's priority by hand; a waiting ticket takes its new place in the queue. False:
    /// unchanged (or resolved or unknown).
    public func setPriority(_ ticketID: Int64, to priority: WaitingOrder.Priority, actor: String) async throws -> Bool {
        await untilRebuilt()
        return try await changePriority(ticketID, to: priority, actor: actor, reason: "set by \(actor)")
    }

    /// Stores a new priority and announces it; a waiting ticket takes its new place in the queue.
    @discardableResult
    func changePriority(_ ticketID: Int64, to priority: WaitingOrder.Priority, actor: String, reason: String) async throws -> Bool {
        guard let change = try await store.setPriority(ticketID, to: priority, actor: actor, reason: reason, now: timers.now) else { return false }
        if change.assignee == nil, let name = change.queue, let queue = queues[name], await queue.removeIfWaiting(ticketID) {
            try await enqueueStored([ticketID])
        }
        events?.publish(DaemonEvent(kind: .priorityChanged, ticketID: ticketID, reference: nil, queue: change.queue, agent: change.assignee, at: timers.now,
                                    audience: change.assignee.map { [$0] } ?? [],
                                    details: ["priority": priority.name, "previous": change.previous.name, "by": actor, "why": reason]))
        return true
    }

    /// Adds a tag by hand. False: it had it already (or the ticket is unknown).
    public func addTag(_ ticketID: Int64, _ tag: String, actor: String) async throws -> Bool {
        try await storeTag(ticketID, tag, actor: actor, reason: "by hand")
    }

    /// Stores a tag and announces it. False: the ticket had it already (or is unknown).
    func storeTag(_ ticketID: Int64, _ tag: String, actor: String, reason: String) async throws -> Bool {
        guard try await store.addTag(ticketID, tag, actor: actor, reason: reason, now: timers.now) else { return false }
        events?.publish(DaemonEvent(kind: .tagged, ticketID: ticketID, reference: nil, at: timers.now, audience: [],
                                    details: ["tag": tag, "by": actor, "why": reason]))
        return true
    }

    /// Runs `body` holding the ticket's lock. If it fails, the agents' memory of the ticket is read
    /// again from the database once it answers, and (asked to) the ticket queued again from what is
    /// stored: it may have been taken out of its queue's actor.
    func underLock<T: Sendable>(_ ticketID: Int64, enqueueingAfterFailure: Bool = false,
                                _ body: () async throws -> T) async throws -> T {
        do {
            return try await locks.withLocks([ticketID], body)
        } catch {
            await needRecovery(.init(reconcile: [ticketID]))
            if enqueueingAfterFailure { try? await enqueueStored([ticketID]) }
            throw error
        }
    }
}

/// What a supervisor's transfer of a ticket to another queue came to.
public enum TransferOutcome: Sendable, Equatable {
    case transferred
    case unknownQueue
    case alreadyThere
    /// Resolved, unknown, not routed yet, or being placed by a round right now.
    case notMovable(String)
}

extension TicketRouter {
    /// Removes a tag by hand. False: it did not have it (or the ticket is unknown).
    public func removeTag(_ ticketID: Int64, _ tag: String, actor: String) async throws -> Bool {
        guard try await store.removeTag(ticketID, tag, actor: actor, now: timers.now) else { return false }
        events?.publish(DaemonEvent(kind: .untagged, ticketID: ticketID, reference: nil, at: timers.now, audience: [], details: ["tag": tag, "by": actor]))
        return true
    }

    /// Sends a ticket to another queue without an agent. An agent's ticket is filed under the new
    /// queue first and then taken back, so it goes straight there (routing in its old queue never
    /// sees it); a waiting one leaves its queue's actor and moves.
    public func transfer(_ ticketID: Int64, toQueue name: String, actor: String) async throws -> TransferOutcome {
        await untilRebuilt()
        guard queues[name] != nil else { return .unknownQueue }
        guard let placement = try await store.placement(ticketID) else { return .notMovable("the ticket is resolved") }
        if placement.queue == name && placement.assignee == nil { return .alreadyThere }
        if placement.assignee != nil {
            if placement.queue != name {
                let moved = try await underLock(ticketID) { try await store.moveAssigned(ticketID, to: name, actor: actor, now: timers.now) }
                if let from = moved {
                    events?.publish(DaemonEvent(kind: .moved, ticketID: ticketID, reference: nil, queue: name, agent: placement.assignee, at: timers.now,
                                                audience: [], details: ["from": from, "by": actor, "why": "transferred by \(actor)"]))
                }
            }
            guard try await unassign(ticketID, actor: actor) else { return .notMovable("the ticket changed meanwhile; look again") }
            return .transferred
        }
        guard let from = placement.queue else { return .notMovable("the ticket has not been routed to a queue yet") }
        guard let queue = queues[from], await queue.removeIfWaiting(ticketID) else {
            return .notMovable("the ticket is being assigned right now; look again")
        }
        let moved: StoredWaitingTicket?
        do {
            moved = try await underLock(ticketID) {
                try await store.move(ticketID, from: from, to: name, reason: "transferred by \(actor)", actor: actor,
                                     stickySeconds: configuration.stickySeconds, now: timers.now)
            }
        } catch {
            try? await enqueueStored([ticketID])
            throw error
        }
        guard let moved else {
            try await enqueueStored([ticketID])
            return .notMovable("the ticket changed meanwhile; look again")
        }
        events?.publish(DaemonEvent(kind: .moved, ticketID: ticketID, reference: nil, queue: name, agent: nil, at: timers.now, audience: [],
                                    details: ["from": from, "by": actor, "why": "transferred by \(actor)"]))
        await enqueue([moved])
        return .transferred
    }
}

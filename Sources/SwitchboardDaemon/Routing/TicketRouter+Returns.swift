import Foundation
import SwitchboardCore
import SwitchboardStore

/// Tickets going back to their queues: an absent agent's after the grace period, a missed
/// acceptance, a departed agent's, a move a routing step's timeout asked for.
extension TicketRouter {
    /// The grace period ended: the agent's tickets, read now, for the coordinator to decide on.
    func collectTicketsOfAbsentAgent(_ agentID: String) async {
        do {
            let held = try await store.assignments(of: agentID)
            await perform(coordinator.absentAgentTickets(agentID, held))
        } catch {
            logger.error("could not return an absent agent's tickets; trying again shortly", metadata: ["agent": "\(agentID)", "error": "\(error)"])
            await perform(coordinator.absentAgentTicketsUnreadable(agentID, now: timers.now))
        }
    }

    /// An acceptance deadline came: what the database says of the assignment, for the coordinator.
    func checkAcceptance(_ ticketID: Int64, agentID: String, assignedAt: Date) async {
        do {
            let facts = try await store.acceptanceFacts(ticketID)
            let actions = coordinator.acceptanceChecked(ticketID, agentID: agentID, assignedAt: assignedAt, facts)
            if actions.isEmpty { logger.info("acceptance deadline met", metadata: ["ticket": "\(ticketID)"]) }
            await perform(actions)
        } catch {
            logger.error("could not check an acceptance time", metadata: ["ticket": "\(ticketID)", "error": "\(error)"])
        }
    }

    /// Routing committed assignments: followers hear of them, and acceptance deadlines start.
    func assignmentsCommitted(_ records: [AssignmentRecord], at: Date) async {
        observer?.ticketsAssigned(records.map(\.ticketID), at: .now)
        if let events {
            for record in records {
                events.publish(DaemonEvent(kind: .assigned, ticketID: record.ticketID, reference: nil, queue: record.queue, agent: record.agentID, at: at,
                                           audience: [record.agentID], details: ["agent": record.agentID, "queue": record.queue, "why": record.detail]))
            }
        }
        await perform(coordinator.assignmentsCommitted(records.map { ($0.ticketID, $0.agentID, $0.queue) }, at: at))
    }

    func returnToQueues(_ tickets: RoutingCoordinator.TicketReturn) async {
        do {
            try await returnToQueuesOrThrow(tickets)
        } catch {
            logger.error("could not return tickets to their queues", metadata: ["agent": "\(tickets.agentID)", "error": "\(error)"])
        }
    }

    /// Unassigns (under the tickets' locks, the agent's actor told) and queues again; on failure the
    /// agents' memory and the queues of these tickets are read again once the database answers.
    /// Returns how many went back.
    @discardableResult
    func returnToQueuesOrThrow(_ tickets: RoutingCoordinator.TicketReturn) async throws -> Int {
        guard !tickets.ticketIDs.isEmpty else { return 0 }
        let waiting: [StoredWaitingTicket]
        do {
            waiting = try await locks.withLocks(tickets.ticketIDs) { try await takeBackLocked(tickets) }
        } catch {
            await needRecovery(.init(reconcile: Set(tickets.ticketIDs)))
            throw error
        }
        await returned(tickets, waiting)
        return waiting.count
    }

    /// The database change and the agent's actor, with the tickets' locks held by the caller.
    func takeBackLocked(_ tickets: RoutingCoordinator.TicketReturn) async throws -> [StoredWaitingTicket] {
        let stillMissed = tickets.unlessAcceptedSince.map { since in
            { @Sendable (facts: RoutingCoordinator.AcceptanceFacts) in
                RoutingCoordinator.acceptanceMissed(facts, agentID: tickets.agentID, assignedAt: since)
            }
        }
        let waiting = try await store.unassign(tickets.ticketIDs, from: tickets.agentID, kind: tickets.kind, reason: tickets.reason,
                                               exclude: tickets.excludeAgent, stickySeconds: configuration.stickySeconds, now: timers.now,
                                               actor: tickets.actor, onlyIf: stillMissed)
        if let agent = roster.agent(tickets.agentID) {
            for ticket in waiting { await agent.drop(ticket.waiting.ticket.id) }
        }
        return waiting
    }

    /// After tickets went back: logged, announced, and queued.
    func returned(_ tickets: RoutingCoordinator.TicketReturn, _ waiting: [StoredWaitingTicket]) async {
        guard !waiting.isEmpty else { return }
        logger.info("tickets returned to their queues", metadata: ["agent": "\(tickets.agentID)", "tickets": "\(waiting.count)", "reason": "\(tickets.reason)"])
        for ticket in waiting {
            announceReturn(.init(ticketIDs: [ticket.waiting.ticket.id], agentID: tickets.agentID, kind: tickets.kind, reason: tickets.reason,
                                 actor: tickets.actor), queue: ticket.queue)
        }
        announceWaiting(waiting, why: tickets.reason)
        await enqueue(waiting)
    }

    /// Followers hear that the agent no longer has the ticket, and why.
    func announceReturn(_ tickets: RoutingCoordinator.TicketReturn, queue: String?) {
        for ticketID in tickets.ticketIDs {
            events?.publish(DaemonEvent(kind: .unassigned, ticketID: ticketID, reference: nil, queue: queue, agent: tickets.agentID, at: timers.now,
                                        audience: [tickets.agentID], details: ["agent": tickets.agentID, "why": tickets.reason, "by": tickets.actor]))
        }
    }

    /// Every unresolved ticket of an agent who left goes back to its queue; until that succeeds,
    /// the recovery tries again (a round that placed a ticket with them just before they left is
    /// refused by the database, so nothing new reaches them meanwhile).
    func handBack(_ agentID: String, reason: String) async {
        do {
            try await handBackOrThrow(agentID, reason: reason)
        } catch {
            logger.error("could not return a removed agent's tickets; trying again", metadata: ["agent": "\(agentID)", "error": "\(error)"])
            await needRecovery(.init(handBack: [agentID: reason]))
        }
    }

    func handBackOrThrow(_ agentID: String, reason: String) async throws {
        let held = try await store.assignments(of: agentID).map(\.ticketID)
        try await returnToQueuesOrThrow(.init(ticketIDs: held, agentID: agentID, reason: reason))
    }

    /// A queue's round found a ticket's last step ran out: it moves to the step's next queue.
    func moveTicket(_ move: QueueMatcher.Move, from: String) async {
        do {
            guard let moved = try await store.move(move.ticketID, from: from, to: move.queue, stickySeconds: configuration.stickySeconds, now: timers.now) else { return }
            events?.publish(DaemonEvent(kind: .moved, ticketID: move.ticketID, reference: nil, queue: move.queue, agent: nil, at: timers.now, audience: [],
                                        details: ["from": from, "by": "routing", "why": "last routing step ran out"]))
            await enqueue([moved])
        } catch {
            logger.error("could not move a ticket; it waits where it was", metadata: ["ticket": "\(move.ticketID)", "error": "\(error)"])
            // The queue dropped it from its waiting list: put it back from the stored state.
            do { try await enqueueStored([move.ticketID]) } catch { await needRecovery(.init(reconcile: [move.ticketID])) }
        }
    }
}

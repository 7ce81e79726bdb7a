import Foundation
import SwitchboardCore
import SwitchboardStore

/// New activity from ingest: tickets to classify and queue, pending tickets the customer woke.
extension TicketRouter {
    /// New tickets are classified and queued; reopened ones are classified again; a pending ticket
    /// the customer wrote to is open again and counts for its agent.
    public func committed(_ messages: [IngestResult.StoredMessage]) async {
        announce(messages)
        await untilRebuilt()
        let followUp = RoutingCoordinator.followUp(messages.map { ($0.ticketID, $0.threading, $0.asksForAnswer) })
        if !followUp.customerWrote.isEmpty { await sla?.customerWrote(followUp.customerWrote) }
        // The business answered from the WhatsApp Business app: an answer, as an agent's reply is
        // (a reaction, an edit or a deletion is not).
        for echo in messages where echo.answersCustomer { await sla?.agentReplied(echo.ticketID) }
        do {
            if !followUp.route.isEmpty { try await route(followUp.route) }
        } catch {
            logger.error("routing new tickets failed; trying again until the database answers", metadata: ["tickets": "\(followUp.route.count)", "error": "\(error)"])
            await needRecovery(.init(routeUnrouted: true))
        }
        do {
            if !followUp.wake.isEmpty { try await wake(followUp.wake) }
        } catch {
            logger.error("could not count woken tickets for their agents; reading them again", metadata: ["tickets": "\(followUp.wake.count)", "error": "\(error)"])
            await needRecovery(.init(reconcile: Set(followUp.wake)))
        }
        // Once placed: answers to menus and surveys, greetings, out-of-hours replies.
        await automation?.customerMessages(messages)
    }

    /// Delivery ticks to followers: the message (as the API shows it) is filled in by the enricher.
    public func statusesChanged(_ changes: [IngestResult.StatusChange]) async {
        guard let events else { return }
        let now = timers.now
        for change in changes {
            events.publish(DaemonEvent(kind: .messageStatus, ticketID: change.ticketID, reference: nil, at: now, audience: [],
                                       details: ["message": "\(change.messageID)", "status": change.status, "direction": "outbound"]))
        }
    }

    /// Each message to followers. A new ticket's first message: routing has not placed it yet, so
    /// nobody but an admin sees it; its assignment is what agents hear of.
    private func announce(_ messages: [IngestResult.StoredMessage]) {
        if let observer {
            let fresh = messages.filter { $0.threading == .newTicket }.map(\.ticketID)
            if !fresh.isEmpty { observer.ticketsArrived(fresh, at: .now) }
        }
        guard let events else { return }
        let now = timers.now
        for message in messages {
            var details = ["direction": message.isEcho ? "outbound" : "inbound", "message": "\(message.messageID)"]
            if message.isEcho { details["author"] = "business_app" }
            if message.threading == .newTicket { details["new_ticket"] = "true" }
            events.publish(DaemonEvent(kind: .message, ticketID: message.ticketID, reference: message.ticketReference, at: now, audience: [],
                                       details: details))
        }
    }

    /// Classifies open tickets without a queue (these, or every one) and queues them; their SLAs
    /// start (or, reopened, restart) once their queue and priority are known. A ticket routed before
    /// is a reopened one, however it got here (live, or found at start after a crash).
    public func route(_ ticketIDs: [Int64]?) async throws {
        var unrouted = try await store.unrouted(ticketIDs)
        guard !unrouted.isEmpty else { return }
        // A triage rule sends its menu instead; the ticket comes back here when the menu ends.
        if let automation {
            let held = await automation.triage(unrouted)
            if !held.isEmpty { unrouted.removeAll { held.contains($0.ticketID) } }
        }
        var hints: [Int64: RoutingCoordinator.TriageResult] = [:]
        for ticket in unrouted {
            if let triage = ticket.triage, let automation {
                hints[ticket.ticketID] = await automation.classificationHint(rule: triage.rule, outcome: triage.outcome, choice: triage.choice)
            }
        }
        let reopened = Set(unrouted.filter(\.routedBefore).map(\.ticketID))
        let decisions = unrouted.compactMap { ticket -> RoutingDecision? in
            guard let found = coordinator.classify(ticket.facts, knownLanguage: ticket.knownLanguage, createdAt: ticket.createdAt, triage: hints[ticket.ticketID]) else {
                logger.error("no routing rule matched; the configuration's last rule should catch every ticket", metadata: ["ticket": "\(ticket.ticketID)"])
                return nil
            }
            return RoutingDecision(ticketID: ticket.ticketID, customerID: ticket.customerID, rule: found.rule, language: found.guessedLanguage)
        }
        let waiting = try await store.recordRouting(decisions, stickySeconds: configuration.stickySeconds, now: timers.now)
        observer?.ticketsQueued(waiting.map(\.waiting.ticket.id), at: .now)
        await sla?.ticketsStarted(waiting.map(\.waiting.ticket.id), reopened: reopened)
        announceWaiting(waiting, why: "routed")
        await enqueue(waiting)
    }

    /// Followers hear that these tickets wait in their queues (an agent of the queue may take one;
    /// a supervisor's waiting count changed).
    func announceWaiting(_ waiting: [StoredWaitingTicket], why: String) {
        guard let events else { return }
        for ticket in waiting {
            events.publish(DaemonEvent(kind: .queued, ticketID: ticket.waiting.ticket.id, reference: nil, queue: ticket.queue, agent: nil, at: timers.now,
                                       audience: [], details: ["why": why]))
        }
    }

    /// The customer wrote to pending tickets: their agents count them as open again, and one whose
    /// agent is gone past the grace period goes to someone else.
    private func wake(_ ticketIDs: [Int64]) async throws {
        let held = try await locks.withLocks(ticketIDs) {
            let held = try await store.assignments(ticketIDs)
            for assignment in held { await roster.agent(assignment.agentID)?.hold(assignment.ticketID, status: assignment.status) }
            return held
        }
        await perform(coordinator.customerWrote(to: held, now: timers.now))
    }
}

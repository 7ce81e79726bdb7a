import Foundation
import SwitchboardCore
import SwitchboardStore

/// SLA escalations: the actions of a breached or warned target, applied to the ticket as it is now.
extension TicketRouter {
    /// Raises the priority (the ticket's place in its queue follows), adds a tag, or moves the ticket
    /// to another queue (taken from its agent first). Each change writes its event with the reason.
    @discardableResult
    public func escalate(_ ticketID: Int64, actions: [SLAPolicy.Action], reason: String) async -> Bool {
        await untilRebuilt()
        var applied = true
        for action in actions {
            do {
                switch RoutingCoordinator.escalationStep(action, try await store.placement(ticketID)) {
                case .none:
                    continue
                case .addTag(let tag):
                    _ = try await storeTag(ticketID, tag, actor: "sla", reason: reason)
                case .setPriority(let higher):
                    try await changePriority(ticketID, to: higher, actor: "sla", reason: reason)
                case .move(_, let target, _):
                    try await escalationMove(ticketID, to: target, reason: reason)
                }
            } catch {
                logger.error("SLA escalation not applied", metadata: ["ticket": "\(ticketID)", "action": "\(action)", "error": "\(error)"])
                applied = false
            }
        }
        return applied
    }

    /// Under the ticket's lock, decided again on its placement there: taken from its agent (or out
    /// of its queue's actor) and moved to `target`; then queued there.
    private func escalationMove(_ ticketID: Int64, to target: String, reason: String) async throws {
        let moved = try await underLock(ticketID, enqueueingAfterFailure: true) { () -> (StoredWaitingTicket?, from: String, released: String?)? in
            guard case .move(let from, let target, let assignee) = RoutingCoordinator.escalationStep(.moveTo(queue: target), try await store.placement(ticketID)) else {
                return nil
            }
            if let assignee {
                let back = RoutingCoordinator.TicketReturn(ticketIDs: [ticketID], agentID: assignee, reason: reason, actor: "sla")
                guard try await !takeBackLocked(back).isEmpty else { return nil }
            } else {
                // Mid-round the queue may be reserving an agent for it: then the round decides.
                guard let queue = queues[from], await queue.removeIfWaiting(ticketID) else { return nil }
            }
            let moved = try await store.move(ticketID, from: from, to: target, reason: reason, actor: "sla",
                                             stickySeconds: configuration.stickySeconds, now: timers.now)
            return (moved, from, assignee)
        }
        guard let (ticket, from, released) = moved else { return }
        if let released {
            announceReturn(RoutingCoordinator.TicketReturn(ticketIDs: [ticketID], agentID: released, reason: reason, actor: "sla"), queue: from)
            work.spawn { await self.matchQueues(of: released) }
        }
        events?.publish(DaemonEvent(kind: .moved, ticketID: ticketID, reference: nil, queue: target, agent: nil, at: timers.now, audience: [],
                                    details: ["from": from, "by": "sla", "why": reason]))
        if let ticket { await enqueue([ticket]) } else { try await enqueueStored([ticketID]) }
    }
}

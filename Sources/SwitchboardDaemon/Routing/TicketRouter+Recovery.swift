import Foundation
import SwitchboardCore
import SwitchboardStore

/// Work the database refused, done again until it succeeds (the coordinator owns the back-off).
extension TicketRouter {
    /// Owes `work` to the database: done now, or after the batch under way.
    func needRecovery(_ work: RoutingCoordinator.RecoveryWork) async {
        await perform(coordinator.recoveryNeeded(work))
    }

    /// Does one batch: hands back departed agents' tickets, reads the agents' holdings of uncertain
    /// tickets again, routes what is unrouted. What fails stays owed.
    func recover(_ owed: RoutingCoordinator.RecoveryWork) async {
        // Owed work found during the rebuild (a relay sweep routing what is unrouted) waits for it:
        // queued into half-loaded queues, a new ticket could be placed before older ones are known.
        await untilRebuilt()
        var left = owed
        do {
            for (agentID, reason) in owed.handBack.sorted(by: { $0.key < $1.key }) {
                try await handBackOrThrow(agentID, reason: reason)
                left.handBack.removeValue(forKey: agentID)
            }
            if !owed.reconcile.isEmpty {
                try await reconcile(owed.reconcile.sorted())
                left.reconcile = []
            }
            if owed.routeUnrouted {
                try await route(nil)
                left.routeUnrouted = false
            }
        } catch {
            logger.warning("routing recovery waits for the database", metadata: ["error": "\(error)", "retry_in": "\(coordinator.recoveryDelay)s",
                                                                               "tickets": "\(left.reconcile.count)"])
        }
        await perform(coordinator.recoveryFinished(unfinished: left, now: timers.now))
    }

    /// Makes the agents' memory of these tickets what the database holds, under the tickets' locks,
    /// and puts those that wait in the database back into their queues (a change may have committed
    /// its return to the queue and failed before the queue heard of it). Reservations (a round
    /// committing) are left alone: that round settles them under the lock.
    func reconcile(_ tickets: [Int64]) async throws {
        try await locks.withLocks(tickets) {
            let holders = try await store.holders(tickets)
            for agent in roster.all {
                for ticket in tickets {
                    if let held = holders[ticket], held.agentID == agent.id, held.status != .resolved {
                        await agent.hold(ticket, status: held.status)
                    } else {
                        await agent.forget(ticket)
                    }
                }
            }
        }
        try await enqueueStored(tickets)
        logger.info("agents' tickets read again from the database", metadata: ["tickets": "\(tickets.count)"])
    }

    /// Stops retrying (shutdown).
    public func stopRecovery() async {
        await perform(coordinator.stopRecovery())
    }
}

import Foundation
import SwitchboardCore
import SwitchboardStore

/// The rebuild's read of every open ticket's clocks: streamed from the store in chunks, each ticket
/// packed into `SLADormantTimers` and its next deadline handed to the scheduler, so the timers fire
/// as before while no actor exists for a ticket until it needs one.
extension SLAEngine {
    func restoreStored(from store: SLAStore) async throws {
        // Again after a failed attempt: what that attempt made into actors stays (it may have moved
        // on since), the rest is read anew.
        state.withLock { $0.dormant.removeAll() }
        let specs = try await store.policySpecs()
        try await store.streamOpen { [self] chunk in try restoreDormant(chunk, specs: specs) }
    }

    private func restoreDormant(_ stored: [StoredSLA], specs: [Int64: String]) throws {
        // Versions no longer configured, as `restore` loads them: decoded once, from the texts read first.
        let missing = Set(stored.map(\.policyID)).filter { id in state.withLock { $0.versions[id] == nil } }
        var decoded: [Int64: SLAPolicy] = [:]
        for id in missing {
            if let spec = specs[id] { decoded[id] = try SLAPolicy.decode(canonicalJSON: spec) }
        }
        let versions = state.withLock { state in
            for (id, policy) in decoded where state.versions[id] == nil { state.versions[id] = SLAPolicyVersion(id: id, policy: policy) }
            return state.versions
        }
        let now = clock.now
        // The clock arithmetic (business calendars) outside the lock.
        var prepared: [(sla: StoredSLA, version: SLAPolicyVersion, startedAt: Date, next: Date?)] = []
        prepared.reserveCapacity(stored.count)
        for sla in stored {
            guard let version = versions[sla.policyID] else {
                logger.error("a ticket's SLA policy version is missing; its clocks are not watched", metadata: ["ticket": "\(sla.ticketID)", "policy_id": "\(sla.policyID)"])
                continue
            }
            let next = SLAStateMachine(targets: version.policy.targets, snapshot: sla.snapshot).nextDeadline
            prepared.append((sla, version, sla.snapshot.clocks.map(\.startedAt).min() ?? now, next))
        }
        var due: [SLAScheduler.Entry] = []
        state.withLock { state in
            for item in prepared {
                let id = item.sla.ticketID
                // A timer made in an earlier attempt of this rebuild holds newer state.
                guard state.timers[id] == nil else { continue }
                if !state.dormant.append(id, version: item.version, startedAt: item.startedAt, snapshot: item.sla.snapshot) {
                    state.timers[id] = SLATimer(ticketID: id, version: item.version, startedAt: item.startedAt, snapshot: item.sla.snapshot, scheduled: true)
                }
                if let next = item.next { due.append(SLAScheduler.Entry(deadline: next, ticketID: id)) }
            }
        }
        scheduler.schedule(due)
    }
}

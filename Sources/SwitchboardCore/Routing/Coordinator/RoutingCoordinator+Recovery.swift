import Foundation

/// Work routing owes the database after it refused a change (it was down, or a connection broke):
/// done again with back-off (0.2 s doubling up to 10 s) until it succeeds.
extension RoutingCoordinator {
    /// One batch of owed work.
    public struct RecoveryWork: Sendable, Equatable {
        /// Some committed ticket may not have been routed: route every unrouted one.
        public var routeUnrouted = false
        /// Tickets whose holder in the agents' memory, and whose place in a queue, must be read again
        /// (a change may or may not have committed).
        public var reconcile: Set<Int64> = []
        /// Agents who left and whose tickets are not all back in their queues yet, with the reason.
        public var handBack: [String: String] = [:]

        public init(routeUnrouted: Bool = false, reconcile: Set<Int64> = [], handBack: [String: String] = [:]) {
            self.routeUnrouted = routeUnrouted
            self.reconcile = reconcile
            self.handBack = handBack
        }

        public var isEmpty: Bool { !routeUnrouted && reconcile.isEmpty && handBack.isEmpty }

        mutating func merge(_ other: RecoveryWork) {
            routeUnrouted = routeUnrouted || other.routeUnrouted
            reconcile.formUnion(other.reconcile)
            handBack.merge(other.handBack) { current, _ in current }
        }
    }

    struct RecoveryState: Sendable {
        var owed = RecoveryWork()
        /// A batch is being done, or waits for its retry timer.
        var running = false
        var stopped = false
        var delay: TimeInterval = RoutingCoordinator.firstRecoveryDelay
    }

    static let firstRecoveryDelay: TimeInterval = 0.2
    static let longestRecoveryDelay: TimeInterval = 10

    /// The database refused some work: it is owed, and done now unless a batch is under way (that
    /// batch's end picks it up).
    public mutating func recoveryNeeded(_ work: RecoveryWork) -> [Action] {
        recovery.owed.merge(work)
        guard !recovery.running, !recovery.stopped, !recovery.owed.isEmpty else { return [] }
        recovery.running = true
        return [.recover(takeOwed())]
    }

    /// A batch ended; `unfinished` is what of it failed (empty: all done). Failed work waits for
    /// the retry timer, each failure in a row waiting twice as long.
    public mutating func recoveryFinished(unfinished: RecoveryWork, now: Date) -> [Action] {
        recovery.owed.merge(unfinished)
        if unfinished.isEmpty { recovery.delay = Self.firstRecoveryDelay }
        if recovery.stopped || recovery.owed.isEmpty {
            recovery.running = false
            return []
        }
        if unfinished.isEmpty { return [.recover(takeOwed())] }
        let delay = recovery.delay
        recovery.delay = min(delay * 2, Self.longestRecoveryDelay)
        return [.schedule(.recovery, at: now.addingTimeInterval(delay))]
    }

    /// How long the next retry waits after a failure (for the log).
    public var recoveryDelay: TimeInterval { recovery.delay }

    /// What is still owed (for the log and the tests).
    public var owedRecovery: RecoveryWork { recovery.owed }

    mutating func recoveryDue() -> [Action] {
        guard recovery.running, !recovery.stopped, !recovery.owed.isEmpty else {
            recovery.running = false
            return []
        }
        return [.recover(takeOwed())]
    }

    /// Shutdown: no more retries.
    public mutating func stopRecovery() -> [Action] {
        recovery.stopped = true
        return [.cancel(.recovery)]
    }

    private mutating func takeOwed() -> RecoveryWork {
        defer { recovery.owed = RecoveryWork() }
        return recovery.owed
    }
}

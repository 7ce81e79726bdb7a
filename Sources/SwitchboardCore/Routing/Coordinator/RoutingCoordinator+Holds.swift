import Foundation

/// Pausing a queue and draining the daemon: a queue assigns nothing while either holds it.
extension RoutingCoordinator {
    public func isHeld(_ queue: String) -> Bool { isDraining || pausedQueues.contains(queue) }

    public enum PauseStep: Sendable, Equatable {
        case unknownQueue
        case unchanged
        /// Store the change, then call `pauseStored` (or `pauseNotStored` if the database refused it).
        case store
    }

    /// The queues stored as paused, read at start.
    public mutating func pausedQueuesLoaded(_ queues: Set<String>) {
        pausedQueues = queues
    }

    /// A supervisor pauses or resumes a queue. Taken as done at once, so a second request while
    /// this one is stored finds it unchanged.
    public mutating func pause(_ queue: String, _ paused: Bool) -> PauseStep {
        guard queueNames.contains(queue) else { return .unknownQueue }
        guard paused != pausedQueues.contains(queue) else { return .unchanged }
        if paused { pausedQueues.insert(queue) } else { pausedQueues.remove(queue) }
        return .store
    }

    public func pauseStored(_ queue: String) -> [Action] {
        [.holdQueue(queue, isHeld(queue))]
    }

    /// The database refused the change: as it was before.
    public mutating func pauseNotStored(_ queue: String, _ paused: Bool) {
        if paused { pausedQueues.remove(queue) } else { pausedQueues.insert(queue) }
    }

    /// The daemon drains (no new assignments anywhere) or stops draining. Nil: it already did.
    public mutating func drain(_ draining: Bool) -> [Action]? {
        guard draining != isDraining else { return nil }
        isDraining = draining
        return queueNames.sorted().map { .holdQueue($0, isHeld($0)) }
    }
}

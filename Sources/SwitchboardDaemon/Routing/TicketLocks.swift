import Synchronization

/// One lock per ticket for changes to who holds it. Whoever changes a ticket's assignee or status
/// in PostgreSQL and then tells the agents' actors does both under the ticket's lock, so the actors
/// hear of a ticket's changes in the order the database committed them. Without it a resolve that
/// commits first but reaches the agent's actor last (actors are reentrant; each step awaits) would
/// drop a ticket that was meanwhile reopened and given back to the same agent, and the agent's
/// load in memory would no longer be the database's (issue #16).
///
/// Rules that keep it free of deadlocks: several tickets are locked in ascending order, and a holder
/// awaits only the database and actor methods that never wait for a lock or a matching round.
public final class TicketLocks: Sendable {
    private struct State {
        /// Locked tickets, with the callers waiting for each in arrival order.
        var held: [Int64: [CheckedContinuation<Void, Never>]] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Runs `body` holding the locks of `tickets` (duplicates allowed), taken in ascending order.
    /// Runs on the caller's actor (`isolation`), so `body` may use the caller's state.
    public func withLocks<T>(_ tickets: some Sequence<Int64>, isolation: isolated (any Actor)? = #isolation,
                             _ body: () async throws -> T) async rethrows -> T {
        let ordered = Array(Set(tickets)).sorted()
        for ticket in ordered { await lock(ticket) }
        defer { ordered.forEach(unlock) }
        return try await body()
    }

    /// Whether anyone holds or waits for a ticket's lock (for tests).
    public var lockedCount: Int { state.withLock { $0.held.count } }

    private func lock(_ ticket: Int64) async {
        await withCheckedContinuation { continuation in
            let acquired = state.withLock { state -> Bool in
                if state.held[ticket] == nil {
                    state.held[ticket] = []
                    return true
                }
                state.held[ticket]?.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    /// Hands the lock to the next waiter, or frees it.
    private func unlock(_ ticket: Int64) {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard var waiters = state.held[ticket] else {
                preconditionFailure("ticket \(ticket) unlocked without being locked")
            }
            if waiters.isEmpty {
                state.held.removeValue(forKey: ticket)
                return nil
            }
            let next = waiters.removeFirst()
            state.held[ticket] = waiters
            return next
        }
        next?.resume()
    }
}

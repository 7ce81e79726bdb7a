import Synchronization

/// The readiness barrier: the daemon is ready (READY=1, `/readyz` 200) only when the database is up,
/// migrations are at head and every listener is bound. Services that need a condition wait for it
/// (`wait(for:)`): that is how the service group starts them in order.
public final class Readiness: Sendable {
    public enum Condition: String, Sendable, CaseIterable {
        case database
        case migrations
        case httpListener = "http listener"
        /// SLA timers, agents, queues, assignments and timers rebuilt from the database — or, on a
        /// standby, known to be the leader's work.
        case routing
        /// The control socket is listening.
        case control = "control socket"
        /// This instance holds the lease: the leader's work may start. Not needed to be ready: a
        /// standby is ready too (it takes webhooks).
        case leading
    }

    private struct Waiter {
        var conditions: Set<Condition>
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var met: Set<Condition> = []
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
        var httpAddress: String?
    }

    private let state = Mutex(State())
    private let required: Set<Condition>

    public init(required: Set<Condition> = Set(Condition.allCases).subtracting([.leading])) {
        self.required = required
    }

    public func mark(_ condition: Condition) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.met.insert(condition)
            let met = state.met
            let done = state.waiters.filter { $0.value.conditions.isSubset(of: met) }
            for id in done.keys { state.waiters.removeValue(forKey: id) }
            return done.values.map(\.continuation)
        }
        ready.forEach { $0.resume() }
    }

    public var isReady: Bool { state.withLock { required.isSubset(of: $0.met) } }

    /// The conditions not met yet, for `/readyz` and STATUS=.
    public var missing: [Condition] {
        state.withLock { state in Condition.allCases.filter { required.contains($0) && !state.met.contains($0) } }
    }

    /// The address the HTTP server is bound to, once it is.
    public var httpAddress: String? {
        get { state.withLock { $0.httpAddress } }
        set { state.withLock { $0.httpAddress = newValue } }
    }

    /// Returns once every required condition is met; throws `CancellationError` if cancelled first.
    public func waitUntilReady() async throws {
        try await wait(for: required)
    }

    /// Returns once these conditions are met; throws `CancellationError` if cancelled first (a
    /// shutdown while a service waits to start).
    public func wait(for conditions: Set<Condition>) async throws {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now = state.withLock { state -> Result<Void, any Error>? in
                    if conditions.isSubset(of: state.met) { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = Waiter(conditions: conditions, continuation: continuation)
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }
}

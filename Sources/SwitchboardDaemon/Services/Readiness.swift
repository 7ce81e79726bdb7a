import Synchronization

/// The readiness barrier: the daemon is ready (READY=1, `/readyz` 200) only when the database is up,
/// migrations are at head and every listener is bound. Later capabilities add their own conditions.
public final class Readiness: Sendable {
    public enum Condition: String, Sendable, CaseIterable {
        case database
        case migrations
        case httpListener = "http listener"
        /// SLA timers, agents, queues, assignments and timers rebuilt from the database.
        case routing
        /// The control socket is listening.
        case control = "control socket"
    }

    private struct State {
        var met: Set<Condition> = []
        var waiters: [CheckedContinuation<Void, Never>] = []
        var httpAddress: String?
    }

    private let state = Mutex(State())
    private let required: Set<Condition>

    public init(required: Set<Condition> = Set(Condition.allCases)) {
        self.required = required
    }

    public func mark(_ condition: Condition) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.met.insert(condition)
            guard required.isSubset(of: state.met) else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
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

    public func waitUntilReady() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if required.isSubset(of: state.met) { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}

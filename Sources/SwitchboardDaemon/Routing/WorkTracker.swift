import Synchronization

/// Follow-up work that routing starts without waiting for it (a queue poking another queue must not
/// wait for it, or two rounds could wait for each other). Counted, so that tests, the simulator and
/// shutdown can wait until everything started has finished.
public final class WorkTracker: Sendable {
    private struct State {
        var running = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    public func spawn(_ work: @escaping @Sendable () async -> Void) {
        state.withLock { $0.running += 1 }
        Task {
            await work()
            self.finished()
        }
    }

    private func finished() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.running -= 1
            guard state.running == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns when no spawned work is running (work spawned by work counts too).
    public func idle() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.running == 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}

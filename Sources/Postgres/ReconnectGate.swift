import Synchronization

/// Shared back-off for (re)connecting to one server.
///
/// After a failed attempt, callers fail fast with `serverUnreachable` until the back-off ends, instead of
/// each waiting out its own connect timeout.
final class ReconnectGate: Sendable {
    private struct State {
        var consecutiveFailures = 0
        var retryAt: ContinuousClock.Instant?
        var lastError = ""
    }

    private let state = Mutex(State())
    let initialDelay: Duration
    let maximumDelay: Duration

    init(initialDelay: Duration = .milliseconds(100), maximumDelay: Duration = .seconds(2)) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// Throws `serverUnreachable` while a back-off is in force.
    func checkAttemptAllowed(now: ContinuousClock.Instant = .now) throws(PostgresError) {
        let refusal: PostgresError? = state.withLock { state in
            guard let retryAt = state.retryAt, now < retryAt else { return nil }
            let remaining = now.duration(to: retryAt)
            return .serverUnreachable(lastError: state.lastError, retryInMilliseconds: Int(remaining.milliseconds))
        }
        if let refusal { throw refusal }
    }

    func recordFailure(_ message: String, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            state.consecutiveFailures += 1
            var delay = initialDelay
            for _ in 1..<min(state.consecutiveFailures, 16) { delay *= 2 }
            delay = min(delay, maximumDelay)
            // Up to 20 % jitter so that many daemons do not reconnect in step.
            let jitter = Double.random(in: 0...0.2)
            state.retryAt = now + delay + delay * jitter
            state.lastError = message
        }
    }

    func recordSuccess() {
        state.withLock { state in
            state.consecutiveFailures = 0
            state.retryAt = nil
        }
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

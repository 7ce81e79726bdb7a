import Foundation

/// How failed sends are retried: exponential back-off with jitter, up to a number of attempts.
///
/// Jitter spreads the retries of many messages that failed together (an outage at Meta) so they do
/// not return as one wave. The random part is an input, so the policy is a pure function.
public struct RetryPolicy: Sendable, Equatable {
    /// The delay before the second attempt; each further attempt doubles it.
    public var baseDelay: TimeInterval
    /// No delay exceeds this.
    public var maxDelay: TimeInterval
    /// Attempts in all, the first included; after the last, the message is failed.
    public var maxAttempts: Int

    public init(baseDelay: TimeInterval, maxDelay: TimeInterval, maxAttempts: Int) {
        precondition(baseDelay > 0 && maxDelay >= baseDelay && maxAttempts >= 1, "invalid retry policy")
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
    }

    /// The delay after attempt number `attempt` (1 for the first) failed: half of the exponential
    /// delay is fixed, the other half is scaled by `jitter` in 0...1 ("equal jitter").
    public func delay(afterAttempt attempt: Int, jitter: Double) -> TimeInterval {
        precondition(attempt >= 1, "attempts count from 1")
        let exponent = Double(min(attempt - 1, 60))
        let full = min(maxDelay, baseDelay * pow(2, exponent))
        let unit = min(max(jitter, 0), 1)
        return full / 2 + full / 2 * unit
    }
}

import Foundation

/// What the sender does after a send failed: the decision, apart from the doing.
public enum SendFailureAction: Sendable, Equatable {
    /// Try this message again after the delay.
    case retry(after: TimeInterval)
    /// Wait before anything more goes to this customer, then retry this message.
    case throttleCustomer(for: TimeInterval)
    /// Wait before anything more goes through this number, then retry this message.
    case throttleNumber(for: TimeInterval)
    /// Stop sending through this number until a person acts; the message stays queued.
    case suspendNumber
    /// Mark the message failed for good.
    case fail
}

public enum SendFailurePolicy {
    /// Decides what follows failure `failure` of attempt number `attempt` (1 for the first).
    /// Throttling counts as an attempt too, so a message that can never get through ends failed
    /// instead of circling forever.
    public static func action(for failure: SendFailure, attempt: Int, policy: RetryPolicy, jitter: Double) -> SendFailureAction {
        switch failure {
        case .permanent:
            return .fail
        case .sendingBlocked:
            return .suspendNumber
        case .transient, .numberThrottled, .customerThrottled:
            guard attempt < policy.maxAttempts else { return .fail }
            let delay = policy.delay(afterAttempt: attempt, jitter: jitter)
            switch failure {
            case .numberThrottled: return .throttleNumber(for: delay)
            case .customerThrottled: return .throttleCustomer(for: delay)
            default: return .retry(after: delay)
            }
        }
    }
}

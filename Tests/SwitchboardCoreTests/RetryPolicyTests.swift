import SwitchboardCore
import Testing

@Suite("Retry back-off and what each send failure leads to")
struct RetryPolicyTests {
    let policy = RetryPolicy(baseDelay: 2, maxDelay: 60, maxAttempts: 5)

    @Test func delaysDoubleWithinTheJitterBand() {
        for attempt in 1...8 {
            let full = min(60, 2 * Double(1 << (attempt - 1)))
            #expect(policy.delay(afterAttempt: attempt, jitter: 0) == full / 2)
            #expect(policy.delay(afterAttempt: attempt, jitter: 1) == full)
            let middle = policy.delay(afterAttempt: attempt, jitter: 0.5)
            #expect(middle > full / 2 && middle < full)
        }
    }

    @Test func outOfRangeJitterIsClamped() {
        #expect(policy.delay(afterAttempt: 1, jitter: -3) == 1)
        #expect(policy.delay(afterAttempt: 1, jitter: 7) == 2)
        #expect(policy.delay(afterAttempt: 10_000, jitter: 1) == 60)
    }

    @Test func permanentFailuresFailAtOnce() {
        #expect(SendFailurePolicy.action(for: .permanent, attempt: 1, policy: policy, jitter: 0.5) == .fail)
    }

    @Test func aBlockedNumberIsSuspendedWhateverTheAttempt() {
        for attempt in 1...7 {
            #expect(SendFailurePolicy.action(for: .sendingBlocked, attempt: attempt, policy: policy, jitter: 0.5) == .suspendNumber)
        }
    }

    @Test(arguments: [SendFailure.transient, .numberThrottled, .customerThrottled])
    func retryableFailuresRetryUntilTheLastAttempt(failure: SendFailure) {
        for attempt in 1..<5 {
            let delay = policy.delay(afterAttempt: attempt, jitter: 0.25)
            let expected: SendFailureAction = switch failure {
            case .numberThrottled: .throttleNumber(for: delay)
            case .customerThrottled: .throttleCustomer(for: delay)
            default: .retry(after: delay)
            }
            #expect(SendFailurePolicy.action(for: failure, attempt: attempt, policy: policy, jitter: 0.25) == expected)
        }
        #expect(SendFailurePolicy.action(for: failure, attempt: 5, policy: policy, jitter: 0.25) == .fail)
    }
}

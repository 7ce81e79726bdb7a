import Foundation

/// Wakes one waiting loop: a `signal()` while nobody waits is kept (one, not counted), so a wake-up
/// is never lost between deciding to wait and waiting.
struct WakeSignal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func signal() {
        continuation.yield()
    }

    /// The waiting side; one loop owns it.
    func makeWaiter() -> Waiter {
        Waiter(iterator: stream.makeAsyncIterator(), continuation: continuation)
    }

    struct Waiter {
        fileprivate var iterator: AsyncStream<Void>.Iterator
        fileprivate let continuation: AsyncStream<Void>.Continuation

        /// Returns at a signal, at `deadline`, or when the task is cancelled.
        nonisolated(nonsending) mutating func wait(until deadline: Date?) async {
            var timer: Task<Void, Never>?
            if let deadline {
                let continuation = continuation
                let delay = max(0, deadline.timeIntervalSinceNow)
                timer = Task {
                    guard (try? await Task.sleep(for: .milliseconds(Int64((delay * 1000).rounded(.up))))) != nil else { return }
                    continuation.yield()
                }
            }
            _ = await iterator.next(isolation: #isolation)
            timer?.cancel()
        }
    }
}

import DequeModule
import Synchronization

/// Follow-up work run at most `limit` at a time, in the order it came, counted by a `WorkTracker`
/// (whose `idle()` returns once the queue is empty). For work that each item does through the
/// database: a burst must wait its turn, not take every pooled connection. After a long outage the
/// late SLA alerts, each acted on at once, held the pool until the acquire timeout failed the
/// escalations behind them ("no database connection free after 5000 ms").
public final class BoundedWork: Sendable {
    public typealias Work = @Sendable () async -> Void

    private struct State {
        var pending = Deque<Work>()
        var running = 0
    }

    private let state = Mutex(State())
    private let tracker: WorkTracker
    public let limit: Int

    public init(limit: Int, tracker: WorkTracker) {
        precondition(limit >= 1, "at least one item runs at a time")
        self.limit = limit
        self.tracker = tracker
    }

    public func spawn(_ work: @escaping Work) {
        let startsRunner = state.withLock { state -> Bool in
            state.pending.append(work)
            guard state.running < limit else { return false }
            state.running += 1
            return true
        }
        if startsRunner { tracker.spawn { await self.drain() } }
    }

    /// Runs queued work until none is left; a runner that finds the queue empty ends under the
    /// lock, so work queued after that starts a runner of its own.
    private func drain() async {
        while let next = state.withLock({ state -> Work? in
            if let next = state.pending.popFirst() { return next }
            state.running -= 1
            return nil
        }) {
            await next()
        }
    }

    /// Items waiting for a runner.
    public var waiting: Int { state.withLock { $0.pending.count } }
}

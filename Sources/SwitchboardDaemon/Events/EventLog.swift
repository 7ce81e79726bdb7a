import DequeModule
import Foundation
import Synchronization

/// The recent events, numbered, for followers that must not miss any: the agents' event stream
/// resumes after a disconnect from the last number it saw (`Last-Event-ID`). Bounded by count and
/// age; a follower asking for an event older than what is kept is told so (it reloads instead).
public final class EventLog: Sendable {
    /// One numbered event.
    public struct Entry: Sendable, Equatable {
        public var sequence: UInt64
        public var event: DaemonEvent
    }

    /// Where a resuming follower starts.
    public enum Resume: Sendable, Equatable {
        /// These were kept and follow the one it saw.
        case replay([Entry])
        /// Events it did not see are no longer kept (or came from an earlier run of the daemon).
        case gap
    }

    private struct State {
        var kept: Deque<Entry> = []
        var next: UInt64 = 1
        var followers: [Int: AsyncStream<Entry>.Continuation] = [:]
        var nextFollower = 0
        var closed = false
    }

    private let state = Mutex(State())
    private let capacity: Int
    private let maxAge: TimeInterval
    private let bufferPerFollower: Int
    /// Tells this run's numbers from an earlier run's (the sequence starts again at 1).
    public let runID: String

    public init(capacity: Int = 10_000, maxAge: TimeInterval = 900, bufferPerFollower: Int = 1000, runID: String = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)) {
        precondition(capacity > 0 && bufferPerFollower > 0, "the log keeps at least one event")
        self.capacity = capacity
        self.maxAge = maxAge
        self.bufferPerFollower = bufferPerFollower
        self.runID = runID
    }

    /// Numbers the event, keeps it, and hands it to every follower.
    @discardableResult
    public func append(_ event: DaemonEvent) -> Entry {
        let (entry, followers) = state.withLock { state -> (Entry, [AsyncStream<Entry>.Continuation]) in
            let entry = Entry(sequence: state.next, event: event)
            state.next += 1
            state.kept.append(entry)
            while state.kept.count > capacity { state.kept.removeFirst() }
            while let first = state.kept.first, event.at.timeIntervalSince(first.event.at) > maxAge { state.kept.removeFirst() }
            return (entry, Array(state.followers.values))
        }
        for follower in followers { follower.yield(entry) }
        return entry
    }

    /// Follows from now on; with `after`, first what was kept after that number (atomically: no
    /// event is both replayed and followed, none falls between).
    public func follow(after: UInt64?) -> (resume: Resume, live: AsyncStream<Entry>) {
        let (stream, continuation) = AsyncStream.makeStream(of: Entry.self, bufferingPolicy: .bufferingNewest(bufferPerFollower))
        let (resume, id) = state.withLock { state -> (Resume, Int) in
            if state.closed {
                continuation.finish()
                return (.replay([]), 0)
            }
            state.nextFollower += 1
            state.followers[state.nextFollower] = continuation
            guard let after else { return (.replay([]), state.nextFollower) }
            if after + 1 >= state.next { return (after < state.next ? .replay([]) : .gap, state.nextFollower) }
            guard let first = state.kept.first, first.sequence <= after + 1 else { return (.gap, state.nextFollower) }
            return (.replay(state.kept.filter { $0.sequence > after }), state.nextFollower)
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.followers.removeValue(forKey: id) }
        }
        return (resume, stream)
    }

    public var followerCount: Int { state.withLock { $0.followers.count } }

    /// Ends every follower's stream, and any started later (the daemon is stopping).
    public func close() {
        let followers = state.withLock { state -> [AsyncStream<Entry>.Continuation] in
            state.closed = true
            defer { state.followers = [:] }
            return Array(state.followers.values)
        }
        for follower in followers { follower.finish() }
    }
}

import DequeModule
import Foundation
import Synchronization

/// The recent events, numbered, for followers that must not miss any: the agents' event stream
/// resumes after a disconnect from the last number it saw (`Last-Event-ID`). Bounded by count and
/// age; a follower asking for an event older than what is kept is told so (it reloads instead).
///
/// Each follower says what it may see (`Scope`), and an event is handed only to the followers it
/// concerns, found through indexes by agent and queue: with 1,000 agents connected, an assignment
/// wakes its agent's stream, not a thousand streams that would each throw it away.
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

    /// What a follower may see: the events that name its agent (as the ticket's agent or in the
    /// audience), events of its queues (nil: every queue), and presence (its own, or everyone's);
    /// `admits` is the exact decision, asked only of the followers the indexes found.
    public struct Scope: Sendable {
        public var agentID: String?
        public var queues: Set<String>?
        public var everyonesPresence: Bool
        public var admits: @Sendable (DaemonEvent) -> Bool

        public init(agentID: String?, queues: Set<String>?, everyonesPresence: Bool, admits: @escaping @Sendable (DaemonEvent) -> Bool) {
            self.agentID = agentID
            self.queues = queues
            self.everyonesPresence = everyonesPresence
            self.admits = admits
        }
    }

    private struct Follower {
        var continuation: AsyncStream<Entry>.Continuation
        var scope: Scope
    }

    private struct State {
        var kept: Deque<Entry> = []
        var next: UInt64 = 1
        var followers: [Int: Follower] = [:]
        var everything: Set<Int> = []
        var byAgent: [String: Set<Int>] = [:]
        var byQueue: [String: Set<Int>] = [:]
        var presenceWatchers: Set<Int> = []
        var nextFollower = 0
        var closed = false

        mutating func add(_ id: Int, _ follower: Follower) {
            followers[id] = follower
            if let agent = follower.scope.agentID { byAgent[agent, default: []].insert(id) }
            if let queues = follower.scope.queues {
                for queue in queues { byQueue[queue, default: []].insert(id) }
            } else {
                everything.insert(id)
            }
            if follower.scope.everyonesPresence { presenceWatchers.insert(id) }
        }

        mutating func remove(_ id: Int) {
            guard let follower = followers.removeValue(forKey: id) else { return }
            if let agent = follower.scope.agentID { byAgent[agent]?.remove(id) }
            for queue in follower.scope.queues ?? [] { byQueue[queue]?.remove(id) }
            everything.remove(id)
            presenceWatchers.remove(id)
        }

        /// The followers an event may concern (each still asked `admits`).
        func candidates(for event: DaemonEvent) -> Set<Int> {
            var found = everything
            if let agent = event.agent, let ids = byAgent[agent] { found.formUnion(ids) }
            for agent in event.audience { if let ids = byAgent[agent] { found.formUnion(ids) } }
            if let queue = event.queue, let ids = byQueue[queue] { found.formUnion(ids) }
            if event.kind.isAboutAnAgent { found.formUnion(presenceWatchers) }
            return found
        }
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

    /// Numbers the event, keeps it, and hands it to the followers it concerns.
    @discardableResult
    public func append(_ event: DaemonEvent) -> Entry {
        let (entry, recipients) = state.withLock { state -> (Entry, [Follower]) in
            let entry = Entry(sequence: state.next, event: event)
            state.next += 1
            state.kept.append(entry)
            while state.kept.count > capacity { state.kept.removeFirst() }
            while let first = state.kept.first, event.at.timeIntervalSince(first.event.at) > maxAge { state.kept.removeFirst() }
            return (entry, state.candidates(for: event).compactMap { state.followers[$0] })
        }
        for follower in recipients where follower.scope.admits(event) { follower.continuation.yield(entry) }
        return entry
    }

    /// Follows from now on; with `after`, first what was kept after that number that the scope
    /// admits (atomically: no event is both replayed and followed, none falls between).
    public func follow(after: UInt64?, scope: Scope) -> (resume: Resume, live: AsyncStream<Entry>) {
        let (stream, continuation) = AsyncStream.makeStream(of: Entry.self, bufferingPolicy: .bufferingNewest(bufferPerFollower))
        let (resume, id) = state.withLock { state -> (Resume, Int?) in
            if state.closed {
                continuation.finish()
                return (.replay([]), nil)
            }
            state.nextFollower += 1
            state.add(state.nextFollower, Follower(continuation: continuation, scope: scope))
            guard let after else { return (.replay([]), state.nextFollower) }
            if after + 1 >= state.next { return (after < state.next ? .replay([]) : .gap, state.nextFollower) }
            guard let first = state.kept.first, first.sequence <= after + 1 else { return (.gap, state.nextFollower) }
            return (.replay(state.kept.filter { $0.sequence > after && scope.admits($0.event) }), state.nextFollower)
        }
        if let id {
            continuation.onTermination = { [weak self] _ in
                self?.state.withLock { $0.remove(id) }
            }
        }
        return (resume, stream)
    }

    public var followerCount: Int { state.withLock { $0.followers.count } }

    /// Ends every follower's stream, and any started later (the daemon is stopping).
    public func close() {
        let followers = state.withLock { state -> [AsyncStream<Entry>.Continuation] in
            state.closed = true
            defer {
                for id in Array(state.followers.keys) { state.remove(id) }
            }
            return state.followers.values.map(\.continuation)
        }
        for follower in followers { follower.finish() }
    }
}

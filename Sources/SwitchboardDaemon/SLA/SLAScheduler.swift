import Foundation
import HeapModule
import Synchronization

/// Wakes SLA timers at their deadlines: one min-heap of (deadline, ticket) and one timer armed for
/// the earliest entry, not a sleeping task per ticket. A timer that moves its deadline earlier adds
/// an entry; entries it no longer needs stay and wake it harmlessly (a timer fired early does nothing).
public final class SLAScheduler: Sendable {
    public struct Entry: Comparable, Sendable {
        public var deadline: Date
        public var ticketID: Int64

        public static func < (a: Entry, b: Entry) -> Bool { (a.deadline, a.ticketID) < (b.deadline, b.ticketID) }
    }

    private struct State {
        var heap = Heap<Entry>()
        /// The deadline the wake-up timer is set for.
        var armedFor: Date?
    }

    private let state = Mutex(State())
    private let timers: any RoutingTimers
    private let key: TimerKey
    private let due: @Sendable ([Entry]) async -> Void

    /// - Parameter due: called with the entries whose deadline has come, in deadline order.
    public init(timers: any RoutingTimers, key: TimerKey = .slaWake, due: @escaping @Sendable ([Entry]) async -> Void) {
        self.timers = timers
        self.key = key
        self.due = due
    }

    public func schedule(_ ticketID: Int64, at deadline: Date) {
        state.withLock { state in
            state.heap.insert(Entry(deadline: deadline, ticketID: ticketID))
            guard state.armedFor.map({ deadline < $0 }) ?? true else { return }
            arm(&state, at: deadline)
        }
    }

    /// Many entries at once (a rebuild): one lock, one heap insertion.
    public func schedule(_ entries: [Entry]) {
        guard let earliest = entries.min() else { return }
        state.withLock { state in
            state.heap.insert(contentsOf: entries)
            guard state.armedFor.map({ earliest.deadline < $0 }) ?? true else { return }
            arm(&state, at: earliest.deadline)
        }
    }

    /// Sets the one wake-up timer, under the lock: the timer armed last is always the one
    /// `armedFor` names (armed outside the lock, a later wake-up could replace an earlier one).
    private func arm(_ state: inout State, at deadline: Date?) {
        state.armedFor = deadline
        timers.schedule(key, at: deadline) { [weak self] in await self?.wake() }
    }

    /// Entries waiting (stale ones included).
    public var count: Int { state.withLock { $0.heap.count } }

    /// Fires every entry due now, then arms for the next one.
    public func wake() async {
        let now = timers.now
        let entries = state.withLock { state -> [Entry] in
            var entries: [Entry] = []
            while let top = state.heap.min, top.deadline <= now { entries.append(state.heap.removeMin()) }
            arm(&state, at: state.heap.min?.deadline)
            return entries
        }
        if !entries.isEmpty { await due(entries) }
    }
}

import Foundation
import Synchronization
import SwitchboardCore

/// A clock that moves only when told: the simulator replays a day in seconds with it, and the tests
/// put a step timeout or a grace period exactly where they want it.
public final class VirtualTimers: RoutingTimers {
    private struct Timer {
        var deadline: Date
        var sequence: Int
        var fire: @Sendable () async -> Void
    }

    private struct State {
        var now: Date
        var timers: [TimerKey: Timer] = [:]
        var sequence = 0
    }

    private let state: Mutex<State>

    public init(start: Date) {
        state = Mutex(State(now: start))
    }

    public var now: Date { state.withLock { $0.now } }

    public func schedule(_ key: TimerKey, at deadline: Date?, fire: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            guard let deadline else {
                state.timers.removeValue(forKey: key)
                return
            }
            state.sequence += 1
            state.timers[key] = Timer(deadline: deadline, sequence: state.sequence, fire: fire)
        }
    }

    public func cancelAll() {
        state.withLock { $0.timers = [:] }
    }

    /// The earliest pending deadline.
    public var nextDeadline: Date? { state.withLock { $0.timers.values.map(\.deadline).min() } }

    /// Moves time to `date`, firing every timer due on the way in deadline order (each awaited, with
    /// the clock at its deadline), timers they schedule included.
    public func advance(to date: Date) async {
        while true {
            let due = state.withLock { state -> (TimerKey, Timer)? in
                guard let next = state.timers.filter({ $0.value.deadline <= date })
                    .min(by: { ($0.value.deadline, $0.value.sequence) < ($1.value.deadline, $1.value.sequence) }) else { return nil }
                state.timers.removeValue(forKey: next.key)
                state.now = max(state.now, next.value.deadline)
                return next
            }
            guard let (_, timer) = due else { break }
            await timer.fire()
        }
        state.withLock { $0.now = max($0.now, date) }
    }
}

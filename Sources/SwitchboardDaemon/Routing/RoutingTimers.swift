import Foundation
import Synchronization
import SwitchboardCore

/// What a timer is for: one timer per key, scheduling a key again replaces its timer.
public enum TimerKey: Hashable, Sendable {
    /// A timer the routing coordinator set (presence grace, acceptance deadline, recovery retry).
    case routing(RoutingCoordinator.Timer)
    /// A queue's next round (a routing step's timeout, a retry after a failed commit).
    case queueRound(queue: String)
    /// An agent using the API without the event stream has been silent long enough to be set away.
    case apiSilence(agentID: String)
    /// The SLA scheduler's one wake-up.
    case slaWake
    /// Automation's sweep: triage deadlines and auto-close.
    case automationSweep
}

/// Time for routing: the current instant and keyed one-shot timers. The daemon uses `TaskTimers`;
/// the simulator and the tests use a virtual clock they advance themselves.
public protocol RoutingTimers: Sendable {
    var now: Date { get }
    /// Calls `fire` at `deadline`, replacing any timer with the same key; nil cancels it.
    func schedule(_ key: TimerKey, at deadline: Date?, fire: @escaping @Sendable () async -> Void)
    /// Cancels every timer (shutdown).
    func cancelAll()
}

/// Real time: one sleeping task per key. A timer that has started firing is no longer "the timer
/// for its key": scheduling the key again (as a firing timer often does) does not cancel it midway.
public final class TaskTimers: RoutingTimers {
    private struct Armed {
        var token: UInt64
        var task: Task<Void, Never>
    }

    private struct State {
        var armed: [TimerKey: Armed] = [:]
        var nextToken: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var now: Date { Date() }

    public func schedule(_ key: TimerKey, at deadline: Date?, fire: @escaping @Sendable () async -> Void) {
        let previous = state.withLock { state -> Task<Void, Never>? in
            state.nextToken += 1
            let token = state.nextToken
            let previous = state.armed.removeValue(forKey: key)?.task
            if let deadline {
                let task = Task {
                    let delay = deadline.timeIntervalSinceNow
                    if delay > 0 {
                        do { try await Task.sleep(for: .milliseconds(Int64((delay * 1000).rounded(.up)))) } catch { return }
                    }
                    // Still the key's timer? Then it fires and stops being cancellable by the key.
                    let current = self.state.withLock { state -> Bool in
                        guard state.armed[key]?.token == token else { return false }
                        state.armed.removeValue(forKey: key)
                        return true
                    }
                    if current { await fire() }
                }
                state.armed[key] = Armed(token: token, task: task)
            }
            return previous
        }
        previous?.cancel()
    }

    public func cancelAll() {
        let all = state.withLock { state in
            defer { state.armed = [:] }
            return state.armed.values.map(\.task)
        }
        all.forEach { $0.cancel() }
    }
}

import Foundation
import Synchronization

/// Time for routing: the current instant and keyed one-shot timers. The daemon uses `TaskTimers`;
/// the simulator and the tests use a virtual clock they advance themselves.
public protocol RoutingTimers: Sendable {
    var now: Date { get }
    /// Calls `fire` at `deadline`, replacing any timer with the same key; nil cancels it.
    func schedule(_ key: String, at deadline: Date?, fire: @escaping @Sendable () async -> Void)
    /// Cancels every timer (shutdown).
    func cancelAll()
}

/// Real time: one sleeping task per key.
public final class TaskTimers: RoutingTimers {
    private let tasks = Mutex<[String: Task<Void, Never>]>([:])

    public init() {}

    public var now: Date { Date() }

    public func schedule(_ key: String, at deadline: Date?, fire: @escaping @Sendable () async -> Void) {
        let task = deadline.map { deadline in
            Task {
                let delay = deadline.timeIntervalSinceNow
                if delay > 0 {
                    do { try await Task.sleep(for: .milliseconds(Int64((delay * 1000).rounded(.up)))) } catch { return }
                }
                await fire()
            }
        }
        let previous = tasks.withLock { tasks in
            let previous = tasks[key]
            tasks[key] = task
            return previous
        }
        previous?.cancel()
    }

    public func cancelAll() {
        let all = tasks.withLock { tasks in
            defer { tasks = [:] }
            return Array(tasks.values)
        }
        all.forEach { $0.cancel() }
    }
}

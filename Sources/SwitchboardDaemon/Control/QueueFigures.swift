import Foundation
import SwitchboardStore

/// One queue's live figures, as the control `Status` and the agents' `GET /queues` show them.
public struct QueueFigures: Sendable, Equatable {
    public var name: String
    public var strategy: String
    public var waiting: Int
    /// Seconds the oldest waiting ticket has waited (0 when none waits).
    public var longestWaitSeconds: Double
    public var agentsOnline: Int
    /// Online, not draining, with room for one more ticket.
    public var agentsFree: Int
    /// Open SLA clocks of the queue's tickets already warned or breached.
    public var atRisk: Int
    /// Paused by a supervisor (stored). A daemon-wide drain holds every queue too, but is shown
    /// once, as the daemon's state, not as every queue paused.
    public var paused: Bool

    /// Every queue's figures by name (only the named ones, when given): one pass over the agents,
    /// one hop to each queue, one query for SLA risk.
    public static func collect(router: TicketRouter, store: ControlStore, only: Set<String>? = nil, now: Date = Date()) async throws -> [QueueFigures] {
        let risk = try await store.atRiskByQueue()
        var online: [String: Int] = [:], free: [String: Int] = [:]
        for agent in router.roster.all {
            let (isOnline, hasRoom, queues) = await agent.availability()
            guard isOnline else { continue }
            for queue in queues {
                online[queue, default: 0] += 1
                if hasRoom { free[queue, default: 0] += 1 }
            }
        }
        let paused = await router.pausedQueueNames
        var list: [QueueFigures] = []
        for (name, queue) in await router.queuesByName where only?.contains(name) ?? true {
            let summary = await queue.summary()
            list.append(QueueFigures(name: name, strategy: await queue.strategy.rawValue, waiting: summary.waiting,
                                     longestWaitSeconds: summary.oldestWaitingSince.map { max(0, now.timeIntervalSince($0)) } ?? 0,
                                     agentsOnline: online[name] ?? 0, agentsFree: free[name] ?? 0, atRisk: risk[name] ?? 0, paused: paused.contains(name)))
        }
        return list
    }
}

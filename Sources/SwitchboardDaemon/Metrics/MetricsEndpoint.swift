import Foundation
import Hummingbird
import NIOCore
import Postgres

/// `GET /metrics`: reads the figures that are states rather than events (queue depths, agents by
/// presence, the database pool, open event streams), then answers in Prometheus' text format.
public struct MetricsEndpoint: Sendable {
    let metrics: SwitchboardMetrics
    let router: TicketRouter
    let pool: PostgresPool
    let eventLog: EventLog?
    let database: (@Sendable () -> DatabaseStatus)?

    public init(metrics: SwitchboardMetrics, router: TicketRouter, pool: PostgresPool, eventLog: EventLog?, database: (@Sendable () -> DatabaseStatus)? = nil) {
        self.database = database
        self.metrics = metrics
        self.router = router
        self.pool = pool
        self.eventLog = eventLog
    }

    func respond() async -> Response {
        let usage = pool.usage
        metrics.setPool(inUse: usage.leased, waiting: usage.waiting, size: usage.size)
        if let embedded = database?().embedded { metrics.setEmbeddedServer(up: embedded.running, restarts: embedded.restarts) }
        var presence: [String: Int] = [:]
        for agent in router.roster.all {
            presence[await agent.snapshot().presence.rawValue, default: 0] += 1
        }
        metrics.setAgents(byPresence: presence)
        var queues: [(name: String, waiting: Int, longestWaitSeconds: Double)] = []
        let wall = Date()
        for (name, queue) in await router.queuesByName {
            let summary = await queue.summary()
            queues.append((name, summary.waiting, summary.oldestWaitingSince.map { max(0, wall.timeIntervalSince($0)) } ?? 0))
        }
        metrics.setQueues(queues)
        if let eventLog { metrics.setEventStreams(eventLog.followerCount) }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
    }
}

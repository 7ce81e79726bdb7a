import Foundation
import Postgres

/// What a restart must get right, read once the daemon is ready and has settled: every waiting ticket
/// is in its queue's actor, every agent with room got work, nobody is over capacity, nothing is left
/// unrouted, and every SLA moment that passed while the daemon was down fired exactly once.
struct RestartChecks {
    /// SLA moments that passed before the daemon started and were not acted on yet.
    struct Due {
        var warnings = 0
        var breaches = 0
    }

    let pool: PostgresPool
    let capacity: Int

    func due(before start: Date) async throws -> Due {
        let row = try await pool.query("""
            SELECT count(*) FILTER (WHERE warn_at <= $1 AND warned_at IS NULL), count(*) FILTER (WHERE deadline <= $1 AND breached_at IS NULL)
            FROM switchboard.sla_clocks
            """, [start]).first
        return Due(warnings: try row?.decode(0) ?? 0, breaches: try row?.decode(1) ?? 0)
    }

    /// Each check as (what, found, must be); the daemon's queues are read from `/metrics`.
    func run(daemon: RestartDaemon, startedAt: Date, due: Due) async throws -> [(String, Int, Int)] {
        // Escalations of what fell due may still be moving tickets (out of a queue's actor and in
        // again): read until the daemon and the database agree, for up to 15 seconds.
        var waiting = (memory: 0, database: -1)
        for _ in 0..<30 {
            let before = try await count("SELECT count(*) FROM switchboard.tickets WHERE queue IS NOT NULL AND assignee IS NULL AND status <> 'resolved'")
            let metrics = try await daemon.get("/metrics")
            let after = try await count("SELECT count(*) FROM switchboard.tickets WHERE queue IS NOT NULL AND assignee IS NULL AND status <> 'resolved'")
            let inMemory = String(decoding: metrics.body, as: UTF8.self).split(separator: "\n")
                .filter { $0.hasPrefix("switchboard_queue_waiting_tickets{") }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
            waiting = (Int(inMemory), before == after ? after : -1)
            if waiting.memory == waiting.database { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        var checks: [(String, Int, Int)] = []
        checks.append(("waiting tickets in the queues' actors, less the database's count", waiting.memory - waiting.database, 0))
        checks.append(("agents over capacity", try await count("""
            SELECT count(*) FROM (SELECT assignee FROM switchboard.tickets WHERE status = 'open' AND assignee IS NOT NULL
                                  GROUP BY assignee HAVING count(*) > $1) AS over
            """, [capacity]), 0))
        checks.append(("agents with room while their queues have waiting tickets", try await count("""
            SELECT count(*) FROM switchboard.agents a
            WHERE a.active AND a.presence = 'online'
              AND (SELECT count(*) FROM switchboard.tickets t WHERE t.assignee = a.id AND t.status = 'open') < a.capacity
              AND EXISTS (SELECT 1 FROM switchboard.tickets w WHERE w.queue = ANY(a.queues) AND w.assignee IS NULL AND w.status <> 'resolved')
            """), 0))
        checks.append(("open tickets left without a queue", try await count("SELECT count(*) FROM switchboard.tickets WHERE queue IS NULL AND status <> 'resolved'"), 0))
        checks.append(("routed tickets without an SLA", try await count("""
            SELECT count(*) FROM switchboard.tickets t WHERE t.queue IS NOT NULL AND t.status <> 'resolved'
              AND NOT EXISTS (SELECT 1 FROM switchboard.ticket_slas s WHERE s.ticket_id = t.id)
            """), 0))
        let fired = try await pool.query("""
            SELECT count(*) FILTER (WHERE kind = 'sla_warning'), count(*) FILTER (WHERE kind = 'sla_breach'),
                   count(DISTINCT (ticket_id, data->>'clock')) FILTER (WHERE kind = 'sla_warning'),
                   count(DISTINCT (ticket_id, data->>'clock')) FILTER (WHERE kind = 'sla_breach')
            FROM switchboard.ticket_events WHERE kind IN ('sla_warning', 'sla_breach') AND at >= $1
            """, [startedAt]).first
        let warnings: Int = try fired?.decode(0) ?? 0, breaches: Int = try fired?.decode(1) ?? 0
        let distinctWarnings: Int = try fired?.decode(2) ?? 0, distinctBreaches: Int = try fired?.decode(3) ?? 0
        checks.append(("warnings due while stopped, fired at start (at least)", min(warnings, due.warnings), due.warnings))
        checks.append(("breaches due while stopped, fired at start (at least)", min(breaches, due.breaches), due.breaches))
        checks.append(("warnings or breaches fired twice for one clock", (warnings - distinctWarnings) + (breaches - distinctBreaches), 0))
        checks.append(("clocks past their deadline not marked breached", try await count("""
            SELECT count(*) FROM switchboard.sla_clocks WHERE deadline <= $1 AND breached_at IS NULL
            """, [startedAt]), 0))
        // Each is deleted once its actions ran (supervisors told, escalated).
        checks.append(("warnings or breaches stored but not acted on yet", try await count("SELECT count(*) FROM switchboard.sla_alerts_to_act_on"), 0))
        return checks
    }

    private func count(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> Int {
        try await pool.query(sql, parameters).first?.decode(0, as: Int.self) ?? 0
    }
}

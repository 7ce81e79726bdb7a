import Foundation
import Postgres
import SwitchboardCore

/// SLA state in PostgreSQL: policy versions, each ticket's clocks with their deadlines, outcomes and
/// events. A step of a ticket's clocks — its state, ended clocks, warning and breach events — is one
/// statement, so a warning or a breach is stored exactly when its flag is (never acted on twice).
public struct SLAStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    // MARK: Policies

    /// Stores each policy's current version (once per distinct text) and returns their ids, in order.
    public func register(_ policies: [SLAPolicy]) async throws -> [Int64] {
        guard !policies.isEmpty else { return [] }
        struct Row: Encodable { var ord: Int, name: String, checksum: String, spec: String }
        let rows = try policies.enumerated().map { index, policy -> Row in
            let text = try policy.canonicalJSON()
            return Row(ord: index, name: policy.name, checksum: Migration.sha256Hex(Array(text.utf8)), spec: text)
        }
        let result = try await pool.query("""
            WITH r AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(ord int, name text, checksum text, spec text)),
            i AS (INSERT INTO switchboard.sla_policies (name, checksum, spec)
                  SELECT name, checksum, spec::jsonb FROM r ON CONFLICT (checksum) DO NOTHING RETURNING id, checksum)
            SELECT r.ord, coalesce(i.id, p.id) FROM r
            LEFT JOIN i ON i.checksum = r.checksum
            LEFT JOIN switchboard.sla_policies p ON p.checksum = r.checksum
            ORDER BY r.ord
            """, [try JSONText.encode(rows)])
        return try result.map { try $0.decode(1, as: Int64.self) }
    }

    /// Policy versions by id, decoded (for tickets started under versions no longer configured).
    public func policies(_ ids: [Int64]) async throws -> [Int64: SLAPolicy] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await pool.query("SELECT id, spec::text FROM switchboard.sla_policies WHERE id = ANY($1::bigint[])", [ids])
        var policies: [Int64: SLAPolicy] = [:]
        for row in rows {
            policies[try row.decode(0, as: Int64.self)] = try SLAPolicy.decode(canonicalJSON: try row.decode(1, as: String.self))
        }
        return policies
    }

    // MARK: Tickets

    /// What choosing a policy needs, for these open tickets. `reopened`: the start is the customer's
    /// latest message, not the ticket's first.
    public func startFacts(_ ticketIDs: [Int64], reopened: Set<Int64>) async throws -> [SLAStartFacts] {
        guard !ticketIDs.isEmpty else { return [] }
        let rows = try await HotPathSettings.query(pool, """
            SELECT t.id, t.queue, t.priority, t.tags, t.business_number,
                   -- After a triage menu the clocks start when the ticket reached its queue (docs/sla.md).
                   coalesce((SELECT ts.ended_at FROM switchboard.triage_sessions ts WHERE ts.ticket_id = t.id), t.created_at),
                   coalesce(t.last_inbound_at, t.created_at), s.policy_id
            FROM switchboard.tickets t LEFT JOIN switchboard.ticket_slas s ON s.ticket_id = t.id
            WHERE t.id = ANY($1::bigint[]) AND t.status <> 'resolved'
            ORDER BY t.id
            """, [ticketIDs])
        return try rows.map { row in
            let id = try row.decode(0, as: Int64.self)
            return SLAStartFacts(ticketID: id, queue: try row.decode(1), priority: WaitingOrder.Priority(name: try row.decode(2)) ?? .normal,
                                 tags: Set(try row.decode(3, as: [String].self)), businessNumber: try row.decode(4),
                                 startedAt: reopened.contains(id) ? try row.decode(6) : try row.decode(5), policyID: try row.decode(7))
        }
    }

    /// Open tickets in a queue whose SLA was never stored: routed, then the process died before the
    /// SLA engine wrote its start (a crash, a leader killed). A rebuild starts them.
    ///
    /// It runs beside the rebuild's reads, which keep both cores busy, so it is planned for the
    /// least CPU: a merge of the two primary keys, in one backend. At 1,000,000 open tickets
    /// (`EXPLAIN ANALYZE`): 0.6 s; the planner's own choice, a parallel hash anti-join, took as long
    /// on three processes (1.8 s of CPU), and a hash join in one backend 0.86 s.
    public func unstarted() async throws -> [Int64] {
        try await LocalSettings.query(pool, Self.leastCPUAntiJoin, """
            SELECT t.id FROM switchboard.tickets t
             WHERE t.status <> 'resolved' AND t.queue IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM switchboard.ticket_slas s WHERE s.ticket_id = t.id)
             ORDER BY t.id
            """).map { try $0.decode(0, as: Int64.self) }
    }

    private static let leastCPUAntiJoin = LocalSettings.statement(["max_parallel_workers_per_gather": "0", "enable_hashjoin": "off"])

    /// The SLAs of tickets that are not resolved (these, or every one), with their clocks.
    public func load(_ ticketIDs: [Int64]? = nil) async throws -> [StoredSLA] {
        let rows = try await pool.query("""
            SELECT s.ticket_id, s.policy_id, s.awaiting_customer, s.pending, k.clock, k.target_seconds, k.started_at,
                   k.accumulated_seconds, k.running_since, k.warned_at IS NOT NULL, k.breached_at IS NOT NULL
            FROM switchboard.ticket_slas s
            JOIN switchboard.tickets t ON t.id = s.ticket_id
            LEFT JOIN switchboard.sla_clocks k ON k.ticket_id = s.ticket_id
            WHERE t.status <> 'resolved' AND ($1::bigint[] IS NULL OR s.ticket_id = ANY($1::bigint[]))
            ORDER BY s.ticket_id
            """, [ticketIDs])
        var loaded: [StoredSLA] = []
        for row in rows {
            let ticketID = try row.decode(0, as: Int64.self)
            if loaded.last?.ticketID != ticketID {
                loaded.append(StoredSLA(ticketID: ticketID, policyID: try row.decode(1),
                                        snapshot: .init(clocks: [], awaitingCustomer: try row.decode(2), pending: try row.decode(3))))
            }
            guard let name = try row.decode(4, as: String?.self), let kind = SLAClockKind(rawValue: name) else { continue }
            loaded[loaded.count - 1].snapshot.clocks.append(SLAStateMachine.Clock(
                kind: kind, target: try row.decode(5), startedAt: try row.decode(6), accumulated: try row.decode(7),
                runningSince: try row.decode(8), warned: try row.decode(9), breached: try row.decode(10)))
        }
        return loaded
    }

    /// Stores steps of tickets' clocks in one statement (several steps of one ticket are merged).
    public func save(_ changes: [SLAChange]) async throws {
        let changes = SLAChange.merged(changes)
        guard !changes.isEmpty else { return }
        struct TicketRow: Encodable { var ticket: Int64, policy: Int64, started: Double, awaiting: Bool, pending: Bool, at: Double }
        struct ClockRow: Encodable {
            var ticket: Int64, clock: String, target: Double, started: Double, accumulated: Double, running: Double?
            var warn_at: Double?, deadline: Double?, warned: Bool, breached: Bool, at: Double
        }
        struct RecordRow: Encodable {
            var ticket: Int64, policy: Int64, clock: String, outcome: String, target: Double, started: Double, deadline: Double, ended: Double
            var business: Double, wall: Double
        }
        struct EventRow: Encodable { var ticket: Int64, at: Double, kind: String, data: String }
        struct AlertRow: Encodable { var ticket: Int64, clock: String, kind: String, due: Double, policy: Int64, at: Double }
        var tickets: [TicketRow] = [], clocks: [ClockRow] = [], records: [RecordRow] = [], events: [EventRow] = [], alerts: [AlertRow] = []
        for change in changes {
            let at = change.at.timeIntervalSince1970
            tickets.append(TicketRow(ticket: change.ticketID, policy: change.policyID, started: change.startedAt.timeIntervalSince1970,
                                     awaiting: change.awaitingCustomer, pending: change.pending, at: at))
            for row in change.clocks {
                let clock = row.clock
                clocks.append(ClockRow(ticket: change.ticketID, clock: clock.kind.rawValue, target: clock.target, started: clock.startedAt.timeIntervalSince1970,
                                       accumulated: clock.accumulated, running: clock.runningSince?.timeIntervalSince1970,
                                       warn_at: row.warnAt?.timeIntervalSince1970, deadline: row.deadline?.timeIntervalSince1970,
                                       warned: clock.warned, breached: clock.breached, at: at))
            }
            for record in change.records {
                records.append(RecordRow(ticket: change.ticketID, policy: change.policyID, clock: record.clock.rawValue, outcome: record.outcome.rawValue,
                                         target: record.target, started: record.startedAt.timeIntervalSince1970, deadline: record.deadline.timeIntervalSince1970,
                                         ended: record.endedAt.timeIntervalSince1970, business: record.elapsedBusiness, wall: record.elapsedWall))
            }
            for event in change.events {
                events.append(EventRow(ticket: change.ticketID, at: event.at.timeIntervalSince1970, kind: event.kind.rawValue, data: event.data))
            }
            for alert in change.alerts {
                alerts.append(AlertRow(ticket: change.ticketID, clock: alert.clock.rawValue, kind: alert.kind.rawValue,
                                       due: alert.due.timeIntervalSince1970, policy: change.policyID, at: at))
            }
        }
        try await pool.query("""
            WITH t AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(ticket bigint, policy bigint, started double precision, awaiting boolean, pending boolean, at double precision)),
            c AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS c(ticket bigint, clock text, target double precision, started double precision,
                      accumulated double precision, running double precision, warn_at double precision, deadline double precision,
                      warned boolean, breached boolean, at double precision)),
            s AS (INSERT INTO switchboard.ticket_slas AS s (ticket_id, policy_id, awaiting_customer, pending, started_at, updated_at)
                  SELECT ticket, policy, awaiting, pending, to_timestamp(started), to_timestamp(at) FROM t
                  ON CONFLICT (ticket_id) DO UPDATE SET awaiting_customer = EXCLUDED.awaiting_customer, pending = EXCLUDED.pending,
                      updated_at = EXCLUDED.updated_at),
            d AS (DELETE FROM switchboard.sla_clocks k
                  WHERE k.ticket_id = ANY($5::bigint[]) AND NOT EXISTS (SELECT 1 FROM c WHERE c.ticket = k.ticket_id AND c.clock = k.clock)),
            k AS (INSERT INTO switchboard.sla_clocks AS k (ticket_id, clock, target_seconds, started_at, accumulated_seconds, running_since,
                      warn_at, deadline, warned_at, breached_at)
                  SELECT ticket, clock, target, to_timestamp(started), accumulated, to_timestamp(running), to_timestamp(warn_at), to_timestamp(deadline),
                         CASE WHEN warned THEN to_timestamp(at) END, CASE WHEN breached THEN to_timestamp(at) END FROM c
                  ON CONFLICT (ticket_id, clock) DO UPDATE SET target_seconds = EXCLUDED.target_seconds, started_at = EXCLUDED.started_at,
                      accumulated_seconds = EXCLUDED.accumulated_seconds, running_since = EXCLUDED.running_since,
                      warn_at = EXCLUDED.warn_at, deadline = EXCLUDED.deadline,
                      warned_at = CASE WHEN EXCLUDED.warned_at IS NULL THEN NULL
                                       WHEN k.started_at = EXCLUDED.started_at THEN coalesce(k.warned_at, EXCLUDED.warned_at) ELSE EXCLUDED.warned_at END,
                      breached_at = CASE WHEN EXCLUDED.breached_at IS NULL THEN NULL
                                         WHEN k.started_at = EXCLUDED.started_at THEN coalesce(k.breached_at, EXCLUDED.breached_at) ELSE EXCLUDED.breached_at END),
            r AS (INSERT INTO switchboard.sla_records (ticket_id, policy_id, clock, outcome, target_seconds, started_at, deadline, ended_at,
                      elapsed_business_seconds, elapsed_wall_seconds)
                  SELECT ticket, policy, clock, outcome, target, to_timestamp(started), to_timestamp(deadline), to_timestamp(ended), business, wall
                  FROM jsonb_to_recordset($3::jsonb) AS r(ticket bigint, policy bigint, clock text, outcome text, target double precision,
                      started double precision, deadline double precision, ended double precision, business double precision, wall double precision)),
            e AS (INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                  SELECT ticket, to_timestamp(at), kind, 'sla', data::jsonb
                  FROM jsonb_to_recordset($4::jsonb) AS e(ticket bigint, at double precision, kind text, data text)),
            a AS (INSERT INTO switchboard.sla_alerts_to_act_on (ticket_id, clock, kind, due_at, policy_id, stored_at)
                  SELECT ticket, clock, kind, to_timestamp(due), policy, to_timestamp(at)
                  FROM jsonb_to_recordset($6::jsonb) AS a(ticket bigint, clock text, kind text, due double precision, policy bigint, at double precision)
                  ON CONFLICT DO NOTHING)
            SELECT 1
            """, [try JSONText.encode(tickets), try JSONText.encode(clocks), try JSONText.encode(records), try JSONText.encode(events), changes.map(\.ticketID),
                  try JSONText.encode(alerts)])
    }

    /// The alerts stored and not acted on, oldest first: a daemon died (or was stopped) between
    /// storing them and acting on them. Read by a start before it fires anything, so none of them
    /// is one that start is acting on itself.
    public func toActOn() async throws -> [SLAAlertToActOn] {
        let rows = try await pool.query("""
            SELECT ticket_id, kind, clock, extract(epoch FROM due_at)::float8, extract(epoch FROM stored_at - due_at)::float8, policy_id
            FROM switchboard.sla_alerts_to_act_on ORDER BY stored_at, ticket_id, due_at
            """)
        return try rows.compactMap { row in
            guard let kind = SLAAlert.Kind(rawValue: try row.decode(1)), let clock = SLAClockKind(rawValue: try row.decode(2)) else { return nil }
            let alert = SLAAlert(ticketID: try row.decode(0), kind: kind, clock: clock, due: Date(timeIntervalSince1970: try row.decode(3)), late: try row.decode(4))
            return SLAAlertToActOn(alert: alert, policyID: try row.decode(5))
        }
    }

    /// The alert's actions ran: a later start leaves it alone. Its moment goes through the same
    /// conversion as when it was stored (`to_timestamp` of the same seconds), so the key matches.
    public func acted(_ alert: SLAAlert) async throws {
        try await pool.query("""
            DELETE FROM switchboard.sla_alerts_to_act_on
            WHERE ticket_id = $1 AND clock = $2 AND kind = $3 AND due_at = to_timestamp($4::float8)
            """, [alert.ticketID, alert.clock.rawValue, alert.kind.rawValue, alert.due.timeIntervalSince1970])
    }

    /// The ticket's reference and the supervisors to tell about it: active supervisors and admins
    /// who share a team with its assignee, or who serve its queue.
    public func audience(of ticketID: Int64) async throws -> (reference: String, supervisors: [String], queue: String?, assignee: String?)? {
        let rows = try await pool.query("""
            SELECT t.reference, coalesce(array_agg(a.id ORDER BY a.id) FILTER (WHERE a.id IS NOT NULL), '{}'), t.queue, t.assignee
            FROM switchboard.tickets t
            LEFT JOIN switchboard.agents owner ON owner.id = t.assignee
            LEFT JOIN switchboard.agents a ON a.active AND a.role IN ('supervisor', 'admin')
                 AND (a.teams && coalesce(owner.teams, '{}') OR t.queue = ANY(a.queues))
            WHERE t.id = $1
            GROUP BY t.reference, t.queue, t.assignee
            """, [ticketID])
        guard let row = rows.first else { return nil }
        return (try row.decode(0), try row.decode(1), try row.decode(2), try row.decode(3))
    }
}

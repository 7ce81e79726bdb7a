import Foundation
import Postgres
import SwitchboardCore

/// A queue's SLA outcomes since the start of the day.
public struct QueueDay: Sendable, Equatable {
    /// Clocks that ran past their deadline today (still open, or ended).
    public var breached = 0
    /// First-response clocks that ended today: met, and breached.
    public var firstResponseMet = 0
    public var firstResponseBreached = 0

    public init(breached: Int = 0, firstResponseMet: Int = 0, firstResponseBreached: Int = 0) {
        self.breached = breached
        self.firstResponseMet = firstResponseMet
        self.firstResponseBreached = firstResponseBreached
    }

    /// Met ÷ (met + breached) of today's first responses; nil when none ended.
    public var firstResponseAttainment: Double? {
        let decided = firstResponseMet + firstResponseBreached
        return decided == 0 ? nil : Double(firstResponseMet) / Double(decided)
    }
}

/// One bucket of the dashboard's chart.
public struct ArrivalBucket: Sendable, Equatable {
    public var start: Date
    /// Tickets created in the bucket (after its start, up to its end: the last one ends now).
    public var arrivals: Int
    /// Tickets waiting for an agent at the bucket's end (now, for the last one).
    public var waiting: Int
}

extension ControlStore {
    /// Per queue (the ticket's queue now): SLA outcomes since `since`.
    public func queueDays(since: Date) async throws -> [String: QueueDay] {
        var days: [String: QueueDay] = [:]
        for row in try await pool.query("""
            WITH facts AS (
                SELECT r.ticket_id, r.outcome = 'breached' AS breached,
                       r.clock = 'first_response' AND r.outcome = 'met' AS first_met, r.clock = 'first_response' AND r.outcome = 'breached' AS first_breached
                FROM switchboard.sla_records r WHERE r.ended_at >= $1 AND r.outcome <> 'cancelled'
                UNION ALL
                SELECT k.ticket_id, true, false, false FROM switchboard.sla_clocks k WHERE k.breached_at >= $1
            )
            SELECT t.queue, count(*) FILTER (WHERE f.breached)::int, count(*) FILTER (WHERE f.first_met)::int, count(*) FILTER (WHERE f.first_breached)::int
            FROM facts f JOIN switchboard.tickets t ON t.id = f.ticket_id WHERE t.queue IS NOT NULL GROUP BY t.queue
            """, [since]) {
            days[try row.decode(0, as: String.self)] = QueueDay(breached: try row.decode(1), firstResponseMet: try row.decode(2),
                                                               firstResponseBreached: try row.decode(3))
        }
        return days
    }

    /// Arrivals and waiting tickets in `count` buckets of `bucket` seconds ending at `now`, for the
    /// given queues (nil: all). A ticket waited from when it entered a queue (routed, or returned
    /// to it) until an agent got it.
    public func arrivals(now: Date, bucket: TimeInterval, count: Int, queues: [String]?) async throws -> [ArrivalBucket] {
        let from = now.addingTimeInterval(-bucket * Double(count))
        let rows = try await pool.query("""
            WITH buckets AS (
                SELECT $1::timestamptz + make_interval(secs => $2 * i) AS start, i FROM generate_series(0, $3 - 1) i
            ), visible AS (
                SELECT t.id, t.created_at, t.queue, t.assignee, t.status, coalesce(t.waiting_since, t.created_at) AS waiting_since
                FROM switchboard.tickets t WHERE ($4::text[] IS NULL OR t.queue = ANY($4::text[]))
            ), waits AS (
                -- Ended waits: from entering a queue to the assignment, for assignments in the window.
                SELECT e.entered_at AS since, e.at AS until FROM (
                    SELECT ev.ticket_id, ev.at, ev.kind, lag(ev.at) OVER w AS entered_at
                    FROM switchboard.ticket_events ev
                    WHERE ev.kind IN ('routed', 'unassigned', 'acceptance_missed', 'assigned')
                      AND ev.ticket_id IN (SELECT a.ticket_id FROM switchboard.ticket_events a WHERE a.kind = 'assigned' AND a.at >= $1)
                    WINDOW w AS (PARTITION BY ev.ticket_id ORDER BY ev.at, ev.id)) e
                JOIN visible v ON v.id = e.ticket_id
                WHERE e.kind = 'assigned' AND e.at >= $1 AND e.entered_at IS NOT NULL
                UNION ALL
                -- Waits still running.
                SELECT v.waiting_since, NULL FROM visible v WHERE v.queue IS NOT NULL AND v.assignee IS NULL AND v.status <> 'resolved'
            )
            SELECT b.start,
                   (SELECT count(*) FROM visible v WHERE v.created_at > b.start AND v.created_at <= b.start + make_interval(secs => $2))::int,
                   (SELECT count(*) FROM waits w WHERE w.since <= least(b.start + make_interval(secs => $2), $5)
                        AND (w.until IS NULL OR w.until > least(b.start + make_interval(secs => $2), $5)))::int
            FROM buckets b ORDER BY b.i
            """, [from, bucket, count, queues, now])
        return try rows.map { ArrivalBucket(start: try $0.decode(0), arrivals: try $0.decode(1), waiting: try $0.decode(2)) }
    }
}

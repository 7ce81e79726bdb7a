import Foundation
import Logging
import Postgres
import Synchronization

/// What the database says once the load has stopped and routing has settled. Each count but the
/// informational ones must be 0.
struct FailoverVerdict {
    /// Acknowledged (200) wamids not in `switchboard.messages`.
    var lost = 0
    var lostExamples: [String] = []
    /// Wamids stored more than once (the table's unique constraint should make this impossible).
    var duplicated = 0
    /// Tickets with more than one `assigned` event: informational, a ticket reopened (or handed
    /// back) is assigned again legitimately.
    var assignedMoreThanOnce = 0
    /// Tickets assigned while the previous assignment still held (no `unassigned`,
    /// `acceptance_missed` or `reopened` in between): a double assignment.
    var assignedWhileHeld = 0
    var assignedWhileHeldExamples: [String] = []
    var overCapacityNow = 0
    var overCapacityDetails: [String] = []
    var acknowledged = 0
    var tickets = 0
    /// Tickets in a queue and with nobody at the end (agents could not keep up: the new leaders
    /// took them over too).
    var waiting = 0
    var assignments = 0
    var reopened = 0
    /// Outbox entries that ended `failed`, and those still queued or sending when looked at.
    var outboxFailed = 0
    var outboxUnfinished = 0
    /// Entries left `sending` for more than 30 s (an interrupted send waits 15 s for its status
    /// webhook, then goes back to `queued`): a reply nobody will send while this leader runs.
    var stuckSending: [String] = []
}

struct RoutingDelays {
    var routed = 0
    var p50 = 0.0
    var p99 = 0.0
    var max = 0.0
    var relayBacklog = 0

    var summary: String {
        "\(routed) main-line tickets routed, created → routed p50 \(format(p50, 2)) s, p99 \(format(p99, 2)) s, max \(format(max, 2)) s"
    }
}

enum FailoverChecks {
    static let logger: Logger = {
        var logger = Logger(label: "failover")
        logger.logLevel = .critical
        return logger
    }()

    static func connect(_ connectionString: String) async throws -> PostgresConnection {
        try await PostgresConnection.connect(.init(connectionString: connectionString), logger: logger)
    }

    /// Waits until every main-line ticket is in a queue or with an agent and no ticket has been
    /// routed or assigned for two seconds (help-line tickets wait for their menu's answer, unrouted
    /// by design; waiting tickets passing a queue step's timeout write events too, ignored here).
    /// Gives up after `timeout` (what is still unrouted is reported, not a failure of the run);
    /// returns whether it settled and how many main-line tickets were still unrouted.
    static func settle(_ connectionString: String, timeout: Duration) async throws -> (settled: Bool, unrouted: Int) {
        var last = ""
        var unrouted = -1
        var stableSince = ContinuousClock.now
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            do {
                let connection = try await connect(connectionString)
                let row = try await connection.query("""
                    SELECT count(*) FILTER (WHERE queue IS NULL AND status <> 'resolved' AND business_number = $1),
                           count(*) FILTER (WHERE assignee IS NOT NULL AND status <> 'resolved'),
                           (SELECT max(id) FROM switchboard.ticket_events WHERE kind IN ('routed', 'assigned', 'unassigned', 'acceptance_missed', 'reopened'))
                    FROM switchboard.tickets
                    """, [FailoverLoad.mainLine]).first
                await connection.close()
                unrouted = try row?.decode(0, as: Int.self) ?? -1
                let now = "\(unrouted) \(try row?.decode(1, as: Int.self) ?? 0) \(try row?.decode(2, as: Int64?.self) ?? 0)"
                if now != last || unrouted != 0 {
                    last = now
                    stableSince = .now
                } else if ContinuousClock.now - stableSince > .seconds(2) {
                    return (true, 0)
                }
            } catch {
                stableSince = .now
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return (false, unrouted)
    }

    /// How long main-line tickets waited from creation to being routed (seconds: count, p50, p99,
    /// max), and the standbys' activity rows the leader has not taken yet.
    static func routingDelays(_ connectionString: String) async throws -> RoutingDelays {
        let connection = try await connect(connectionString)
        do {
            var delays = RoutingDelays()
            if let row = try await connection.query("""
                SELECT count(*)::int, coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY d), 0)::float8,
                       coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY d), 0)::float8, coalesce(max(d), 0)::float8
                FROM (SELECT extract(epoch FROM min(r.at) - c.at)::float8 AS d
                      FROM switchboard.ticket_events c
                      JOIN switchboard.tickets t ON t.id = c.ticket_id AND t.business_number = $1
                      JOIN switchboard.ticket_events r ON r.ticket_id = c.ticket_id AND r.kind = 'routed'
                      WHERE c.kind = 'created' GROUP BY c.ticket_id, c.at) AS x
                """, [FailoverLoad.mainLine]).first {
                delays.routed = try row.decode(0, as: Int.self)
                delays.p50 = try row.decode(1, as: Double.self)
                delays.p99 = try row.decode(2, as: Double.self)
                delays.max = try row.decode(3, as: Double.self)
            }
            delays.relayBacklog = try await connection.query("SELECT count(*)::int FROM switchboard.activity_relay").first?.decode(0, as: Int.self) ?? 0
            await connection.close()
            return delays
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Waits until the outbox has nothing queued or sending (a send a kill interrupted waits 15 s
    /// for a status webhook before it is queued again); returns how many are still unfinished.
    static func drainOutbox(_ connectionString: String, timeout: Duration = .seconds(45)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        var unfinished = -1
        while ContinuousClock.now < deadline {
            if let connection = try? await connect(connectionString) {
                unfinished = (try? await connection.query("SELECT count(*) FROM switchboard.outbox WHERE state IN ('queued', 'sending')")
                    .first?.decode(0, as: Int.self)) ?? -1
                await connection.close()
                if unfinished == 0 { return 0 }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return unfinished
    }

    static func verify(_ connectionString: String, wamidPrefix: String, acknowledged: [String]) async throws -> FailoverVerdict {
        let connection = try await connect(connectionString)
        do {
            let verdict = try await check(connection, wamidPrefix: wamidPrefix, acknowledged: acknowledged)
            await connection.close()
            return verdict
        } catch {
            await connection.close()
            throw error
        }
    }

    private static func check(_ connection: PostgresConnection, wamidPrefix: String, acknowledged: [String]) async throws -> FailoverVerdict {
        var verdict = FailoverVerdict()
        verdict.acknowledged = acknowledged.count

        // Acknowledged messages stored, once.
        var stored: [String: Int] = [:]
        for row in try await connection.query("SELECT wamid, count(*) FROM switchboard.messages WHERE wamid LIKE $1 GROUP BY wamid", [wamidPrefix + "%"]) {
            stored[try row.decode(0, as: String.self)] = try row.decode(1, as: Int.self)
        }
        let lost = acknowledged.filter { stored[$0] == nil }
        verdict.lost = lost.count
        verdict.lostExamples = Array(lost.prefix(10))
        verdict.duplicated = stored.values.filter { $0 > 1 }.count

        // Assignments: more than one per ticket, and one while the previous still held.
        var holding: [Int64: Bool] = [:]
        var assignedCount: [Int64: Int] = [:]
        for row in try await connection.query("""
            SELECT ticket_id, kind, data::text FROM switchboard.ticket_events
            WHERE kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened') ORDER BY id
            """) {
            let ticket: Int64 = try row.decode(0)
            if try row.decode(1, as: String.self) == "assigned" {
                verdict.assignments += 1
                assignedCount[ticket, default: 0] += 1
                if holding[ticket] == true {
                    verdict.assignedWhileHeld += 1
                    if verdict.assignedWhileHeldExamples.count < 5 {
                        verdict.assignedWhileHeldExamples.append("ticket \(ticket): \(try row.decode(2, as: String?.self) ?? "")")
                    }
                }
                holding[ticket] = true
            } else {
                holding[ticket] = false
            }
        }
        verdict.assignedMoreThanOnce = assignedCount.values.filter { $0 > 1 }.count
        verdict.reopened = try await connection.query("SELECT count(*) FROM switchboard.ticket_events WHERE kind = 'reopened'").first?.decode(0, as: Int.self) ?? 0
        verdict.tickets = try await connection.query("SELECT count(*) FROM switchboard.tickets").first?.decode(0, as: Int.self) ?? 0
        verdict.waiting = try await connection.query("""
            SELECT count(*) FROM switchboard.tickets WHERE queue IS NOT NULL AND assignee IS NULL AND status <> 'resolved'
            """).first?.decode(0, as: Int.self) ?? 0

        // Open tickets per agent against capacity.
        for row in try await connection.query(overCapacityQuery) {
            verdict.overCapacityNow += 1
            verdict.overCapacityDetails.append("\(try row.decode(0, as: String.self)): \(try row.decode(2, as: Int.self)) open, capacity \(try row.decode(1, as: Int.self))")
        }
        for row in try await connection.query("""
            SELECT id::text, last_attempt_at::text FROM switchboard.outbox WHERE state = 'sending' AND last_attempt_at < now() - interval '30 seconds'
            """) {
            verdict.stuckSending.append("\(try row.decode(0, as: String.self)) (sending since \(try row.decode(1, as: String.self)))")
        }
        for row in try await connection.query("SELECT state, count(*) FROM switchboard.outbox WHERE state IN ('failed', 'queued', 'sending') GROUP BY state") {
            let count = try row.decode(1, as: Int.self)
            if try row.decode(0, as: String.self) == "failed" { verdict.outboxFailed += count } else { verdict.outboxUnfinished += count }
        }
        return verdict
    }

    /// Agents holding more unresolved tickets than their capacity: id, capacity, open.
    static let overCapacityQuery = """
        SELECT a.id, a.capacity, count(t.id)::int FROM switchboard.agents a
          JOIN switchboard.tickets t ON t.assignee = a.id AND t.status <> 'resolved'
        GROUP BY a.id, a.capacity HAVING count(t.id) > a.capacity
        """

    /// Help-line customers whose message was acknowledged and who got nothing from the stand-in
    /// (no menu, no out-of-hours reply), when the sends are in: those whose ticket the leader had
    /// taken up (its triage started, or it was routed) and those it had not yet (still in the relay).
    static func unanswered(_ acknowledged: [FailoverLoad.Ack], sends: SendTally, connectionString: String) async throws -> (handled: [String], notYet: [String]) {
        let missing = Set(acknowledged.filter(\.helpLine).map(\.customer)).subtracting(sends.recipients).sorted()
        guard !missing.isEmpty else { return ([], []) }
        let connection = try await connect(connectionString)
        do {
            let handled = Set(try await connection.query("""
                SELECT DISTINCT c.wa_id FROM switchboard.customers c JOIN switchboard.tickets t ON t.customer_id = c.id
                  JOIN switchboard.ticket_events e ON e.ticket_id = t.id AND e.kind IN ('triage_started', 'routed')
                WHERE c.wa_id = ANY($1)
                """, [missing]).map { try $0.decode(0, as: String.self) })
            await connection.close()
            return (missing.filter { handled.contains($0) }, missing.filter { !handled.contains($0) })
        } catch {
            await connection.close()
            throw error
        }
    }
}

/// Samples, every 250 ms while it runs, whether any agent holds more tickets than their capacity.
final class CapacitySampler: Sendable {
    private let totals_ = Mutex((samples: 0, overCapacity: 0, example: String?.none))
    private let task = Mutex<Task<Void, Never>?>(nil)

    var totals: (samples: Int, overCapacity: Int, example: String?) { totals_.withLock { $0 } }

    func start(connectionString: String) {
        let task = Task {
            var connection: PostgresConnection?
            while !Task.isCancelled {
                do {
                    if connection == nil { connection = try await FailoverChecks.connect(connectionString) }
                    if let rows = try await connection?.query(FailoverChecks.overCapacityQuery) {
                        let first = try rows.first.map { "\(try $0.decode(0, as: String.self)): \(try $0.decode(2, as: Int.self)) open, capacity \(try $0.decode(1, as: Int.self))" }
                        totals_.withLock {
                            $0.samples += 1
                            if let first {
                                $0.overCapacity += 1
                                if $0.example == nil { $0.example = first }
                            }
                        }
                    }
                } catch {
                    if let old = connection { await old.close() }
                    connection = nil
                }
                try? await Task.sleep(for: .milliseconds(250))
            }
            if let connection { await connection.close() }
        }
        self.task.withLock { $0 = task }
    }

    func stop() async {
        let task = self.task.withLock { $0 }
        task?.cancel()
        await task?.value
    }
}

import Foundation
import Postgres
import SwitchboardStore
import Testing
import TestSupport

/// Migration 0016 rewrote six BI views so that a filter on a day or a time reaches the tables, and
/// added `switchboard.ticket_holds`, kept by triggers on `ticket_events`. The views must give the
/// rows the definitions of 0008 and 0013 gave: those are created under `bi_before` from the
/// migrations' own text (`EarlierViews`) on a history seeded around one day, and every view,
/// filtered and not, and every example of docs/bi.md, is compared in several time zones.
@Suite("BI views of 0016: the same rows as 0008's and 0013's, and the holds the trigger keeps")
struct BIViewsBeforeAfterTests {
    /// The views 0016 replaced.
    static let changedViews = ["tickets", "messages_daily", "agent_ticket_intervals", "agent_utilization_daily",
                               "sla_compliance_daily", "queue_waits"]

    /// Zones with daylight saving at 02:00/03:00, none, a 45-minute offset, and a half-hour DST
    /// shift. (Where DST skips midnight itself, 0013's view cut days at 01:00 for every stretch that
    /// crossed that night: see `daysAreCutAtMidnightWhereDaylightSavingSkipsIt`.)
    static let zones = ["UTC", "Europe/Madrid", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"]

    /// The seeded day: midnight UTC two days ago, as in BIViewsTests.
    let day: Date = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(byAdding: .day, value: -2, to: calendar.startOfDay(for: Date()))!
    }()

    /// The views as the migrations before 0016 left them, read from the migrations' own text.
    static func earlier() throws -> EarlierViews {
        try EarlierViews(before: 16, in: MigrationCatalog.bundled(), copySchema: "bi_before")
    }

    @Test func theOldDefinitionsComeFromTheMigrationsBefore0016() throws {
        let earlier = try Self.earlier()
        #expect(Set(Self.changedViews).isSubset(of: Set(earlier.definitions.map(\.view))))
        // 0013 redefined agent_utilization_daily: the copy is its text, not 0008's.
        let utilization = try #require(earlier.definitions.first { $0.view == "agent_utilization_daily" })
        let automation = try #require(MigrationCatalog.bundled().first { $0.version == 13 })
        #expect(automation.sql.contains(String(utilization.sql.dropFirst("CREATE OR REPLACE VIEW".count))))
        #expect(earlier.onEarlierViews("SELECT * FROM bi.tickets JOIN xbi.y ON true JOIN a.bi.z ON true")
                == "SELECT * FROM bi_before.tickets JOIN xbi.y ON true JOIN a.bi.z ON true")
    }

    @Test func everyChangedViewGivesTheRowsOfItsOldDefinition() async throws {
        let connection = try await seededDatabase("bi_before_after")
        for zone in Self.zones {
            try await connection.query("SELECT set_config('TimeZone', $1, false)", [zone])
            for view in Self.changedViews {
                try await expectSameRows("SELECT * FROM bi.\(view)", on: connection, zone: zone)
            }
            // The filters BI tools use, which the new views push down to the tables.
            for query in [
                "SELECT * FROM bi.messages_daily WHERE day >= current_date - 7",
                "SELECT * FROM bi.messages_daily WHERE day = current_date - 2",
                "SELECT * FROM bi.agent_utilization_daily WHERE day >= current_date - 7",
                "SELECT * FROM bi.agent_utilization_daily WHERE day BETWEEN current_date - 4 AND current_date - 2",
                "SELECT * FROM bi.agent_utilization_daily WHERE day = current_date - 2 AND agent = 'ana'",
                "SELECT * FROM bi.sla_compliance_daily WHERE day >= current_date - 7",
                "SELECT * FROM bi.sla_compliance_daily WHERE day = current_date - 2",
                "SELECT * FROM bi.queue_waits WHERE assigned_at >= now() - interval '7 days'",
                "SELECT * FROM bi.agent_ticket_intervals WHERE assigned_at >= now() - interval '3 days'",
                "SELECT ticket, created_at, queue FROM bi.tickets WHERE created_at >= now() - interval '7 days'",
            ] {
                try await expectSameRows(query, on: connection, zone: zone)
            }
        }
        await connection.close()
    }

    @Test func everyExampleOfTheDocsGivesTheOldFigures() async throws {
        let connection = try await seededDatabase("bi_before_after_examples")
        let examples = try BIViewsTests.exampleQueries()
        #expect(!examples.isEmpty)
        for zone in Self.zones {
            try await connection.query("SELECT set_config('TimeZone', $1, false)", [zone])
            for example in examples {
                // One transaction, so that both read the same now(): an agent still online counts
                // until now(), and two statements a moment apart can round to different hundredths.
                try await connection.query("BEGIN")
                let new = try await table(example.sql, on: connection)
                let old = try await table(Self.before(example.sql), on: connection)
                try await connection.query("COMMIT")
                #expect(new == old, "docs/bi.md example \(example.name) in \(zone)")
                if Self.changedViews.contains(where: { example.sql.contains("bi.\($0)") }) {
                    #expect(!new.isEmpty, "docs/bi.md example \(example.name) in \(zone) has no rows on the seeded history")
                }
            }
        }
        await connection.close()
    }

    /// `switchboard.ticket_holds` equals the holds computed from the events, whatever the order the
    /// events came in, and after events are changed, deleted or all removed.
    @Test func theHoldsFollowTheEvents() async throws {
        let connection = try await seededDatabase("bi_holds")
        // The seed wrote T-1009's resolution before its assignment (an event that arrives late).
        try await expectHoldsMatchEvents(on: connection, "after the seed")
        #expect(try await connection.query("SELECT 1 FROM switchboard.ticket_holds WHERE ticket_id = 9 AND end_reason = 'resolved'").count == 1)

        try await connection.query("UPDATE switchboard.ticket_events SET at = at - interval '30 minutes' WHERE ticket_id = 1 AND kind = 'status_changed'")
        try await expectHoldsMatchEvents(on: connection, "after an event moved")
        try await connection.query("DELETE FROM switchboard.ticket_events WHERE ticket_id = 4 AND kind = 'acceptance_missed'")
        try await expectHoldsMatchEvents(on: connection, "after an event was deleted")
        try await connection.query("""
            INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
            VALUES (3, $1, 'unassigned', 'routing', '{"agent": "ana", "reason": "late"}'),
                   (3, $2, 'assigned', 'routing', '{"agent": "ben", "queue": "billing"}')
            """, [day.addingTimeInterval(-10 * 86_400), day.addingTimeInterval(-9 * 86_400)])
        try await expectHoldsMatchEvents(on: connection, "after late events in the middle of a hold")
        for view in Self.changedViews {
            try await expectSameRows("SELECT * FROM bi.\(view)", on: connection, zone: "UTC")
        }

        try await connection.query("TRUNCATE switchboard.ticket_events")
        #expect(try await connection.query("SELECT 1 FROM switchboard.ticket_holds").count == 0)
        await connection.close()
    }

    /// Two transactions writing holding events of one ticket at once: the second waits for the
    /// first (the ticket's row lock), then sees its event.
    @Test func concurrentWritersOfOneTicketLeaveTheRightHolds() async throws {
        let connectionString = try await migratedDatabase("bi_holds_concurrent")
        let setup = try await PostgresConnection.connect(.init(connectionString: connectionString), logger: TestDatabase.quietLogger)
        try await setup.simpleQuery(seed())
        let first = try await PostgresConnection.connect(.init(connectionString: connectionString), logger: TestDatabase.quietLogger)
        let second = try await PostgresConnection.connect(.init(connectionString: connectionString), logger: TestDatabase.quietLogger)
        let insert = "INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data) VALUES ($1, $2, $3, 'test', $4::jsonb)"
        let assigned = #"{"agent": "cleo", "queue": "billing"}"#
        let resolved = #"{"from": "open", "to": "resolved"}"#

        // In time order: the assignment, uncommitted, then the resolution.
        try await first.query("BEGIN")
        try await first.query(insert, [11, day.addingTimeInterval(18.5 * 3600), "assigned", assigned])
        let resolution = Task { try await second.query(insert, [11, day.addingTimeInterval(19 * 3600), "status_changed", resolved]) }
        try await waitUntilBlocked(on: setup)
        try await first.query("COMMIT")
        _ = try await resolution.value
        try await expectHoldsMatchEvents(on: setup, "resolution written while the assignment was not committed")
        #expect(try await setup.query("SELECT 1 FROM switchboard.ticket_holds WHERE ticket_id = 11 AND ended_at IS NULL").count == 0)

        // Out of time order: a resolution, uncommitted, then an assignment before it.
        try await first.query("BEGIN")
        try await first.query(insert, [5, day.addingTimeInterval(22 * 3600), "status_changed", resolved])
        let assignment = Task { try await second.query(insert, [5, day.addingTimeInterval(21 * 3600), "assigned", assigned]) }
        try await waitUntilBlocked(on: setup)
        try await first.query("COMMIT")
        _ = try await assignment.value
        try await expectHoldsMatchEvents(on: setup, "an earlier assignment written while a resolution was not committed")
        #expect(try await setup.query("SELECT 1 FROM switchboard.ticket_holds WHERE ticket_id = 5 AND ended_at IS NULL").count == 0)

        await first.close()
        await second.close()
        await setup.close()
    }

    /// Returns once a session of this database waits for a lock (the second writer behind the
    /// first's row lock), so the test sees the writers overlap rather than hoping they did.
    private func waitUntilBlocked(on connection: PostgresConnection, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let query = "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        var blocked = 0
        for _ in 0..<3000 {
            blocked = try await connection.query(query).first?.decode(0, as: Int.self) ?? 0
            if blocked > 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(blocked > 0, "the second writer never waited for the first", sourceLocation: sourceLocation)
    }

    /// America/Havana skips midnight when DST starts (2026-03-08 00:00 → 01:00). 0013's view stepped
    /// each hold's days from its first midnight, so after that night its days began at 01:00 and the
    /// day a hold ended past midnight was dropped with its resolution. The view of 0016 cuts at each
    /// day's midnight, as docs/bi.md says.
    @Test func daysAreCutAtMidnightWhereDaylightSavingSkipsIt() async throws {
        let connectionString = try await migratedDatabase("bi_midnight_skipped")
        let connection = try await PostgresConnection.connect(.init(connectionString: connectionString), logger: TestDatabase.quietLogger)
        try await createBefore(on: connection)
        try await connection.simpleQuery("""
            SET search_path = switchboard;
            INSERT INTO business_numbers (phone_number_id, display_phone_number) VALUES ('100', '+53 5 000 0000');
            INSERT INTO customers (id, wa_id) VALUES (1, '5350000001');
            INSERT INTO agents (id, name, teams, capacity, queues) VALUES ('ana', 'Ana', '{}', 4, '{billing}');
            INSERT INTO tickets (id, number, customer_id, business_number, status, queue, assignee, last_assignee, created_at, resolved_at)
              VALUES (1, 1001, 1, '100', 'resolved', 'billing', 'ana', 'ana', '2026-03-08 01:00+00', '2026-03-10 04:30+00');
            INSERT INTO ticket_events (ticket_id, at, kind, actor, data) VALUES
              (1, '2026-03-08 01:00+00', 'assigned', 'routing', '{"agent": "ana", "queue": "billing"}'),
              (1, '2026-03-10 04:30+00', 'status_changed', 'ana', '{"from": "open", "to": "resolved"}');
            """)
        try await connection.query("SELECT set_config('TimeZone', 'America/Havana', false)")
        let query = "SELECT day::text, tickets_handled, tickets_resolved FROM %@ WHERE agent = 'ana' ORDER BY day"
        let new = try await table(query.replacingOccurrences(of: "%@", with: "bi.agent_utilization_daily"), on: connection)
        let old = try await table(query.replacingOccurrences(of: "%@", with: "bi_before.agent_utilization_daily"), on: connection)
        // Held from 20:00 on the 7th (local) until 00:30 on the 10th, resolved then.
        #expect(new == [["2026-03-07", "1", "0"], ["2026-03-08", "1", "0"], ["2026-03-09", "1", "0"], ["2026-03-10", "1", "1"]])
        #expect(old == [["2026-03-07", "1", "0"], ["2026-03-08", "1", "0"], ["2026-03-09", "1", "0"]])
        await connection.close()
    }

    // MARK: Comparing

    /// `(new EXCEPT ALL old) ∪ (old EXCEPT ALL new)` is empty, and the query has rows (so a
    /// difference would show).
    private func expectSameRows(_ query: String, on connection: PostgresConnection, zone: String,
                                sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let old = try Self.before(query)
        let rows = try await connection.query("""
            SELECT (SELECT count(*) FROM (\(query)) n),
                   (SELECT count(*) FROM (\(old)) o),
                   (SELECT count(*) FROM (((\(query)) EXCEPT ALL (\(old))) UNION ALL ((\(old)) EXCEPT ALL (\(query)))) d)
            """)
        let row = try #require(rows.first, sourceLocation: sourceLocation)
        let newCount: Int = try row.decode(0)
        let oldCount: Int = try row.decode(1)
        let differing: Int = try row.decode(2)
        #expect(newCount > 0, "\(query) in \(zone): no rows on the seeded history", sourceLocation: sourceLocation)
        #expect(newCount == oldCount && differing == 0,
                "\(query) in \(zone): \(newCount) rows now, \(oldCount) before, \(differing) differ", sourceLocation: sourceLocation)
    }

    private func expectHoldsMatchEvents(on connection: PostgresConnection, _ when: String,
                                        sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let fromEvents = """
            SELECT e.ticket_id, e.id, e.data ->> 'agent', e.at, e.next_at,
                   CASE e.next_kind WHEN 'assigned' THEN 'reassigned' WHEN 'status_changed' THEN 'resolved' ELSE e.next_kind END
            FROM (SELECT ev.*, lead(ev.at) OVER w AS next_at, lead(ev.kind) OVER w AS next_kind
                  FROM switchboard.ticket_events ev
                  WHERE ev.kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened')
                     OR (ev.kind = 'status_changed' AND ev.data ->> 'to' = 'resolved')
                  WINDOW w AS (PARTITION BY ev.ticket_id ORDER BY ev.at, ev.id)) e
            WHERE e.kind = 'assigned'
            """
        let kept = "SELECT ticket_id, assignment_id, agent, assigned_at, ended_at, end_reason FROM switchboard.ticket_holds"
        let rows = try await connection.query("""
            SELECT (SELECT count(*) FROM (\(kept)) k),
                   (SELECT count(*) FROM ((\(kept) EXCEPT ALL \(fromEvents)) UNION ALL (\(fromEvents) EXCEPT ALL \(kept))) d)
            """)
        let row = try #require(rows.first, sourceLocation: sourceLocation)
        let holds: Int = try row.decode(0)
        let differing: Int = try row.decode(1)
        #expect(holds > 0 && differing == 0, "ticket_holds \(when): \(holds) holds, \(differing) differ from the events", sourceLocation: sourceLocation)
    }

    private func table(_ query: String, on connection: PostgresConnection) async throws -> [[String?]] {
        let rows = try await connection.query(query)
        return rows.map { row in rows.columns.indices.map { row.text($0) } }
    }

    /// The same query on the old definitions.
    static func before(_ query: String) throws -> String {
        try earlier().onEarlierViews(query)
    }

    // MARK: The seeded history

    private func migratedDatabase(_ label: String) async throws -> String {
        let connectionString = try await TestDatabase.freshDatabase(label)
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: connectionString), size: 1), logger: TestDatabase.quietLogger)
        try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: TestDatabase.quietLogger).migrate()
        await pool.close()
        return connectionString
    }

    /// The old definitions under `bi_before` (their tables named as in the migrations, in the schema
    /// switchboard).
    private func createBefore(on connection: PostgresConnection) async throws {
        try await connection.simpleQuery(Self.earlier().creationScript())
    }

    private func seededDatabase(_ label: String) async throws -> PostgresConnection {
        let connectionString = try await migratedDatabase(label)
        let connection = try await PostgresConnection.connect(.init(connectionString: connectionString), logger: TestDatabase.quietLogger)
        try await createBefore(on: connection)
        try await connection.simpleQuery(seed())
        return connection
    }

    /// A week of a small team around the seeded day D (midnight UTC two days ago): holds that cross
    /// midnights, last for days or weeks, end exactly at midnight or last no time at all; tickets
    /// reassigned, unassigned, not accepted, reopened, resolved and still open; an assignment naming no
    /// agent and one naming an agent not in the agents table; presence that crosses midnight, repeats
    /// a moment, and is still running; SLA clocks met, breached and cancelled while held or while
    /// waiting (and running or paused ones); surveys; and events written out of order.
    private func seed() -> String {
        /// D + days, at HH:MM UTC.
        func at(_ days: Int, _ time: String) -> String {
            let parts = time.split(separator: ":").compactMap { Double($0) }
            return "'" + BIViewsTests.timestampText(day.addingTimeInterval(Double(days) * 86_400 + parts[0] * 3600 + parts[1] * 60)) + "'"
        }
        func assigned(_ agent: String?, _ queue: String, step: Int? = nil, previous: String? = nil) -> String {
            var fields = [#""queue": "\#(queue)""#]
            if let agent { fields.append(#""agent": "\#(agent)""#) }
            if let step { fields.append(#""step": \#(step)"#) }
            if let previous { fields.append(#""previous": "\#(previous)""#) }
            return "'{" + fields.joined(separator: ", ") + "}'"
        }
        let resolved = #"'{"from": "open", "to": "resolved"}'"#
        return """
            SET search_path = switchboard;
            INSERT INTO business_numbers (phone_number_id, display_phone_number) VALUES ('100', '+34 600 000 000'), ('200', NULL);
            INSERT INTO customers (id, wa_id, country, language) SELECT g, '3460000000' || g, 'ES', 'es' FROM generate_series(1, 12) g;
            INSERT INTO agents (id, name, teams, capacity, queues) VALUES
              ('ana', 'Ana', '{billing-team}', 4, '{billing}'), ('ben', 'Ben', '{tech-team}', 4, '{tech}'),
              ('cleo', 'Cleo', '{}', 2, '{billing,tech}');
            INSERT INTO agent_presence_changes (agent_id, presence, at) VALUES
              ('ana', 'online', \(at(-20, "10:00"))), ('ana', 'offline', \(at(-20, "18:00"))),
              ('ana', 'online', \(at(-1, "21:00"))), ('ana', 'away', \(at(0, "00:30"))), ('ana', 'online', \(at(0, "08:50"))),
              ('ana', 'offline', \(at(0, "12:30"))), ('ana', 'online', \(at(0, "19:00"))), ('ana', 'offline', \(at(1, "01:00"))),
              ('ben', 'online', \(at(-3, "14:00"))), ('ben', 'offline', \(at(-3, "20:00"))), ('ben', 'online', \(at(-2, "09:00"))),
              ('ben', 'offline', \(at(-2, "17:00"))), ('ben', 'online', \(at(-1, "22:00"))), ('ben', 'online', \(at(-1, "22:00"))),
              ('ben', 'away', \(at(0, "02:00"))), ('ben', 'offline', \(at(0, "02:30"))), ('ben', 'online', \(at(0, "11:50"))),
              ('cleo', 'online', \(at(-2, "08:55"))), ('cleo', 'offline', \(at(-2, "12:00"))), ('cleo', 'online', \(at(-1, "08:00"))),
              ('cleo', 'offline', \(at(-1, "16:00"))), ('cleo', 'online', \(at(0, "14:00"))), ('cleo', 'away', \(at(0, "18:00")));
            INSERT INTO tickets (id, number, customer_id, business_number, status, priority, queue, assignee, last_assignee,
                                 created_at, updated_at, first_response_at, resolved_at, assigned_at, waiting_since) VALUES
              (1, 1001, 1, '100', 'resolved', 'high', 'billing', 'ana', 'ana', \(at(0, "09:00")), \(at(0, "10:00")), \(at(0, "09:10")), \(at(0, "10:00")), \(at(0, "09:02")), NULL),
              (2, 1002, 2, '100', 'resolved', 'normal', 'tech', 'ben', 'ben', \(at(-1, "22:30")), \(at(0, "01:15")), \(at(-1, "23:10")), \(at(0, "01:15")), \(at(-1, "22:40")), NULL),
              (3, 1003, 3, '100', 'pending', 'normal', 'billing', 'ana', 'ana', \(at(-20, "10:00")), \(at(-20, "11:00")), \(at(-20, "10:20")), NULL, \(at(-20, "10:05")), NULL),
              (4, 1004, 4, '200', 'resolved', 'urgent', 'tech', 'ana', 'ana', \(at(-3, "15:00")), \(at(1, "08:00")), \(at(-3, "15:30")), \(at(1, "08:00")), \(at(0, "11:00")), NULL),
              (5, 1005, 5, '100', 'open', 'low', 'billing', 'cleo', 'cleo', \(at(-1, "08:00")), \(at(0, "14:10")), \(at(-1, "08:30")), NULL, \(at(0, "14:10")), NULL),
              (6, 1006, 6, '100', 'resolved', 'normal', 'billing', 'ana', 'ana', \(at(0, "20:00")), \(at(1, "00:00")), \(at(0, "20:30")), \(at(1, "00:00")), \(at(0, "20:05")), NULL),
              (7, 1007, 7, '200', 'resolved', 'normal', 'tech', 'ben', 'ben', \(at(0, "11:55")), \(at(0, "12:00")), NULL, \(at(0, "12:00")), \(at(0, "12:00")), NULL),
              (8, 1008, 8, '100', 'open', 'normal', 'tech', NULL, NULL, \(at(0, "13:00")), \(at(0, "13:30")), NULL, NULL, NULL, \(at(0, "13:00"))),
              (9, 1009, 9, '100', 'resolved', 'normal', 'billing', 'ana', 'ana', \(at(0, "16:00")), \(at(0, "17:00")), \(at(0, "16:20")), \(at(0, "17:00")), \(at(0, "16:10")), NULL),
              (10, 1010, 10, '100', 'resolved', 'normal', 'billing', NULL, NULL, \(at(0, "10:25")), \(at(0, "11:30")), \(at(0, "10:40")), \(at(0, "11:30")), \(at(0, "10:30")), NULL),
              (11, 1011, 11, '200', 'open', 'high', 'billing', NULL, NULL, \(at(0, "18:00")), \(at(0, "18:00")), NULL, NULL, NULL, \(at(0, "18:00"))),
              (12, 1012, 12, '100', 'resolved', 'normal', 'tech', 'ben', 'ben', \(at(-6, "09:50")), \(at(1, "10:00")), \(at(-6, "10:30")), \(at(1, "10:00")), \(at(-6, "10:00")), NULL);
            INSERT INTO messages (ticket_id, direction, wamid, type, body, received_at) VALUES
              (1, 'inbound', 'wamid.B1', 'text', 'a', \(at(0, "09:00"))), (1, 'inbound', 'wamid.B2', 'image', 'b', \(at(0, "09:01"))),
              (1, 'outbound', NULL, 'text', 'c', \(at(0, "09:10"))), (2, 'inbound', 'wamid.B3', 'text', 'd', \(at(-1, "22:30"))),
              (2, 'inbound', 'wamid.B4', 'text', 'e', \(at(-1, "23:55"))), (2, 'outbound', NULL, 'template', NULL, \(at(-1, "23:10"))),
              (2, 'inbound', 'wamid.B5', 'audio', NULL, \(at(0, "00:05"))), (2, 'outbound', NULL, 'text', 'f', \(at(0, "00:40"))),
              (3, 'inbound', 'wamid.B6', 'text', 'g', \(at(-20, "10:00"))), (3, 'outbound', NULL, 'text', 'h', \(at(-20, "10:20"))),
              (4, 'inbound', 'wamid.B7', 'text', 'i', \(at(-3, "15:00"))), (4, 'outbound', NULL, 'text', 'j', \(at(-3, "15:30"))),
              (4, 'inbound', 'wamid.B8', 'text', 'k', \(at(0, "10:50"))), (4, 'outbound', NULL, 'interactive', 'l', \(at(1, "07:55"))),
              (5, 'inbound', 'wamid.B9', 'text', 'm', \(at(-1, "08:00"))), (5, 'inbound', 'wamid.B10', 'text', 'n', \(at(0, "14:00"))),
              (6, 'inbound', 'wamid.B11', 'text', 'o', \(at(0, "20:00"))), (6, 'outbound', NULL, 'text', 'p', \(at(0, "20:30"))),
              (6, 'inbound', 'wamid.B12', 'reaction', NULL, \(at(0, "23:59"))), (6, 'inbound', 'wamid.B13', 'text', 'q', \(at(1, "00:00"))),
              (7, 'inbound', 'wamid.B14', 'text', 'r', \(at(0, "11:55"))), (8, 'inbound', 'wamid.B15', 'text', 's', \(at(0, "13:00"))),
              (9, 'inbound', 'wamid.B16', 'text', 't', \(at(0, "16:00"))), (9, 'outbound', NULL, 'text', 'u', \(at(0, "16:20"))),
              (10, 'inbound', 'wamid.B17', 'text', 'v', \(at(0, "10:25"))), (10, 'outbound', NULL, 'text', 'w', \(at(0, "10:40"))),
              (11, 'inbound', 'wamid.B18', 'text', 'x', \(at(0, "18:00"))), (12, 'inbound', 'wamid.B19', 'text', 'y', \(at(-6, "09:50"))),
              (12, 'outbound', NULL, 'text', 'z', \(at(-6, "10:30"))), (12, 'inbound', 'wamid.B20', 'text', 'aa', \(at(1, "09:40")));
            INSERT INTO ticket_events (ticket_id, at, kind, actor, data) VALUES
              (1, \(at(0, "09:00")), 'created', NULL, '{}'),
              (1, \(at(0, "09:00")), 'routed', 'routing', '{"queue": "billing"}'),
              (1, \(at(0, "09:01")), 'message_received', NULL, '{}'),
              (1, \(at(0, "09:02")), 'assigned', 'routing', \(assigned("ana", "billing", step: 1))),
              (1, \(at(0, "09:10")), 'reply_sent', 'ana', '{}'),
              (1, \(at(0, "10:00")), 'status_changed', 'ana', \(resolved)),
              (2, \(at(-1, "22:30")), 'routed', 'routing', '{"queue": "tech"}'),
              (2, \(at(-1, "22:40")), 'assigned', 'routing', \(assigned("ben", "tech", step: 1))),
              (2, \(at(0, "01:15")), 'status_changed', 'ben', \(resolved)),
              (3, \(at(-20, "10:00")), 'routed', 'routing', '{"queue": "billing"}'),
              (3, \(at(-20, "10:05")), 'assigned', 'routing', \(assigned("ana", "billing", step: 1))),
              (3, \(at(-20, "11:00")), 'status_changed', 'ana', '{"from": "open", "to": "pending"}'),
              (4, \(at(-3, "15:00")), 'routed', 'routing', '{"queue": "tech"}'),
              (4, \(at(-3, "15:05")), 'assigned', 'routing', \(assigned("ben", "tech", step: 1))),
              (4, \(at(-3, "18:00")), 'unassigned', 'routing', '{"agent": "ben", "reason": "offline past the grace period"}'),
              (4, \(at(-2, "09:00")), 'assigned', 'routing', \(assigned("cleo", "tech", step: 2))),
              (4, \(at(-2, "09:10")), 'acceptance_missed', 'routing', '{"agent": "cleo"}'),
              (4, \(at(-2, "09:30")), 'assigned', 'routing', \(assigned("ben", "tech", step: 2))),
              (4, \(at(0, "11:00")), 'assigned', 'control:root', \(assigned("ana", "tech", previous: "ben"))),
              (4, \(at(1, "08:00")), 'status_changed', 'ana', \(resolved)),
              (5, \(at(-1, "08:00")), 'routed', 'routing', '{"queue": "billing"}'),
              (5, \(at(-1, "08:05")), 'assigned', 'cleo', \(assigned("cleo", "billing"))),
              (5, \(at(-1, "09:00")), 'status_changed', 'cleo', \(resolved)),
              (5, \(at(0, "14:00")), 'reopened', 'customer', '{}'),
              (5, \(at(0, "14:00")), 'routed', 'routing', '{"queue": "billing"}'),
              (5, \(at(0, "14:10")), 'assigned', 'routing', \(assigned("cleo", "billing", step: 1))),
              (6, \(at(0, "20:00")), 'routed', 'routing', '{"queue": "billing"}'),
              (6, \(at(0, "20:05")), 'assigned', 'routing', \(assigned("ana", "billing", step: 1))),
              (6, \(at(1, "00:00")), 'status_changed', 'ana', \(resolved)),
              (7, \(at(0, "11:55")), 'routed', 'routing', '{"queue": "tech"}'),
              (7, \(at(0, "12:00")), 'assigned', 'routing', \(assigned("ben", "tech", step: 1))),
              (7, \(at(0, "12:00")), 'status_changed', 'ben', \(resolved)),
              (8, \(at(0, "13:00")), 'routed', 'routing', '{"queue": "tech"}'),
              (8, \(at(0, "13:05")), 'assigned', 'routing', \(assigned(nil, "tech", step: 3))),
              (8, \(at(0, "13:30")), 'unassigned', 'routing', '{"reason": "no agent"}'),
              (9, \(at(0, "16:00")), 'routed', 'routing', '{"queue": "billing"}'),
              (9, \(at(0, "17:00")), 'status_changed', 'ana', \(resolved)),
              (10, \(at(0, "10:25")), 'routed', 'routing', '{"queue": "billing"}'),
              (10, \(at(0, "10:30")), 'assigned', 'routing', \(assigned("eve", "billing", step: 1))),
              (10, \(at(0, "11:30")), 'status_changed', 'eve', \(resolved)),
              (11, \(at(0, "18:00")), 'routed', 'routing', '{"queue": "billing"}'),
              (12, \(at(-6, "09:50")), 'routed', 'routing', '{"queue": "tech"}'),
              (12, \(at(-6, "10:00")), 'assigned', 'routing', \(assigned("ben", "tech", step: 1))),
              (12, \(at(1, "10:00")), 'status_changed', 'ben', \(resolved));
            -- T-1009's assignment arrives after its resolution was written.
            INSERT INTO ticket_events (ticket_id, at, kind, actor, data) VALUES
              (9, \(at(0, "16:10")), 'assigned', 'routing', \(assigned("ana", "billing", step: 1)));
            INSERT INTO sla_policies (id, name, checksum, spec) VALUES (1, 'standard', 'standard-1', '{}'), (2, 'vip', 'vip-1', '{}');
            INSERT INTO ticket_slas (ticket_id, policy_id, started_at, updated_at) VALUES
              (3, 1, \(at(-20, "10:00")), \(at(-20, "11:00"))), (11, 2, \(at(0, "18:00")), \(at(0, "18:00")));
            INSERT INTO sla_clocks (ticket_id, clock, target_seconds, started_at, running_since, warn_at, deadline, warned_at, breached_at) VALUES
              (3, 'resolution', 86400, \(at(-20, "10:00")), NULL, NULL, NULL, NULL, NULL),
              (11, 'first_response', 900, \(at(0, "18:00")), \(at(0, "18:00")), \(at(0, "18:10")), \(at(0, "18:15")), \(at(0, "18:10")), \(at(0, "18:15")));
            INSERT INTO sla_records (ticket_id, policy_id, clock, outcome, target_seconds, started_at, deadline, ended_at,
                                     elapsed_business_seconds, elapsed_wall_seconds) VALUES
              (1, 1, 'first_response', 'met', 900, \(at(0, "09:00")), \(at(0, "09:15")), \(at(0, "09:10")), 600, 600),
              (1, 1, 'resolution', 'met', 14400, \(at(0, "09:00")), \(at(0, "13:00")), \(at(0, "10:00")), 3600, 3600),
              (2, 1, 'first_response', 'breached', 1800, \(at(-1, "22:30")), \(at(-1, "23:00")), \(at(-1, "23:10")), 2400, 2400),
              (2, 1, 'resolution', 'met', 14400, \(at(-1, "22:30")), \(at(0, "02:30")), \(at(0, "01:15")), 9900, 9900),
              (4, 2, 'first_response', 'met', 3600, \(at(-3, "15:00")), \(at(-3, "16:00")), \(at(-3, "15:30")), 1800, 1800),
              (4, 2, 'next_response', 'breached', 3600, \(at(-3, "17:00")), \(at(-3, "18:00")), \(at(-3, "19:00")), 7200, 7200),
              (4, 2, 'next_response', 'cancelled', 3600, \(at(0, "10:50")), \(at(0, "11:50")), \(at(0, "11:00")), 600, 600),
              (4, 2, 'resolution', 'breached', 86400, \(at(-3, "15:00")), \(at(-2, "15:00")), \(at(1, "08:00")), 230400, 230400),
              (5, 1, 'first_response', 'met', 1800, \(at(-1, "08:00")), \(at(-1, "08:30")), \(at(-1, "08:30")), 1800, 1800),
              (5, 1, 'resolution', 'met', 14400, \(at(-1, "08:00")), \(at(-1, "12:00")), \(at(-1, "09:00")), 3600, 3600),
              (6, 1, 'first_response', 'met', 1800, \(at(0, "20:00")), \(at(0, "20:30")), \(at(0, "20:30")), 1800, 1800),
              (6, 1, 'resolution', 'met', 14400, \(at(0, "20:00")), \(at(1, "00:00")), \(at(1, "00:00")), 14400, 14400),
              (8, 1, 'first_response', 'breached', 600, \(at(0, "13:00")), \(at(0, "13:10")), \(at(0, "13:20")), 1200, 1200),
              (9, 1, 'first_response', 'met', 1800, \(at(0, "16:00")), \(at(0, "16:30")), \(at(0, "16:20")), 1200, 1200),
              (12, 1, 'first_response', 'breached', 1800, \(at(-6, "09:50")), \(at(-6, "10:20")), \(at(-6, "10:30")), 2400, 2400),
              (12, 1, 'resolution', 'breached', 86400, \(at(-6, "09:50")), \(at(-5, "09:50")), \(at(1, "10:00")), 605400, 605400);
            INSERT INTO csat_surveys (ticket_id, agent_id, queue, resolved_at, auto_resolved, channel, sent_at, expires_at, rating, rated_at) VALUES
              (1, 'ana', 'billing', \(at(0, "10:00")), false, 'interactive', \(at(0, "10:00")), \(at(0, "22:00")), 4, \(at(0, "10:05"))),
              (2, 'ben', 'tech', \(at(0, "01:15")), false, 'interactive', \(at(0, "01:15")), \(at(0, "13:15")), 2, \(at(0, "01:20"))),
              (4, 'ana', 'tech', \(at(1, "08:00")), false, 'template', \(at(1, "08:00")), \(at(1, "20:00")), NULL, NULL),
              (6, 'ana', 'billing', \(at(1, "00:00")), false, 'interactive', \(at(1, "00:00")), \(at(1, "12:00")), 5, \(at(1, "00:02")));
            RESET search_path;
            """
    }
}

import Foundation
import Postgres
import SwitchboardCore
import SwitchboardStore
import Testing
import TestSupport

/// The `bi` schema as an analyst sees it: a login in the group `switchboard_bi` (granted by
/// `deploy/bi-grants.sql`, as the install script does) runs every example query of `docs/bi.md` on a
/// seeded day of history whose figures were worked out by hand, and can read nothing else.
@Suite("BI views: docs/bi.md's queries as switchboard_bi on a seeded history")
struct BIViewsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The seeded day: midnight UTC two days ago (inside every "last 7 days" filter).
    let day: Date = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(byAdding: .day, value: -2, to: calendar.startOfDay(for: Date()))!
    }()
    /// When the open ticket's first-response SLA falls due: within the hour, so it is "at risk".
    let dueSoon = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 1800).rounded(.up))

    /// Strings that must never be visible through the views.
    static let privateStrings = ["34600111222", "447700900123", "GB.1A2B3C", "Lucía Pérez", "my invoice is wrong",
                                 "photo of the receipt", "customer is angry", "wamid.SEED"]

    @Test func everyExampleQueryReturnsTheFiguresOfTheSeededHistory() async throws {
        let analyst = try await seededDatabaseAndAnalyst("bi_examples")
        let examples = try Self.exampleQueries()
        #expect(examples.map(\.name) == ["first-response-by-queue", "sla-compliance-by-agent", "volume-by-hour-of-day",
                                         "utilization-per-agent", "messages-per-day", "queue-waiting-times",
                                         "sla-attainment-per-policy", "sla-at-risk", "csat-per-agent"])
        let d = Self.dateText(day)
        // One transaction, so "today" is one day for every example: the seeded day is two days
        // before the test began, and UTC midnight may have passed since (the database is made and
        // seeded behind every other suite's).
        try await analyst.query("BEGIN")
        let daysSinceSeeded = try #require(try await analyst.query("SELECT (current_date - $1::date)::int", [d]).first?.decode(0, as: Int.self))
        let expected: [String: [[String?]]] = [
            // billing: T-1001 10 min (business 10), T-1002 30 min (business 25); T-1004 never answered.
            // tech: T-1003 5 min (business 5), T-1006 18 min (business 16).
            "first-response-by-queue": [["billing", "2", "20.0", "17.5"], ["tech", "2", "11.5", "10.5"]],
            // ana: T-1001's first response and resolution met, T-1002's first response breached. ben: T-1003
            // met, and T-1006's breach, answered while ben held it (it is Ana's now).
            "sla-compliance-by-agent": [["ana", "2", "1", "66.7"], ["ben", "1", "1", "50.0"]],
            "volume-by-hour-of-day": [["9", "2"], ["11", "1"], ["14", "1"], ["15", "1"], ["16", "1"]],
            // ana online 08:55–10:30 and 10:45–13:00 (230 min); holds 09:02–10:00 (T-1004 09:30–09:50 inside it)
            // and 11:04–12:00: 114 min, 49.6 %; T-1006, hers from 15:50 while offline and held since, adds no busy
            // time but counts as handled that day and each day after it through today (4 + 1 + 1 two days later). ben online 13:50–16:00 (130 min),
            // holds 14:01–15:00, 15:31–15:41 and 15:45–15:50 (74 min).
            "utilization-per-agent": [["ana", "3.83", "1.90", "49.6", "\(4 + daysSinceSeeded)", "3"], ["ben", "2.17", "1.23", "56.9", "2", "1"]],
            "messages-per-day": [[d, "inbound", "8"], [d, "outbound", "4"]],
            // billing waits 120, 240, 300 s: median 240, p90 240 + 0.8 × 60. tech: 60 (T-1003), 60 and, after
            // its return to the queue at 15:41, 240 (T-1006); the handover from ben to ana is no wait.
            "queue-waiting-times": [["billing", "3", "240", "288"], ["tech", "3", "60", "204"]],
            // first response: business 300, 600, 960, 1500 s → p90 960 + 0.7 × 540 = 1338 s = 22.3 min.
            "sla-attainment-per-policy": [["standard", "first_response", "50.0", "22.3"], ["standard", "resolution", "100.0", "60.0"]],
            "sla-at-risk": [["T-1005", "billing", nil, "standard", "first_response", Self.timestampText(dueSoon)]],
            // ana: 5 and 2 → 3.50, one of two satisfied (4 or 5); ben's survey went unanswered.
            "csat-per-agent": [["ana", "2", "2", "3.50", "50.0"], ["ben", "1", "0", nil, nil]],
        ]
        for example in examples {
            let rows = try await analyst.query(example.sql)
            let table = rows.map { row in rows.columns.indices.map { row.text($0) } }
            #expect(table == expected[example.name], "docs/bi.md example \(example.name)")
        }
        try await analyst.query("COMMIT")
        await analyst.close()
    }

    @Test func theAnalystReadsTheViewsAndNothingElse() async throws {
        let analyst = try await seededDatabaseAndAnalyst("bi_privileges")
        for table in ["switchboard.messages", "switchboard.customers", "switchboard.tickets", "switchboard.notes", "switchboard.api_tokens"] {
            let error = await #expect(throws: PostgresError.self) { try await analyst.query("SELECT count(*) FROM \(table)") }
            #expect(error?.sqlState == .insufficientPrivilege, "\(table)")
            #expect("\(error.map { "\($0)" } ?? "")".contains("permission denied for schema switchboard"))
        }
        let create = await #expect(throws: PostgresError.self) { try await analyst.query("CREATE VIEW bi.mine AS SELECT 1") }
        #expect(create?.sqlState == .insufficientPrivilege)
        // No temporary objects either (a function of one's own could watch the rows a view filters).
        let temporary = await #expect(throws: PostgresError.self) { try await analyst.query("CREATE TEMP TABLE mine (a int)") }
        #expect(temporary?.sqlState == .insufficientPrivilege)

        // Every view, every row: no phone number, WhatsApp user id, name, message text or note.
        let views = try await analyst.query("SELECT table_name FROM information_schema.views WHERE table_schema = 'bi' ORDER BY 1").map { try $0.decode(0, as: String.self) }
        #expect(views.count == 11)
        for view in views {
            let dump = try await analyst.query("SELECT coalesce(json_agg(v)::text, '') FROM bi.\(view) v")
            let text = try #require(dump.first?.text(0))
            for secret in Self.privateStrings {
                #expect(!text.contains(secret), "bi.\(view) shows \(secret)")
            }
        }
        let names = try await analyst.query("SELECT DISTINCT column_name FROM information_schema.columns WHERE table_schema = 'bi'").map { try $0.decode(0, as: String.self) }
        for forbidden in ["body", "wa_id", "user_id", "profile_name", "payload", "details", "recipient"] {
            #expect(!names.contains(forbidden), "a bi view has a column \(forbidden)")
        }
        await analyst.close()
    }

    @Test func everyViewAndColumnIsDocumentedInTheDatabaseAndInDocs() async throws {
        let analyst = try await seededDatabaseAndAnalyst("bi_comments")
        let undocumented = try await analyst.query("""
            SELECT c.relname || coalesce('.' || a.attname, '') FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'bi'
            LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relkind = 'v' AND (obj_description(c.oid, 'pg_class') IS NULL
                                       OR (a.attnum IS NOT NULL AND col_description(c.oid, a.attnum) IS NULL))
            """).map { try $0.decode(0, as: String.self) }
        #expect(undocumented == [])
        let docs = try String(contentsOf: Self.repository.appendingPathComponent("docs/bi.md"), encoding: .utf8)
        for row in try await analyst.query("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'bi'") {
            let view: String = try row.decode(0)
            let column: String = try row.decode(1)
            let section = docs.components(separatedBy: "## `bi.\(view)`").dropFirst().first?.components(separatedBy: "\n## ").first
            #expect(section != nil, "docs/bi.md has no section for bi.\(view)")
            #expect(section?.contains("`\(column)`") == true, "docs/bi.md's section on bi.\(view) does not describe \(column)")
        }
        await analyst.close()
    }

    // MARK: The seeded history

    /// A fresh database at head with the seeded history, `switchboard_bi` granted as the install
    /// script does, and a connection as an analyst who is a member of it.
    private func seededDatabaseAndAnalyst(_ label: String) async throws -> PostgresConnection {
        let connectionString = try await TestDatabase.freshDatabase(label)
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: connectionString), size: 1), logger: TestDatabase.quietLogger)
        try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: TestDatabase.quietLogger).migrate()
        // psql's meta-commands (\set) are psql's, not the server's.
        let grants = try String(contentsOf: Self.repository.appendingPathComponent("deploy/bi-grants.sql"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("\\") }.joined(separator: "\n")
        try await pool.withConnection { connection in
            // Roles belong to the cluster, which every suite shares: created once, as install.sh does;
            // the lock makes tests that start together create them one after the other (two
            // `IF NOT EXISTS` checks at once would both create, and one fail).
            try await connection.simpleQuery("""
                DO $$ BEGIN
                  PERFORM pg_advisory_xact_lock(727274);
                  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'switchboard_bi') THEN CREATE ROLE switchboard_bi NOLOGIN; END IF;
                  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bi_analyst') THEN
                    CREATE ROLE bi_analyst LOGIN IN ROLE switchboard_bi;
                    ALTER ROLE bi_analyst SET timezone = 'UTC';
                  END IF;
                END $$;
                """)
            try await connection.simpleQuery(grants)
            try await connection.simpleQuery(seed())
        }
        await pool.close()
        return try await PostgresConnection.connect(.init(connectionString: connectionString + " user=bi_analyst"), logger: TestDatabase.quietLogger)
    }

    /// One day of a small support team, 2 days ago (UTC): six tickets, two agents, SLA outcomes. T-1006
    /// goes back to the queue, then to ben again, then by hand to ana (offline), and stays pending.
    private func seed() -> String {
        func at(_ time: String) -> String {
            let parts = time.split(separator: ":").compactMap { Double($0) }
            return "'" + Self.timestampText(day.addingTimeInterval(parts[0] * 3600 + parts[1] * 60)) + "'"
        }
        return """
            SET search_path = switchboard;
            INSERT INTO business_numbers (phone_number_id, display_phone_number) VALUES ('106540352242922', '+34 600 000 000');
            INSERT INTO customers (id, wa_id, user_id, profile_name, country, language) VALUES
              (1, '34600111222', NULL, 'Lucía Pérez', 'ES', 'es'),
              (2, '447700900123', NULL, 'Tom', 'GB', 'en'),
              (3, NULL, 'GB.1A2B3C', NULL, NULL, 'en');
            INSERT INTO agents (id, name, teams, capacity, queues) VALUES
              ('ana', 'Ana', '{billing-team}', 4, '{billing}'), ('ben', 'Ben', '{tech-team}', 4, '{tech}');
            INSERT INTO agent_presence_changes (agent_id, presence, at) VALUES
              ('ana', 'online', \(at("08:55"))), ('ana', 'away', \(at("10:30"))), ('ana', 'online', \(at("10:45"))), ('ana', 'offline', \(at("13:00"))),
              ('ben', 'online', \(at("13:50"))), ('ben', 'offline', \(at("16:00")));
            INSERT INTO tickets (id, number, customer_id, business_number, status, priority, queue, assignee, last_assignee,
                                 created_at, updated_at, first_response_at, resolved_at, assigned_at) VALUES
              (1, 1001, 1, '106540352242922', 'resolved', 'high', 'billing', 'ana', 'ana', \(at("09:00")), \(at("10:00")), \(at("09:10")), \(at("10:00")), \(at("09:02"))),
              (2, 1002, 2, '106540352242922', 'resolved', 'normal', 'billing', 'ana', 'ana', \(at("11:00")), \(at("12:00")), \(at("11:30")), \(at("12:00")), \(at("11:04"))),
              (3, 1003, 3, '106540352242922', 'resolved', 'normal', 'tech', 'ben', 'ben', \(at("14:00")), \(at("15:00")), \(at("14:05")), \(at("15:00")), \(at("14:01"))),
              (4, 1004, 2, '106540352242922', 'resolved', 'low', 'billing', 'ana', 'ana', \(at("09:25")), \(at("09:50")), NULL, \(at("09:50")), \(at("09:30"))),
              (6, 1006, 3, '106540352242922', 'pending', 'normal', 'tech', 'ana', 'ana', \(at("15:30")), \(at("15:50")), \(at("15:48")), NULL, \(at("15:50")));
            INSERT INTO tickets (id, number, customer_id, business_number, status, priority, queue, created_at, updated_at, waiting_since, queue_entered_at) VALUES
              (5, 1005, 1, '106540352242922', 'open', 'urgent', 'billing', \(at("16:30")), \(at("16:30")), \(at("16:30")), \(at("16:30")));
            INSERT INTO messages (ticket_id, direction, wamid, type, body, received_at) VALUES
              (1, 'inbound', 'wamid.SEED1', 'text', 'my invoice is wrong', \(at("09:00"))),
              (1, 'inbound', 'wamid.SEED2', 'text', 'my invoice is wrong, again', \(at("09:05"))),
              (1, 'outbound', 'wamid.SEED3', 'text', 'Let me check', \(at("09:10"))),
              (4, 'inbound', 'wamid.SEED4', 'text', 'hello?', \(at("09:25"))),
              (2, 'inbound', 'wamid.SEED5', 'text', 'my invoice is wrong', \(at("11:00"))),
              (2, 'inbound', 'wamid.SEED6', 'image', 'photo of the receipt', \(at("11:01"))),
              (2, 'outbound', 'wamid.SEED7', 'text', 'Refunded', \(at("11:30"))),
              (3, 'inbound', 'wamid.SEED8', 'text', 'the app crashes', \(at("14:00"))),
              (3, 'outbound', 'wamid.SEED9', 'template', NULL, \(at("14:05"))),
              (5, 'inbound', 'wamid.SEED10', 'text', 'my invoice is wrong', \(at("16:30"))),
              (6, 'inbound', 'wamid.SEED11', 'text', 'the app crashes again', \(at("15:30"))),
              (6, 'outbound', 'wamid.SEED12', 'text', 'Which version?', \(at("15:48")));
            INSERT INTO notes (ticket_id, at, agent_id, author, body) VALUES (1, \(at("09:06")), 'ana', 'ana', 'customer is angry');
            INSERT INTO ticket_events (ticket_id, at, kind, actor, data) VALUES
              (1, \(at("09:00")), 'routed', 'routing', '{"queue": "billing"}'),
              (4, \(at("09:25")), 'routed', 'routing', '{"queue": "billing"}'),
              (2, \(at("11:00")), 'routed', 'routing', '{"queue": "billing"}'),
              (3, \(at("14:00")), 'routed', 'routing', '{"queue": "tech"}'),
              (6, \(at("15:30")), 'routed', 'routing', '{"queue": "tech"}'),
              (5, \(at("16:30")), 'routed', 'routing', '{"queue": "billing"}'),
              (6, \(at("15:31")), 'assigned', 'routing', '{"agent": "ben", "queue": "tech", "step": 1, "waited_seconds": 60}'),
              (6, \(at("15:41")), 'unassigned', 'routing', '{"agent": "ben", "reason": "agent away past the grace period"}'),
              (6, \(at("15:45")), 'assigned', 'routing', '{"agent": "ben", "queue": "tech", "step": 1, "waited_seconds": 900}'),
              (6, \(at("15:50")), 'assigned', 'control:root', '{"agent": "ana", "queue": "tech", "previous": "ben", "waited_seconds": 1200}'),
              (6, \(at("15:55")), 'status_changed', 'ana', '{"from": "open", "to": "pending"}'),
              (1, \(at("09:02")), 'assigned', 'routing', '{"agent": "ana", "queue": "billing", "step": 1, "waited_seconds": 120}'),
              (1, \(at("10:00")), 'status_changed', 'ana', '{"from": "open", "to": "resolved"}'),
              (4, \(at("09:30")), 'assigned', 'control:root', '{"agent": "ana", "queue": "billing", "waited_seconds": 300}'),
              (4, \(at("09:50")), 'status_changed', 'ana', '{"from": "open", "to": "resolved"}'),
              (2, \(at("11:04")), 'assigned', 'routing', '{"agent": "ana", "queue": "billing", "step": 2, "waited_seconds": 240}'),
              (2, \(at("12:00")), 'status_changed', 'ana', '{"from": "open", "to": "resolved"}'),
              (3, \(at("14:01")), 'assigned', 'ben', '{"agent": "ben", "queue": "tech", "waited_seconds": 60}'),
              (3, \(at("15:00")), 'status_changed', 'ben', '{"from": "open", "to": "resolved"}');
            INSERT INTO sla_policies (id, name, checksum, spec) VALUES (1, 'standard', 'seed', '{}');
            INSERT INTO ticket_slas (ticket_id, policy_id, started_at, updated_at) VALUES (5, 1, \(at("16:30")), \(at("16:30")));
            INSERT INTO sla_clocks (ticket_id, clock, target_seconds, started_at, running_since, warn_at, deadline) VALUES
              (5, 'first_response', 900, \(at("16:30")), \(at("16:30")), \(at("16:40")), '\(Self.timestampText(dueSoon))');
            INSERT INTO sla_records (ticket_id, policy_id, clock, outcome, target_seconds, started_at, deadline, ended_at,
                                     elapsed_business_seconds, elapsed_wall_seconds) VALUES
              (1, 1, 'first_response', 'met', 900, \(at("09:00")), \(at("09:15")), \(at("09:10")), 600, 600),
              (1, 1, 'resolution', 'met', 14400, \(at("09:00")), \(at("13:00")), \(at("10:00")), 3600, 3600),
              (2, 1, 'first_response', 'breached', 900, \(at("11:00")), \(at("11:15")), \(at("11:30")), 1500, 1800),
              (3, 1, 'first_response', 'met', 900, \(at("14:00")), \(at("14:15")), \(at("14:05")), 300, 300),
              (6, 1, 'first_response', 'breached', 900, \(at("15:30")), \(at("15:45")), \(at("15:48")), 960, 1080);
            -- Surveys: ana's two tickets rated 5 and 2 (with a comment BI must not show); ben's unanswered.
            INSERT INTO csat_surveys (ticket_id, agent_id, queue, resolved_at, auto_resolved, channel, sent_at, expires_at, open_until,
                                      rating, rated_at, comment, commented_at) VALUES
              (1, 'ana', 'billing', \(at("10:00")), false, 'interactive', \(at("10:00")), \(at("22:00")), NULL, 5, \(at("10:03")), NULL, NULL),
              (2, 'ana', 'billing', \(at("12:00")), false, 'interactive', \(at("12:00")), \(at("23:59")), NULL, 2, \(at("12:10")), 'my invoice is wrong', \(at("12:11"))),
              (3, 'ben', 'tech', \(at("15:00")), false, 'template', \(at("15:00")), \(at("23:59")), NULL, NULL, NULL, NULL, NULL);
            """
    }

    // MARK: docs/bi.md

    struct Example { var name: String; var sql: String }

    /// The SQL blocks of docs/bi.md marked `<!-- example: name -->`, in order.
    static func exampleQueries() throws -> [Example] {
        let text = try String(contentsOf: repository.appendingPathComponent("docs/bi.md"), encoding: .utf8)
        var examples: [Example] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        while let line = lines.popFirst() {
            guard line.hasPrefix("<!-- example: "), line.hasSuffix(" -->") else { continue }
            let name = String(line.dropFirst("<!-- example: ".count).dropLast(" -->".count))
            guard lines.popFirst() == "```sql" else { throw ExampleError(name: name) }
            var sql: [Substring] = []
            while let next = lines.popFirst(), next != "```" { sql.append(next) }
            examples.append(Example(name: name, sql: sql.joined(separator: "\n")))
        }
        return examples
    }

    struct ExampleError: Error { var name: String }

    static func timestampText(_ date: Date) -> String {
        let c = utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d+00", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    static func dateText(_ date: Date) -> String { String(timestampText(date).prefix(10)) }

    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Every word of `ticket_events.kind` is a row of docs/bi.md's list, and the list names no other.
    @Test func docsListEveryTicketEventKindAndNoOther() throws {
        let docs = try String(contentsOf: Self.repository.appendingPathComponent("docs/bi.md"), encoding: .utf8)
        let section = try #require(docs.components(separatedBy: "## Ticket events").last)
        let listed = Set(section.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `") else { return nil }
            return line.dropFirst(3).split(separator: "`").first.map(String.init)
        })
        #expect(listed == Set(TicketEventKind.allCases.map(\.rawValue)))
    }
}

import ArgumentParser
import Foundation
import Logging
import Postgres
import SwitchboardStore

/// How long the example queries of docs/bi.md take on a year of a mid-sized team's history, beside
/// a sequential scan of the largest tables (what any dashboard over all history costs at least), and
/// beside the same queries on the views as they were before migration 0016 (created in the same
/// database under the schema `bi_before`, from the migrations' own text).
struct BIBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bi",
        abstract: "BI views: docs/bi.md's example queries on a seeded year of history, beside full scans of the largest tables and the views before 0016."
    )

    @Option(help: "Tickets in the history.") var tickets = 200_000
    @Option(help: "Agents.") var agents = 50
    @Option(help: "Days of history.") var days = 365
    @Option(help: "Runs of each query (the median is reported).") var runs = 5
    @Option(help: "docs/bi.md, whose marked examples are run.") var docs = "docs/bi.md"
    @Option(help: "Holding events written to measure the cost of the trigger that keeps ticket_holds.") var writes = 20_000

    /// The migration that rewrote the views; `bi_before` holds the definitions of the ones before it.
    static let rewrite = 16

    /// All-history questions that are not examples of docs/bi.md (the week-by-week SLA compliance was
    /// one until 0016, when its example became the last 7 days): what reading everything costs.
    static let extras = [
        ("SLA compliance by agent per week, all history (not an example)", """
            SELECT date_trunc('week', day)::date AS week, agent, sum(met) AS met, sum(breached) AS breached,
                   round(100.0 * sum(met) / nullif(sum(met) + sum(breached), 0), 1) AS compliance_percent
            FROM bi.sla_compliance_daily
            WHERE agent IS NOT NULL
            GROUP BY week, agent
            ORDER BY week, agent
            """),
        ("messages per day and direction, all history (not an example)", """
            SELECT day, direction, sum(messages) AS messages FROM bi.messages_daily GROUP BY day, direction ORDER BY day, direction
            """),
        ("queue waiting times, all history (not an example)", """
            SELECT queue, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY waited_seconds) FROM bi.queue_waits GROUP BY queue ORDER BY queue
            """),
        ("utilization per agent, all history (not an example)", """
            SELECT agent, sum(online_seconds), sum(occupied_seconds), sum(tickets_handled), sum(tickets_resolved)
            FROM bi.agent_utilization_daily GROUP BY agent ORDER BY agent
            """),
    ]

    func validate() throws {
        guard tickets >= 100, agents >= 1, days >= 7, runs >= 1, writes >= 1 else {
            throw ValidationError("--tickets ≥ 100, --agents ≥ 1, --days ≥ 7, --runs ≥ 1, --writes ≥ 1")
        }
        guard writes <= tickets else { throw ValidationError("--writes ≤ --tickets (one assignment and one resolution per ticket)") }
        guard FileManager.default.fileExists(atPath: docs) else { throw ValidationError("\(docs) not found: run from the repository's root or pass --docs") }
    }

    func run() async throws {
        bootstrapBenchLogging()
        let examples = try Self.examples(in: String(contentsOfFile: docs, encoding: .utf8))
        let db = try await BenchDatabase.open(url: nil, settings: ["shared_buffers": "256MB", "work_mem": "64MB"])
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: db.connectionString), size: 2), logger: Logger(label: "bench"))
        do {
            let migrations = try MigrationCatalog.bundled()
            _ = try await MigrationRunner(pool: pool, migrations: migrations, logger: Logger(label: "bench")).migrate()
            let before = try EarlierViews(before: Self.rewrite, in: migrations, copySchema: "bi_before")
            try await pool.withConnection { try await $0.simpleQuery(before.creationScript()) }
            let seeding = ContinuousClock.now
            try await pool.withConnection { connection in
                try await connection.simpleQuery(seed())
                // As autovacuum leaves a year-old history (visibility map set, statistics current).
                try await connection.simpleQuery("VACUUM ANALYZE")
            }
            let counts = try await pool.query("""
                SELECT (SELECT count(*) FROM switchboard.tickets), (SELECT count(*) FROM switchboard.ticket_events),
                       (SELECT count(*) FROM switchboard.messages), (SELECT count(*) FROM switchboard.agent_presence_changes),
                       (SELECT count(*) FROM switchboard.csat_surveys), (SELECT count(*) FROM switchboard.ticket_holds)
                """)
            guard let row = counts.first else { return }
            print("BI views on \(try row.decode(0, as: Int.self)) tickets, \(try row.decode(1, as: Int.self)) ticket events, "
                  + "\(try row.decode(2, as: Int.self)) messages, \(try row.decode(3, as: Int.self)) presence changes, "
                  + "\(try row.decode(4, as: Int.self)) surveys (\(try row.decode(5, as: Int.self)) holds); "
                  + "\(agents) agents over \(days) days (seeded in \(format(Double((ContinuousClock.now - seeding).components.seconds), 0)) s)")
            print("before: the views as the migrations before 0016 left them (under bi_before: \(before.definitions.map(\.view).joined(separator: ", "))); after: the views of 0016")

            var rows = [["query", "rows", "before: median, ms", "after: median, ms", "after: min, ms"]]
            let baselines = [("baseline: count(*) of ticket_events (sequential scan)", "SELECT count(*) FROM switchboard.ticket_events"),
                             ("baseline: count(*) of messages (sequential scan)", "SELECT count(*) FROM switchboard.messages")]
            for (name, sql) in baselines {
                let after = try await time(sql, on: pool)
                rows.append([name, "\(after.rows)", "", format(after.median, 1), format(after.min, 1)])
            }
            for (name, sql) in examples + Self.extras {
                let after = try await time(sql, on: pool)
                let old = try await time(before.onEarlierViews(sql), on: pool)
                let rowsText = after.rows == old.rows ? "\(after.rows)" : "\(after.rows) (before: \(old.rows))"
                rows.append([name, rowsText, format(old.median, 1), format(after.median, 1), format(after.min, 1)])
            }
            print(table(rows))
            try await printWriteCost(on: pool)
        } catch {
            await pool.close()
            await db.close()
            throw error
        }
        await pool.close()
        await db.close()
    }

    struct Timing { var rows: Int; var median: Double; var min: Double }

    private func time(_ sql: String, on pool: PostgresPool) async throws -> Timing {
        var times: [Double] = []
        var returned = 0
        for _ in 0..<runs {
            let started = ContinuousClock.now
            returned = try await pool.query(sql).count
            times.append(Self.milliseconds(ContinuousClock.now - started))
        }
        times.sort()
        return Timing(rows: returned, median: times[times.count / 2], min: times[0])
    }

    /// What the trigger that keeps switchboard.ticket_holds costs a writer: `writes` assignments, then
    /// as many resolutions, each one statement, with the triggers and without (rolled back).
    private func printWriteCost(on pool: PostgresPool) async throws {
        let assign = """
            INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
            SELECT id, now(), 'assigned', 'routing', jsonb_build_object('agent', 'agent0', 'queue', 'q0') FROM generate_series(1, $1::integer) id
            """
        let resolve = """
            INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
            SELECT id, now() + interval '1 second', 'status_changed', 'agent0', '{"from": "open", "to": "resolved"}' FROM generate_series(1, $1::integer) id
            """
        var rows = [["holding events written (\(writes) per statement)", "with the trigger, µs/event", "without, µs/event"]]
        var measured: [[Double]] = [[], []]
        for triggers in [true, false] {
            try await pool.withConnection { connection in
                try await connection.query("BEGIN")
                do {
                    if !triggers {
                        try await connection.query("ALTER TABLE switchboard.ticket_events DISABLE TRIGGER ticket_holds_on_insert")
                    }
                    for (index, sql) in [assign, resolve].enumerated() {
                        let started = ContinuousClock.now
                        try await connection.query(sql, [writes])
                        measured[index].append(Self.milliseconds(ContinuousClock.now - started) * 1000 / Double(writes))
                    }
                    try await connection.query("ROLLBACK")
                } catch {
                    await connection.rollbackIfInTransaction()
                    throw error
                }
            }
        }
        rows.append(["assigned (a new hold; ends the one before)", format(measured[0][0], 1), format(measured[0][1], 1)])
        rows.append(["status_changed to resolved (ends the hold)", format(measured[1][0], 1), format(measured[1][1], 1)])
        print(table(rows))
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    /// The marked example queries of docs/bi.md (`<!-- example: name -->` then a sql block).
    static func examples(in text: String) throws -> [(String, String)] {
        var examples: [(String, String)] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        while let line = lines.popFirst() {
            guard line.hasPrefix("<!-- example: "), line.hasSuffix(" -->"), lines.popFirst() == "```sql" else { continue }
            var sql: [Substring] = []
            while let next = lines.popFirst(), next != "```" { sql.append(next) }
            examples.append((String(line.dropFirst("<!-- example: ".count).dropLast(" -->".count)), sql.joined(separator: "\n")))
        }
        guard !examples.isEmpty else { throw ValidationError("no marked example queries (<!-- example: name --> before a sql block)") }
        return examples
    }

    /// A year of history: tickets spread evenly, each routed, assigned within 10 minutes, answered,
    /// resolved within 8 hours (most) or left open; agents online 8 hours a day with a break; a
    /// satisfaction survey for every fourth resolved ticket, half of them answered. The events are
    /// written after migration 0016, so its trigger fills switchboard.ticket_holds as it would live.
    private func seed() -> String {
        """
        SET search_path = switchboard;
        INSERT INTO business_numbers (phone_number_id, display_phone_number) VALUES ('100', '+34 600 000 000');
        INSERT INTO customers (wa_id, country, language)
            SELECT (34600000000 + g)::text, (ARRAY['ES','GB','MX','BR'])[1 + g % 4], (ARRAY['es','en','es','pt'])[1 + g % 4]
            FROM generate_series(1, \(tickets)) g;
        INSERT INTO agents (id, name, teams, capacity, queues)
            SELECT 'agent' || g, 'Agent ' || g, ARRAY['team' || (g % 5)], 5, ARRAY['q' || (g % 10)] FROM generate_series(0, \(agents - 1)) g;
        INSERT INTO agent_presence_changes (agent_id, presence, at)
            SELECT 'agent' || a, p.presence, date_trunc('day', now()) - d * interval '1 day' + p.at
            FROM generate_series(0, \(agents - 1)) a, generate_series(1, \(days)) d,
                 (VALUES ('online', interval '8 hours'), ('away', interval '12 hours'), ('online', interval '13 hours'), ('offline', interval '17 hours')) AS p(presence, at);
        CREATE TEMP TABLE seed AS
            SELECT g AS id, g AS customer, 'agent' || (g % \(agents)) AS agent, 'q' || (g % \(agents) % 10) AS queue,
                   now() - (g::double precision / \(tickets)) * interval '\(days) days' AS created,
                   (random() * 600)::int AS wait, (60 + random() * 3600)::int AS reply, (g % 20 <> 0) AS resolved
            FROM generate_series(1, \(tickets)) g;
        INSERT INTO tickets (id, number, customer_id, business_number, status, priority, queue, assignee, last_assignee, created_at, updated_at,
                             first_response_at, resolved_at, assigned_at, waiting_since)
            SELECT id, 1000 + id, customer, '100', CASE WHEN resolved THEN 'resolved' ELSE 'pending' END, 'normal', queue, agent, agent, created,
                   created, created + (wait + reply) * interval '1 second', CASE WHEN resolved THEN created + interval '8 hours' END,
                   created + wait * interval '1 second', created
            FROM seed ORDER BY id;
        INSERT INTO ticket_events (ticket_id, at, kind, actor, data)
            SELECT id, created, 'routed', 'routing', jsonb_build_object('queue', queue) FROM seed
            UNION ALL
            SELECT id, created + wait * interval '1 second', 'assigned', 'routing', jsonb_build_object('agent', agent, 'queue', queue, 'step', 1, 'waited_seconds', wait) FROM seed
            UNION ALL
            SELECT id, created + (wait + reply) * interval '1 second', 'reply_sent', agent, '{}' FROM seed
            UNION ALL
            SELECT id, created + interval '8 hours', 'status_changed', agent, '{"from": "open", "to": "resolved"}' FROM seed WHERE resolved;
        INSERT INTO messages (ticket_id, direction, wamid, type, body, received_at)
            SELECT id, 'inbound', 'wamid.' || id || '.' || k, 'text', 'hello', created + k * interval '1 minute' FROM seed, generate_series(0, 1) k
            UNION ALL
            SELECT id, 'outbound', NULL, 'text', 'hi', created + (wait + reply + k) * interval '1 second' FROM seed, generate_series(0, 1) k;
        INSERT INTO sla_policies (id, name, checksum, spec) VALUES (1, 'standard', 'bench', '{}');
        INSERT INTO sla_records (ticket_id, policy_id, clock, outcome, target_seconds, started_at, deadline, ended_at, elapsed_business_seconds, elapsed_wall_seconds)
            SELECT id, 1, 'first_response', CASE WHEN wait + reply <= 1800 THEN 'met' ELSE 'breached' END, 1800, created, created + interval '30 minutes',
                   created + (wait + reply) * interval '1 second', wait + reply, wait + reply FROM seed;
        INSERT INTO csat_surveys (ticket_id, agent_id, queue, resolved_at, auto_resolved, channel, sent_at, expires_at, rating, rated_at)
            SELECT id, agent, queue, created + interval '8 hours', false, 'interactive', created + interval '8 hours', created + interval '32 hours',
                   CASE WHEN id % 8 = 1 THEN 1 + id % 5 END, CASE WHEN id % 8 = 1 THEN created + interval '9 hours' END
            FROM seed WHERE resolved AND id % 4 = 1;
        """
    }
}

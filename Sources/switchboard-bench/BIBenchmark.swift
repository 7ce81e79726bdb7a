import ArgumentParser
import Foundation
import Logging
import Postgres
import SwitchboardStore

/// How long the example queries of docs/bi.md take on a year of a mid-sized team's history, beside
/// a sequential scan of the largest tables (what any dashboard over all history costs at least).
struct BIBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bi",
        abstract: "BI views: docs/bi.md's example queries on a seeded year of history, beside full scans of the largest tables."
    )

    @Option(help: "Tickets in the history.") var tickets = 200_000
    @Option(help: "Agents.") var agents = 50
    @Option(help: "Days of history.") var days = 365
    @Option(help: "Runs of each query (the median is reported).") var runs = 5
    @Option(help: "docs/bi.md, whose marked examples are run.") var docs = "docs/bi.md"

    func validate() throws {
        guard tickets >= 100, agents >= 1, days >= 7, runs >= 1 else {
            throw ValidationError("--tickets ≥ 100, --agents ≥ 1, --days ≥ 7, --runs ≥ 1")
        }
        guard FileManager.default.fileExists(atPath: docs) else { throw ValidationError("\(docs) not found: run from the repository's root or pass --docs") }
    }

    func run() async throws {
        bootstrapBenchLogging()
        let examples = try Self.examples(in: String(contentsOfFile: docs, encoding: .utf8))
        let db = try await BenchDatabase.open(url: nil, settings: ["shared_buffers": "256MB", "work_mem": "64MB"])
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: db.connectionString), size: 2), logger: Logger(label: "bench"))
        do {
            _ = try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: Logger(label: "bench")).migrate()
            let seeding = ContinuousClock.now
            try await pool.withConnection { try await $0.simpleQuery(seed()) }
            let counts = try await pool.query("""
                SELECT (SELECT count(*) FROM switchboard.tickets), (SELECT count(*) FROM switchboard.ticket_events),
                       (SELECT count(*) FROM switchboard.messages), (SELECT count(*) FROM switchboard.agent_presence_changes)
                """)
            guard let row = counts.first else { return }
            print("BI views on \(try row.decode(0, as: Int.self)) tickets, \(try row.decode(1, as: Int.self)) ticket events, "
                  + "\(try row.decode(2, as: Int.self)) messages, \(try row.decode(3, as: Int.self)) presence changes; "
                  + "\(agents) agents over \(days) days (seeded in \(format(Double((ContinuousClock.now - seeding).components.seconds), 0)) s)")
            var rows = [["query", "rows", "median, ms", "min, ms"]]
            let baselines = [("baseline: count(*) of ticket_events (sequential scan)", "SELECT count(*) FROM switchboard.ticket_events"),
                             ("baseline: count(*) of messages (sequential scan)", "SELECT count(*) FROM switchboard.messages")]
            for (name, sql) in baselines + examples {
                var times: [Double] = []
                var returned = 0
                for _ in 0..<runs {
                    let started = ContinuousClock.now
                    returned = try await pool.query(sql).count
                    let elapsed = ContinuousClock.now - started
                    times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                }
                times.sort()
                rows.append([name, "\(returned)", format(times[times.count / 2], 1), format(times[0], 1)])
            }
            print(table(rows))
        } catch {
            await pool.close()
            await db.close()
            throw error
        }
        await pool.close()
        await db.close()
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
    /// resolved within 8 hours (most) or left open; agents online 8 hours a day with a break.
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
        ANALYZE;
        """
    }
}

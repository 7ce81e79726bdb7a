import Foundation
import Postgres

/// What PostgreSQL itself needs to hand over the rows a restart reads: `COPY … TO STDOUT` through
/// `psql` (output discarded), timed from outside, and how big those rows are on disk.
enum RestartBaseline {
    struct Result {
        var ticketsSeconds: Double
        var slaSeconds: Double
        var ticketRows: Int
        var clockRows: Int
        /// Heap and indexes of the tables the rebuild reads, and of the whole database.
        var tablesMiB: Double
        var databaseMiB: Double
    }

    /// The open tickets with every column routing's rebuild decodes.
    static let ticketsCopy = """
        COPY (SELECT id, customer_id, queue, assignee, status, priority, waiting_since, queue_entered_at, customer_window_expires_at,
                     required_skills, excluded_agents, last_assignee, assigned_at, created_at, updated_at, resolved_at
              FROM switchboard.tickets WHERE status <> 'resolved') TO STDOUT
        """

    /// Every open ticket's SLA with its clocks, as the SLA engine's rebuild reads them.
    static let slaCopy = """
        COPY (SELECT s.ticket_id, s.policy_id, s.awaiting_customer, s.pending, k.clock, k.target_seconds, k.started_at,
                     k.accumulated_seconds, k.running_since, k.warned_at IS NOT NULL, k.breached_at IS NOT NULL
              FROM switchboard.ticket_slas s JOIN switchboard.tickets t ON t.id = s.ticket_id
              LEFT JOIN switchboard.sla_clocks k ON k.ticket_id = s.ticket_id
              WHERE t.status <> 'resolved') TO STDOUT
        """

    static func measure(connectionString: String, pool: PostgresPool) async throws -> Result {
        let psql = try locatePsql()
        var seconds: [Double] = []
        for sql in [ticketsCopy, slaCopy] {
            // Once to warm the cache as the daemon finds it (the seed just wrote it), then timed.
            var best = Double.infinity
            for _ in 0..<2 {
                let start = ContinuousClock.now
                let output = try await ChildCommand.run(psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-c", sql, "-d", connectionString])
                guard output.status == 0 else { throw SoakFailure("psql failed (\(output.status)): \(output.stderr)") }
                best = min(best, (ContinuousClock.now - start).seconds)
            }
            seconds.append(best)
        }
        let sizes = try await pool.query("""
            SELECT (SELECT count(*) FROM switchboard.tickets WHERE status <> 'resolved'), (SELECT count(*) FROM switchboard.sla_clocks),
                   (SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['switchboard.tickets', 'switchboard.ticket_slas', 'switchboard.sla_clocks',
                                                                          'switchboard.customers', 'switchboard.messages']::regclass[]) c),
                   pg_database_size(current_database())
            """)
        guard let row = sizes.first else { throw SoakFailure("no sizes") }
        return Result(ticketsSeconds: seconds[0], slaSeconds: seconds[1], ticketRows: try row.decode(0), clockRows: try row.decode(1),
                      tablesMiB: Double(try row.decode(2, as: Int64.self)) / 1_048_576, databaseMiB: Double(try row.decode(3, as: Int64.self)) / 1_048_576)
    }

    static func locatePsql() throws -> String {
        var candidates = ["/usr/bin/psql", "/usr/local/bin/psql"]
        if let directory = try? EmbeddedPostgres.binDirectory(configured: nil) { candidates.insert(directory + "/psql", at: 0) }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw SoakFailure("psql not found; install the Debian package postgresql-client (or postgresql)")
        }
        return found
    }
}

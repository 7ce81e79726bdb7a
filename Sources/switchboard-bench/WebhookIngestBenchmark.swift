import ArgumentParser
import Foundation
import Logging
import Postgres
import SwitchboardStore
import Synchronization
import WhatsApp

/// Signed webhook deliveries over HTTP against the release `switchboardd` at rising concurrency, and
/// `pgbench` with the equivalent SQL (customer upsert, ticket, message, event in one transaction) in
/// the same run.
struct WebhookIngestBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Webhook ingest end to end (HTTP, signature, decode, group commit) versus pgbench (goal, issue #22: 4,000 messages/s at 64 connections, ack p99 ≤ 50 ms)."
    )

    @Option(help: "Seconds per measurement.")
    var seconds: Int = 5

    @Option(help: "Seconds of load on both sides before measuring, followed by ANALYZE (as pgbench -i does), so plans see real table sizes.")
    var warmup: Int = 3

    @Option(help: "Comma-separated numbers of concurrent HTTP connections.")
    var concurrency: String = "1,8,32,64"

    @Option(help: "Messages per delivery.")
    var messagesPerDelivery: Int = 1

    @Option(help: "Distinct customers the messages come from.")
    var customers: Int = 10_000

    @Option(help: "The switchboardd executable (build it with: swift build -c release --product switchboardd).")
    var daemon: String = ".build/release/switchboardd"

    @Option(help: "The daemon's ingest.maxConcurrentTransactions (default: the daemon's default).")
    var maxConcurrentTransactions: Int?

    @Flag(help: "Print the daemon's statements that took the most server time (pg_stat_statements, from postgresql-contrib).")
    var statementStats = false

    static let secret = "bench-app-secret"

    func validate() throws {
        guard seconds >= 1, messagesPerDelivery >= 1, customers >= 1 else { throw ValidationError("--seconds, --messages-per-delivery and --customers must be at least 1") }
        _ = try concurrencyLevels(concurrency, in: 1...512)
        guard FileManager.default.isExecutableFile(atPath: daemon) else {
            throw ValidationError("no executable at \(daemon); build it first: swift build -c release --product switchboardd")
        }
    }

    private var ingestSettings: String {
        maxConcurrentTransactions.map { #", "ingest": {"maxConcurrentTransactions": \#($0)}"# } ?? ""
    }

    private var levels: [Int] { (try? concurrencyLevels(concurrency, in: 1...512)) ?? [] }

    func run() async throws {
        bootstrapBenchLogging()
        // Autovacuum off: its workers are the server's children too, and one that happened to run
        // during a level charged that level's messages with its CPU (±20 % run to run). The warm-up
        // ends with VACUUM ANALYZE instead, as `pgbench -i` does.
        var settings = ["synchronous_commit": "on", "max_connections": "200", "autovacuum": "off"]
        if statementStats { settings.merge(StatementStats.serverSettings) { _, new in new } }
        let db = try await BenchDatabase.open(url: nil, settings: settings)
        do {
            try await measure(db: db)
        } catch {
            await db.close()
            throw error
        }
        await db.close()
    }

    private func measure(db: BenchDatabase) async throws {
        guard let cluster = db.embedded else { throw ValidationError("needs the embedded cluster") }
        try await cluster.createDatabaseIfMissing("daemon")
        try await cluster.createDatabaseIfMissing("baseline")
        if statementStats { try await StatementStats.enable(connectionString: cluster.connectionString(database: "daemon")) }
        let baselinePool = PostgresPool(configuration: .init(connection: .init(connectionString: cluster.connectionString(database: "baseline")), size: 1))
        try await MigrationRunner(pool: baselinePool, migrations: MigrationCatalog.bundled(), logger: Logger(label: "bench")).migrate()
        await baselinePool.close()

        let directory = db.directory ?? "/tmp"
        let port = try freeLoopbackPort()
        let config = directory + "/bench-config.json"
        try "bench-app-secret\n".write(toFile: directory + "/app-secret", atomically: true, encoding: .utf8)
        try "bench-verify\n".write(toFile: directory + "/verify-token", atomically: true, encoding: .utf8)
        let url = cluster.connectionString(database: "daemon").replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        try """
        {"stateDirectory": "\(directory)/daemon-state", "database": {"url": "\(url)", "poolSize": 16},
         "http": {"host": "127.0.0.1", "port": \(port)}, "logging": {"level": "warning"},
         "whatsapp": {"appSecret": {"file": "app-secret"}, "verifyToken": {"file": "verify-token"}}\(ingestSettings)}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemonProcess = Process()
        daemonProcess.executableURL = URL(fileURLWithPath: daemon)
        daemonProcess.arguments = ["run", "--config", config]
        daemonProcess.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try daemonProcess.run()
        defer {
            daemonProcess.interrupt()
            daemonProcess.waitUntilExit()
        }
        try await Self.waitUntilReady(port: port)

        let pgbench = try PgBench.locate(serverBinDirectory: try? EmbeddedPostgres.binDirectory(configured: nil))
        print("switchboard-bench webhooks: signed deliveries of \(messagesPerDelivery) text message(s) from \(customers) customers, \(seconds) s per level")
        print("daemon: \(daemon) on 127.0.0.1:\(port), embedded PostgreSQL with synchronous_commit on; \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("")
        var rows: [[String]] = [["connections", "messages/s", "ack p50 ms", "ack p99 ms", "non-200", "DB CPU µs/msg", "WAL B/msg", "daemon CPU µs/msg",
                                 "load CPU µs/msg", "pgbench tx/s (1 msg/tx)", "pgbench DB CPU µs/tx", "pgbench WAL B/tx", "ratio"]]
        let serverCPU = ServerCPU(dataDirectory: cluster.dataDirectory)
        let counter = DeliveryCounter()
        // WAL written per message, beside pgbench's per transaction: what is written, which a busy
        // host does not stretch as it does CPU time (full-page images after a checkpoint still
        // make it vary somewhat).
        let walReader = try await PostgresConnection.connect(.init(connectionString: cluster.connectionString(database: "daemon")))
        func walPosition() async throws -> Double {
            try await walReader.query("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::float8").first?.decode(0, as: Double.self) ?? 0
        }
        if warmup > 0 {
            _ = try await load(port: port, connections: 16, counter: counter, seconds: warmup)
            _ = try await pgbench.run(script: Self.pgbenchScript(customers: customers), clients: 16, seconds: warmup,
                                      connection: [cluster.connectionString(database: "baseline")])
            for database in ["daemon", "baseline"] {
                let connection = try await PostgresConnection.connect(.init(connectionString: cluster.connectionString(database: database)))
                try await connection.query("VACUUM ANALYZE")
                await connection.close()
            }
        }
        for connections in levels {
            let walBefore = try await walPosition()
            let cpuBefore = serverCPU?.seconds()
            let daemonBefore = processCPUSeconds(daemonProcess.processIdentifier), loadBefore = processCPUSeconds(getpid())
            let outcome = try await load(port: port, connections: connections, counter: counter, seconds: seconds)
            let cpuBetween = serverCPU?.seconds()
            let daemonAfter = processCPUSeconds(daemonProcess.processIdentifier), loadAfter = processCPUSeconds(getpid())
            let walBetween = try await walPosition()
            let baseline = try await pgbench.run(script: Self.pgbenchScript(customers: customers), clients: connections, seconds: seconds,
                                                 connection: [cluster.connectionString(database: "baseline")])
            let cpuAfter = serverCPU?.seconds()
            let walAfter = try await walPosition()
            // Server CPU per message: the interval's CPU over the messages acknowledged in it.
            let messages = outcome.messagesPerSecond * Double(seconds), transactions = baseline.transactionsPerSecond * Double(seconds)
            let ours = perUnit(cpuBefore, cpuBetween, units: messages)
            // The daemon's and the load generator's (this process's) share of the two cores: the
            // three together bound the rate a machine of this size can reach.
            let daemonShare = perUnit(daemonBefore, daemonAfter, units: messages)
            let loadShare = perUnit(loadBefore, loadAfter, units: messages)
            let theirs = perUnit(cpuBetween, cpuAfter, units: transactions)
            rows.append([
                String(connections), format(outcome.messagesPerSecond), format(outcome.latency.percentile(50), 2), format(outcome.latency.percentile(99), 2),
                String(outcome.failures), ours.map { format($0) } ?? "?", format((walBetween - walBefore) / messages),
                daemonShare.map { format($0) } ?? "?", loadShare.map { format($0) } ?? "?",
                format(baseline.transactionsPerSecond), theirs.map { format($0) } ?? "?", format((walAfter - walBetween) / transactions),
                format(outcome.messagesPerSecond / baseline.transactionsPerSecond, 2) + "×",
            ])
        }
        await walReader.close()
        print(table(rows))
        print("")
        let stored = try await PostgresConnection.connect(.init(connectionString: cluster.connectionString(database: "daemon")))
        let count = try await stored.query("SELECT count(*) FROM switchboard.messages").first?.decode(0, as: Int.self) ?? 0
        await stored.close()
        print("messages stored by the daemon: \(count) (sent: \(counter.issued * messagesPerDelivery), warm-up included)")
        if statementStats { try await StatementStats.print(connectionString: cluster.connectionString(database: "daemon"), database: "daemon") }
        print("goal (issue #22): 4,000 messages/s at 64 connections with ack p99 ≤ 50 ms, and database CPU per message half of what it was before #22")
    }

    /// Microseconds of server CPU per unit between two readings.
    private func perUnit(_ before: Double?, _ after: Double?, units: Double) -> Double? {
        guard let before, let after, units > 0 else { return nil }
        return (after - before) / units * 1e6
    }

    private struct Outcome {
        let messagesPerSecond: Double
        let latency: LatencySamples
        let failures: Int
    }

    /// `connections` threads, each posting signed deliveries on its own keep-alive connection until the deadline.
    private func load(port: Int, connections: Int, counter: DeliveryCounter, seconds: Int) async throws -> Outcome {
        let signer = WebhookSignature(appSecret: Self.secret)
        let deadline = ContinuousClock.now + .seconds(seconds)
        let start = ContinuousClock.now
        let perThread = try await withThrowingTaskGroup(of: ([Int64], Int).self) { group in
            for thread in 0..<connections {
                group.addTask {
                    try await withCheckedThrowingContinuation { continuation in
                        Thread {
                            continuation.resume(with: Result {
                                let client = try HTTPLoadClient(port: port)
                                var latencies: [Int64] = []
                                var failures = 0
                                var sequence = 0
                                while ContinuousClock.now < deadline {
                                    sequence += 1
                                    let n = counter.next()
                                    let body = Self.delivery(number: n, thread: thread, messages: messagesPerDelivery, customers: customers)
                                    let signature = signer.headerValue(for: body)
                                    let before = ContinuousClock.now
                                    let status = try client.post(path: "/webhooks/whatsapp", headers: [("X-Hub-Signature-256", signature)], body: body)
                                    latencies.append((ContinuousClock.now - before).nanoseconds)
                                    if status != 200 { failures += 1 }
                                }
                                return (latencies, failures)
                            })
                        }.start()
                    }
                }
            }
            return try await group.reduce(into: [([Int64], Int)]()) { $0.append($1) }
        }
        let elapsed = (ContinuousClock.now - start).seconds
        var samples = LatencySamples()
        for (latencies, _) in perThread { samples.append(contentsOf: latencies) }
        let failures = perThread.map(\.1).reduce(0, +)
        return Outcome(messagesPerSecond: Double((samples.values.count - failures) * messagesPerDelivery) / elapsed, latency: samples, failures: failures)
    }

    /// A delivery as Meta sends it, with unique message ids.
    static func delivery(number: Int, thread: Int, messages: Int, customers: Int) -> [UInt8] {
        var items: [String] = []
        var contacts: [String] = []
        for index in 0..<messages {
            let customer = 4_915_000_000_000 + (number * 7919 + index) % customers
            contacts.append(#"{"profile":{"name":"Bench \#(customer)"},"wa_id":"\#(customer)"}"#)
            items.append(#"{"from":"\#(customer)","id":"wamid.bench.\#(number).\#(index)","timestamp":"1790000000","type":"text","text":{"body":"Hello, I need help with my invoice (\#(number))"}}"#)
        }
        let json = #"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"4930123456","phone_number_id":"1122334455"},"contacts":[\#(contacts.joined(separator: ","))],"messages":[\#(items.joined(separator: ","))]}}]}]}"#
        return Array(json.utf8)
    }

    /// The daemon's write for one message, in one transaction, as plain SQL.
    static func pgbenchScript(customers: Int) -> String {
        """
        \\set c random(1, \(customers))
        BEGIN;
        INSERT INTO switchboard.business_numbers (phone_number_id) VALUES ('1122334455') ON CONFLICT DO NOTHING;
        INSERT INTO switchboard.webhook_deliveries (body, messages) VALUES ('\\x7b7d', 1);
        INSERT INTO switchboard.customers (wa_id, profile_name) VALUES ('49150' || :c, 'Bench') ON CONFLICT (wa_id) DO UPDATE SET updated_at = now() RETURNING id AS cid \\gset
        INSERT INTO switchboard.tickets (customer_id, business_number, last_inbound_at) VALUES (:cid, '1122334455', now()) ON CONFLICT (customer_id, business_number) WHERE status <> 'resolved' DO UPDATE SET last_inbound_at = now(), updated_at = now() RETURNING id AS tid \\gset
        INSERT INTO switchboard.messages (ticket_id, direction, wamid, type, body, payload) VALUES (:tid, 'inbound', 'pgb.' || gen_random_uuid(), 'text', 'Hello, I need help with my invoice', '{"type": "text"}');
        INSERT INTO switchboard.ticket_events (ticket_id, kind) VALUES (:tid, 'message_received');
        END;

        """
    }

    static func waitUntilReady(port: Int) async throws {
        for _ in 0..<600 {
            if let client = try? HTTPLoadClient(port: port) {
                _ = client
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PgBench.Failure(description: "switchboardd did not listen on port \(port) within 60 s")
    }
}

/// Numbers deliveries across the load threads, so every message id is unique.
final class DeliveryCounter: Sendable {
    private let value = Atomic<Int>(0)

    func next() -> Int { value.add(1, ordering: .relaxed).newValue }
    var issued: Int { value.load(ordering: .relaxed) }
}

import ArgumentParser
import Foundation
import Logging
import Postgres

/// Inserts rows through the Postgres module with 1, 8 and 32 concurrent callers, and runs `pgbench`
/// with the same statement against the same server in the same run.
struct PostgresInsertBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "Single-row INSERTs through the Postgres module versus pgbench (goal: at least 90 % of pgbench)."
    )

    @Option(help: "Seconds per measurement (each side, each concurrency level).")
    var seconds: Int = 5

    @Option(help: "Comma-separated numbers of concurrent callers.")
    var concurrency: String = "1,8,32"

    @Option(help: "A libpq connection string; by default a throwaway embedded cluster is started.")
    var database: String?

    @Flag(help: "Keep synchronous_commit on in the embedded cluster (measures the disk, not the client).")
    var durable = false

    static let createTable = """
        CREATE TABLE IF NOT EXISTS bench_inserts (
            id bigserial PRIMARY KEY,
            customer bigint NOT NULL,
            body text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    static let insert = "INSERT INTO bench_inserts (customer, body) VALUES ($1, $2)"
    static let body = "Hello, I need help with my invoice from last month."
    static let pgbenchScript = """
        \\set c random(1, 1000000)
        INSERT INTO bench_inserts (customer, body) VALUES (:c, '\(body)');

        """

    func validate() throws {
        guard seconds >= 1 else { throw ValidationError("--seconds must be at least 1") }
        _ = try concurrencyLevels(concurrency, in: 1...256)
    }

    private var levels: [Int] { (try? concurrencyLevels(concurrency, in: 1...256)) ?? [] }

    func run() async throws {
        bootstrapBenchLogging()
        let settings = durable ? [:] : ["synchronous_commit": "off"]
        let db = try await BenchDatabase.open(url: database, settings: settings)
        do {
            let pgbench = try PgBench.locate(serverBinDirectory: try? EmbeddedPostgres.binDirectory(configured: nil))
            try await measure(db: db, pgbench: pgbench)
        } catch {
            await db.close()
            throw error
        }
        await db.close()
    }

    private func measure(db: BenchDatabase, pgbench: PgBench) async throws {
        let setup = try await PostgresConnection.connect(.init(connectionString: db.connectionString))
        try await setup.query(Self.createTable)
        print("switchboard-bench postgres: \(Self.insert)")
        print("server: \(db.embedded == nil ? "external" : "embedded") PostgreSQL, synchronous_commit \(durable || db.embedded == nil ? "as configured" : "off"); \(seconds) s per measurement; \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("")
        var rows: [[String]] = [["callers", "swift rows/s", "p50 ms", "p99 ms", "client CPU µs/row", "pgbench tps", "pgbench avg ms", "pgbench CPU µs/tx", "ratio"]]
        var ratios: [Double] = []
        for callers in levels {
            try await setup.query("TRUNCATE bench_inserts")
            let ours = try await insertThroughPool(connectionString: db.connectionString, callers: callers)
            try await setup.query("TRUNCATE bench_inserts")
            let childCPUBefore = cpuSeconds(children: true)
            let baseline = try await pgbench.run(script: Self.pgbenchScript, clients: callers, seconds: seconds, connection: db.clientArguments)
            let pgbenchCPUPerTransaction = (cpuSeconds(children: true) - childCPUBefore) / (baseline.transactionsPerSecond * Double(seconds)) * 1e6
            let ratio = ours.rowsPerSecond / baseline.transactionsPerSecond
            ratios.append(ratio)
            rows.append([
                String(callers), format(ours.rowsPerSecond), format(ours.latency.percentile(50), 3), format(ours.latency.percentile(99), 3),
                format(ours.cpuMicrosecondsPerRow, 1),
                format(baseline.transactionsPerSecond), baseline.averageLatencyMilliseconds.map { format($0, 3) } ?? "?",
                format(pgbenchCPUPerTransaction, 1),
                format(ratio * 100, 1) + " %",
            ])
        }
        await setup.close()
        print(table(rows))
        print("")
        let worst = ratios.min() ?? 0
        print("peak memory of this process: \(format(peakResidentMemoryMiB(), 1)) MiB")
        print("lowest ratio: \(format(worst * 100, 1)) % of pgbench (goal: 90 %) — \(worst >= 0.9 ? "met" : "missed")")
    }

    private struct Outcome {
        let rowsPerSecond: Double
        let latency: LatencySamples
        /// This process's CPU time per inserted row: what the Swift layer costs the machine.
        let cpuMicrosecondsPerRow: Double
    }

    private func insertThroughPool(connectionString: String, callers: Int) async throws -> Outcome {
        let logger = Logger(label: "bench")
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: connectionString), size: callers, acquireTimeout: .seconds(30)), logger: logger)
        defer { Task { await pool.close() } }
        // Open every connection and prepare the statement before the clock starts, as pgbench does.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<callers {
                group.addTask { _ = try await pool.withConnection { try await $0.query(Self.insert, [0, Self.body]) } }
            }
            try await group.waitForAll()
        }
        try await pool.query("TRUNCATE bench_inserts")

        let clock = ContinuousClock()
        let cpuBefore = cpuSeconds()
        let start = clock.now
        let deadline = start + .seconds(seconds)
        let perCaller = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for caller in 0..<callers {
                group.addTask {
                    var latencies: [Int64] = []
                    latencies.reserveCapacity(200_000)
                    var customer = caller * 1_000_000
                    while clock.now < deadline {
                        customer += 1
                        let before = clock.now
                        try await pool.query(Self.insert, [customer, Self.body])
                        latencies.append((clock.now - before).nanoseconds)
                    }
                    return latencies
                }
            }
            return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
        }
        let elapsed = (clock.now - start).seconds
        let cpuUsed = cpuSeconds() - cpuBefore
        var samples = LatencySamples()
        for latencies in perCaller { samples.append(contentsOf: latencies) }
        let stored = try await pool.query("SELECT count(*) FROM bench_inserts").first?.decode(0, as: Int.self) ?? 0
        precondition(stored == samples.values.count, "the benchmark counted \(samples.values.count) inserts but the table holds \(stored)")
        return Outcome(rowsPerSecond: Double(samples.values.count) / elapsed, latency: samples,
                       cpuMicrosecondsPerRow: cpuUsed / Double(max(1, samples.values.count)) * 1e6)
    }
}

import ArgumentParser
import Foundation
import Glibc
import Logging
import Postgres
import SwitchboardStore

/// Issue #22's restart goal for anyone to run: a throwaway embedded cluster seeded with N open
/// tickets and their SLA clocks (set-based SQL, shaped as the daemon writes them), then the release
/// daemon started on it: time from spawn to `/readyz` 200 and its resident memory, beside what
/// PostgreSQL itself needs to hand over the same rows (`COPY` through `psql`) in the same run; then
/// the checks that the restart lost nothing and did nothing twice.
struct RestartBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Start the daemon on 1,000,000 open tickets with their SLA timers (goals: /readyz ≤ 10 s, RSS ≤ 1 GiB)."
    )

    @Option(help: "Open tickets to seed.") var tickets = 1_000_000
    @Option(help: "Agents (each serves its own queue and the next).") var agents = 1000
    @Option(help: "Queues (at most 100).") var queues = 50
    @Option(help: "Each agent's capacity.") var capacity = 5
    @Option(help: "Starts to measure (after the first, each follows a graceful stop).") var starts = 2
    @Option(help: "Seconds after /readyz before the checks and the settled memory figures.") var settle = 5
    @Option(help: "Seconds the daemon was down before the first start: SLA warnings and breaches due in that time fire at start (those due earlier count as acted on).") var downtime = 30
    @Option(help: "Seconds to wait for /readyz.") var timeout = 300
    @Option(help: "The daemon (default: switchboardd beside this program; build it with swift build -c release --product switchboardd).") var daemon: String?
    @Option(help: "Another build of the daemon (before a change, say), started the same way on the same data after the first one's starts.") var beforeDaemon: String?
    @Flag(help: "Keep the cluster's directory, the configuration and the daemon's log (and print how to start the daemon on them by hand).") var keep = false

    func validate() throws {
        guard tickets >= 100, agents >= 1, agents <= 10_000, queues >= 1, queues <= 100, capacity >= 1, starts >= 1, settle >= 0, downtime >= 0 else {
            throw ValidationError("--tickets at least 100; --agents 1–10,000; --queues 1–100; --capacity, --starts at least 1; --settle, --downtime at least 0")
        }
    }

    func run() async throws {
        bootstrapBenchLogging()
        let executable = daemon ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("switchboardd").path
        for path in [executable] + (beforeDaemon.map { [$0] } ?? []) where access(path, X_OK) != 0 {
            throw ValidationError("no daemon at \(path) (build it: swift build -c release --product switchboardd)")
        }
        let db = try await BenchDatabase.open(url: nil, settings: ["max_connections": "100"])
        do {
            try await measure(db: db, executable: executable)
        } catch {
            if !keep { await db.close() }
            throw error
        }
        if keep {
            await db.embedded?.stop()
            print("kept \(db.directory ?? "?"); start its server with pg_ctl -D \(db.directory ?? "?")/data start, then the daemon with: \(executable) run --config \(db.directory ?? "?")/config.json")
        } else {
            await db.close()
        }
    }

    private func measure(db: BenchDatabase, executable: String) async throws {
        guard let cluster = db.embedded, let directory = db.directory else { throw ValidationError("needs the embedded cluster") }
        try await cluster.createDatabaseIfMissing("restart")
        let connectionString = cluster.connectionString(database: "restart")
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: connectionString), size: 4), logger: Logger(label: "bench"))
        do {
            try await measure(pool: pool, connectionString: connectionString, directory: directory, executable: executable)
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
    }

    private func measure(pool: PostgresPool, connectionString: String, directory: String, executable: String) async throws {
        _ = try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: Logger(label: "bench")).migrate()
        let config = RestartConfig(agents: agents, queues: queues, capacity: capacity, port: try freeLoopbackPort(), directory: directory,
                                   databaseURL: connectionString)
        try config.write()

        let seed = RestartSeed(tickets: tickets, config: config, now: Date())
        let counts = seed.counts
        print("switchboard-bench restart: \(tickets) open tickets (\(counts.waiting) waiting, \(counts.assigned) with agents, \(counts.pending) pending, "
              + "\(counts.unrouted) unrouted), \(agents) agents of capacity \(capacity) in \(queues) queues; \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("daemon: \(executable)\(beforeDaemon.map { "; before: \($0)" } ?? ""); embedded PostgreSQL in \(directory); down for \(downtime) s before the first start")
        print("seeding:")
        try await seed.run(pool: pool) { print($0) }
        let clock = ContinuousClock.now
        try await pool.query("VACUUM ANALYZE")
        print("  VACUUM ANALYZE: \(format((ContinuousClock.now - clock).seconds, 1)) s")
        let baseline = try await RestartBaseline.measure(connectionString: connectionString, pool: pool)

        var runs: [RestartReport.Run] = []
        for (index, (label, path)) in ([("daemon", executable)] + (beforeDaemon.map { [("before", $0)] } ?? [])).enumerated() {
            // Each daemon's first start follows an outage of `downtime` seconds: after the seed, what
            // fell due before it counts as handled; after another daemon, which handled everything
            // until it stopped, the outage is waited out.
            if index == 0 {
                try await RestartSeed.catchUp(pool: pool, until: Date().addingTimeInterval(-Double(downtime)))
            } else {
                try await Task.sleep(for: .seconds(downtime))
            }
            runs += try await measureStarts(label: label, executable: path, config: config, pool: pool)
        }
        let report = RestartReport(runs: runs, baseline: baseline, settle: settle)
        report.print()
        if report.failed { throw ExitCode(1) }
    }

    /// `starts` starts of one daemon, each measured, checked after `settle` seconds and stopped.
    private func measureStarts(label: String, executable: String, config: RestartConfig, pool: PostgresPool) async throws -> [RestartReport.Run] {
        let process = RestartDaemon(executable: executable, config: config)
        let checks = RestartChecks(pool: pool, capacity: capacity)
        var runs: [RestartReport.Run] = []
        for index in 0..<starts {
            let before = Date()
            let due = try await checks.due(before: before)
            let start = try await process.start(timeout: .seconds(timeout))
            let timeline = index == 0 ? process.timeline(spawnedAt: start.spawnedAt, until: start.readySeconds + 0.5) : []
            try await Task.sleep(for: .seconds(settle))
            let settledPeak = process.memoryMiB("VmHWM"), settled = process.memoryMiB("VmRSS")
            let verdict = try await checks.run(daemon: process, startedAt: before, due: due)
            let stopping = ContinuousClock.now
            let status = await process.stop()
            runs.append(.init(label: "\(label), start \(index + 1)", start: start, settledPeakMiB: settledPeak, settledMiB: settled,
                              stopSeconds: (ContinuousClock.now - stopping).seconds, status: status, checks: verdict, timeline: timeline))
        }
        return runs
    }
}

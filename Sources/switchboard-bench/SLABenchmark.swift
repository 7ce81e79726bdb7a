import ArgumentParser
import Foundation
import Logging
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Synchronization

/// One million open tickets with live SLA timers: resident memory, CPU at rest, and how late
/// deadlines fire, for the engine (a timer actor per ticket, one heap, one wake-up) beside the naive
/// design (a sleeping task per timer). Each variant runs in a child process of its own, so neither
/// inherits the other's freed memory.
struct SLABenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sla",
        abstract: "SLA timers: memory, CPU at rest and firing lateness with 1,000,000 open tickets (goals: ≤ 1 GiB, lateness p99 ≤ 100 ms)."
    )

    @Option(help: "Open tickets with running clocks.") var tickets = 1_000_000
    @Option(help: "Of those, tickets whose deadline falls in the measured window.") var firing = 100_000
    @Option(help: "Seconds over which the firing deadlines are spread.") var window = 30
    @Option(help: "Seconds of rest (timers live, none due) over which CPU is measured.") var rest = 10
    @Option(help: "Seconds each way of storing breaches is measured.") var storageSeconds = 5
    @Option(help: "Run one variant in this process: engine or baseline (used by the benchmark itself).") var variant: String?

    func validate() throws {
        guard tickets >= 1, firing >= 1, firing <= tickets, window >= 1, rest >= 1 else {
            throw ValidationError("--tickets, --firing, --window and --rest must be at least 1, and --firing at most --tickets")
        }
        if let variant, !["engine", "baseline"].contains(variant) {
            throw ValidationError("--variant is engine or baseline, got \(variant)")
        }
    }

    func run() async throws {
        bootstrapBenchLogging()
        if let variant {
            let result = variant == "engine" ? try await engine() : await baseline()
            print(result.line)
            return
        }
        let executable = CommandLine.arguments[0]
        let common = ["sla", "--tickets", "\(tickets)", "--firing", "\(firing)", "--window", "\(window)", "--rest", "\(rest)"]
        var results: [String: SLABenchResult] = [:]
        for name in ["engine", "baseline"] {
            let output = try await ChildCommand.run(executable, common + ["--variant", name])
            guard output.status == 0, let line = output.stdout.split(separator: "\n").last(where: { $0.hasPrefix("result ") }),
                  let result = SLABenchResult(line: String(line)) else {
                throw ValidationError("the \(name) run failed (status \(output.status)): \(output.stderr.suffix(2000))")
            }
            results[name] = result
        }
        guard let ours = results["engine"], let base = results["baseline"] else { return }
        print("SLA timers: \(tickets) open tickets with running clocks; \(firing) deadlines spread over \(window) s; CPU over \(rest) s with nothing due")
        print(table([
            ["measure", "engine (actor per ticket, one heap)", "baseline (a sleeping task per timer)"],
            ["resident memory growth, MiB", format(ours.memoryMiB), format(base.memoryMiB)],
            ["bytes per ticket", format(ours.memoryMiB * 1_048_576 / Double(tickets)), format(base.memoryMiB * 1_048_576 / Double(tickets))],
            ["time to arm all timers, s", format(ours.armSeconds, 2), format(base.armSeconds, 2)],
            ["CPU at rest, % of one core", format(ours.restCPUPercent, 2), format(base.restCPUPercent, 2)],
            ["firing lateness p50, ms", format(ours.p50, 2), format(base.p50, 2)],
            ["firing lateness p99, ms", format(ours.p99, 2), format(base.p99, 2)],
            ["firing lateness max, ms", format(ours.max, 2), format(base.max, 2)],
            ["fired in the window", "\(ours.fired)", "\(base.fired)"],
        ]))
        print("The engine's lateness includes each breach's state machine step and its hand-off to the writer (an in-memory ledger here;")
        print("storing is measured below). Goals: memory ≤ 1,024 MiB, p99 ≤ 100 ms.")
        print("")
        try await storage()
    }

    // MARK: Storing breaches

    /// What the writer pays per breach in PostgreSQL: `SLAStore.save` with the batches group commit
    /// forms under load (100 steps) and alone (1), beside pgbench storing the same breach in plain SQL,
    /// one transaction per breach.
    private func storage() async throws {
        let tickets = 20_000
        let db = try await BenchDatabase.open(url: nil, settings: ["synchronous_commit": "on"])
        do {
            let pool = PostgresPool(configuration: .init(connection: .init(connectionString: db.connectionString), size: 4), logger: Logger(label: "bench"))
            _ = try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: Logger(label: "bench")).migrate()
            try await pool.query("INSERT INTO switchboard.business_numbers (phone_number_id) VALUES ('bench')")
            try await pool.query("INSERT INTO switchboard.customers (wa_id) SELECT 'c' || g FROM generate_series(1, $1) g", [tickets])
            try await pool.query("INSERT INTO switchboard.tickets (customer_id, business_number) SELECT id, 'bench' FROM switchboard.customers ORDER BY id")
            let ids = try await pool.query("SELECT id FROM switchboard.tickets ORDER BY id").map { try $0.decode(0, as: Int64.self) }
            let store = SLAStore(pool: pool)
            let policy = SLAPolicy(name: "bench", calendarName: "24x7", targets: SLATargets(firstResponse: 3600, resolution: 86_400, warningFraction: 1, calendar: .alwaysOpen()))
            guard let policyID = try await store.register([policy]).first else { return }
            let start = Date()
            // A breach is stored with its alert (kept until acted on): each at its own moment, as
            // no two breaches of one clock share one.
            func change(_ ticket: Int64, breached: Bool) -> SLAChange {
                let first = SLAStateMachine.Clock(kind: .firstResponse, target: 3600, startedAt: start, runningSince: start, warned: breached, breached: breached)
                let resolution = SLAStateMachine.Clock(kind: .resolution, target: 86_400, startedAt: start, runningSince: start)
                let events = breached ? [SLAEventRow(kind: .slaBreach, at: Date(), data: #"{"clock": "first_response", "late": false}"#)]
                    : [SLAEventRow(kind: .slaStarted, at: start, data: #"{"policy": "bench"}"#)]
                return SLAChange(ticketID: ticket, policyID: policyID, startedAt: start, awaitingCustomer: false, pending: false,
                                 clocks: [.init(clock: first, warnAt: nil, deadline: start.addingTimeInterval(3600)),
                                          .init(clock: resolution, warnAt: nil, deadline: start.addingTimeInterval(86_400))],
                                 records: [], events: events,
                                 alerts: breached ? [SLAAlert(ticketID: ticket, kind: .breach, clock: .firstResponse, due: Date(), late: 0)] : [], at: Date())
            }
            for chunk in stride(from: 0, to: ids.count, by: 1000) {
                try await store.save(ids[chunk..<min(ids.count, chunk + 1000)].map { change($0, breached: false) })
            }
            var rows = [["storing breaches", "breaches/s", "ms per statement"]]
            var toForget: [SLAAlert] = []
            for batch in [100, 1] {
                var stored = 0, statements = 0
                let begin = ContinuousClock.now
                while (ContinuousClock.now - begin).seconds < Double(storageSeconds) {
                    let slice = (0..<batch).map { ids[(stored + $0) % ids.count] }
                    let changes = slice.map { change($0, breached: true) }
                    try await store.save(changes)
                    if batch == 1 { toForget += changes.flatMap(\.alerts) }
                    stored += batch
                    statements += 1
                }
                let elapsed = (ContinuousClock.now - begin).seconds
                rows.append(["SLAStore.save, \(batch) per statement (one writer)", format(Double(stored) / elapsed), format(elapsed * 1000 / Double(statements), 2)])
            }
            // Once acted on, each alert is forgotten: one statement each.
            let forgetting = ContinuousClock.now
            var forgotten = 0
            for alert in toForget where (ContinuousClock.now - forgetting).seconds < Double(storageSeconds) {
                try await store.acted(alert)
                forgotten += 1
            }
            let forgetSeconds = (ContinuousClock.now - forgetting).seconds
            rows.append(["SLAStore.acted, the alert forgotten once acted on (1 per statement)", format(Double(forgotten) / forgetSeconds),
                         format(forgetSeconds * 1000 / Double(max(forgotten, 1)), 2)])
            await pool.close()
            let pgbench = try PgBench.locate(serverBinDirectory: try? EmbeddedPostgres.binDirectory(configured: nil))
            let script = """
                \\set t random(\(ids.first ?? 1), \(ids.last ?? 1))
                BEGIN;
                UPDATE switchboard.sla_clocks SET breached_at = now(), warned_at = coalesce(warned_at, now()) WHERE ticket_id = :t AND clock = 'first_response';
                UPDATE switchboard.ticket_slas SET updated_at = now() WHERE ticket_id = :t;
                INSERT INTO switchboard.ticket_events (ticket_id, kind, actor, data) VALUES (:t, 'sla_breach', 'sla', '{"clock": "first_response", "late": false}');
                INSERT INTO switchboard.sla_alerts_to_act_on (ticket_id, clock, kind, due_at, policy_id, stored_at) VALUES (:t, 'first_response', 'breach', clock_timestamp(), \(policyID), now());
                END;
                """
            let result = try await pgbench.run(script: script, clients: 1, seconds: storageSeconds, connection: db.clientArguments)
            rows.append(["baseline: pgbench, one breach per transaction in plain SQL (1 client)", format(result.transactionsPerSecond),
                         result.averageLatencyMilliseconds.map { format($0, 2) } ?? "?"])
            print("Storing breaches (\(tickets) tickets, synchronous_commit on, embedded PostgreSQL on this machine)")
            print(table(rows))
        } catch {
            await db.close()
            throw error
        }
        await db.close()
    }

    // MARK: The engine

    private func engine() async throws -> SLABenchResult {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let recorder = LatenessRecorder()
        let policy = SLAPolicy(name: "bench", calendarName: "24x7",
                               targets: SLATargets(firstResponse: 3600, resolution: 86_400, warningFraction: 1, calendar: .alwaysOpen()))
        let before = currentResidentMemoryBytes()
        let armStart = ContinuousClock.now
        let engine = SLAEngine(policies: [policy], store: nil, ledger: DiscardingLedger(), clock: TaskTimers(), events: EventStream(),
                               observer: recorder, logger: logger)
        try await engine.rebuild()
        let now = Date()
        let firstDue = now.addingTimeInterval(Double(rest) + 5 + Double(tickets) / 200_000)
        for batchStart in stride(from: 0, to: tickets, by: 10_000) {
            let batch = (batchStart..<min(tickets, batchStart + 10_000)).map { index -> StoredSLA in
                let due = deadline(index, firstDue: firstDue)
                // The first-response clock breaches at `due`; the resolution clock runs on.
                let clocks = [SLAStateMachine.Clock(kind: .firstResponse, target: 3600, startedAt: due.addingTimeInterval(-3600), runningSince: due.addingTimeInterval(-3600)),
                              SLAStateMachine.Clock(kind: .resolution, target: 86_400, startedAt: due.addingTimeInterval(-3600), runningSince: due.addingTimeInterval(-3600))]
                return StoredSLA(ticketID: Int64(index + 1), policyID: 1, snapshot: .init(clocks: clocks, awaitingCustomer: false, pending: false))
            }
            try await engine.restore(batch)
        }
        let armSeconds = (ContinuousClock.now - armStart).seconds
        let memory = Double(currentResidentMemoryBytes() - before) / 1_048_576
        let restCPU = try await cpuAtRest(until: firstDue)
        try await Task.sleep(until: firstDue.addingTimeInterval(Double(window) + 2))
        await engine.settle()
        let samples = recorder.samples
        withExtendedLifetime(engine) {}
        return SLABenchResult(memoryMiB: memory, armSeconds: armSeconds, restCPUPercent: restCPU, lateness: samples)
    }

    // MARK: The baseline

    private func baseline() async -> SLABenchResult {
        let recorder = LatenessRecorder()
        let before = currentResidentMemoryBytes()
        let armStart = ContinuousClock.now
        let now = Date()
        let firstDue = now.addingTimeInterval(Double(rest) + 5 + Double(tickets) / 200_000)
        var tasks: [Task<Void, Never>] = []
        tasks.reserveCapacity(tickets)
        for index in 0..<tickets {
            let due = deadline(index, firstDue: firstDue)
            tasks.append(Task {
                do { try await Task.sleep(for: .milliseconds(Int64((due.timeIntervalSinceNow * 1000).rounded(.up)))) } catch { return }
                recorder.fired(due: due, handledAt: Date())
            })
        }
        let armSeconds = (ContinuousClock.now - armStart).seconds
        let memory = Double(currentResidentMemoryBytes() - before) / 1_048_576
        let restCPU = (try? await cpuAtRest(until: firstDue)) ?? .nan
        try? await Task.sleep(until: firstDue.addingTimeInterval(Double(window) + 2))
        let samples = recorder.samples
        tasks.forEach { $0.cancel() }
        return SLABenchResult(memoryMiB: memory, armSeconds: armSeconds, restCPUPercent: restCPU, lateness: samples)
    }

    // MARK: Shared

    /// The first `firing` tickets are due across the window; the rest hours later.
    private func deadline(_ index: Int, firstDue: Date) -> Date {
        if index < firing { return firstDue.addingTimeInterval(Double(index) / Double(firing) * Double(window)) }
        return firstDue.addingTimeInterval(4 * 3600 + Double(index % 3600))
    }

    /// CPU used by the whole process over `rest` seconds ending well before `firstDue`.
    private func cpuAtRest(until firstDue: Date) async throws -> Double {
        // Let the arming settle first.
        try await Task.sleep(for: .seconds(2))
        let start = cpuSeconds(), clock = ContinuousClock.now
        let length = min(Double(rest), max(1, firstDue.timeIntervalSinceNow - 1))
        try await Task.sleep(for: .milliseconds(Int64(length * 1000)))
        return (cpuSeconds() - start) / (ContinuousClock.now - clock).seconds * 100
    }
}

extension Task where Success == Never, Failure == Never {
    static func sleep(until date: Date) async throws {
        let delay = date.timeIntervalSinceNow
        if delay > 0 { try await Task.sleep(for: .milliseconds(Int64(delay * 1000))) }
    }
}

/// Lateness of each firing, in nanoseconds.
final class LatenessRecorder: SLAFiringObserver {
    private let state = Mutex<[Int64]>([])

    func fired(due: Date, handledAt: Date) {
        let late = Int64((handledAt.timeIntervalSince(due) * 1e9).rounded())
        state.withLock { $0.append(late) }
    }

    var samples: [Int64] { state.withLock { $0 } }
}

/// The writer's ledger in the benchmark: it takes the steps and keeps nothing.
struct DiscardingLedger: SLALedger {
    func save(_ changes: [SLAChange]) async throws {}
}

/// One variant's figures, passed from the child process as one line.
struct SLABenchResult {
    var memoryMiB: Double
    var armSeconds: Double
    var restCPUPercent: Double
    var p50: Double
    var p99: Double
    var max: Double
    var fired: Int

    init(memoryMiB: Double, armSeconds: Double, restCPUPercent: Double, lateness: [Int64]) {
        var samples = LatencySamples()
        samples.append(contentsOf: lateness)
        self.memoryMiB = memoryMiB
        self.armSeconds = armSeconds
        self.restCPUPercent = restCPUPercent
        p50 = samples.percentile(50)
        p99 = samples.percentile(99)
        max = samples.percentile(100)
        fired = lateness.count
    }

    init?(line: String) {
        let fields = line.split(separator: " ").dropFirst().map { Double($0) }
        guard fields.count == 7, fields.allSatisfy({ $0 != nil }) else { return nil }
        let values = fields.compactMap { $0 }
        (memoryMiB, armSeconds, restCPUPercent, p50, p99, max) = (values[0], values[1], values[2], values[3], values[4], values[5])
        fired = Int(values[6])
    }

    var line: String { "result \(memoryMiB) \(armSeconds) \(restCPUPercent) \(p50) \(p99) \(max) \(fired)" }
}

import ArgumentParser
import Foundation
import Logging
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
        print("The engine's figures include each breach's state machine step and its hand-off to the writer (an in-memory ledger here;")
        print("the database's cost per breach is that of one row in a group-committed statement). Goals: memory ≤ 1,024 MiB, p99 ≤ 100 ms.")
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

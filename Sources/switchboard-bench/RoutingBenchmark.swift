import ArgumentParser
import Foundation
import Logging
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Synchronization

/// Routing latency: the in-memory decision alone, memory per waiting ticket, and enqueue-to-committed
/// assignment through the real ingest path and PostgreSQL at a fixed arrival rate, each beside a
/// baseline measured in the same run.
struct RoutingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routing",
        abstract: "Routing latency with 1,000 agents and 50 queues (goals, issue #22: enqueue → committed assignment p99 ≤ 10 ms at 500 tickets/s, ≥ 1,500 tickets/s with p99 ≤ 100 ms; decision p99 ≤ 20 µs)."
    )

    @Option(help: "New tickets per second through ingest.") var rate = 2000
    @Option(help: "Seconds of measured load.") var seconds = 10
    @Option(help: "Seconds of load before measuring, followed by ANALYZE (as autovacuum would do on a live database), so cached plans see real table sizes.")
    var warmup = 3
    @Option(help: "Agents, spread evenly over the queues.") var agents = 1000
    @Option(help: "Queues.") var queues = 50
    @Flag(help: "Print the statements that took the most server time (pg_stat_statements, from postgresql-contrib).") var statementStats = false

    func validate() throws {
        guard rate >= 1, seconds >= 1, warmup >= 0, agents >= 1, queues >= 1, agents >= queues else {
            throw ValidationError("--rate, --seconds, --agents and --queues must be at least 1, with at least one agent per queue")
        }
    }

    func run() async throws {
        bootstrapBenchLogging()
        await decision()
        await memory()
        var settings = ["synchronous_commit": "on", "max_connections": "100"]
        if statementStats { settings.merge(StatementStats.serverSettings) { _, new in new } }
        let db = try await BenchDatabase.open(url: nil, settings: settings)
        do {
            try await endToEnd(db: db)
        } catch {
            await db.close()
            throw error
        }
        await db.close()
    }

    // MARK: The decision alone

    /// One new ticket matched against one queue's agents (`agents / queues` of them, random loads and
    /// skills), for each strategy; beside it, an uncontended actor round trip, the smallest step of
    /// the actor protocol around the decision.
    private func decision() async {
        var random = SeededRandom(seed: 7)
        let perQueue = agents / queues
        let skills = ["lang:es", "lang:en", "lang:pt", "product:billing", "product:tech"]
        let snapshots = (0..<perQueue).map { index in
            AgentSnapshot(id: String(format: "agent%04d", index), presence: .online, capacity: 5, load: Int.random(in: 0...5, using: &random),
                          skills: Dictionary(uniqueKeysWithValues: skills.filter { _ in Bool.random(using: &random) }.map { ($0, Int.random(in: 1...5, using: &random)) }),
                          lastAssignedAt: Date(timeIntervalSince1970: Double(Int.random(in: 0...1000, using: &random))))
        }
        let now = Date(timeIntervalSince1970: 2000)
        let steps = [RoutingStep(requirements: [], timeout: 60, ruleSkillLevel: 4), RoutingStep(requirements: [], timeout: nil, ruleSkillLevel: 2)]
        var rows = [["decision (\(perQueue) agents)", "p50 µs", "p99 µs", "max µs"]]
        for strategy in RoutingStrategy.allCases {
            let queue = QueueMatcher.Queue(name: "q", strategy: strategy, steps: steps, order: WaitingOrder(windowBoost: 1800))
            var samples = LatencySamples()
            var nanos: [Int64] = []
            nanos.reserveCapacity(100_000)
            var assigned = 0
            for index in 0..<100_000 {
                let ticket = QueueMatcher.WaitingTicket(ticket: .init(id: Int64(index), priority: .normal, waitingSince: now),
                                                        ruleRequirements: [SkillRequirement(skills[index % skills.count], atLeast: 3)], enteredQueueAt: now)
                let start = ContinuousClock.now
                let outcome = QueueMatcher.match([ticket], queue: queue, agents: snapshots, lastServed: "agent0007", now: now)
                nanos.append((ContinuousClock.now - start).nanoseconds)
                assigned += outcome.proposals.count
            }
            samples.append(contentsOf: nanos)
            rows.append([strategy.rawValue, format(samples.percentile(50) * 1000, 2), format(samples.percentile(99) * 1000, 2),
                         format(Double(nanos.max() ?? 0) / 1000, 1)])
            precondition(assigned > 0, "the benchmark's agents can take tickets")
        }
        // Baseline: the same number of calls, each an await on an actor.
        let counter = BenchCounter()
        var hop: [Int64] = []
        hop.reserveCapacity(100_000)
        for _ in 0..<100_000 {
            let start = ContinuousClock.now
            await counter.increment()
            hop.append((ContinuousClock.now - start).nanoseconds)
        }
        var baseline = LatencySamples()
        baseline.append(contentsOf: hop)
        rows.append(["baseline: one actor round trip", format(baseline.percentile(50) * 1000, 2), format(baseline.percentile(99) * 1000, 2), ""])
        print("The decision alone (QueueMatcher.match, one new ticket), 100,000 calls per strategy; goal p99 ≤ 20 µs")
        print(table(rows))
        print("")
    }

    // MARK: Memory per waiting ticket

    /// 100,000 tickets waiting in one queue actor whose agents are all offline.
    private func memory() async {
        let timers = VirtualTimers(start: Date(timeIntervalSince1970: 0))
        let roster = AgentRoster()
        for index in 0..<20 {
            roster.set(AgentActor(state: AgentState(definition: AgentDefinition(id: "agent\(index)", name: "A", capacity: 5, queues: ["q"]),
                                                    presence: .offline, presenceSince: timers.now)), queues: ["q"])
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let queue = QueueActor(definition: QueueDefinition(name: "q"), roster: roster, ledger: SimulatedLedger(), timers: timers, logger: logger)
        let count = 100_000
        let before = currentResidentMemoryBytes()
        for batch in 0..<(count / 1000) {
            let tickets = (0..<1000).map { index in
                let id = Int64(batch * 1000 + index)
                return QueueMatcher.WaitingTicket(ticket: .init(id: id, priority: .normal, waitingSince: timers.now, customerWindowExpiresAt: timers.now),
                                                  ruleRequirements: [SkillRequirement("lang:es", atLeast: 3)], enteredQueueAt: timers.now,
                                                  stickyAgent: "agent3", stickyUntil: timers.now)
            }
            await queue.enqueue(tickets)
        }
        let after = currentResidentMemoryBytes()
        let waiting = await queue.waitingTickets().count
        print("Memory per waiting ticket (\(waiting) tickets in one queue actor, one skill required, a sticky agent)")
        print(table([["measure", "bytes per ticket"],
                     ["resident memory growth", format(Double(after - before) / Double(count), 0)],
                     ["baseline: MemoryLayout<WaitingTicket>.stride", "\(MemoryLayout<QueueMatcher.WaitingTicket>.stride)"]]))
        print("")
    }

    // MARK: End to end

    private func endToEnd(db: BenchDatabase) async throws {
        let perQueue = agents / queues
        let queueNames = (0..<queues).map { String(format: "q%02d", $0) }
        let totalTickets = rate * (seconds + warmup)
        let capacity = min(1000, totalTickets / agents + 10)
        let routing = RoutingConfiguration(
            queues: queueNames.map { QueueDefinition(name: $0) },
            rules: queueNames.map { RoutingRule(name: $0, conditions: .init(keywords: [$0]), actions: .init(queue: $0)) }
                + [RoutingRule(name: "default", actions: .init(queue: queueNames[0]))],
            agents: (0..<agents).map { index in
                AgentDefinition(id: String(format: "agent%04d", index), name: "Agent \(index)", capacity: capacity, queues: [queueNames[index / perQueue % queues]])
            },
            initialPresence: Dictionary(uniqueKeysWithValues: (0..<agents).map { (String(format: "agent%04d", $0), AgentPresence.online) }))
        if statementStats { try await StatementStats.enable(connectionString: db.connectionString) }
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: db.connectionString), size: 16), logger: Logger(label: "bench"))
        _ = try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: Logger(label: "bench")).migrate()
        let observer = LatencyObserver()
        let router = TicketRouter(configuration: routing, pool: pool, timers: TaskTimers(), logger: Logger(label: "routing"), observer: observer)
        try await router.rebuild()
        let ingestor = WebhookIngestor(store: WebhookIngestStore(pool: pool, reopenWithin: 0), maxBatch: 64, maxInFlight: 4, linger: .zero, sink: router)

        // Open-loop arrivals at the rate: the warm-up's tickets, then (once they are placed and the
        // tables analyzed) the measured ones.
        let interval = 1.0 / Double(rate)
        func send(_ tickets: Range<Int>) async {
            let start = ContinuousClock.now
            await withTaskGroup(of: Void.self) { group in
                for index in tickets {
                    let due = start + .nanoseconds(Int64(Double(index - tickets.lowerBound) * interval * 1e9))
                    if due > ContinuousClock.now { try? await Task.sleep(until: due, clock: .continuous) }
                    let message = IncomingMessage(wamid: "wamid.bench.\(index)", businessNumberID: "106540352242922", businessDisplayNumber: "15550783881",
                                                  customerWaID: String(format: "449%09d", index), customerName: "Bench", type: "text",
                                                  body: "hello \(queueNames[index % queues])", payloadJSON: "{}")
                    group.addTask {
                        _ = try? await ingestor.submit(IncomingDelivery(body: Array("{}".utf8), messages: [message], statuses: [], decodeProblem: nil, receivedAt: Date()))
                    }
                }
            }
        }
        let warmupTickets = rate * warmup
        if warmupTickets > 0 {
            await send(0..<warmupTickets)
            for _ in 0..<50 where observer.pending > 0 { try await Task.sleep(for: .milliseconds(100)) }
            await router.settle()
            // The statements' cached generic plans were made on nearly empty tables: a live database
            // has been analyzed (autovacuum does it within a minute), so the measured load is too.
            let analyzer = try await PostgresConnection.connect(.init(connectionString: db.connectionString))
            try await analyzer.query("ANALYZE")
            if statementStats { try await analyzer.query("SELECT pg_stat_statements_reset()") }
            await analyzer.close()
        }
        observer.measuring(true)
        let serverCPU = db.embedded.flatMap { ServerCPU(dataDirectory: $0.dataDirectory) }
        let serverBefore = serverCPU?.seconds()
        let cpuBefore = cpuSeconds(), cpuChildrenBefore = cpuSeconds(children: true)
        let start = ContinuousClock.now
        await send(warmupTickets..<totalTickets)
        // Let the last assignments land.
        for _ in 0..<50 where observer.pending > 0 { try await Task.sleep(for: .milliseconds(100)) }
        await router.settle()
        let elapsed = (ContinuousClock.now - start).seconds
        let cpu = cpuSeconds() - cpuBefore, cpuChildren = cpuSeconds(children: true) - cpuChildrenBefore
        let serverOurs = serverCPU?.seconds()
        var ours = LatencySamples(), toQueue = LatencySamples(), queueToCommit = LatencySamples()
        ours.append(contentsOf: observer.latencies)
        toQueue.append(contentsOf: observer.phases.toQueue)
        queueToCommit.append(contentsOf: observer.phases.queueToCommit)
        let assigned = try await pool.query("SELECT count(*) FROM switchboard.tickets WHERE assignee IS NOT NULL").first?.decode(0, as: Int.self) ?? 0

        // Baseline: pgbench at the same rate running what routing writes for a ticket, in one transaction.
        let pgbench = try PgBench.locate(serverBinDirectory: try? EmbeddedPostgres.binDirectory(configured: nil))
        let script = """
            \\set id random(1, \(max(1, assigned)))
            BEGIN;
            SELECT id, customer_id, business_number FROM switchboard.tickets WHERE id = :id;
            UPDATE switchboard.tickets SET routing_rule = 'q01', queue_entered_at = now(), updated_at = now() WHERE id = :id;
            INSERT INTO switchboard.ticket_events (ticket_id, kind, actor, data) VALUES (:id, 'routed', 'baseline', '{}');
            UPDATE switchboard.tickets SET assigned_at = now(), updated_at = now() WHERE id = :id;
            INSERT INTO switchboard.ticket_events (ticket_id, kind, actor, data) VALUES (:id, 'assigned', 'baseline', '{}');
            END;
            """
        if statementStats { try await StatementStats.print(connectionString: db.connectionString, database: "switchboard", scope: "the measured load") }
        var baseline = LatencySamples()
        baseline.append(contentsOf: try await pgbench.latencies(script: script, rate: rate, clients: 8, seconds: seconds, connection: db.clientArguments))
        let serverAfter = serverCPU?.seconds()
        await pool.close()

        print("Enqueue to committed assignment: \(agents) agents, \(queues) queues, \(rate) new tickets/s through WebhookIngestor for \(warmup) + \(seconds) s")
        print(table([
            ["path", "tickets", "p50 ms", "p99 ms", "max ms"],
            ["routing (arrival at the router → assignment committed)", "\(observer.latencies.count)", format(ours.percentile(50), 2), format(ours.percentile(99), 2), format(ours.percentile(100), 1)],
            ["  of which arrival → waiting in its queue (read, classify, record)", "\(toQueue.values.count)", format(toQueue.percentile(50), 2),
             format(toQueue.percentile(99), 2), format(toQueue.percentile(100), 1)],
            ["  of which waiting in its queue → assignment committed", "\(queueToCommit.values.count)", format(queueToCommit.percentile(50), 2),
             format(queueToCommit.percentile(99), 2), format(queueToCommit.percentile(100), 1)],
            ["baseline: pgbench -R \(rate), the same writes in one transaction", "\(baseline.values.count)", format(baseline.percentile(50), 2), format(baseline.percentile(99), 2), format(baseline.percentile(100), 1)],
        ]))
        if let serverBefore, let serverOurs, let serverAfter {
            print("database CPU per ticket (ingest and routing): \(format((serverOurs - serverBefore) / Double(totalTickets - warmupTickets) * 1e6)) µs; baseline pgbench (routing's writes only): \(format((serverAfter - serverOurs) / Double(max(1, baseline.values.count)) * 1e6)) µs per transaction")
        }
        print("sent \(totalTickets - warmupTickets) measured tickets in \(format(elapsed, 1)) s; \(assigned) assigned (the warm-up's included); benchmark process CPU \(format(cpu, 1)) s (\(format(cpu / elapsed * 100, 0)) % of a core, \(format(cpu / Double(totalTickets - warmupTickets) * 1e6)) µs per ticket), pgbench CPU \(format(cpuChildren, 1)) s; peak RSS \(format(peakResidentMemoryMiB(), 0)) MiB")
    }
}

/// The baseline of the decision benchmark: an actor that does nearly nothing.
private actor BenchCounter {
    var value = 0
    func increment() { value += 1 }
}

/// Arrival and assignment instants per ticket, turned into latencies.
private final class LatencyObserver: RoutingObserver {
    private struct State {
        var arrived: [Int64: ContinuousClock.Instant] = [:]
        var queued: [Int64: ContinuousClock.Instant] = [:]
        var latencies: [Int64] = []
        /// Arrival to queued (read, classify, record), and queued to assignment committed.
        var toQueue: [Int64] = []
        var queueToCommit: [Int64] = []
        var measuring = false
    }

    private let state = Mutex(State())

    func measuring(_ on: Bool) { state.withLock { $0.measuring = on } }

    func ticketsArrived(_ ticketIDs: [Int64], at instant: ContinuousClock.Instant) {
        state.withLock { state in
            guard state.measuring else { return }
            for id in ticketIDs { state.arrived[id] = instant }
        }
    }

    func ticketsQueued(_ ticketIDs: [Int64], at instant: ContinuousClock.Instant) {
        state.withLock { state in
            for id in ticketIDs {
                guard let arrived = state.arrived[id] else { continue }
                state.queued[id] = instant
                state.toQueue.append((instant - arrived).nanoseconds)
            }
        }
    }

    func ticketsAssigned(_ ticketIDs: [Int64], at instant: ContinuousClock.Instant) {
        state.withLock { state in
            for id in ticketIDs {
                if let arrived = state.arrived.removeValue(forKey: id) { state.latencies.append((instant - arrived).nanoseconds) }
                if let queued = state.queued.removeValue(forKey: id) { state.queueToCommit.append((instant - queued).nanoseconds) }
            }
        }
    }

    var pending: Int { state.withLock { $0.arrived.count } }
    var latencies: [Int64] { state.withLock { $0.latencies } }
    var phases: (toQueue: [Int64], queueToCommit: [Int64]) { state.withLock { ($0.toQueue, $0.queueToCommit) } }
}

/// The resident set size now (not the peak), from /proc/self/statm.
func currentResidentMemoryBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

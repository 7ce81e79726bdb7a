import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Synchronization

/// The agents' event stream under load: 1,000 agents connected to `GET /api/v1/events`, new tickets
/// arriving through ingest at a fixed rate; the time from an assignment's commit to its agent's
/// client reading the event, and the server's memory per connected agent. Beside it, in the same
/// run and over the same connections, events put straight into the event log: the delivery path
/// alone, without routing, the enricher's lookup or the database.
struct APIBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Event delivery to 1,000 connected agents at 500 new tickets/s (goal: commit to client p99 ≤ 50 ms) and memory per connection."
    )

    @Option(help: "Connected agents.") var agents = 1000
    @Option(help: "Queues (agents spread evenly).") var queues = 50
    @Option(help: "New tickets per second through ingest.") var rate = 500
    @Option(help: "Seconds of measured load.") var seconds = 10
    @Option(help: "Seconds of load before measuring.") var warmup = 3

    func validate() throws {
        guard agents >= queues, queues >= 1, rate >= 1, seconds >= 1, warmup >= 0 else {
            throw ValidationError("--agents ≥ --queues ≥ 1, --rate and --seconds at least 1")
        }
    }

    func run() async throws {
        bootstrapBenchLogging()
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        guard limit.rlim_cur >= rlim_t(agents * 2 + 200) else {
            throw ValidationError("needs \(agents * 2 + 200) open files (ulimit -n is \(limit.rlim_cur))")
        }
        let db = try await BenchDatabase.open(url: nil, settings: ["synchronous_commit": "on", "max_connections": "100"])
        do {
            try await measure(db: db)
        } catch {
            await db.close()
            throw error
        }
        await db.close()
    }

    private func measure(db: BenchDatabase) async throws {
        let logger = Logger(label: "bench")
        let perQueue = agents / queues
        let names = (0..<queues).map { String(format: "q%02d", $0) }
        let ids = (0..<agents).map { String(format: "agent%04d", $0) }
        let total = rate * (seconds + warmup)
        let routing = RoutingConfiguration(
            queues: names.map { QueueDefinition(name: $0) },
            rules: names.map { RoutingRule(name: $0, conditions: .init(keywords: [$0]), actions: .init(queue: $0)) }
                + [RoutingRule(name: "default", actions: .init(queue: names[0]))],
            agents: ids.enumerated().map { index, id in
                AgentDefinition(id: id, name: id, capacity: min(1000, total / agents + 10), queues: [names[index / perQueue % queues]])
            },
            initialPresence: Dictionary(uniqueKeysWithValues: ids.map { ($0, AgentPresence.online) }))
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: db.connectionString), size: 16), logger: logger)
        _ = try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: logger).migrate()
        let events = EventStream()
        let log = EventLog(capacity: 100_000, maxAge: 900)
        let observer = CommitObserver()
        let timers = TaskTimers()
        let router = TicketRouter(configuration: routing, pool: pool, timers: timers, logger: Logger(label: "routing"), observer: observer, events: events)
        try await router.rebuild()
        let store = ControlStore(pool: pool)
        let enricher = Task { try await EventEnricher(events: events, log: log, store: store, logger: logger).run() }
        let api = AgentAPI(router: router, store: store, outbox: nil, events: events, log: log, timers: timers, settings: .init(presenceSilenceSeconds: 3600), logger: logger)
        let httpRouter = Router()
        api.register(on: httpRouter)
        let (ports, portSignal) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: httpRouter, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "bench"),
                              onServerRunning: { portSignal.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        var portIterator = ports.makeAsyncIterator()
        guard let port = await portIterator.next(), port > 0 else { throw ValidationError("the HTTP server did not start") }

        var tokens: [String] = []
        for id in ids {
            guard let issued = try await store.tokens.issue(agentID: id, label: "bench", by: "bench", now: Date()) else { throw ValidationError("no agent \(id)") }
            tokens.append(issued.token.text)
        }

        // Memory: the process before and after the streams are open (the clients' side is a few
        // kilobytes each: sockets and one read buffer).
        let before = currentResidentMemoryBytes()
        let clients = try EventStreamClients(port: port, tokens: tokens, kinds: ["assigned", "bench"])
        clients.start()
        for _ in 0..<600 where clients.opened < agents || log.followerCount < agents { try await Task.sleep(for: .milliseconds(50)) }
        guard log.followerCount == agents else { throw ValidationError("only \(log.followerCount) of \(agents) streams opened") }
        try await Task.sleep(for: .seconds(1))
        let after = currentResidentMemoryBytes()

        // Load: new tickets through ingest at the rate; each assignment's commit instant is noted.
        let ingestor = WebhookIngestor(store: WebhookIngestStore(pool: pool, reopenWithin: 0), maxBatch: 64, maxInFlight: 4, linger: .zero, sink: router)
        let interval = 1.0 / Double(rate)
        let start = ContinuousClock.now
        let measureFrom = start + .seconds(warmup)
        let cpuBefore = cpuSeconds()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<total {
                let due = start + .nanoseconds(Int64(Double(index) * interval * 1e9))
                if due > ContinuousClock.now { try? await Task.sleep(until: due, clock: .continuous) }
                observer.measuring(ContinuousClock.now >= measureFrom)
                let message = IncomingMessage(wamid: "wamid.apibench.\(index)", businessNumberID: "106540352242922", businessDisplayNumber: "15550783881",
                                              customerWaID: String(format: "448%09d", index), customerName: "Bench", type: "text",
                                              body: "hello \(names[index % queues])", payloadJSON: "{}")
                group.addTask {
                    _ = try? await ingestor.submit(IncomingDelivery(body: Array("{}".utf8), messages: [message], statuses: [], decodeProblem: nil, receivedAt: Date()))
                }
            }
        }
        for _ in 0..<100 where observer.pending > 0 { try await Task.sleep(for: .milliseconds(100)) }
        try await Task.sleep(for: .seconds(1))
        let elapsed = (ContinuousClock.now - start).seconds
        let cpu = cpuSeconds() - cpuBefore
        let references = Dictionary(uniqueKeysWithValues: try await pool.query("SELECT id, reference FROM switchboard.tickets").map {
            (try $0.decode(0, as: Int64.self), try $0.decode(1, as: String.self))
        })
        let received = Dictionary(clients.takeReceipts().filter { $0.kind == "assigned" }.map { ($0.ticket, $0.at) }, uniquingKeysWith: { first, _ in first })
        var ours = LatencySamples()
        var missing = 0
        for (id, committed) in observer.committed {
            guard let reference = references[id], let at = received[reference] else {
                missing += 1
                continue
            }
            ours.append(contentsOf: [(at - committed).nanoseconds])
        }

        // Baseline: events put straight into the log at the same rate, one per agent in turn.
        var sentAt: [String: ContinuousClock.Instant] = [:]
        let baselineCount = rate * seconds
        let baselineStart = ContinuousClock.now
        for index in 0..<baselineCount {
            let due = baselineStart + .nanoseconds(Int64(Double(index) * interval * 1e9))
            if due > ContinuousClock.now { try? await Task.sleep(until: due, clock: .continuous) }
            let agent = index % agents
            let reference = "B-\(index)"
            sentAt[reference] = ContinuousClock.now
            log.append(DaemonEvent(kind: .assigned, ticketID: Int64(index), reference: reference, queue: names[agent / perQueue % queues], agent: ids[agent],
                                   at: Date(), audience: [ids[agent]], details: ["agent": ids[agent]]))
        }
        try await Task.sleep(for: .seconds(1))
        var baseline = LatencySamples()
        var baselineMissing = 0
        let baselineReceived = Dictionary(clients.takeReceipts().map { ($0.ticket, $0.at) }, uniquingKeysWith: { first, _ in first })
        for (reference, sent) in sentAt {
            guard let at = baselineReceived[reference] else {
                baselineMissing += 1
                continue
            }
            baseline.append(contentsOf: [(at - sent).nanoseconds])
        }

        clients.stop()
        log.close()
        enricher.cancel()
        server.cancel()
        await pool.close()

        print("Agents' event stream: \(agents) agents connected to GET /api/v1/events, \(queues) queues, \(rate) new tickets/s through ingest for \(warmup) + \(seconds) s")
        print(table([
            ["path", "events", "p50 ms", "p99 ms", "max ms", "not received"],
            ["assignment committed → the agent's client read the event", "\(ours.values.count)", format(ours.percentile(50), 2), format(ours.percentile(99), 2),
             format(ours.percentile(100), 1), "\(missing)"],
            ["baseline: event put in the log → client read it (same connections)", "\(baseline.values.count)", format(baseline.percentile(50), 2),
             format(baseline.percentile(99), 2), format(baseline.percentile(100), 1), "\(baselineMissing)"],
        ]))
        let perAgent = Double(after - before) / Double(agents) / 1024
        print("memory: \(format(Double(before) / 1_048_576, 0)) MiB before the streams, \(format(Double(after) / 1_048_576, 0)) MiB with \(agents) open: \(format(perAgent, 1)) KiB per connected agent (server and this client together)")
        print("sent \(total) tickets in \(format(elapsed, 1)) s; process CPU \(format(cpu, 1)) s (\(format(cpu / elapsed * 100, 0)) % of a core); peak RSS \(format(peakResidentMemoryMiB(), 0)) MiB")
        print("Goal: commit to client p99 ≤ 50 ms.")
    }
}

/// The commit instant of each assignment made while measuring.
private final class CommitObserver: RoutingObserver {
    private struct State {
        var measuring = false
        var arrived: Set<Int64> = []
        var committed: [Int64: ContinuousClock.Instant] = [:]
    }

    private let state = Mutex(State())

    func measuring(_ on: Bool) { state.withLock { $0.measuring = on } }

    func ticketsArrived(_ ticketIDs: [Int64], at instant: ContinuousClock.Instant) {
        state.withLock { state in
            guard state.measuring else { return }
            state.arrived.formUnion(ticketIDs)
        }
    }

    func ticketsAssigned(_ ticketIDs: [Int64], at instant: ContinuousClock.Instant) {
        state.withLock { state in
            for id in ticketIDs where state.arrived.remove(id) != nil { state.committed[id] = instant }
        }
    }

    var pending: Int { state.withLock { $0.arrived.count } }
    var committed: [Int64: ContinuousClock.Instant] { state.withLock { $0.committed } }
}

import ArgumentParser
import Foundation
import Glibc
import Logging
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Varlink

/// The control socket's `Status` with 1,000 agents and 50 queues: the round trip on an open
/// connection (process start excluded) and `switchboardctl status --json` as a new process each time
/// (included), each beside its floor measured in the same run: `GetInfo` on the same connection, and
/// starting `/bin/true`.
struct ControlBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control",
        abstract: "Round trip of the control socket's Status with 1,000 agents and 50 queues (goal ≤ 5 ms)."
    )

    @Option(help: "Agents.") var agents = 1000
    @Option(help: "Queues.") var queues = 50
    @Option(help: "Round trips on one connection.") var calls = 2000
    @Option(help: "switchboardctl processes started.") var processes = 100

    func validate() throws {
        guard agents >= queues, queues >= 1, calls >= 10, processes >= 5 else {
            throw ValidationError("--agents ≥ --queues ≥ 1, --calls ≥ 10, --processes ≥ 5")
        }
    }

    func run() async throws {
        bootstrapBenchLogging()
        let db = try await BenchDatabase.open(url: nil, settings: [:])
        do {
            try await measure(db)
        } catch {
            await db.close()
            throw error
        }
        await db.close()
    }

    private func measure(_ db: BenchDatabase) async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let names = (0..<queues).map { String(format: "q%02d", $0) }
        let perQueue = agents / queues
        let routing = RoutingConfiguration(
            queues: names.map { QueueDefinition(name: $0) },
            rules: [RoutingRule(name: "default", actions: .init(queue: names[0]))],
            agents: (0..<agents).map { AgentDefinition(id: String(format: "agent%04d", $0), name: "Agent \($0)", capacity: 5, queues: [names[$0 / perQueue % queues]]) },
            initialPresence: Dictionary(uniqueKeysWithValues: (0..<agents).map { (String(format: "agent%04d", $0), $0 % 3 == 0 ? AgentPresence.offline : .online) }))
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: db.connectionString), size: 8), logger: logger)
        _ = try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: logger).migrate()
        let events = EventStream()
        let router = TicketRouter(configuration: routing, pool: pool, timers: TaskTimers(), logger: logger, events: events)
        try await router.rebuild()
        let handler = ControlService(router: router, store: ControlStore(pool: pool), events: events, access: { ControlAccess() },
                                     reload: { .applied(needingRestart: []) }, logger: logger)
        let directory = "/tmp/sbbench-control-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/control.sock"
        let (listening, signal) = AsyncStream.makeStream(of: String.self)
        let server = VarlinkServer(listener: .path(socket), maxMessageBytes: 1 << 20, handler: handler, onListening: { signal.yield($0) }, logger: logger)
        let serving = Task { try await server.run() }
        defer { serving.cancel() }
        for await _ in listening { break }

        // Process start excluded: one connection, calls back to back, on a thread of its own.
        let (statusNs, infoNs, bytes) = try await runOnThread { () throws -> ([Int64], [Int64], Int) in
            let client = try BlockingVarlinkClient(path: socket)
            var status: [Int64] = [], info: [Int64] = [], size = 0
            for index in 0..<(calls + calls / 10) {
                let start = ContinuousClock.now
                size = try client.roundTrip(#"{"method": "io.switchboard.Control.Status"}"#)
                let middle = ContinuousClock.now
                _ = try client.roundTrip(#"{"method": "org.varlink.service.GetInfo"}"#)
                let end = ContinuousClock.now
                // The first tenth warms up.
                if index >= calls / 10 {
                    status.append((middle - start).nanoseconds)
                    info.append((end - middle).nanoseconds)
                }
            }
            return (status, info, size)
        }
        // Process start included.
        let ctl = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("switchboardctl").path
        guard FileManager.default.isExecutableFile(atPath: ctl) else {
            throw ValidationError("switchboardctl not found next to switchboard-bench (\(ctl)); build it: swift build -c release --product switchboardctl")
        }
        var ctlNs: [Int64] = [], trueNs: [Int64] = []
        for _ in 0..<processes {
            let start = ContinuousClock.now
            let output = try await ChildCommand.run(ctl, ["status", "--json", "--socket", socket])
            let middle = ContinuousClock.now
            guard output.status == 0 else { throw ValidationError("switchboardctl failed: \(output.stderr)") }
            _ = try await ChildCommand.run("/bin/true", [])
            let end = ContinuousClock.now
            ctlNs.append((middle - start).nanoseconds)
            trueNs.append((end - middle).nanoseconds)
        }
        func row(_ name: String, _ values: [Int64]) -> [String] {
            var samples = LatencySamples()
            samples.append(contentsOf: values)
            return [name, format(samples.percentile(50), 3), format(samples.percentile(99), 3), "\(values.count)"]
        }
        print("Control socket: Status with \(agents) agents and \(queues) queues (reply \(bytes) bytes)")
        print(table([
            ["round trip", "p50 ms", "p99 ms", "samples"],
            row("Status on an open connection (process start excluded)", statusNs),
            row("baseline: GetInfo on the same connection", infoNs),
            row("switchboardctl status --json, a new process each time (included)", ctlNs),
            row("baseline: starting /bin/true", trueNs),
        ]))
        print("Goal: ≤ 5 ms.")
        await pool.close()
    }
}

/// A minimal blocking Varlink client for the benchmark's own thread.
final class BlockingVarlinkClient {
    private let fd: Int32
    private var decoder = VarlinkFrameDecoder(maxMessageBytes: 64 << 20)

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
            raw[path.utf8.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw ValidationError("cannot connect to \(path)") }
    }

    deinit { close(fd) }

    /// Sends a call and reads its reply; returns the reply's size.
    func roundTrip(_ call: String) throws -> Int {
        let bytes = Array(call.utf8) + [0]
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { throw ValidationError("send failed") }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw ValidationError("the daemon closed the connection") }
            if let message = try decoder.append(buffer[0..<count]).first { return message.count }
        }
    }
}

/// Runs blocking work on a thread of its own.
func runOnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

import ArgumentParser
import Foundation
import Glibc
import SwitchboardCore

/// The kill -9 soak of issue #16, for anyone to run: the release daemon on its embedded PostgreSQL
/// under signed webhook load, agents resolving through the API as tickets are assigned, customers
/// writing again so tickets reopen; the daemon killed with SIGKILL at random moments and started
/// again, then the embedded server killed under it (the daemon starts it again). After each phase,
/// once routing has settled, every count that must be 0 is printed, with readiness times.
struct SoakBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "SIGKILL the daemon N times and its embedded PostgreSQL M times under webhook load; every count printed must be 0."
    )

    @Option(help: "Times the daemon is killed with SIGKILL and started again.") var kills = 20
    @Option(name: .customLong("database-restarts"), help: "Times the embedded PostgreSQL is killed under the daemon.") var databaseRestarts = 5
    @Option(help: "Webhook messages per second.") var rate = 470
    @Option(help: "Agents (all online, one queue).") var agents = 10
    @Option(help: "Each agent's capacity.") var capacity = 3
    @Option(help: "Customers writing (fewer customers: more reopens).") var customers = 300
    @Option(help: "Webhook connections.") var connections = 16
    @Option(help: "Shortest load between two kills, seconds.") var minGap = 2.0
    @Option(help: "Longest load between two kills, seconds.") var maxGap = 6.0
    @Option(help: "Seed of the customers' choices and the kill moments.") var seed: UInt64 = 16
    @Option(help: "The daemon (default: switchboardd beside this program).") var daemon: String?
    @Flag(help: "Keep the state directory and the daemon's log afterwards.") var keep = false

    func validate() throws {
        guard kills >= 0, databaseRestarts >= 0, rate >= 1, agents >= 1, capacity >= 1, customers >= 1, connections >= 1, minGap > 0, maxGap >= minGap else {
            throw ValidationError("counts at least 1 (kills and restarts at least 0), 0 < --min-gap ≤ --max-gap")
        }
    }

    func run() async throws {
        bootstrapBenchLogging()
        let executable = daemon ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("switchboardd").path
        guard access(executable, X_OK) == 0 else { throw ValidationError("no daemon at \(executable) (build it: swift build -c release)") }
        let directory = "/tmp/sb-soak-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let ids = (1...agents).map { String(format: "agent%02d", $0) }
        let target = try SoakDaemon(directory: directory, executable: executable, agents: ids, capacity: capacity)
        say("soak: \(executable), state in \(directory), \(agents) agents of capacity \(capacity), \(customers) customers, \(rate) messages/s")
        var random = SeededRandom(seed: seed)

        let firstStart = try await target.start()
        var tokens: [(agent: String, token: String)] = []
        for id in ids {
            guard let issued = try await target.control(["issue-token", id, "--label", "soak"]) as? [String: Any], let token = issued["token"] as? String else {
                throw SoakFailure("issue-token \(id) gave no token")
            }
            tokens.append((id, token))
        }
        let load = SoakLoad(port: target.port, rate: rate, customers: customers, appSecret: target.appSecret, seed: seed)
        let resolver = SoakResolver(port: target.port, tokens: tokens)
        let sampler = SoakSampler()
        load.start(connections: connections)
        resolver.start()
        sampler.start(connectionString: target.connectionString, capacity: capacity)
        let began = ContinuousClock.now

        // Phase 1: the daemon killed with SIGKILL at random moments.
        var readiness: [Double] = []
        for kill in 0..<kills {
            try await Task.sleep(for: .milliseconds(Int64(Double.random(in: minGap...maxGap, using: &random) * 1000)))
            await target.kill9()
            let took = try await target.start()
            readiness.append(took.seconds)
            say("kill \(kill + 1)/\(kills): ready again in \(format(took.seconds, 2)) s; \(load.counts.acknowledged) acknowledged so far")
        }
        let verdictKills = try await quiesceAndVerify(target, load: load, resolver: resolver, sampler: sampler)

        // Phase 2: the embedded PostgreSQL killed under the daemon, which starts it again.
        load.setProducing(true)
        resolver.start()
        var databaseBack: [Double] = []
        for restart in 0..<databaseRestarts {
            try await Task.sleep(for: .milliseconds(Int64(Double.random(in: minGap...maxGap, using: &random) * 1000)))
            guard let pid = target.postmasterPID else { throw SoakFailure("no postmaster.pid in \(target.dataDirectory)") }
            let killedAt = ContinuousClock.now
            kill(pid, SIGKILL)
            // Ready again: the daemon says so, and a new server runs.
            while true {
                if target.postmasterPID != pid, (try? await target.get("/readyz").status) == 200 { break }
                if ContinuousClock.now - killedAt > .seconds(120) { throw SoakFailure("the database did not come back within 120 s") }
                try await Task.sleep(for: .milliseconds(20))
            }
            let took = ContinuousClock.now - killedAt
            databaseBack.append(took.seconds)
            say("database kill \(restart + 1)/\(databaseRestarts): ready again in \(format(took.seconds, 2)) s")
        }
        let verdictDatabase = try await quiesceAndVerify(target, load: load, resolver: resolver, sampler: sampler)
        let status = try await target.control(["status"]) as? [String: Any]
        let restartsSeen = (status?["database"] as? [String: Any])?["restarts"] as? Int ?? -1

        load.stop()
        await sampler.stop()
        let exit = await target.stop()
        let counts = load.counts
        let minutes = (ContinuousClock.now - began).seconds / 60

        say("")
        say("load: \(format(minutes, 1)) min, \(counts.sent) deliveries sent, \(counts.acknowledged) acknowledged, \(counts.unavailable) answered 503, "
              + "\(counts.refusedConnections) refused while the daemon was down, other: \(counts.otherStatuses), \(resolver.resolvedCount) tickets resolved through the API")
        say("first start ready in \(format(firstStart.seconds, 2)) s")
        say(readinessLine("after SIGKILL", readiness))
        say(readinessLine("after the embedded PostgreSQL was killed", databaseBack) + "; the daemon counted \(restartsSeen) restarts")
        say("")
        let rows: [(String, KeyPath<SoakVerdict, Int>)] = [
            ("acknowledged messages not stored", \.acknowledgedNotStored), ("messages stored twice", \.storedTwice),
            ("tickets assigned twice", \.assignedTwice), ("agents over capacity at the end", \.overCapacityNow),
            ("sampled moments with an agent over capacity", \.overCapacitySamples),
            ("agents whose load in memory differs from the database", \.memoryDisagrees),
            ("tickets waiting while an eligible agent has room", \.waitingWhileRoom),
        ]
        var lines = [["check (must be 0)", "after \(kills) kills", "after \(databaseRestarts) database kills"]]
        for (name, path) in rows { lines.append([name, "\(verdictKills[keyPath: path])", "\(verdictDatabase[keyPath: path])"]) }
        lines.append(["(acknowledged messages)", "\(verdictKills.acknowledged)", "\(verdictDatabase.acknowledged)"])
        lines.append(["(tickets / reopens)", "\(verdictKills.tickets) / \(verdictKills.reopened)", "\(verdictDatabase.tickets) / \(verdictDatabase.reopened)"])
        lines.append(["(over-capacity samples taken)", "\(verdictKills.samples)", "\(verdictDatabase.samples)"])
        say(table(lines))
        for detail in verdictKills.details + verdictDatabase.details { say("  " + detail) }
        say("daemon stopped with exit status \(exit)")
        if !keep { try? FileManager.default.removeItem(atPath: directory) } else { say("kept \(directory)") }
        let failures = verdictKills.failures + verdictDatabase.failures + (exit == 0 ? 0 : 1) + (restartsSeen == databaseRestarts ? 0 : 1)
        if failures > 0 { throw ExitCode(1) }
    }

    /// Stops new messages and resolutions, lets retries land and routing settle, then checks.
    private func quiesceAndVerify(_ target: SoakDaemon, load: SoakLoad, resolver: SoakResolver, sampler: SoakSampler) async throws -> SoakVerdict {
        load.setProducing(false)
        for _ in 0..<600 where load.retriesPending > 0 { try await Task.sleep(for: .milliseconds(100)) }
        resolver.stop()
        try await SoakChecks.settle(target)
        return try await SoakChecks.verify(target, acknowledged: load.acknowledged, capacity: capacity, sampler: sampler)
    }

    private func readinessLine(_ what: String, _ seconds: [Double]) -> String {
        guard !seconds.isEmpty else { return "ready \(what): not measured" }
        let sorted = seconds.sorted()
        return "ready \(what): min \(format(sorted[0], 2)) s, median \(format(sorted[sorted.count / 2], 2)) s, max \(format(sorted[sorted.count - 1], 2)) s (\(seconds.count) times)"
    }
}

/// A line on standard output at once (print's buffer would hold progress back when it is a file).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

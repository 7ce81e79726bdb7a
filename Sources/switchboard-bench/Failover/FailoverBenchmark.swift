import ArgumentParser
import Foundation
import Glibc

/// Issue #21's failover benchmark, in two parts.
///
/// 1. Leader kills: two release daemons (`a`, `b`) on one embedded PostgreSQL cluster the benchmark
///    runs itself, under signed webhook load spread over both, agents resolving through the API;
///    the leader is killed with SIGKILL again and again, and the time until the other instance
///    leads is measured, with what the webhooks were answered in the gap.
/// 2. PostgreSQL promotions: one daemon on a two-host URL over a primary and a synchronous
///    streaming standby; the primary is stopped and the standby promoted, round after round (a new
///    standby of the new primary each time), and the time until webhooks are answered 200 again is
///    measured.
///
/// At the end of each part, once routing has settled (or `--settle-timeout` has passed: what is
/// still unrouted is reported) and the outbox has drained, the counts that must be 0 are read from
/// the database and from the Graph API stand-in's output.
struct FailoverBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Kill the leading daemon N times and promote a PostgreSQL standby M times under webhook load; takeover times beside their goals, counts that must be 0."
    )

    @Option(help: "Times the leader is killed with SIGKILL (part 1; 0 skips it).") var kills = 20
    @Option(help: "Webhook messages per second (over both daemons in part 1).") var rate = 500
    @Option(help: "PostgreSQL primary stops and standby promotions (part 2; 0 skips it).") var promotions = 5
    @Option(help: "cluster.leaseSeconds of the daemons.") var lease = 3.0
    @Option(help: "cluster.renewSeconds of the daemons.") var renew = 1.0
    @Option(help: "Seconds of steady load before each kill or promotion, once everything is back.") var steady = 2.0
    @Option(name: .customLong("settle-timeout"), help: "Seconds to wait, after the load, for routing to settle before counting (what is still unrouted is reported).") var settleTimeout = 60.0
    @Option(help: "Webhook connections per daemon.") var connections = 8
    @Option(name: .customLong("help-line-percent"), help: "Share of messages to the help line (each new customer there gets the triage menu: a real send).") var helpLinePercent = 5.0
    @Option(name: .customLong("new-customer-percent"), help: "Share of messages from a customer who has not written before (a new ticket); the rest come from recent customers.") var newCustomerPercent = 70.0
    @Option(name: .customLong("extra-agents"), help: "Agents added to the example's, resolving their tickets through the API.") var extraAgents = 8
    @Option(name: .customLong("agent-capacity"), help: "Capacity of each added agent.") var agentCapacity = 3
    @Option(help: "Seed of the customers' choices.") var seed: UInt64 = 21
    @Option(help: "The daemon (default: switchboardd beside this program; switchboardctl is looked for beside it).") var daemon: String?
    @Flag(help: "Keep the working directory (logs, databases, the stand-in's output) afterwards.") var keep = false

    func validate() throws {
        guard kills >= 0, promotions >= 0, kills + promotions > 0 else { throw ValidationError("--kills and --promotions at least 0, not both 0") }
        guard rate >= 1, connections >= 1, extraAgents >= 0, agentCapacity >= 1, steady >= 0, settleTimeout >= 0 else {
            throw ValidationError("--rate, --connections and --agent-capacity at least 1; --extra-agents and --steady at least 0")
        }
        guard (1...300).contains(lease), renew >= 0.1, renew < lease else { throw ValidationError("--lease from 1 to 300 s, 0.1 ≤ --renew < --lease (as the daemon accepts them)") }
        guard (0...100).contains(helpLinePercent), (0...100).contains(newCustomerPercent) else { throw ValidationError("percentages from 0 to 100") }
    }

    func run() async throws {
        bootstrapBenchLogging()
        let executable = daemon ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("switchboardd").path
        guard access(executable, X_OK) == 0 else { throw ValidationError("no daemon at \(executable) (build it: swift build -c release --product switchboardd)") }
        let switchboardctl = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("switchboardctl").path
        guard access(switchboardctl, X_OK) == 0 else { throw ValidationError("no switchboardctl at \(switchboardctl) (build it: swift build -c release --product switchboardctl)") }
        let directory = "/tmp/sb-failover-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let began = ContinuousClock.now
        announce("failover: \(executable); \(machineDescription()); working directory \(directory)")
        announce("load: \(rate) webhook messages/s, single-message deliveries, \(format(helpLinePercent, 0)) % to the help line, "
               + "\(format(newCustomerPercent, 0)) % from new customers; the example's agents and \(extraAgents) more of capacity \(agentCapacity) resolving through the API")
        announce("embedded PostgreSQL with benchmark settings: fsync and full_page_writes off (no durability across a power cut, which no part tests);"
                 + " synchronous_commit off in part 1, on in part 2 (the standby is synchronous)")
        announce("")

        var leaderResult: LeaderKills.Result?
        var promotionResult: PromotionRounds.Result?
        var runFailure: String?
        let settings = FailoverSettings(directory: directory, executable: executable, rate: rate, lease: lease, renew: renew, steady: steady, settleTimeout: settleTimeout,
                                        connections: connections, helpLineShare: helpLinePercent / 100, newCustomerShare: newCustomerPercent / 100,
                                        extraAgents: (0..<extraAgents).map { String(format: "agent%02d", $0 + 1) }, agentCapacity: agentCapacity, seed: seed)
        if kills > 0 {
            do {
                leaderResult = try await LeaderKills(settings: settings, kills: kills).run()
            } catch {
                runFailure = "part 1 (leader kills) failed: \(error)"
                announce(runFailure ?? "")
            }
        }
        if promotions > 0 && runFailure == nil {
            do {
                promotionResult = try await PromotionRounds(settings: settings, rounds: promotions).run()
            } catch {
                runFailure = "part 2 (PostgreSQL promotions) failed: \(error)"
                announce(runFailure ?? "")
            }
        }

        announce("")
        announce("==== failover: \(format((ContinuousClock.now - began).seconds / 60, 1)) min in all; \(machineDescription())")
        leaderResult?.print(lease: lease, renew: renew, rate: rate)
        promotionResult?.print(rate: rate)
        let violations = (leaderResult?.violations ?? 0) + (promotionResult?.violations ?? 0)
        // What went wrong stays for a look: the daemons' logs, the databases, the stand-ins' output.
        if !keep && runFailure == nil && violations == 0 { try? FileManager.default.removeItem(atPath: directory) } else { announce("kept \(directory)") }
        if let runFailure {
            announce("RUN FAILED: \(runFailure)")
            throw ExitCode(1)
        }
        if violations > 0 {
            announce("\(violations) count\(violations == 1 ? "" : "s") that must be 0 \(violations == 1 ? "is" : "are") not (see above); the run itself completed")
            throw ExitCode(2)
        }
    }
}

/// What both parts share.
struct FailoverSettings {
    var directory: String
    var executable: String
    var rate: Int
    var lease: Double
    var renew: Double
    var steady: Double
    var settleTimeout: Double
    var connections: Int
    var helpLineShare: Double
    var newCustomerShare: Double
    var extraAgents: [String]
    var agentCapacity: Int
    var seed: UInt64

    func daemonSettings(databaseURL: String, graphPort: Int) -> FailoverDaemon.Settings {
        .init(databaseURL: databaseURL, graphPort: graphPort, leaseSeconds: lease, renewSeconds: renew, extraAgents: extraAgents, extraAgentCapacity: agentCapacity)
    }

    /// Issues an API token for every online agent of the configuration (the example's and the added).
    func issueTokens(through daemon: FailoverDaemon) async throws -> [(agent: String, token: String)] {
        var tokens: [(agent: String, token: String)] = []
        for id in ["ana", "ben"] + extraAgents {
            guard let issued = try await daemon.control(["issue-token", id, "--label", "failover"]) as? [String: Any], let token = issued["token"] as? String else {
                throw FailoverFailure("issue-token \(id) gave no token")
            }
            tokens.append((id, token))
        }
        return tokens
    }

    /// After the load: routing settled (or not, within the bound), the outbox drained, how long
    /// tickets waited to be routed.
    func settleAndDrain(_ connectionString: String) async throws -> Settled {
        let quiet = ContinuousClock.now
        let routing = try await FailoverChecks.settle(connectionString, timeout: .milliseconds(Int64(settleTimeout * 1000)))
        let settledAt = ContinuousClock.now
        let unfinished = try await FailoverChecks.drainOutbox(connectionString)
        let delays = try await FailoverChecks.routingDelays(connectionString)
        announce((routing.settled ? "load stopped; routing settled in \(format((settledAt - quiet).seconds, 1)) s"
                  : "load stopped; ROUTING HAD NOT SETTLED after \(format(settleTimeout, 0)) s: \(routing.unrouted) main-line tickets unrouted, "
                    + "\(delays.relayBacklog) standby activity rows not yet taken by the leader")
                 + "; the outbox " + (unfinished == 0 ? "drained" : "still held \(unfinished) unfinished sends")
                 + " after \(format((ContinuousClock.now - settledAt).seconds, 1)) s more")
        return Settled(settled: routing.settled, unrouted: routing.unrouted, seconds: (settledAt - quiet).seconds, delays: delays)
    }

    struct Settled {
        var settled = true
        var unrouted = 0
        var seconds = 0.0
        var delays = RoutingDelays()

        var line: String {
            (settled ? "routing settled \(format(seconds, 1)) s after the load stopped"
                : "ROUTING HAD NOT SETTLED \(format(seconds, 0)) s after the load stopped: \(unrouted) main-line tickets unrouted, \(delays.relayBacklog) relayed activity rows waiting")
                + "; \(delays.summary)"
        }
    }

    /// Stops making messages, lets the deliveries not yet acknowledged land (retried every second).
    func quiesce(_ load: FailoverLoad) async throws {
        load.setProducing(false)
        let deadline = ContinuousClock.now + .seconds(60)
        while load.retriesPending > 0 {
            if ContinuousClock.now > deadline { throw FailoverFailure("\(load.retriesPending) deliveries still not acknowledged 60 s after the load stopped") }
            try await Task.sleep(for: .milliseconds(100))
        }
        // The last attempts in flight.
        try await Task.sleep(for: .milliseconds(500))
        guard load.retriesPending == 0 else { return try await quiesce(load) }
    }
}

/// The machine, for the figures' context.
func machineDescription() -> String {
    let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
        .first { $0.hasPrefix("model name") }?.split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
    var load = [Double](repeating: 0, count: 3)
    let loads = getloadavg(&load, 3) == 3 ? ", load average \(format(load[0], 2)) at the end" : ""
    return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB\(loads)"
}

/// A line on standard output at once (print's buffer would hold progress back when it is a file).
func announce(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Percentiles of a few durations in seconds, nearest-rank, as "p50 x s, p99 y s, max z s (n)".
struct SecondsSample {
    let values: [Double]

    func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[Swift.max(0, Swift.min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))]
    }

    var max: Double { values.max() ?? .nan }
}

import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard-bench simulate`: the routing simulator's two reference scenarios.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay synthetic traffic through the real routing core and actors on a virtual clock.",
        discussion: """
            erlang: one queue, identical agents, Poisson arrivals, exponential handle times; the mean
            wait is compared with the Erlang C formula for the same λ, μ and servers (agents × capacity).
            mixed: three products × three languages, 24 agents with uneven skills, a daily arrival curve;
            every strategy replays the same trace and is compared with round robin.
            """
    )

    @Option(help: "Which scenario: erlang, mixed or all.") var scenario = "all"
    @Option(help: "Simulated hours of arrivals per replication of the erlang scenario.") var erlangHours = 2500.0
    @Option(help: "Independent replications (seeds) of the erlang scenario, averaged.") var replications = 4
    @Option(help: "Simulated hours of arrivals for the mixed scenario.") var mixedHours = 168.0
    @Option(help: "Random seed (the trace depends only on it).") var seed: UInt64 = 1

    func run() async throws {
        guard ["erlang", "mixed", "all"].contains(scenario) else {
            throw ValidationError("--scenario must be erlang, mixed or all, not \"\(scenario)\"")
        }
        if scenario != "mixed" { await runErlang() }
        if scenario != "erlang" { await runMixed() }
    }

    private func runErlang() async {
        let agents = 10, capacity = 2, handle = 600.0
        let loads = [14.0, 17.0, 18.5]
        print("Scenario 1 — one queue, one skill: \(agents) agents × capacity \(capacity) = \(agents * capacity) servers, mean handle \(Int(handle)) s, \(Int(erlangHours)) h of arrivals")
        print("\(replications) replications of \(Int(erlangHours)) h each (seeds \(seed)…\(seed + UInt64(replications) - 1)); ± is the 95 % interval of the replications' mean")
        var rows = [["offered load", "ρ", "tickets", "mean wait (sim)", "mean wait (Erlang C)", "difference", "≤60 s (sim)", "≤60 s (Erlang C)", "utilization", "sim wall"]]
        for load in loads {
            var means: [Double] = [], attainments: [Double] = [], utilizations: [Double] = []
            var tickets = 0, wall = 0.0, target = 60.0
            for replication in 0..<replications {
                let scenario = SimulationScenarios.erlang(agents: agents, capacity: capacity, handleSeconds: handle, offeredLoad: load, hours: erlangHours,
                                                          seed: seed + UInt64(replication))
                let result = await RoutingSimulator.run(scenario, strategy: .leastLoaded)
                means.append(result.meanWait)
                attainments.append(result.attainment(scenario.slaTarget))
                utilizations.append(result.utilization)
                tickets += result.handled
                wall += result.wallSeconds
                target = scenario.slaTarget
            }
            let servers = agents * capacity
            let lambda = load / handle, mu = 1 / handle
            let expected = ErlangC.meanWait(servers: servers, arrivalRate: lambda, serviceRate: mu)
            let level = ErlangC.serviceLevel(servers: servers, arrivalRate: lambda, serviceRate: mu, target: target)
            let mean = means.reduce(0, +) / Double(means.count)
            let spread = means.count > 1 ? (means.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(means.count - 1)).squareRoot() : 0
            let halfWidth = 1.96 * spread / Double(means.count).squareRoot()
            rows.append([format(load, 1), format(load / Double(servers), 3), "\(tickets)", format(mean, 1) + " ± " + format(halfWidth, 1) + " s", format(expected, 1) + " s",
                         format((mean - expected) / expected * 100, 1) + " %",
                         format(attainments.reduce(0, +) / Double(attainments.count) * 100, 1) + " %", format(level * 100, 1) + " %",
                         format(utilizations.reduce(0, +) / Double(utilizations.count) * 100, 1) + " %", format(wall, 1) + " s"])
        }
        print(table(rows))
        print("")
    }

    private func runMixed() async {
        let scenario = SimulationScenarios.mixed(hours: mixedHours, seed: seed)
        print("Scenario 2 — 3 products × 3 languages, 24 agents × capacity 3, steps relax skills 4 → 2 → anyone at 60 s and 300 s, daily curve, \(Int(mixedHours)) h, \(scenario.arrivals.count) tickets; SLA: assigned within \(Int(scenario.slaTarget)) s")
        var results: [SimulationResult] = []
        for strategy in RoutingStrategy.allCases { results.append(await RoutingSimulator.run(scenario, strategy: strategy)) }
        let roundRobin = results.first { $0.strategy == .roundRobin }?.attainment(scenario.slaTarget) ?? .nan
        var rows = [["strategy", "tickets", "mean wait", "p90 wait", "SLA attainment", "vs round robin", "utilization", "skill match", "sim wall"]]
        for result in results {
            let attainment = result.attainment(scenario.slaTarget)
            rows.append([result.strategy.rawValue, "\(result.handled)", format(result.meanWait, 1) + " s", format(result.percentile(90), 1) + " s",
                         format(attainment * 100, 1) + " %", (attainment - roundRobin >= 0 ? "+" : "") + format((attainment - roundRobin) * 100, 1) + " pt",
                         format(result.utilization * 100, 1) + " %", format(result.skillMatchRate * 100, 1) + " %", format(result.wallSeconds, 1) + " s"])
        }
        print(table(rows))
    }
}

import ArgumentParser
import Foundation
import RoutingSimulation
import SwitchboardCore

/// `switchboard-bench simulate`: the routing simulator's two reference scenarios, or a recorded trace.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay synthetic traffic or a recorded trace through the real routing core and actors on a virtual clock.",
        discussion: """
            erlang: one queue, identical agents, Poisson arrivals, exponential handle times; the mean
            wait is compared with the Erlang C formula for the same λ, μ and servers (agents × capacity).
            mixed: three products × three languages, 24 agents with uneven skills, a daily arrival curve;
            every strategy replays the same trace and is compared with round robin.
            --trace FILE: a recorded trace (arrivals CSV, with --types and --shifts or --agents; the
            formats are in docs/simulation.md), replayed with every strategy, figures per type.
            """
    )

    @Option(help: "Which scenario: erlang, mixed or all.") var scenario = "all"
    @Option(help: "Simulated hours of arrivals per replication of the erlang scenario.") var erlangHours = 2500.0
    @Option(help: "Independent replications (seeds) of the erlang scenario, averaged.") var replications = 4
    @Option(help: "Simulated hours of arrivals for the mixed scenario.") var mixedHours = 168.0
    @Option(help: "Random seed (the trace depends only on it).") var seed: UInt64 = 1

    @Option(help: "Replay this arrivals CSV (arrival, handle_seconds, type[, priority, patience_seconds]) instead of a scenario.")
    var trace: String?
    @Option(help: "Types CSV (type, skills[, queue]); default: a queue and a skill named like each type.") var types: String?
    @Option(help: "Shifts CSV (start, skills, agents): agents of each skill group on shift per slot.") var shifts: String?
    @Option(help: "Without --shifts: this many agents for each skill set the types need, on shift all the time.") var agents: Int?
    @Option(help: "Tickets an agent holds at once (default 1, right for a voice log; for chat, the desk's own limit).") var capacity: Int?
    @Option(help: "Seconds within which a ticket counts as answered in time (default 60).") var target: Double?
    @Option(help: "Minutes one row of the shifts file staffs (default 30).") var slotMinutes: Double?

    func validate() throws {
        if trace == nil {
            let traceOnly = [("types", types != nil), ("shifts", shifts != nil), ("agents", agents != nil), ("capacity", capacity != nil),
                             ("target", target != nil), ("slot-minutes", slotMinutes != nil)]
            for (name, given) in traceOnly where given { throw ValidationError("--\(name) goes with --trace") }
            return
        }
        guard (shifts == nil) != (agents == nil) else { throw ValidationError("with --trace, say who answers: --shifts FILE or --agents N (not both)") }
        if let agents, agents < 1 { throw ValidationError("--agents must be at least 1") }
        if let capacity, capacity < 1 { throw ValidationError("--capacity must be at least 1") }
        if let target, !(target >= 0 && target.isFinite) { throw ValidationError("--target must be 0 or more seconds") }
        if let slotMinutes, !(slotMinutes > 0 && slotMinutes.isFinite) { throw ValidationError("--slot-minutes must be more than 0") }
        if slotMinutes != nil && shifts == nil { throw ValidationError("--slot-minutes goes with --shifts") }
    }

    func run() async throws {
        if let trace {
            try await runTrace(trace)
            return
        }
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

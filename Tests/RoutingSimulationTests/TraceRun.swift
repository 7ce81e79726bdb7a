import Foundation
import RoutingSimulation
import SwitchboardCore

/// Runs a trace the way `switchboard-bench simulate --trace` does, from fixture files or inline text.
enum TraceRun {
    static func fixture(_ name: String) -> String {
        Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures") ?? "Fixtures/\(name) (missing)"
    }

    static func table(_ text: String, _ file: String) throws(TraceError) -> CSVTable { try CSVTable(text: text, file: file) }

    static func scenario(arrivals: CSVTable, types: CSVTable? = nil, shifts: CSVTable? = nil, agents: Int = 1, capacity: Int = 1,
                         target: Double = 60) throws(TraceError) -> TraceScenario {
        let typeMap = if let types { try TraceTypes(table: types) } else { TraceTypes.byName }
        let staffing: TraceStaffing = if let shifts { .shifts(try ShiftSchedule(table: shifts)) } else { .constant(agentsPerGroup: agents) }
        return try TraceScenario(arrivals: try TraceArrivals(table: arrivals), types: typeMap, staffing: staffing, capacity: capacity, target: target)
    }

    /// Every strategy, as the command reports them.
    static func report(_ built: TraceScenario, target: Double = 60) async -> TraceReport {
        var results: [SimulationResult] = []
        for strategy in RoutingStrategy.allCases { results.append(await RoutingSimulator.run(built.scenario, strategy: strategy)) }
        return TraceReport(results: results, target: target, showsAbandonment: built.hasPatience)
    }

    static func files(arrivals: String, types: String? = nil, shifts: String? = nil, agents: Int = 1) async throws -> TraceReport {
        let built = try scenario(arrivals: CSVTable(contentsOf: fixture(arrivals)), types: types.map { try CSVTable(contentsOf: fixture($0)) },
                                 shifts: shifts.map { try CSVTable(contentsOf: fixture($0)) }, agents: agents)
        return await report(built)
    }
}

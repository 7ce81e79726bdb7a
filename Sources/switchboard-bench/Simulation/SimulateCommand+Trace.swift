import Foundation
import RoutingSimulation
import SwitchboardCore

extension SimulateCommand {
    /// Reads the trace's files (a problem ends the command with the file, line and column), replays
    /// it with every strategy and prints the figures per type.
    func runTrace(_ path: String) async throws {
        let capacity = capacity ?? 1, target = target ?? 60
        let arrivals = try TraceArrivals(table: CSVTable(contentsOf: path))
        let typeMap = if let types { try TraceTypes(table: CSVTable(contentsOf: types)) } else { TraceTypes.byName }
        let staffing: TraceStaffing
        if let shifts {
            staffing = .shifts(try ShiftSchedule(table: CSVTable(contentsOf: shifts), slotSeconds: (slotMinutes ?? 30) * 60))
        } else {
            staffing = .constant(agentsPerGroup: agents ?? 1)
        }
        let built = try TraceScenario(arrivals: arrivals, types: typeMap, staffing: staffing, capacity: capacity, target: target)
        let contacts = built.scenario.arrivals
        let hours = ((contacts.last?.at ?? 0) - (contacts.first?.at ?? 0)) / 3600
        let typeCount = Set(contacts.map(\.type)).count
        let who = shifts.map { "on shift as \($0) says" } ?? "on shift all the time"
        print("Trace \(path): \(count(contacts.count, "contact")) over \(format(hours, 1)) h, \(count(typeCount, "type"))")
        print("Agents: \(built.agentCount) in \(count(built.groupCount, "skill group")), \(who), capacity \(capacity); "
              + "in time: answered within \(TraceReport.seconds(target))")
        for note in built.notes { print("note: \(note)") }
        var results: [SimulationResult] = []
        var wall = 0.0
        for strategy in RoutingStrategy.allCases {
            let result = await RoutingSimulator.run(built.scenario, strategy: strategy)
            wall += result.wallSeconds
            results.append(result)
        }
        let report = TraceReport(results: results, target: target, showsAbandonment: built.hasPatience)
        print(report.rendered())
        print("(\(RoutingStrategy.allCases.count) replays in \(format(wall, 1)) s)")
    }

    private func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}

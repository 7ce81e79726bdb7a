import Foundation
import SwitchboardCore

/// Per type and for every type together, each strategy beside the others: how long the answered
/// waited, the share answered within the target, and how many gave up.
///
/// The share within the target counts every ticket offered, so a strategy cannot look better by
/// letting customers give up: answered within the target ÷ offered.
public struct TraceReport: Sendable {
    public struct Row: Sendable, Equatable {
        /// A trace type, or `all`.
        public var type: String
        public var strategy: RoutingStrategy
        public var tickets: Int
        public var answered: Int
        /// Of the answered, in seconds (NaN when none was).
        public var meanWait: Double
        public var p90Wait: Double
        /// Answered within the target, as a share of `tickets`.
        public var withinTarget: Double
        /// `withinTarget` minus round robin's, in percentage points.
        public var versusRoundRobin: Double
        public var abandoned: Double
        public var unanswered: Int
    }

    public static let totalLabel = "all"

    public let target: Double
    public let showsAbandonment: Bool
    /// Types by volume (then name), then `all`; strategies in `RoutingStrategy.allCases` order.
    public let rows: [Row]

    public init(results: [SimulationResult], target: Double, showsAbandonment: Bool) {
        self.target = target
        self.showsAbandonment = showsAbandonment
        var offered: [String: Int] = [:]
        for result in results { for (type, figures) in result.byType { offered[type] = max(offered[type] ?? 0, figures.offered) } }
        let types = offered.keys.sorted { (offered[$0] ?? 0, $1) > (offered[$1] ?? 0, $0) }
        let ordered = RoutingStrategy.allCases.compactMap { strategy in results.first { $0.strategy == strategy } }
        var rows: [Row] = []
        for type in types + [TraceReport.totalLabel] {
            let figures = ordered.map { type == TraceReport.totalLabel ? $0.total : $0.byType[type] ?? TypeFigures() }
            let share = { (figures: TypeFigures) in WaitStatistics.share(of: figures.waits, within: target, among: figures.offered) }
            let roundRobin = zip(ordered, figures).first { $0.0.strategy == .roundRobin }.map { share($0.1) } ?? .nan
            for (result, figures) in zip(ordered, figures) {
                rows.append(Row(type: type, strategy: result.strategy, tickets: figures.offered, answered: figures.answered,
                                meanWait: WaitStatistics.mean(figures.waits), p90Wait: WaitStatistics.percentile(90, of: figures.waits),
                                withinTarget: share(figures), versusRoundRobin: (share(figures) - roundRobin) * 100,
                                abandoned: figures.offered > 0 ? Double(figures.abandoned) / Double(figures.offered) : .nan,
                                unanswered: figures.unanswered))
            }
        }
        self.rows = rows
    }

    public func row(_ type: String, _ strategy: RoutingStrategy) -> Row? { rows.first { $0.type == type && $0.strategy == strategy } }

    /// The table as the command prints it.
    public func rendered() -> String {
        let neverAnswered = rows.contains { $0.unanswered > 0 }
        var header = ["type", "strategy", "tickets", "mean wait", "p90 wait", "≤ " + TraceReport.seconds(target), "vs round robin"]
        if showsAbandonment { header.append("abandoned") }
        if neverAnswered { header.append("never answered") }
        var lines = [header]
        for (index, row) in rows.enumerated() {
            let firstOfType = index == 0 || rows[index - 1].type != row.type
            var cells = [firstOfType ? row.type : "", row.strategy.rawValue, "\(row.tickets)", TraceReport.wait(row.meanWait), TraceReport.wait(row.p90Wait),
                         TraceReport.percent(row.withinTarget),
                         row.strategy == .roundRobin ? "—" : row.versusRoundRobin.isNaN ? "—" : (row.versusRoundRobin >= 0 ? "+" : "−") + TraceReport.number(abs(row.versusRoundRobin), 1) + " pt"]
            if showsAbandonment { cells.append(TraceReport.percent(row.abandoned)) }
            if neverAnswered { cells.append("\(row.unanswered)") }
            lines.append(cells)
        }
        return TextTable.render(lines, leftAligned: 2)
    }

    static func number(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    /// A target as the user gave it: `60 s`, `7.5 s`.
    public static func seconds(_ value: Double) -> String { (value.rounded() == value ? number(value, 0) : number(value, 1)) + " s" }
    static func wait(_ value: Double) -> String { value.isNaN ? "—" : number(value, 1) + " s" }
    static func percent(_ value: Double) -> String { value.isNaN ? "—" : number(value * 100, 1) + " %" }
}

/// Pads cells into aligned columns for a terminal: the first `leftAligned` columns to the left, the
/// figures to the right.
enum TextTable {
    static func render(_ rows: [[String]], leftAligned: Int) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                let padding = String(repeating: " ", count: widths[i] - cell.count)
                return i < leftAligned ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }.map { line in String(line.reversed().drop { $0 == " " }.reversed()) }.joined(separator: "\n")
    }
}

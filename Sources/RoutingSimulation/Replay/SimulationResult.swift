import SwitchboardCore

/// What happened to the measured tickets of one type.
public struct TypeFigures: Sendable, Equatable {
    /// Tickets that arrived (after the warm-up).
    public var offered = 0
    /// Seconds from arrival to committed assignment, one per answered ticket.
    public var waits: [Double] = []
    /// Tickets whose customer gave up before an agent was assigned.
    public var abandoned = 0

    public init() {}

    public var answered: Int { waits.count }
    /// Neither answered nor abandoned: no agent who could take them was ever free again.
    public var unanswered: Int { offered - answered - abandoned }
}

/// The figures of one run.
public struct SimulationResult: Sendable {
    public var strategy: RoutingStrategy
    public var byType: [String: TypeFigures] = [:]
    /// Tickets whose agent met every skill of their rule at the rule's level.
    public var skillMatched = 0
    public var busySeconds = 0.0
    public var slotSeconds = 0.0
    public var wallSeconds = 0.0
    public var events = 0

    public init(strategy: RoutingStrategy) {
        self.strategy = strategy
    }

    /// Every type together.
    public var total: TypeFigures {
        byType.keys.sorted().reduce(into: TypeFigures()) { total, type in
            let figures = byType[type] ?? TypeFigures()
            total.offered += figures.offered
            total.waits += figures.waits
            total.abandoned += figures.abandoned
        }
    }

    public var waits: [Double] { total.waits }
    public var handled: Int { byType.values.reduce(0) { $0 + $1.answered } }
    public var meanWait: Double { WaitStatistics.mean(waits) }
    public func percentile(_ p: Double) -> Double { WaitStatistics.percentile(p, of: waits) }
    /// The share of answered tickets assigned within `target` (the synthetic scenarios have no abandonment).
    public func attainment(_ target: Double) -> Double { WaitStatistics.share(of: waits, within: target, among: waits.count) }
    public var utilization: Double { slotSeconds > 0 ? busySeconds / slotSeconds : .nan }
    public var skillMatchRate: Double { handled > 0 ? Double(skillMatched) / Double(handled) : .nan }
}

/// Mean, nearest-rank percentile and share within a target, NaN when there is nothing to measure.
public enum WaitStatistics {
    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }

    /// The p-th percentile (0–100), nearest rank: the smallest value with at least p % at or below it.
    public static func percentile(_ p: Double, of values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))]
    }

    /// How many of `values` are at most `target`, as a share of `count`.
    public static func share(of values: [Double], within target: Double, among count: Int) -> Double {
        count > 0 ? Double(values.filter { $0 <= target }.count) / Double(count) : .nan
    }
}

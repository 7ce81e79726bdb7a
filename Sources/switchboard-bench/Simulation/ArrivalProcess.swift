import Foundation
import RoutingSimulation
import SwitchboardCore

/// Poisson arrivals whose rate follows a daily curve, by thinning.
struct ArrivalProcess {
    /// Arrivals per hour at the curve's peak.
    var peakPerHour: Double
    /// 24 factors (0…1) of the peak rate, one per hour of the day; all 1 for a stationary process.
    var dailyCurve: [Double]

    static let flat = [Double](repeating: 1, count: 24)
    /// A support desk's day: quiet at night, a morning ramp, a lunch dip, an afternoon peak.
    static let supportDay: [Double] = [0.15, 0.1, 0.08, 0.08, 0.1, 0.15, 0.3, 0.55, 0.8, 0.95, 1.0, 0.95,
                                       0.8, 0.85, 0.95, 1.0, 0.95, 0.85, 0.7, 0.55, 0.45, 0.35, 0.25, 0.2]

    /// Arrival times in seconds over `hours`, each classified by `rules` from the facts `facts` draws;
    /// `work` is exponential with mean 1: the agent's speed scales it into a handle time, so every
    /// strategy replays the same trace with the same work.
    func generate(hours: Double, rules: [RoutingRule], random: inout SeededRandom, facts: (inout SeededRandom) -> TicketFacts) -> [SimulatedArrival] {
        let peak = peakPerHour / 3600
        var arrivals: [SimulatedArrival] = []
        var t = 0.0
        let end = hours * 3600
        while true {
            t += exponential(mean: 1 / peak, &random)
            guard t < end else { break }
            let hour = Int(t / 3600) % 24
            guard Double.random(in: 0..<1, using: &random) < dailyCurve[hour] else { continue }
            let drawn = facts(&random)
            let work = exponential(mean: 1, &random)
            guard let match = RoutingRules.classify(drawn, rules: rules) else { continue }
            arrivals.append(SimulatedArrival(id: Int64(arrivals.count + 1), at: t, type: match.actions.queue, queue: match.actions.queue,
                                             priority: match.actions.priority, requirements: match.actions.requiredSkills, work: work))
        }
        return arrivals
    }
}

func exponential(mean: Double, _ random: inout SeededRandom) -> Double {
    -mean * log(1 - Double.random(in: 0..<1, using: &random))
}

import Foundation
import SwitchboardCore

/// One simulated ticket as it arrives: when, what classification sees, and how much work it is.
struct SimulatedArrival: Sendable {
    var id: Int64
    /// Seconds from the start of the simulation.
    var at: Double
    var facts: TicketFacts
    /// Exponential with mean 1: the agent's speed scales it into a handle time, so every strategy
    /// replays the same trace with the same work.
    var work: Double
}

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

    /// Arrival times in seconds over `hours`, with facts from `facts`.
    func generate(hours: Double, random: inout SeededRandom, facts: (inout SeededRandom) -> TicketFacts) -> [SimulatedArrival] {
        let peak = peakPerHour / 3600
        var arrivals: [SimulatedArrival] = []
        var t = 0.0
        let end = hours * 3600
        while true {
            t += exponential(mean: 1 / peak, &random)
            guard t < end else { break }
            let hour = Int(t / 3600) % 24
            guard Double.random(in: 0..<1, using: &random) < dailyCurve[hour] else { continue }
            arrivals.append(SimulatedArrival(id: Int64(arrivals.count + 1), at: t, facts: facts(&random), work: exponential(mean: 1, &random)))
        }
        return arrivals
    }
}

func exponential(mean: Double, _ random: inout SeededRandom) -> Double {
    -mean * log(1 - Double.random(in: 0..<1, using: &random))
}

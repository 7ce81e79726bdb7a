import Foundation

/// The M/M/c queue's closed forms: the reference the one-queue simulation is checked against.
enum ErlangC {
    /// The probability that an arrival waits, for `servers` servers and offered load `a = λ/μ`.
    /// Erlang B by its stable recurrence, then C = B / (1 − ρ(1 − B)).
    static func probabilityOfWaiting(servers: Int, offeredLoad a: Double) -> Double {
        precondition(a < Double(servers), "a stable queue has ρ < 1")
        var b = 1.0
        for k in 1...servers { b = a * b / (Double(k) + a * b) }
        let rho = a / Double(servers)
        return b / (1 - rho * (1 - b))
    }

    /// Mean wait in queue, Wq = C / (cμ − λ), in the unit of `1/serviceRate`.
    static func meanWait(servers: Int, arrivalRate lambda: Double, serviceRate mu: Double) -> Double {
        let c = probabilityOfWaiting(servers: servers, offeredLoad: lambda / mu)
        return c / (Double(servers) * mu - lambda)
    }

    /// P(wait ≤ t) = 1 − C·e^{−(cμ − λ)t}.
    static func serviceLevel(servers: Int, arrivalRate lambda: Double, serviceRate mu: Double, target t: Double) -> Double {
        let c = probabilityOfWaiting(servers: servers, offeredLoad: lambda / mu)
        return 1 - c * exp(-(Double(servers) * mu - lambda) * t)
    }
}

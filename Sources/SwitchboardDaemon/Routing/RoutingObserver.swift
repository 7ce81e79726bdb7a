/// Told when tickets reach routing and when their assignments are committed, with the monotonic
/// time: for latency metrics and the routing benchmark. Must return quickly.
public protocol RoutingObserver: Sendable {
    func ticketsArrived(_ ticketIDs: [Int64], at instant: ContinuousClock.Instant)
    func ticketsAssigned(_ ticketIDs: [Int64], at instant: ContinuousClock.Instant)
}

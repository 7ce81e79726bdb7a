/// Told when tickets reach routing, when they wait in their queues and when their assignments are
/// committed, with the monotonic time: for latency metrics and the routing benchmark. Must return
/// quickly.
public protocol RoutingObserver: Sendable {
    func ticketsArrived(_ ticketIDs: [Int64], at instant: ContinuousClock.Instant)
    /// Classified, recorded and handed to their queues: what comes before is reading and recording
    /// the classification, what comes after is the queue's decision and the assignment's commit.
    func ticketsQueued(_ ticketIDs: [Int64], at instant: ContinuousClock.Instant)
    func ticketsAssigned(_ ticketIDs: [Int64], at instant: ContinuousClock.Instant)
}

extension RoutingObserver {
    public func ticketsQueued(_ ticketIDs: [Int64], at instant: ContinuousClock.Instant) {}
}

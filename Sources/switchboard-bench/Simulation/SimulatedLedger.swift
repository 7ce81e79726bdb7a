import RoutingSimulation

/// The routing latency benchmark commits to the simulator's in-memory ledger too (it measures the
/// queue's round, not storage); named here so that file needs no import of its own.
typealias SimulatedLedger = RoutingSimulation.SimulatedLedger

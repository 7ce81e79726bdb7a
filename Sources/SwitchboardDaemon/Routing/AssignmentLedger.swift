import Foundation
import SwitchboardStore

/// Where a queue commits its assignments before anyone is told. The daemon's is PostgreSQL
/// (`RoutingStore`); the simulator keeps its own in memory, since it measures routing, not storage.
public protocol AssignmentLedger: Sendable {
    /// Commits what it can; returns the tickets assigned. The others no longer need an agent.
    /// Throws when nothing could be stored (the database is down).
    func commit(_ records: [AssignmentRecord], now: Date) async throws -> Set<Int64>
}

extension RoutingStore: AssignmentLedger {
    public func commit(_ records: [AssignmentRecord], now: Date) async throws -> Set<Int64> {
        try await commitAssignments(records, now: now)
    }
}

import Foundation
import SwitchboardCore
import SwitchboardStore

/// Where a queue commits its assignments before anyone is told. The daemon's is PostgreSQL
/// (`RoutingStore`); the simulator keeps its own in memory, since it measures routing, not storage.
public protocol AssignmentLedger: Sendable {
    /// Commits what it can; returns the tickets assigned, with their status (a pending ticket can be
    /// assigned too). The others no longer need an agent. Throws when nothing could be stored.
    func commit(_ records: [AssignmentRecord], now: Date) async throws -> [Int64: TicketStatus]
}

extension RoutingStore: AssignmentLedger {
    public func commit(_ records: [AssignmentRecord], now: Date) async throws -> [Int64: TicketStatus] {
        try await commitAssignments(records, now: now)
    }
}

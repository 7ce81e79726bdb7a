import Foundation
import Postgres
import SwitchboardCore

/// Reading every open ticket's SLA at start without holding them all as text: a cursor hands them
/// over in chunks, each decoded while the server reads the next one.
extension SLAStore {
    /// The SLAs of tickets that are not resolved, with their clocks (what `load()` returns), to
    /// `body` in chunks of about `chunkSize` clock rows, in ascending ticket order; a ticket's clocks
    /// are never split between chunks. One snapshot (the cursor's) covers them all.
    public func streamOpen(chunkSize: Int = 20_000, _ body: @Sendable ([StoredSLA]) async throws -> Void) async throws {
        precondition(chunkSize >= 1, "a chunk holds at least one row")
        try await pool.withTransaction { transaction in
            _ = try await transaction.pipeline([
                LocalSettings.wholeResultCursor,
                PostgresStatement(Self.openCursorSQL),
            ])
            let fetch = "FETCH \(chunkSize) FROM rebuild_slas"
            // The last ticket of a chunk may have more clocks in the next one: it waits for them.
            var carried: StoredSLA?
            var rows = try await transaction.query(fetch, decoding: StoredSLARow.init)
            while !rows.isEmpty {
                async let next = transaction.query(fetch, decoding: StoredSLARow.init)
                var chunk: [StoredSLA] = []
                if let carried { chunk.append(carried) }
                Self.append(rows, to: &chunk)
                carried = chunk.popLast()
                if !chunk.isEmpty { try await body(chunk) }
                rows = try await next
            }
            if let carried { try await body([carried]) }
        }
    }

    /// Every policy version's stored text by id (a few: one per distinct text a policy ever had):
    /// the rebuild has them all before it streams, so reading a chunk never waits for another query;
    /// it decodes those its tickets run under (`SLAPolicy.decode(canonicalJSON:)`).
    public func policySpecs() async throws -> [Int64: String] {
        var specs: [Int64: String] = [:]
        for row in try await pool.query("SELECT id, spec::text FROM switchboard.sla_policies") {
            specs[try row.decode(0, as: Int64.self)] = try row.decode(1, as: String.self)
        }
        return specs
    }

    static let openCursorSQL = """
        DECLARE rebuild_slas NO SCROLL CURSOR FOR
        SELECT s.ticket_id, s.policy_id, s.awaiting_customer, s.pending, k.clock, k.target_seconds, k.started_at,
               k.accumulated_seconds, k.running_since, k.warned_at IS NOT NULL, k.breached_at IS NOT NULL
        FROM switchboard.ticket_slas s
        JOIN switchboard.tickets t ON t.id = s.ticket_id
        LEFT JOIN switchboard.sla_clocks k ON k.ticket_id = s.ticket_id
        WHERE t.status <> 'resolved'
        ORDER BY s.ticket_id
        """

    /// Rows of `load`'s shape (ordered by ticket) added to `loaded`, a ticket's clocks to its entry.
    static func append(_ rows: [StoredSLARow], to loaded: inout [StoredSLA]) {
        for row in rows {
            if loaded.last?.ticketID != row.ticketID {
                loaded.append(StoredSLA(ticketID: row.ticketID, policyID: row.policyID,
                                        snapshot: .init(clocks: [], awaitingCustomer: row.awaitingCustomer, pending: row.pending)))
            }
            if let clock = row.clock { loaded[loaded.count - 1].snapshot.clocks.append(clock) }
        }
    }
}

/// One row of the SLA rebuild's read (a ticket's SLA with one of its clocks, or none), read in place
/// on the connection's loop as `load` decodes it.
struct StoredSLARow: Sendable {
    var ticketID: Int64, policyID: Int64, awaitingCustomer: Bool, pending: Bool
    var clock: SLAStateMachine.Clock?

    init(_ cells: PostgresCells) throws {
        func required<T>(_ value: T?, _ column: String) throws -> T {
            guard let value else { throw PostgresError.decoding(column: column, expected: "\(T.self)", reason: "unexpected NULL") }
            return value
        }
        ticketID = try required(try cells.int64(0), "ticket_id")
        policyID = try required(try cells.int64(1), "policy_id")
        awaitingCustomer = try required(try cells.bool(2), "awaiting_customer")
        pending = try required(try cells.bool(3), "pending")
        guard let name = cells.string(4), let kind = SLAClockKind(rawValue: name) else {
            clock = nil
            return
        }
        clock = SLAStateMachine.Clock(kind: kind, target: try required(try cells.double(5), "target_seconds"), startedAt: try required(try cells.date(6), "started_at"),
                                      accumulated: try required(try cells.double(7), "accumulated_seconds"), runningSince: try cells.date(8),
                                      warned: try required(try cells.bool(9), "warned"), breached: try required(try cells.bool(10), "breached"))
    }
}

import Foundation
import Postgres
import SwitchboardCore

/// Accepting an assignment: the agent's word that they have the ticket, which stops the queue's
/// acceptance timeout (`acceptanceMissed` looks for the `accepted` event written here). A store
/// statement rather than a routing action: nothing in the agents' or queues' memory changes.
extension RoutingStore {
    public enum AcceptOutcome: Sendable, Equatable {
        /// Written now.
        case accepted(at: Date)
        /// This assignment was accepted before (a retried request): nothing written.
        case alreadyAccepted(at: Date)
        /// Nobody holds the ticket.
        case notAssigned
        /// Another agent holds it.
        case assignedToOther
        case resolved
        case noSuchTicket
    }

    /// Records that `agentID` accepts the ticket they hold, once per assignment, with an `accepted`
    /// event (`agent`, `assigned_at`, `seconds_after_assignment`). The event is never dated before
    /// the assignment it accepts, so a caller whose clock lags the router's still stops the timeout.
    public func accept(_ ticketID: Int64, agentID: String, actor: String, now: Date) async throws -> AcceptOutcome {
        let rows = try await pool.query("""
            WITH t AS (SELECT id, assignee, status, assigned_at FROM switchboard.tickets WHERE id = $1 FOR UPDATE),
            prior AS (SELECT min(e.at) AS at FROM switchboard.ticket_events e, t
                      WHERE e.ticket_id = t.id AND e.kind = $4 AND e.at >= t.assigned_at AND e.data->>'agent' = t.assignee),
            e AS (INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                  SELECT t.id, greatest($3::timestamptz, t.assigned_at), $4, $5,
                         jsonb_build_object('agent', t.assignee, 'assigned_at', t.assigned_at,
                                            'seconds_after_assignment', round(extract(epoch FROM greatest($3::timestamptz, t.assigned_at) - t.assigned_at)::numeric, 3))
                  FROM t, prior
                  WHERE t.assignee = $2 AND t.status <> 'resolved' AND t.assigned_at IS NOT NULL AND prior.at IS NULL
                  RETURNING at)
            SELECT t.assignee, t.status, prior.at, (SELECT at FROM e) FROM t, prior
            """, [ticketID, agentID, now, TicketEventKind.accepted.rawValue, actor])
        guard let row = rows.first else { return .noSuchTicket }
        let assignee: String? = try row.decode(0)
        if try row.decode(1, as: String.self) == TicketStatus.resolved.rawValue { return .resolved }
        guard let assignee else { return .notAssigned }
        guard assignee == agentID else { return .assignedToOther }
        if let written = try row.decode(3, as: Date?.self) { return .accepted(at: written) }
        if let before = try row.decode(2, as: Date?.self) { return .alreadyAccepted(at: before) }
        // Held by this agent but with no assignment time (not expected): nothing to accept.
        return .notAssigned
    }
}

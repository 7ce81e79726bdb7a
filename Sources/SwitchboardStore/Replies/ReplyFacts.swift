import Foundation
import Postgres
import SwitchboardCore

/// What filling in a reply's variables takes from its ticket, read when it is sent.
public struct ReplyFacts: Sendable, Equatable {
    public var ticketID: Int64
    public var reference: String
    public var queue: String?
    public var assignee: String?
    public var customerID: Int64
    /// The customer's WhatsApp profile name as it is now (nil: they have none).
    public var customerName: String?
}

extension ControlStore {
    public var cannedResponses: CannedResponseStore { CannedResponseStore(pool: pool) }
    public var customerTags: CustomerTagStore { CustomerTagStore(pool: pool) }

    /// The ticket's facts for a reply's variables; nil: no such ticket.
    public func replyFacts(ticketID: Int64) async throws -> ReplyFacts? {
        let rows = try await pool.query("""
            SELECT t.reference, t.queue, t.assignee, t.customer_id, c.profile_name
            FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id WHERE t.id = $1
            """, [ticketID])
        guard let row = rows.first else { return nil }
        return ReplyFacts(ticketID: ticketID, reference: try row.decode(0), queue: try row.decode(1), assignee: try row.decode(2),
                          customerID: try row.decode(3), customerName: try row.decode(4))
    }
}

import Foundation
import Postgres

/// What read receipts and typing indicators need of a ticket: its customer's last message (Meta
/// marks it and those before it read) and whether that was done.
public struct ReadReceiptStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public struct LastInbound: Sendable, Equatable {
        public var messageID: Int64
        public var wamid: String
        public var readReceiptSentAt: Date?
        public var businessNumber: String
        public var customerWindowExpiresAt: Date?
    }

    /// The ticket's last message from the customer (not an echo, not ours); nil when there is none.
    public func lastInbound(ofTicket ticketID: Int64) async throws -> LastInbound? {
        guard let row = try await pool.query("""
            SELECT m.id, m.wamid, m.read_receipt_sent_at, t.business_number, t.customer_window_expires_at
            FROM switchboard.tickets t
            CROSS JOIN LATERAL (SELECT id, wamid, read_receipt_sent_at FROM switchboard.messages
                                WHERE ticket_id = t.id AND direction = 'inbound' ORDER BY id DESC LIMIT 1) AS m
            WHERE t.id = $1
            """, [ticketID]).first else { return nil }
        return LastInbound(messageID: try row.decode(0), wamid: try row.decode(1), readReceiptSentAt: try row.decode(2),
                           businessNumber: try row.decode(3), customerWindowExpiresAt: try row.decode(4))
    }

    /// Meta took the read receipt for this message (and so for those before it).
    public func markReadReceiptSent(_ messageID: Int64, ticketID: Int64, at: Date) async throws {
        try await pool.query("""
            UPDATE switchboard.messages SET read_receipt_sent_at = $3
            WHERE ticket_id = $2 AND direction = 'inbound' AND id <= $1 AND read_receipt_sent_at IS NULL
            """, [messageID, ticketID, at])
    }
}

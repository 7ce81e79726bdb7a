import Foundation
import Postgres
import SwitchboardCore

/// Customers' tags (`switchboard.customers.tags`), which routing rules' `customerTags` condition
/// reads when the customer's next ticket is classified. Set through the agents' API, the control
/// socket and the triage menu; every change is a ticket event (`customer_tagged`,
/// `customer_untagged`) written in the same transaction.
public struct CustomerTagStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// What a change did.
    public struct Change: Sendable, Equatable {
        public var customerID: Int64
        /// The ticket the events were written on.
        public var ticketID: Int64
        /// Tags that were not there before, in the order given.
        public var added: [String]
        /// Tags that were there and are gone.
        public var removed: [String]
        /// The customer's tags now.
        public var tags: [String]

        public var changed: Bool { !added.isEmpty || !removed.isEmpty }
    }

    /// A tag `TagRule` refuses; nothing was changed.
    public struct InvalidTag: Error, Sendable, Equatable, CustomStringConvertible {
        public var tag: String
        public var reason: String
        public var description: String { "tag \"\(tag)\": \(reason)" }
    }

    /// The customer of a ticket (nil: no such ticket).
    public func customer(ofTicket ticketID: Int64) async throws -> Int64? {
        try await pool.query("SELECT customer_id FROM switchboard.tickets WHERE id = $1", [ticketID]).first?.decode(0, as: Int64.self)
    }

    /// A customer by WhatsApp number, with their latest ticket (where a change made without a
    /// ticket is recorded); nil: no such customer, or one without a ticket.
    public func customer(waID: String) async throws -> (customerID: Int64, latestTicket: Int64)? {
        let rows = try await pool.query("""
            SELECT c.id, t.id FROM switchboard.customers c
            JOIN LATERAL (SELECT id FROM switchboard.tickets WHERE customer_id = c.id ORDER BY id DESC LIMIT 1) t ON true
            WHERE c.wa_id = $1
            """, [waID])
        guard let row = rows.first else { return nil }
        return (try row.decode(0), try row.decode(1))
    }

    /// Adds `adding` and removes `removing` (a tag in both is added), in one transaction.
    public func change(customerID: Int64, adding: [String], removing: [String] = [], onTicket ticketID: Int64?, actor: String, reason: String,
                       now: Date) async throws -> Change? {
        try await pool.withTransaction { transaction in
            try await Self.change(customerID: customerID, adding: adding, removing: removing, onTicket: ticketID, actor: actor, reason: reason,
                                  now: now, in: transaction)
        }
    }

    /// Adds tags to a customer: the triage menu's call, inside its own transaction.
    public static func addCustomerTags(customerID: Int64, tags: [String], onTicket ticketID: Int64?, actor: String, reason: String, now: Date,
                                       in transaction: PostgresTransaction) async throws -> Change? {
        try await change(customerID: customerID, adding: tags, removing: [], onTicket: ticketID, actor: actor, reason: reason, now: now, in: transaction)
    }

    /// The change inside the caller's transaction: the customer's row is locked, the new tags and a
    /// `customer_tagged` / `customer_untagged` event per tag that changed are written on
    /// `ticketID` (the customer's latest ticket when nil), whose `updated_at` moves so lists show
    /// it. Nil: no such customer, or `ticketID` is not theirs. Throws `InvalidTag` before writing.
    public static func change(customerID: Int64, adding: [String], removing: [String], onTicket ticketID: Int64?, actor: String, reason: String,
                              now: Date, in transaction: PostgresTransaction) async throws -> Change? {
        for tag in adding + removing {
            if let problem = TagRule.problem(tag) { throw InvalidTag(tag: tag, reason: problem) }
        }
        let rows = try await transaction.query("""
            SELECT c.tags, (SELECT t.id FROM switchboard.tickets t WHERE t.customer_id = c.id AND ($2::bigint IS NULL OR t.id = $2)
                            ORDER BY t.id DESC LIMIT 1)
            FROM switchboard.customers c WHERE c.id = $1 FOR UPDATE
            """, [customerID, ticketID])
        guard let row = rows.first, let ticket = try row.decode(1, as: Int64?.self) else { return nil }
        let before: [String] = try row.decode(0)
        var tags = before.filter { !removing.contains($0) || adding.contains($0) }
        var added: [String] = []
        for tag in adding where !tags.contains(tag) {
            tags.append(tag)
            added.append(tag)
        }
        let removed = before.filter { !tags.contains($0) }
        let change = Change(customerID: customerID, ticketID: ticket, added: added, removed: removed, tags: tags)
        guard change.changed else { return change }
        _ = try await transaction.pipeline([
            PostgresStatement("UPDATE switchboard.customers SET tags = $2, updated_at = $3 WHERE id = $1", [customerID, tags, now]),
            PostgresStatement("""
                INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                SELECT $1, $2, e.kind, $3, jsonb_build_object('tag', e.tag, 'customer', $4::bigint, 'reason', $5::text)
                FROM (SELECT $6::text AS kind, tag, n FROM unnest($7::text[]) WITH ORDINALITY AS a(tag, n)
                      UNION ALL SELECT $8::text, tag, 1000000 + n FROM unnest($9::text[]) WITH ORDINALITY AS r(tag, n)) e
                ORDER BY e.n
                """, [ticket, now, actor, customerID, reason, TicketEventKind.customerTagged.rawValue, added,
                      TicketEventKind.customerUntagged.rawValue, removed]),
            PostgresStatement("UPDATE switchboard.tickets SET updated_at = greatest(updated_at, $2) WHERE id = $1", [ticket, now]),
        ])
        return change
    }
}

import Foundation
import Postgres
import SwitchboardCore

/// What the web inbox's list shows of each ticket, beyond its summary.
public struct InboxRow: Sendable, Equatable {
    public struct LastMessage: Sendable, Equatable {
        public var id: Int64
        public var at: Date
        public var direction: String
        public var type: String
        /// The first 140 characters of its text or caption; nil for a file without one.
        public var preview: String?
    }

    /// The open SLA clock closest to breach.
    public struct Clock: Sendable, Equatable {
        public var clock: String
        public var deadline: Date?
        public var warned: Bool
        public var breached: Bool
        public var paused: Bool
    }

    public var summary: TicketSummaryRow
    public var phone: String?
    public var tags: [String]
    public var lastMessage: LastMessage?
    /// The customer's messages (those that say something) since the reader last opened the
    /// ticket, counted up to 100.
    public var unread: Int
    public var windowExpiresAt: Date?
    public var clock: Clock?
    /// The customer's tags (routing rules' `customerTags`).
    public var customerTags: [String] = []
}

/// The list's search: a reference, a phone number, or text in the customer's name or messages.
public struct TicketSearch: Sendable, Equatable {
    /// `T-1042` as typed, upper-cased.
    public var reference: String
    /// `%text%` with LIKE's special characters escaped: matched case-insensitively against the
    /// customer's name and every message's text (trigram indexes).
    public var pattern: String
    /// `%digits%` when the text has at least three digits and nothing but digits, spaces, `+`,
    /// `-` and parentheses: matched against the phone number.
    public var phonePattern: String?

    /// Whether the text is a ticket reference (`T-1042`): then only the reference is looked up.
    public var isReference: Bool {
        reference.hasPrefix("T-") && reference.count > 2 && reference.dropFirst(2).allSatisfy(\.isASCIIDigitCharacter)
    }

    /// Nil when the text is shorter than three characters (a trigram index cannot narrow it).
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count >= 3 else { return nil }
        reference = trimmed.uppercased()
        var escaped = ""
        for character in trimmed {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        pattern = "%\(escaped)%"
        let digits = trimmed.filter(\.isASCIIDigitCharacter)
        let phoneLike = trimmed.allSatisfy { $0.isASCIIDigitCharacter || " +-()".contains($0) }
        phonePattern = phoneLike && digits.count >= 3 ? "%\(digits)%" : nil
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { ("0"..."9").contains(self) }
}

extension ControlStore {
    /// The web inbox's list: tickets matching the filter that the caller may see, newest activity
    /// first, each with what a row shows, unread counted for `reader`.
    public func inbox(_ filter: TicketFilter, visibleTo caller: Permissions.Caller, reader: String?) async throws -> [InboxRow] {
        var filter = filter
        // A reference is looked up by its unique index, not searched for in every message.
        if let search = filter.search, search.isReference {
            filter.references = (filter.references ?? [search.reference]).filter { $0 == search.reference }
            filter.search = nil
        }
        var parameters: [(any PostgresEncodable)?] = [filter.status, filter.queue, filter.assignee, filter.priority, filter.limit]
        parameters += Self.scopeParameters(Permissions.ticketScope(caller))
        parameters += [filter.after?.updatedAt, filter.after?.id]
        parameters += [filter.unassigned, filter.tag, filter.search?.reference, filter.search?.pattern, filter.search?.phonePattern,
                       reader, ConversationTurn.silentTypes, filter.references]
        let rows = try await pool.query("""
            SELECT t.reference, t.status, t.priority, t.queue, t.assignee, c.profile_name, t.updated_at, t.id,
                   c.wa_id, t.tags, t.customer_window_expires_at, lm.id, lm.received_at, lm.direction, lm.type, lm.preview,
                   CASE WHEN $17::text IS NULL THEN 0 ELSE (
                       SELECT count(*)::int FROM (
                           SELECT 1 FROM switchboard.messages u
                           WHERE u.ticket_id = t.id AND u.direction = 'inbound' AND u.type <> ALL($18::text[])
                             AND u.id > coalesce((SELECT r.read_through FROM switchboard.ticket_reads r
                                                  WHERE r.agent_id = $17 AND r.ticket_id = t.id), 0)
                           LIMIT 100) unread) END,
                   k.clock, k.deadline, k.warned_at IS NOT NULL, k.breached_at IS NOT NULL, k.clock IS NOT NULL AND k.running_since IS NULL,
                   c.tags
            FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id
            LEFT JOIN LATERAL (SELECT m.id, m.received_at, m.direction, m.type, left(m.body, 140) AS preview
                               FROM switchboard.messages m WHERE m.ticket_id = t.id ORDER BY m.id DESC LIMIT 1) lm ON true
            LEFT JOIN LATERAL (SELECT s.clock, s.deadline, s.warned_at, s.breached_at, s.running_since
                               FROM switchboard.sla_clocks s WHERE s.ticket_id = t.id
                               ORDER BY s.breached_at IS NULL, s.deadline NULLS LAST LIMIT 1) k ON true
            WHERE ($1::text IS NULL OR t.status = $1) AND ($2::text IS NULL OR t.queue = $2)
              AND ($3::text IS NULL OR t.assignee = $3) AND ($4::text IS NULL OR t.priority = $4)
              AND \(Self.scopeCondition(ticket: "t", first: 6))
              AND ($10::timestamptz IS NULL OR (t.updated_at, t.id) < ($10::timestamptz, $11::bigint))
              AND (NOT $12::boolean OR t.assignee IS NULL)
              AND ($13::text IS NULL OR $13 = ANY(t.tags))
              AND ($19::text[] IS NULL OR t.reference = ANY($19::text[]))
              AND ($15::text IS NULL OR t.id IN (
                    SELECT m.ticket_id FROM switchboard.messages m WHERE m.body ILIKE $15
                    UNION SELECT r.id FROM switchboard.tickets r WHERE r.reference = $14
                    UNION SELECT n.id FROM switchboard.tickets n JOIN switchboard.customers nc ON nc.id = n.customer_id
                          WHERE nc.profile_name ILIKE $15 OR ($16::text IS NOT NULL AND nc.wa_id LIKE $16)))
            ORDER BY t.updated_at DESC, t.id DESC LIMIT $5
            """, parameters)
        return try rows.map { row in
            let summary = TicketSummaryRow(reference: try row.decode(0), status: try row.decode(1), priority: try row.decode(2), queue: try row.decode(3),
                                           assignee: try row.decode(4), customer: try row.decode(5), updatedAt: try row.decode(6), id: try row.decode(7))
            let last = try row.decode(11, as: Int64?.self).map { id in
                InboxRow.LastMessage(id: id, at: try row.decode(12), direction: try row.decode(13), type: try row.decode(14), preview: try row.decode(15))
            }
            let clock = try row.decode(17, as: String?.self).map { name in
                InboxRow.Clock(clock: name, deadline: try row.decode(18), warned: try row.decode(19), breached: try row.decode(20), paused: try row.decode(21))
            }
            return InboxRow(summary: summary, phone: try row.decode(8), tags: try row.decode(9), lastMessage: last, unread: try row.decode(16),
                            windowExpiresAt: try row.decode(10), clock: clock, customerTags: try row.decode(22))
        }
    }

    /// The reader has seen the ticket's messages up to `through` (never moves back). False when
    /// `through` is not a message of the ticket.
    @discardableResult
    public func markRead(agentID: String, ticketID: Int64, through: Int64, now: Date) async throws -> Bool {
        let rows = try await pool.query("""
            WITH known AS (SELECT 1 FROM switchboard.messages WHERE id = $3 AND ticket_id = $2),
            w AS (
                INSERT INTO switchboard.ticket_reads (agent_id, ticket_id, read_through, read_at)
                SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM switchboard.agents WHERE id = $1) AND EXISTS (SELECT 1 FROM known)
                ON CONFLICT (agent_id, ticket_id) DO UPDATE
                SET read_through = greatest(ticket_reads.read_through, excluded.read_through), read_at = excluded.read_at
            )
            SELECT count(*)::int FROM known
            """, [agentID, ticketID, through, now])
        return try rows.first?.decode(0, as: Int.self) == 1
    }

    /// One page of a ticket's messages, older than `before` (the newest when nil), oldest first;
    /// with the later messages that change them (edits, deletions, reactions), which a client
    /// needs to show them as they now stand; and whether older messages remain.
    public func messagePage(ticketID: Int64, before: Int64?, limit: Int) async throws
        -> (messages: [TicketDetailRow.Message], changes: [TicketDetailRow.Message], more: Bool) {
        let page = try await olderMessages(ticketID: ticketID, before: before, limit: limit)
        return (page.messages, page.changes, page.more)
    }

    /// `messagePage` with the ticket's events of the same stretch of time: from the page's oldest
    /// message (from the beginning, on the first page of the history) up to the message `before`.
    public func historyPage(ticketID: Int64, before: Int64?, limit: Int) async throws
        -> (messages: [TicketDetailRow.Message], changes: [TicketDetailRow.Message], events: [TicketDetailRow.Event], more: Bool) {
        let page = try await olderMessages(ticketID: ticketID, before: before, limit: limit)
        var upper: Date?
        if let before {
            upper = try await pool.query("SELECT received_at FROM switchboard.messages WHERE id = $1 AND ticket_id = $2", [before, ticketID])
                .first?.decode(0, as: Date.self)
        }
        let events = try await events(ofTicket: ticketID, from: page.more ? page.messages.first?.at : nil, before: upper)
        return (page.messages, page.changes, events, page.more)
    }

    private func olderMessages(ticketID: Int64, before: Int64?, limit: Int) async throws
        -> (messages: [TicketDetailRow.Message], changes: [TicketDetailRow.Message], more: Bool) {
        var page = try await pool.query("""
            SELECT \(Self.messageColumns) FROM \(Self.messageTables)
            WHERE m.ticket_id = $1 AND ($2::bigint IS NULL OR m.id < $2) ORDER BY m.id DESC LIMIT $3
            """, [ticketID, before, limit + 1]).map(Self.message)
        let more = page.count > limit
        if more { page.removeLast() }
        page.reverse()
        guard let newest = page.last?.id else { return ([], [], more) }
        let wamids = page.compactMap(\.wamid)
        let changes = wamids.isEmpty ? [] : try await pool.query("""
            SELECT \(Self.messageColumns) FROM \(Self.messageTables)
            WHERE m.ticket_id = $1 AND m.id > $2 AND (m.target_wamid = ANY($3::text[]) OR m.details->'reaction'->>'message_id' = ANY($3::text[]))
            ORDER BY m.id
            """, [ticketID, newest, wamids]).map(Self.message)
        return (page, changes, more)
    }
}

import Foundation
import Postgres
import SwitchboardCore

/// What the control socket reads and records: tickets and their history, SLA risk, agents' Unix
/// users, and the audit of every call that changes something.
public struct ControlStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// The agents' API tokens (issued and revoked through the control commands).
    public var tokens: APITokenStore { APITokenStore(pool: pool) }

    /// The files of messages (served by the agents' API).
    public var media: MediaStore { MediaStore(pool: pool) }
    public var signIn: SignInStore { SignInStore(pool: pool) }

    /// Routing's statements the control commands and the API make directly (accepting a ticket).
    public var routing: RoutingStore { RoutingStore(pool: pool) }

    // MARK: Callers

    /// An active agent as a caller: the queues they serve, the agents who share a team with them
    /// (themselves included) and those agents' queues. What they may see follows from the role
    /// they act in (`caller(as:)`): the record's own for the API, the one the control socket
    /// granted by Unix identity there.
    public struct CallerRecord: Sendable, Equatable {
        public var id: String
        public var role: Role
        public var ownQueues: Set<String>
        public var team: Set<String>
        public var teamQueues: Set<String>
        /// The names of their teams (canned responses scoped to a team).
        public var teams: Set<String>

        public init(id: String, role: Role, ownQueues: Set<String>, team: Set<String>, teamQueues: Set<String>, teams: Set<String> = []) {
            self.id = id
            self.role = role
            self.ownQueues = ownQueues
            self.team = team
            self.teamQueues = teamQueues
            self.teams = teams
        }

        /// What `Permissions` decides with, in the record's own role (the API).
        public var caller: Permissions.Caller { caller(as: role) }

        /// In the given role: an agent sees their own queues; a supervisor their teams' queues and
        /// agents; an admin everything.
        public func caller(as role: Role) -> Permissions.Caller {
            switch role {
            case .agent: .init(role: .agent, agentID: id, visibleQueues: ownQueues, team: [id], teams: teams)
            case .supervisor: .init(role: .supervisor, agentID: id, visibleQueues: ownQueues.union(teamQueues), team: team, teams: teams)
            case .admin: .init(role: .admin, agentID: id, visibleQueues: nil, team: nil, teams: nil)
            }
        }
    }

    /// The agent a Unix user acts as.
    public func agent(forUnixUser user: String) async throws -> CallerRecord? {
        try await caller(where: "a.unix_user = $1", user)
    }

    /// The same for an agent by handle (the agents' API, after its token named them).
    public func agent(id: String) async throws -> CallerRecord? {
        try await caller(where: "a.id = $1", id)
    }

    private func caller(where condition: StaticString, _ value: String) async throws -> CallerRecord? {
        let rows = try await pool.query("""
            SELECT a.id, a.role, a.queues,
                   coalesce((SELECT array_agg(DISTINCT q) FROM switchboard.agents o, unnest(o.queues) AS q
                             WHERE o.active AND o.teams && a.teams), '{}'),
                   coalesce((SELECT array_agg(o.id) FROM switchboard.agents o WHERE o.active AND o.teams && a.teams), '{}'),
                   a.teams
            FROM switchboard.agents a WHERE \(condition.description) AND a.active
            """, [value])
        guard let row = rows.first else { return nil }
        let id: String = try row.decode(0)
        return CallerRecord(id: id, role: Role(rawValue: try row.decode(1, as: String.self)) ?? .agent, ownQueues: Set(try row.decode(2, as: [String].self)),
                            team: Set(try row.decode(4, as: [String].self)).union([id]), teamQueues: Set(try row.decode(3, as: [String].self)),
                            teams: Set(try row.decode(5, as: [String].self)))
    }

    public func accounts() async throws -> [String: AgentAccountRow] {
        let rows = try await pool.query("SELECT id, unix_user, from_config FROM switchboard.agents WHERE active")
        var accounts: [String: AgentAccountRow] = [:]
        for row in rows {
            let account = AgentAccountRow(id: try row.decode(0), unixUser: try row.decode(1), fromConfiguration: try row.decode(2))
            accounts[account.id] = account
        }
        return accounts
    }

    // MARK: Tickets

    public struct TicketFilter: Sendable, Equatable {
        public var status: String?
        public var queue: String?
        public var assignee: String?
        public var priority: String?
        public var limit: Int
        /// Only tickets after this one in the order (the previous page's last): pagination that
        /// neither skips nor repeats when tickets change between pages.
        public var after: TicketCursor?
        /// Only tickets without an agent (the inbox's "waiting" view).
        public var unassigned: Bool = false
        public var tag: String? = nil
        public var search: TicketSearch? = nil
        /// Only these tickets (a client asking again about the rows events named).
        public var references: [String]? = nil

        public init(status: String? = nil, queue: String? = nil, assignee: String? = nil, priority: String? = nil, limit: Int = 50, after: TicketCursor? = nil) {
            self.status = status
            self.queue = queue
            self.assignee = assignee
            self.priority = priority
            self.limit = limit
            self.after = after
        }
    }

    /// Tickets matching the filter that the caller may see (`Permissions.ticketScope`, the same
    /// rule as `Permissions.canSee`), newest activity first.
    public func tickets(_ filter: TicketFilter, visibleTo caller: Permissions.Caller) async throws -> [TicketSummaryRow] {
        var parameters: [(any PostgresEncodable)?] = [filter.status, filter.queue, filter.assignee, filter.priority, filter.limit]
        parameters += Self.scopeParameters(Permissions.ticketScope(caller))
        parameters += [filter.after?.updatedAt, filter.after?.id]
        let rows = try await pool.query("""
            SELECT t.reference, t.status, t.priority, t.queue, t.assignee, c.profile_name, t.updated_at, t.id
            FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id
            WHERE ($1::text IS NULL OR t.status = $1) AND ($2::text IS NULL OR t.queue = $2)
              AND ($3::text IS NULL OR t.assignee = $3) AND ($4::text IS NULL OR t.priority = $4)
              AND \(Self.scopeCondition(ticket: "t", first: 6))
              AND ($10::timestamptz IS NULL OR (t.updated_at, t.id) < ($10::timestamptz, $11::bigint))
            ORDER BY t.updated_at DESC, t.id DESC LIMIT $5
            """, parameters)
        return try rows.map(Self.summary)
    }

    /// `Permissions.TicketScope.contains` in SQL, over four parameters from `$first` on (see
    /// `scopeParameters`): everything, or assigned to the agent, or in the queues (waiting only,
    /// for agents).
    static func scopeCondition(ticket t: String, first n: Int) -> String {
        "($\(n)::boolean OR \(t).assignee = $\(n + 1) OR (\(t).queue = ANY($\(n + 2)::text[]) AND ($\(n + 3)::boolean OR \(t).assignee IS NULL)))"
    }

    static func scopeParameters(_ scope: Permissions.TicketScope) -> [(any PostgresEncodable)?] {
        [scope.everything, scope.assignee, scope.queues.sorted(), scope.assignedInQueues]
    }

    /// A message as `message(_:)` reads it: the row, its file, who sent it.
    static let messageColumns = """
        m.received_at, m.direction, m.type, m.body, m.status, m.id, m.details::text, m.error_code, m.error_title,
        f.id, f.kind, f.state, f.mime_type, f.size_bytes, f.file_name, f.failure, m.wamid, m.target_wamid,
        -- Who sent an outbound message: the reply's author, or the business app (an echo).
        CASE WHEN m.direction = 'outbound' THEN coalesce(o.created_by, CASE WHEN m.outbound_id IS NULL THEN 'business_app' END) END
        """
    static let messageTables = """
        switchboard.messages m LEFT JOIN switchboard.media f ON f.message_id = m.id LEFT JOIN switchboard.outbox o ON o.id = m.outbound_id
        """

    /// For each of these messages, what showing it needs: the message, and when it changes another
    /// (an edit, a deletion, a reaction), that message with every change made to it — so that a
    /// follower can show the change where it applies without reading the whole ticket.
    public func messagesShowing(_ ids: [Int64]) async throws -> [Int64: [TicketDetailRow.Message]] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await HotPathSettings.query(pool, """
            WITH asked AS (SELECT id, ticket_id, coalesce(target_wamid, details->'reaction'->>'message_id') AS target FROM switchboard.messages
                           WHERE id = ANY($1::bigint[])),
                 targets AS (SELECT a.id AS asked, t.id, t.ticket_id, t.wamid FROM asked a
                             JOIN switchboard.messages t ON t.ticket_id = a.ticket_id AND t.wamid = a.target),
                 shown AS (SELECT id AS asked, id FROM asked
                           UNION SELECT asked, id FROM targets
                           UNION SELECT g.asked, c.id FROM targets g JOIN switchboard.messages c ON c.ticket_id = g.ticket_id
                                 AND (c.target_wamid = g.wamid OR c.details->'reaction'->>'message_id' = g.wamid))
            SELECT s.asked, \(Self.messageColumns) FROM shown s JOIN \(Self.messageTables) ON m.id = s.id ORDER BY s.asked, m.id
            """, [ids])
        var found: [Int64: [TicketDetailRow.Message]] = [:]
        for row in rows {
            found[try row.decode(0, as: Int64.self), default: []].append(try Self.message(row, from: 1))
        }
        return found
    }

    static func message(_ row: PostgresRow) throws -> TicketDetailRow.Message {
        try message(row, from: 0)
    }

    /// The message whose `messageColumns` start at column `first`.
    private static func message(_ row: PostgresRow, from first: Int) throws -> TicketDetailRow.Message {
        let media = try row.decode(first + 9, as: Int64?.self).map { id in
            TicketDetailRow.MediaRow(id: id, kind: try row.decode(first + 10), state: try row.decode(first + 11), mimeType: try row.decode(first + 12),
                                     size: try row.decode(first + 13, as: Int64?.self).map(Int.init), fileName: try row.decode(first + 14), failure: try row.decode(first + 15))
        }
        return TicketDetailRow.Message(id: try row.decode(first + 5), wamid: try row.decode(first + 16), targetWamid: try row.decode(first + 17), at: try row.decode(first + 0), direction: try row.decode(first + 1), type: try row.decode(first + 2), body: try row.decode(first + 3),
                                       status: try row.decode(first + 4), details: try row.decode(first + 6), errorCode: try row.decode(first + 7, as: Int?.self),
                                       errorTitle: try row.decode(first + 8), media: media, sentBy: try row.decode(first + 18))
    }

    private static func summary(_ row: PostgresRow) throws -> TicketSummaryRow {
        TicketSummaryRow(reference: try row.decode(0), status: try row.decode(1), priority: try row.decode(2), queue: try row.decode(3),
                         assignee: try row.decode(4), customer: try row.decode(5), updatedAt: try row.decode(6), id: try row.decode(7))
    }

    /// A ticket's reference, queue and agent by id (events that carry only the id).
    public func summary(ofTicket id: Int64) async throws -> (reference: String, queue: String?, assignee: String?)? {
        let rows = try await pool.query("SELECT reference, queue, assignee FROM switchboard.tickets WHERE id = $1", [id])
        guard let row = rows.first else { return nil }
        return (try row.decode(0), try row.decode(1), try row.decode(2))
    }

    /// The same for many tickets in one query (the event enricher's batches).
    public func summaries(ofTickets ids: [Int64]) async throws -> [Int64: (reference: String, queue: String?, assignee: String?)] {
        guard !ids.isEmpty else { return [:] }
        var found: [Int64: (reference: String, queue: String?, assignee: String?)] = [:]
        for row in try await pool.query("SELECT id, reference, queue, assignee FROM switchboard.tickets WHERE id = ANY($1::bigint[])", [ids]) {
            found[try row.decode(0, as: Int64.self)] = (try row.decode(1), try row.decode(2), try row.decode(3))
        }
        return found
    }

    /// Where a ticket is (for the permission check) — nil when there is no such ticket.
    public func place(of reference: String) async throws -> (id: Int64, place: Permissions.TicketPlace)? {
        let rows = try await pool.query("SELECT id, assignee, queue FROM switchboard.tickets WHERE reference = $1", [reference])
        guard let row = rows.first else { return nil }
        return (try row.decode(0), Permissions.TicketPlace(assignee: try row.decode(1), queue: try row.decode(2)))
    }

    /// A ticket with its messages, events in time order (then as written: a late SLA event or one
    /// stamped by another clock is shown where it happened) and open SLA clocks.
    /// `latestMessages`: only that many of the newest messages (with the later changes to them and
    /// whether older ones remain), and only the events from the oldest of them on, for a client
    /// that pages back through a long history (`messagePage` brings the rest).
    public func ticket(_ id: Int64, latestMessages: Int? = nil) async throws -> TicketDetailRow? {
        let rows = try await pool.query("""
            SELECT t.reference, t.status, t.priority, t.queue, t.assignee, c.profile_name, t.updated_at, t.id, t.tags, t.created_at, t.customer_window_expires_at,
                   c.tags
            FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id WHERE t.id = $1
            """, [id])
        guard let row = rows.first else { return nil }
        let summary = try Self.summary(row)
        var messages: [TicketDetailRow.Message], changes: [TicketDetailRow.Message] = [], more = false
        if let latestMessages {
            (messages, changes, more) = try await messagePage(ticketID: id, before: nil, limit: latestMessages)
        } else {
            messages = try await pool.query("SELECT \(Self.messageColumns) FROM \(Self.messageTables) WHERE m.ticket_id = $1 ORDER BY m.id", [id])
                .map(Self.message)
        }
        let events = try await events(ofTicket: id, from: more ? messages.first?.at : nil, before: nil)
        let notes = try await pool.query("SELECT id, at, author, body FROM switchboard.notes WHERE ticket_id = $1 ORDER BY id", [id])
            .map { TicketDetailRow.Note(id: try $0.decode(0), at: try $0.decode(1), author: try $0.decode(2), body: try $0.decode(3)) }
        let sla = try await clocks(where: "o.ticket = $1", [summary.reference])
        return TicketDetailRow(id: id, summary: summary, tags: try row.decode(8), createdAt: try row.decode(9), customerWindowExpiresAt: try row.decode(10),
                               messages: messages, notes: notes, events: events, sla: sla, messageChanges: changes, moreMessages: more,
                               customerTags: try row.decode(11))
    }

    /// A ticket's events in time order (then as written), from `from` on and before `before`.
    func events(ofTicket id: Int64, from: Date?, before: Date?) async throws -> [TicketDetailRow.Event] {
        try await pool.query("""
            SELECT id, at, kind, actor, data::text FROM switchboard.ticket_events
            WHERE ticket_id = $1 AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3) ORDER BY at, id
            """, [id, from, before]
        ).map { TicketDetailRow.Event(id: try $0.decode(0), at: try $0.decode(1), kind: try $0.decode(2), actor: try $0.decode(3), data: try $0.decode(4)) }
    }

    // MARK: Notes

    /// Adds an internal note with a `note_added` event (the event names the note, not its text).
    /// Nil: no such ticket.
    public func addNote(ticketID: Int64, agentID: String?, author: String, body: String, now: Date, mentions: [String] = []) async throws -> Int64? {
        let rows = try await pool.query("""
            WITH n AS (
                INSERT INTO switchboard.notes (ticket_id, at, agent_id, author, body)
                SELECT id, $2, (SELECT a.id FROM switchboard.agents a WHERE a.id = $3), $4, $5 FROM switchboard.tickets WHERE id = $1
                RETURNING id, ticket_id
            ),
            t AS (UPDATE switchboard.tickets SET updated_at = $2 WHERE id IN (SELECT ticket_id FROM n)),
            e AS (INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                  SELECT ticket_id, $2, $6, $4, jsonb_build_object('note', id)
                         || CASE WHEN cardinality($7::text[]) > 0 THEN jsonb_build_object('mentions', $7::text[]) ELSE '{}'::jsonb END FROM n)
            SELECT id FROM n
            """, [ticketID, now, agentID, author, body, TicketEventKind.noteAdded.rawValue, mentions])
        return try rows.first?.decode(0, as: Int64.self)
    }

    // MARK: SLA

    /// Open clocks already warned or breached, or due within `within` seconds, soonest first.
    public func atRisk(within: TimeInterval, now: Date) async throws -> [SLAClockRow] {
        try await clocks(where: "o.warned_at IS NOT NULL OR o.breached_at IS NOT NULL OR o.deadline <= $1", [now.addingTimeInterval(within)])
    }

    /// Per queue: open clocks already warned or breached.
    public func atRiskByQueue() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await pool.query("""
            SELECT t.queue, count(*)::int FROM switchboard.sla_clocks k JOIN switchboard.tickets t ON t.id = k.ticket_id
            WHERE (k.warned_at IS NOT NULL OR k.breached_at IS NOT NULL) AND t.status <> 'resolved' AND t.queue IS NOT NULL GROUP BY t.queue
            """) {
            counts[try row.decode(0, as: String.self)] = try row.decode(1, as: Int.self)
        }
        return counts
    }

    private func clocks(where condition: String, _ parameters: [(any PostgresEncodable)?]) async throws -> [SLAClockRow] {
        try await pool.query("""
            SELECT o.ticket, o.policy, o.clock, o.paused, o.warn_at, o.deadline, o.warned_at, o.breached_at, o.queue, o.assignee
            FROM bi.sla_open_clocks o WHERE \(condition) ORDER BY o.deadline NULLS LAST, o.ticket, o.clock
            """, parameters).map { row in
            SLAClockRow(ticket: try row.decode(0), policy: try row.decode(1), clock: try row.decode(2), paused: try row.decode(3),
                        warnAt: try row.decode(4), deadline: try row.decode(5), warnedAt: try row.decode(6), breachedAt: try row.decode(7),
                        queue: try row.decode(8), assignee: try row.decode(9))
        }
    }

    // MARK: Audit

    public func audit(_ entry: AuditEntry, at now: Date) async throws {
        try await pool.query("""
            INSERT INTO switchboard.control_audit (at, unix_user, uid, role, method, arguments, result, detail)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)
            """, [now, entry.unixUser, Int64(entry.uid), entry.role, entry.method, entry.arguments, entry.result, entry.detail])
    }
}

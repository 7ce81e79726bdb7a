import Foundation
import Postgres
import SwitchboardCore

/// What automation reads and records: the tickets it decides about, the customers' answers, triage
/// sessions, satisfaction surveys, auto-close candidates. Its sends go through the outbox, keyed
/// (`automation_sends`); a decision not to send is recorded under the same key (`recordSkip`).
public struct AutomationStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    // MARK: Reading

    /// The tickets as automation sees them (customer, agent, window, the last time a person wrote to
    /// the customer on that number — on this ticket or an earlier one).
    public func tickets(_ ids: [Int64]) async throws -> [Int64: AutomationTicket] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await pool.query("""
            SELECT t.id, t.reference, t.business_number, t.queue, t.status, c.profile_name, c.language, a.name,
                   t.customer_window_expires_at,
                   -- The last time a person wrote to this customer on this number, on any of their tickets.
                   (SELECT max(m.received_at) FROM switchboard.tickets p JOIN switchboard.messages m ON m.ticket_id = p.id
                    WHERE p.customer_id = t.customer_id AND p.business_number = t.business_number
                      AND m.direction = 'outbound' AND m.type <> 'reaction' AND NOT (m.details ? 'automation')),
                   EXISTS (SELECT 1 FROM switchboard.messages m WHERE m.ticket_id = t.id AND m.direction = 'outbound' AND m.type <> 'reaction'
                           AND NOT (m.details ? 'automation'))
            FROM switchboard.tickets t
            JOIN switchboard.customers c ON c.id = t.customer_id
            LEFT JOIN switchboard.agents a ON a.id = coalesce(t.assignee, t.last_assignee)
            WHERE t.id = ANY($1)
            """, [ids])
        var tickets: [Int64: AutomationTicket] = [:]
        for row in rows {
            let id: Int64 = try row.decode(0)
            tickets[id] = AutomationTicket(id: id, reference: try row.decode(1), businessNumber: try row.decode(2), queue: try row.decode(3),
                                           status: TicketStatus(rawValue: try row.decode(4, as: String.self)) ?? .open, customerName: try row.decode(5),
                                           customerLanguage: try row.decode(6), agentName: try row.decode(7), windowExpiresAt: try row.decode(8),
                                           lastAgentReplyAt: try row.decode(9), personReplied: try row.decode(10))
        }
        return tickets
    }

    /// A customer's message as automation reads it: an interactive reply's id, or the text.
    public struct InboundMessage: Sendable, Equatable {
        public var messageID: Int64
        public var ticketID: Int64
        public var choiceID: String?
        public var text: String?
        public var receivedAt: Date
    }

    public func inbound(_ messageIDs: [Int64]) async throws -> [InboundMessage] {
        guard !messageIDs.isEmpty else { return [] }
        return try await pool.query("""
            SELECT id, ticket_id, details->'choice'->>'id', body, received_at FROM switchboard.messages
            WHERE id = ANY($1) AND direction = 'inbound' ORDER BY id
            """, [messageIDs]).map { row in
            InboundMessage(messageID: try row.decode(0), ticketID: try row.decode(1), choiceID: try row.decode(2), text: try row.decode(3),
                           receivedAt: try row.decode(4))
        }
    }

    /// A customer's message received since `since`, for the catch-up after a restart.
    public struct RecentArrival: Sendable, Equatable {
        public var messageID: Int64
        public var ticketID: Int64
        public var receivedAt: Date
        /// It is the ticket's first customer message.
        public var startedTicket: Bool
        public var type: String
    }

    public func arrivals(since: Date, limit: Int = 5000) async throws -> [RecentArrival] {
        try await pool.query("""
            SELECT m.id, m.ticket_id, m.received_at,
                   NOT EXISTS (SELECT 1 FROM switchboard.messages p WHERE p.ticket_id = m.ticket_id AND p.direction = 'inbound' AND p.id < m.id), m.type
            FROM switchboard.messages m
            WHERE m.direction = 'inbound' AND m.received_at >= $1
            ORDER BY m.id LIMIT $2
            """, [since, limit]).map { row in
            RecentArrival(messageID: try row.decode(0), ticketID: try row.decode(1), receivedAt: try row.decode(2), startedTicket: try row.decode(3),
                          type: try row.decode(4))
        }
    }

    /// Tickets resolved since `since` with no survey decided (sent or skipped), and whether
    /// auto-close resolved them.
    public func resolvedWithoutSurvey(since: Date) async throws -> [(ticketID: Int64, automatically: Bool)] {
        try await pool.query("""
            SELECT t.id, coalesce((SELECT e.actor = 'automation:auto_close' FROM switchboard.ticket_events e
                                   WHERE e.ticket_id = t.id AND e.kind = 'status_changed' ORDER BY e.id DESC LIMIT 1), false)
            FROM switchboard.tickets t
            WHERE t.status = 'resolved' AND t.resolved_at >= $1
              AND NOT EXISTS (SELECT 1 FROM switchboard.csat_surveys s WHERE s.ticket_id = t.id)
              AND NOT EXISTS (SELECT 1 FROM switchboard.automation_sends a WHERE a.key = 'csat:' || t.id)
            ORDER BY t.id
            """, [since]).map { (try $0.decode(0), try $0.decode(1)) }
    }

    // MARK: Skips

    /// Records that a decision sent nothing, and why, under its key (once); with a ticket event.
    @discardableResult
    public func recordSkip(key: String, ticketID: Int64, reason: String, rule: String?, why: String, now: Date) async throws -> Bool {
        let rows = try await pool.query("""
            WITH k AS (INSERT INTO switchboard.automation_sends (key, ticket_id, reason, rule, skipped, created_at)
                       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING RETURNING ticket_id)
            INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
            SELECT ticket_id, $6, $7, 'automation:' || $3, jsonb_build_object('reason', $3::text, 'rule', $4::text, 'why', $5::text) FROM k
            RETURNING ticket_id
            """, [key, ticketID, reason, rule, why, now, TicketEventKind.automationSkipped.rawValue])
        return !rows.isEmpty
    }

    // MARK: Triage

    public struct TriageRecord: Sendable, Equatable {
        public var ticketID: Int64
        public var rule: String
        public var state: TriageStateMachine.State
    }

    /// The triage sessions of these tickets.
    public func triageSessions(_ ticketIDs: [Int64]) async throws -> [Int64: TriageRecord] {
        guard !ticketIDs.isEmpty else { return [:] }
        var found: [Int64: TriageRecord] = [:]
        for row in try await pool.query("SELECT ticket_id, rule, state, asked, deadline, choice FROM switchboard.triage_sessions WHERE ticket_id = ANY($1)", [ticketIDs]) {
            let id: Int64 = try row.decode(0)
            let state: TriageStateMachine.State
            switch try row.decode(2, as: String.self) {
            case "asking": state = .asking(asked: try row.decode(3), deadline: try row.decode(4))
            case "chosen": state = .chosen(try row.decode(5, as: String?.self) ?? "")
            case "unanswered": state = .unanswered
            default: state = .timedOut
            }
            found[id] = TriageRecord(ticketID: id, rule: try row.decode(1), state: state)
        }
        return found
    }

    /// Keeps a triage session's new state, with `triage_started` or `triage_ended` when it starts or ends.
    public func saveTriage(ticketID: Int64, rule: String, state: TriageStateMachine.State, why: String?, now: Date) async throws {
        var asked = 1, deadline = now, choice: String?
        switch state {
        case .idle: return
        case .asking(let count, let due): asked = count; deadline = due
        case .chosen(let id): choice = id
        case .unanswered, .timedOut: break
        }
        let ended = state.name != "asking"
        try await pool.query("""
            WITH s AS (
                INSERT INTO switchboard.triage_sessions AS s (ticket_id, rule, state, asked, started_at, deadline, choice, ended_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN $5::timestamptz END)
                ON CONFLICT (ticket_id) DO UPDATE SET state = EXCLUDED.state, choice = EXCLUDED.choice, ended_at = EXCLUDED.ended_at,
                    asked = CASE WHEN EXCLUDED.state = 'asking' THEN EXCLUDED.asked ELSE s.asked END,
                    deadline = CASE WHEN EXCLUDED.state = 'asking' THEN EXCLUDED.deadline ELSE s.deadline END
                WHERE s.state = 'asking'
                RETURNING (xmax = 0) AS inserted, s.asked
            )
            INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
            SELECT $1, $5, CASE WHEN $8 THEN $9 ELSE $10 END, 'automation:triage',
                   jsonb_strip_nulls(jsonb_build_object('rule', $2::text, 'outcome', CASE WHEN $8 THEN $3::text END, 'choice', $7::text,
                                                        'why', $11::text, 'asked', s.asked))
            FROM s WHERE s.inserted OR $8
            """, [ticketID, rule, state.name, asked, now, deadline, choice, ended, TicketEventKind.triageEnded.rawValue,
                  TicketEventKind.triageStarted.rawValue, why])
    }

    /// Tickets whose menu went unanswered past its deadline.
    public func dueTriage(now: Date) async throws -> [Int64] {
        try await pool.query("SELECT ticket_id FROM switchboard.triage_sessions WHERE state = 'asking' AND deadline <= $1 ORDER BY deadline", [now])
            .map { try $0.decode(0) }
    }

    public func nextTriageDeadline() async throws -> Date? {
        try await pool.query("SELECT min(deadline) FROM switchboard.triage_sessions WHERE state = 'asking'").first?.decode(0, as: Date?.self)
    }

    /// The chosen option's customer tags (`customer_tagged` events, through the one customer-tag
    /// writer) and language on the ticket's customer, in one transaction. (Its ticket tags go
    /// through routing's tag writer, which tells followers.)
    public func applyChoice(ticketID: Int64, option: AutomationConfiguration.TriageRule.Option, now: Date) async throws {
        guard !option.customerTags.isEmpty || option.language != nil else { return }
        try await pool.withTransaction { transaction in
            guard let customer = try await transaction.query("SELECT customer_id FROM switchboard.tickets WHERE id = $1", [ticketID]).first?
                .decode(0, as: Int64.self) else { return }
            if !option.customerTags.isEmpty {
                _ = try await CustomerTagStore.addCustomerTags(customerID: customer, tags: option.customerTags, onTicket: ticketID, actor: "automation:triage",
                                                               reason: "triage choice \(option.id)", now: now, in: transaction)
            }
            if let language = option.language {
                try await transaction.query("UPDATE switchboard.customers SET language = $2, updated_at = $3 WHERE id = $1", [customer, language, now])
            }
        }
    }

    // MARK: Satisfaction surveys

    public struct Survey: Sendable, Equatable {
        public var state: CSATSurvey.State
        public var agent: String?
        public var queue: String?

        public init(state: CSATSurvey.State, agent: String?, queue: String?) {
            self.state = state
            self.agent = agent
            self.queue = queue
        }
    }

    /// The surveys of these tickets, as the state machine knows them.
    public func surveys(_ ticketIDs: [Int64], now: Date) async throws -> [Int64: Survey] {
        guard !ticketIDs.isEmpty else { return [:] }
        var found: [Int64: Survey] = [:]
        for row in try await pool.query("""
            SELECT ticket_id, expires_at, open_until, rating, comment IS NOT NULL, agent_id, queue FROM switchboard.csat_surveys WHERE ticket_id = ANY($1)
            """, [ticketIDs]) {
            let expires: Date = try row.decode(1), open: Date? = try row.decode(2), rating: Int? = try row.decode(3), commented: Bool = try row.decode(4)
            let state: CSATSurvey.State
            if let rating {
                state = !commented && (open.map { now < $0 } ?? false) ? .awaitingComment(rating: rating, until: open ?? now) : .finished
            } else {
                state = now < expires ? .awaitingRating(expiresAt: expires) : .finished
            }
            found[try row.decode(0)] = Survey(state: state, agent: try row.decode(5), queue: try row.decode(6))
        }
        return found
    }

    /// The survey went out (or its decision was taken): once per ticket.
    public func recordSurveySent(ticketID: Int64, agent: String?, queue: String?, resolvedAt: Date, automatically: Bool, channel: String,
                                 expiresAt: Date, now: Date) async throws {
        try await pool.query("""
            WITH s AS (INSERT INTO switchboard.csat_surveys (ticket_id, agent_id, queue, resolved_at, auto_resolved, channel, sent_at, expires_at, open_until)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (ticket_id) DO NOTHING RETURNING ticket_id)
            INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
            SELECT ticket_id, $7, $9, 'automation:csat_survey',
                   jsonb_build_object('channel', $6::text, 'expires_at', to_char($8::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) FROM s
            """, [ticketID, agent, queue, resolvedAt, automatically, channel, now, expiresAt, TicketEventKind.csatSent.rawValue])
    }

    /// The rating, once: a second one (a double tap) changes nothing. True when recorded.
    @discardableResult
    public func recordRating(ticketID: Int64, rating: Int, at: Date, commentUntil: Date?) async throws -> Bool {
        try await !pool.query("""
            WITH s AS (UPDATE switchboard.csat_surveys SET rating = $2, rated_at = $3, open_until = $4
                       WHERE ticket_id = $1 AND rating IS NULL AND expires_at > $3 RETURNING ticket_id, agent_id, queue)
            INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
            SELECT ticket_id, $3, $5, 'customer', jsonb_build_object('rating', $2::int, 'agent', agent_id, 'queue', queue) FROM s
            RETURNING ticket_id
            """, [ticketID, rating, at, commentUntil, TicketEventKind.csatRated.rawValue]).isEmpty
    }

    /// The comment that follows a rating, once.
    public func recordComment(ticketID: Int64, text: String, at: Date) async throws {
        try await pool.query("""
            UPDATE switchboard.csat_surveys SET comment = $2, commented_at = $3, open_until = NULL
            WHERE ticket_id = $1 AND rating IS NOT NULL AND comment IS NULL AND open_until > $3
            """, [ticketID, text, at])
    }

    /// Who resolved a ticket (its agent at the time) and in which queue, and when.
    public func resolution(ofTicket ticketID: Int64) async throws -> (agent: String?, queue: String?, resolvedAt: Date)? {
        guard let row = try await pool.query(
            "SELECT coalesce(assignee, last_assignee), queue, resolved_at FROM switchboard.tickets WHERE id = $1 AND status = 'resolved'", [ticketID]).first,
            let resolvedAt = try row.decode(2, as: Date?.self)
        else { return nil }
        return (try row.decode(0), try row.decode(1), resolvedAt)
    }

    // MARK: Auto-close

    public struct AutoCloseCandidate: Sendable, Equatable {
        public var ticketID: Int64
        public var candidate: AutoClosePolicy.Candidate
    }

    /// Pending tickets (and open ones of the queues that ask) quiet since before `quietBefore` or,
    /// for open ones, the queue's own limit; the exact decision is `AutoClosePolicy`'s.
    public func autoCloseCandidates(pendingQuietBefore: Date, openQueues: [String], limit: Int = 500) async throws -> [AutoCloseCandidate] {
        try await pool.query("""
            SELECT t.id, t.status, t.queue, t.last_inbound_at, t.created_at,
                   (SELECT max(e.at) FROM switchboard.ticket_events e
                    WHERE e.ticket_id = t.id AND e.kind = 'status_changed' AND e.data->>'to' = 'pending')
            FROM switchboard.tickets t
            WHERE (t.status = 'pending' AND coalesce(t.last_inbound_at, t.created_at) <= $1)
               OR (t.status = 'open' AND t.queue = ANY($2))
            ORDER BY coalesce(t.last_inbound_at, t.created_at)
            LIMIT $3
            """, [pendingQuietBefore, openQueues, limit]).map { row in
            AutoCloseCandidate(ticketID: try row.decode(0), candidate: .init(
                status: TicketStatus(rawValue: try row.decode(1, as: String.self)) ?? .open, queue: try row.decode(2),
                lastCustomerMessageAt: try row.decode(3), pendingSince: try row.decode(5), createdAt: try row.decode(4)))
        }
    }
}

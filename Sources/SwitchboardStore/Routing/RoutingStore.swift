import Foundation
import JSON
import Postgres
import SwitchboardCore

/// The routing state of tickets in PostgreSQL: classification results, waiting tickets, assignments
/// and everything that returns a ticket to a queue. Every change writes its event in the same
/// statement or transaction.
public struct RoutingStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    // MARK: Classification

    /// Open tickets without a queue: the given ones, or (nil) every one, e.g. those committed by
    /// ingest just before a crash.
    public func unrouted(_ ticketIDs: [Int64]?) async throws -> [UnroutedTicket] {
        let source = ticketIDs == nil
            ? "switchboard.tickets t"
            : "unnest($1::bigint[]) AS k(id) CROSS JOIN LATERAL (SELECT * FROM switchboard.tickets WHERE id = k.id) AS t"
        let rows = try await pool.query("""
            SELECT t.id, t.customer_id, t.business_number, c.country, c.language, c.tags, fm.body,
                   fm.details->'choice'->>'id', fm.details->'choice'->>'title', t.created_at, t.customer_window_expires_at,
                   last.last_assignee, last.contact_at, t.routing_rule IS NOT NULL, ts.rule, ts.state, ts.choice
            FROM \(source)
            JOIN switchboard.customers c ON c.id = t.customer_id
            LEFT JOIN LATERAL (SELECT m.body, m.details FROM switchboard.messages m
                               WHERE m.ticket_id = t.id AND m.direction = 'inbound' ORDER BY m.id LIMIT 1) AS fm ON true
            LEFT JOIN LATERAL (SELECT p.last_assignee, coalesce(p.resolved_at, p.updated_at) AS contact_at FROM switchboard.tickets p
                               WHERE p.customer_id = t.customer_id AND p.last_assignee IS NOT NULL
                               ORDER BY p.assigned_at DESC NULLS LAST, p.id DESC LIMIT 1) AS last ON true
            LEFT JOIN switchboard.triage_sessions ts ON ts.ticket_id = t.id
            WHERE t.queue IS NULL AND t.assignee IS NULL AND t.status <> 'resolved'
              -- A ticket whose triage menu still waits for the customer is not routed yet.
              AND ts.state IS DISTINCT FROM 'asking'
            ORDER BY t.id
            """, ticketIDs.map { [$0] } ?? [])
        return try rows.map { row in
            let choice = [try row.decode(7, as: String?.self), try row.decode(8, as: String?.self)].compactMap { $0 }
            let facts = TicketFacts(businessNumber: try row.decode(2), country: try row.decode(3), language: try row.decode(4),
                                    firstMessageText: try row.decode(6), menuChoice: choice, customerTags: Set(try row.decode(5, as: [String].self)))
            var ticket = UnroutedTicket(ticketID: try row.decode(0), customerID: try row.decode(1), facts: facts, knownLanguage: try row.decode(4),
                                        createdAt: try row.decode(9), customerWindowExpiresAt: try row.decode(10),
                                        lastAgent: try row.decode(11), lastContactAt: try row.decode(12), routedBefore: try row.decode(13))
            if let rule = try row.decode(14, as: String?.self), let outcome = try row.decode(15, as: String?.self) {
                ticket.triage = (rule, outcome, try row.decode(16, as: String?.self))
            }
            return ticket
        }
    }

    /// Stores each ticket's queue, priority, required skills and tags with a `routed` event, and the
    /// customer's language when it was unknown. Returns the tickets now waiting, ready for their queues,
    /// read in the same statement (as `waiting` reads them: the sticky agent's contact time of a
    /// reopened ticket is its new `updated_at`, which the outer query's snapshot does not see yet).
    public func recordRouting(_ decisions: [RoutingDecision], stickySeconds: TimeInterval, now: Date) async throws -> [StoredWaitingTicket] {
        guard !decisions.isEmpty else { return [] }
        var events: [String] = []
        var skills: [String] = []
        for decision in decisions {
            let actions = decision.rule.actions
            let proficiencies = Dictionary(actions.requiredSkills.map { ($0.skill, $0.minimumProficiency) }, uniquingKeysWith: max)
            skills.append(JSONWriter.write(.object(proficiencies.mapValues { .number(Double($0)) })))
            var event: [String: JSONValue] = [
                "rule": .string(decision.rule.name), "rule_position": .number(Double(decision.rule.index + 1)), "queue": .string(actions.queue),
                "priority": .string(actions.priority.name), "required_skills": .array(actions.requiredSkills.map { .string($0.description) }),
                "tags": .array(actions.tags.map(JSONValue.string)),
            ]
            if let language = decision.language { event["language"] = .string(language) }
            events.append(JSONWriter.write(.object(event)))
        }
        // The classification is not flushed to disk before it returns (`synchronous_commit` off for
        // this transaction alone): it can be derived again. Only a crash of the database server in
        // the next fraction of a second could lose it, and then the ticket is unrouted once more and
        // routed again at start; any later durable commit (its SLA, its assignment) flushes it first.
        // Its plan is the cached generic one (`HotPathSettings`).
        let written = try await pool.pipeline([HotPathSettings.statement(durableCommit: false), PostgresStatement("""
            WITH r AS (SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
                       AS r(ticket, customer, queue, priority, rule, skills, tags, language, event)),
            u AS (
                UPDATE switchboard.tickets t SET queue = r.queue, priority = r.priority, routing_rule = r.rule, required_skills = r.skills::jsonb,
                    -- Each decision's tags travel as one array literal: arrays of arrays cannot be ragged.
                    tags = ARRAY(SELECT DISTINCT unnest(t.tags || r.tags::text[])), waiting_since = coalesce(t.waiting_since, t.created_at),
                    queue_entered_at = $10, updated_at = $10
                FROM r WHERE t.id = r.ticket AND t.queue IS NULL AND t.assignee IS NULL AND t.status <> 'resolved'
                RETURNING t.id, t.queue, t.priority, t.waiting_since, t.queue_entered_at, t.customer_window_expires_at, t.required_skills::text,
                          t.excluded_agents, t.created_at, t.customer_id, t.updated_at, r.event, r.customer, r.language
            ),
            e AS (INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data) SELECT id, $10, $11, 'routing', event::jsonb FROM u ORDER BY id),
            l AS (UPDATE switchboard.customers c SET language = u.language, updated_at = $10 FROM u
                  WHERE c.id = u.customer AND u.language IS NOT NULL AND c.language IS DISTINCT FROM u.language)
            SELECT u.id, u.queue, u.priority, u.waiting_since, u.queue_entered_at, u.customer_window_expires_at, u.required_skills,
                   u.excluded_agents, last.last_assignee, last.contact_at, u.created_at
            FROM u
            LEFT JOIN LATERAL (SELECT p.last_assignee, coalesce(p.resolved_at, CASE WHEN p.id = u.id THEN u.updated_at ELSE p.updated_at END) AS contact_at
                               FROM switchboard.tickets p
                               WHERE p.customer_id = u.customer_id AND p.last_assignee IS NOT NULL
                               ORDER BY p.assigned_at DESC NULLS LAST, p.id DESC LIMIT 1) AS last ON true
            ORDER BY u.waiting_since, u.id
            """, [decisions.map(\.ticketID), decisions.map(\.customerID), decisions.map(\.rule.actions.queue), decisions.map(\.rule.actions.priority.name),
                  decisions.map(\.rule.name), skills, decisions.map { $0.rule.actions.tags.postgresParameter.text }, decisions.map(\.language), events,
                  now, TicketEventKind.routed.rawValue])])
        return try written[1].map { try Self.waitingTicket($0, stickySeconds: stickySeconds) }
    }

    // MARK: Waiting and assigned

    /// Waiting tickets (in a queue, no assignee, not resolved): the given ones, or every one.
    public func waiting(_ ticketIDs: [Int64]?, stickySeconds: TimeInterval) async throws -> [StoredWaitingTicket] {
        if let ticketIDs, ticketIDs.isEmpty { return [] }
        let source = ticketIDs == nil
            ? "switchboard.tickets t"
            : "unnest($1::bigint[]) AS k(id) CROSS JOIN LATERAL (SELECT * FROM switchboard.tickets WHERE id = k.id) AS t"
        let rows = try await pool.query("""
            SELECT t.id, t.queue, t.priority, t.waiting_since, t.queue_entered_at, t.customer_window_expires_at, t.required_skills::text,
                   t.excluded_agents, last.last_assignee, last.contact_at, t.created_at
            FROM \(source)
            LEFT JOIN LATERAL (SELECT p.last_assignee, coalesce(p.resolved_at, p.updated_at) AS contact_at FROM switchboard.tickets p
                               WHERE p.customer_id = t.customer_id AND p.last_assignee IS NOT NULL
                               ORDER BY p.assigned_at DESC NULLS LAST, p.id DESC LIMIT 1) AS last ON true
            WHERE t.queue IS NOT NULL AND t.assignee IS NULL AND t.status <> 'resolved'
            ORDER BY t.waiting_since, t.id
            """, ticketIDs.map { [$0] } ?? [])
        return try rows.map { try Self.waitingTicket($0, stickySeconds: stickySeconds) }
    }

    /// A waiting ticket from its row: id, queue, priority, waiting since, entered queue at, window
    /// expiry, required skills (JSON text), excluded agents, sticky agent, last contact, created at.
    private static func waitingTicket(_ row: PostgresRow, stickySeconds: TimeInterval) throws -> StoredWaitingTicket {
        let skills = try JSONDecoder().decode([String: Int].self, from: Data((try row.decode(6, as: String.self)).utf8))
        let requirements = skills.sorted { $0.key < $1.key }.compactMap { skill, level in
            (1...5).contains(level) ? SkillRequirement(skill, atLeast: level) : nil
        }
        let created: Date = try row.decode(10)
        let waitingSince = try row.decode(3, as: Date?.self) ?? created
        let sticky = StickyRouting.preference(lastAgent: try row.decode(8), lastContactAt: try row.decode(9), stickySeconds: stickySeconds)
        let ticket = WaitingOrder.Ticket(id: try row.decode(0), priority: WaitingOrder.Priority(name: try row.decode(2)) ?? .normal,
                                         waitingSince: waitingSince, customerWindowExpiresAt: try row.decode(5))
        return StoredWaitingTicket(
            queue: try row.decode(1),
            waiting: QueueMatcher.WaitingTicket(ticket: ticket, ruleRequirements: requirements, enteredQueueAt: try row.decode(4, as: Date?.self) ?? waitingSince,
                                                stickyAgent: sticky?.agent, stickyUntil: sticky?.until,
                                                excludedAgents: Set(try row.decode(7, as: [String].self))))
    }

    /// Assigned tickets that are not resolved: every one, the given ones, or one agent's.
    public func assignments(_ ticketIDs: [Int64]? = nil, of agentID: String? = nil) async throws -> [AssignedTicket] {
        var conditions = ["assignee IS NOT NULL", "status <> 'resolved'"]
        var parameters: [(any PostgresEncodable)?] = []
        if let ticketIDs {
            parameters.append(ticketIDs)
            conditions.append("id = ANY($\(parameters.count)::bigint[])")
        }
        if let agentID {
            parameters.append(agentID)
            conditions.append("assignee = $\(parameters.count)")
        }
        let rows = try await pool.query("""
            SELECT id, assignee, queue, status, assigned_at FROM switchboard.tickets WHERE \(conditions.joined(separator: " AND ")) ORDER BY id
            """, parameters)
        return try rows.map { row in
            AssignedTicket(ticketID: try row.decode(0), agentID: try row.decode(1), queue: try row.decode(2),
                           status: TicketStatus(rawValue: try row.decode(3, as: String.self)) ?? .open, assignedAt: try row.decode(4))
        }
    }

    /// Who holds each of these tickets (assignee and status, resolved ones too), as committed.
    public func holders(_ ticketIDs: [Int64]) async throws -> [Int64: (agentID: String, status: TicketStatus)] {
        guard !ticketIDs.isEmpty else { return [:] }
        let rows = try await pool.query("SELECT id, assignee, status FROM switchboard.tickets WHERE id = ANY($1::bigint[]) AND assignee IS NOT NULL",
                                        [ticketIDs])
        var holders: [Int64: (agentID: String, status: TicketStatus)] = [:]
        for row in rows {
            holders[try row.decode(0)] = (try row.decode(1), TicketStatus(rawValue: try row.decode(2, as: String.self)) ?? .open)
        }
        return holders
    }

    /// Commits assignments in one statement: each ticket gets its agent only if it is still waiting in
    /// that queue (not resolved, not assigned meanwhile), with an `assigned` event explaining why.
    /// Returns the tickets assigned, with their status; the others no longer needed an agent.
    public func commitAssignments(_ records: [AssignmentRecord], now: Date) async throws -> [Int64: TicketStatus] {
        guard !records.isEmpty else { return [:] }
        let events = records.map { record in
            JSONWriter.write(.object([
                "agent": .string(record.agentID), "queue": .string(record.queue), "strategy": .string(record.strategy.rawValue),
                "step": .number(Double(record.stepIndex + 1)), "reason": .string(record.reason), "detail": .string(record.detail),
                "requirements": .array(record.requirements.map { .string($0.description) }),
            ]))
        }
        let rows = try await pool.query("""
            WITH r AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS r(ticket, agent, queue, event)),
            u AS (
                UPDATE switchboard.tickets t SET assignee = r.agent, last_assignee = r.agent, assigned_at = $5, updated_at = $5
                FROM r WHERE t.id = r.ticket AND t.queue = r.queue AND t.assignee IS NULL AND t.status <> 'resolved'
                  -- An agent deactivated while a round was placing the ticket gets nothing.
                  AND EXISTS (SELECT 1 FROM switchboard.agents a WHERE a.id = r.agent AND a.active)
                RETURNING t.id, r.agent, r.event, t.status,
                          extract(epoch FROM $5 - coalesce(t.waiting_since, t.created_at)) AS waited
            ),
            e AS (INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                  SELECT id, $5, $6, 'routing', event::jsonb || jsonb_build_object('waited_seconds', round(waited::numeric, 3)) FROM u),
            a AS (UPDATE switchboard.agents SET last_assigned_at = $5 WHERE id IN (SELECT agent FROM u))
            SELECT id, status FROM u
            """, [records.map(\.ticketID), records.map(\.agentID), records.map(\.queue), events, now, TicketEventKind.assigned.rawValue])
        return Dictionary(try rows.map { (try $0.decode(0, as: Int64.self), TicketStatus(rawValue: try $0.decode(1, as: String.self)) ?? .open) },
                          uniquingKeysWith: { a, _ in a })
    }

    /// Takes tickets back from an agent (presence grace ran out, acceptance time ran out): they wait
    /// again in their queue at their old place. With `exclude`, that agent is not offered them again.
    /// With `onlyIf`, each ticket's acceptance facts are read under its row lock and it is taken only
    /// if `onlyIf` still holds of them: an accept (which locks the row too) commits before or after,
    /// never between the decision and the change. Returns the tickets now waiting.
    public func unassign(_ ticketIDs: [Int64], from agentID: String, kind: TicketEventKind, reason: String, exclude: Bool,
                         stickySeconds: TimeInterval, now: Date, actor: String = "routing",
                         onlyIf: (@Sendable (RoutingCoordinator.AcceptanceFacts) -> Bool)? = nil) async throws -> [StoredWaitingTicket] {
        guard !ticketIDs.isEmpty else { return [] }
        let parameters: [(any PostgresEncodable)?] = [ticketIDs, agentID, now, reason, exclude, kind.rawValue, actor]
        let ids: [Int64]
        if let onlyIf {
            ids = try await pool.withTransaction { transaction in
                var still: [Int64] = []
                for ticketID in ticketIDs.sorted() {
                    let rows = try await transaction.query(Self.acceptanceFactsSQL + " FOR UPDATE OF t", [ticketID, TicketEventKind.accepted.rawValue])
                    if try onlyIf(Self.acceptanceFacts(rows.first)) { still.append(ticketID) }
                }
                guard !still.isEmpty else { return [] }
                var lockedParameters = parameters
                lockedParameters[0] = still
                return try await transaction.query(Self.unassignSQL, lockedParameters).map { try $0.decode(0, as: Int64.self) }
            }
        } else {
            ids = try await pool.query(Self.unassignSQL, parameters).map { try $0.decode(0, as: Int64.self) }
        }
        return try await waiting(ids, stickySeconds: stickySeconds)
    }

    private static let unassignSQL = """
        WITH u AS (
            UPDATE switchboard.tickets SET assignee = NULL, assigned_at = NULL, updated_at = $3,
                waiting_since = coalesce(waiting_since, created_at),
                excluded_agents = CASE WHEN $5 AND NOT ($2 = ANY(excluded_agents)) THEN array_append(excluded_agents, $2) ELSE excluded_agents END
            WHERE id = ANY($1::bigint[]) AND assignee = $2 AND status <> 'resolved'
            RETURNING id
        ),
        e AS (INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
              SELECT id, $3, $6, $7, jsonb_build_object('agent', $2::text, 'reason', $4::text) FROM u)
        SELECT id FROM u
        """

    /// What the acceptance rule (`RoutingCoordinator.acceptanceMissed`) needs of a ticket: who holds
    /// it since when, its status, the latest reply sent on it and the latest `accepted` event by its
    /// agent (an acceptance of an earlier assignment by someone else does not count).
    public func acceptanceFacts(_ ticketID: Int64) async throws -> RoutingCoordinator.AcceptanceFacts {
        try Self.acceptanceFacts(try await pool.query(Self.acceptanceFactsSQL, [ticketID, TicketEventKind.accepted.rawValue]).first)
    }

    private static let acceptanceFactsSQL = """
        SELECT t.assignee, t.assigned_at, t.status,
               (SELECT max(m.received_at) FROM switchboard.messages m WHERE m.ticket_id = t.id AND m.direction = 'outbound'),
               (SELECT max(e.at) FROM switchboard.ticket_events e WHERE e.ticket_id = t.id AND e.kind = $2 AND e.data->>'agent' = t.assignee)
        FROM switchboard.tickets t WHERE t.id = $1
        """

    private static func acceptanceFacts(_ row: PostgresRow?) throws -> RoutingCoordinator.AcceptanceFacts {
        guard let row else { return .init(assignee: nil, assignedAt: nil, status: .resolved, lastReplyAt: nil, acceptedAt: nil) }
        return .init(assignee: try row.decode(0), assignedAt: try row.decode(1), status: TicketStatus(rawValue: try row.decode(2, as: String.self)) ?? .open,
                     lastReplyAt: try row.decode(3), acceptedAt: try row.decode(4))
    }

    /// Moves a waiting ticket to another queue (its last step ran out, or an SLA escalation); the
    /// steps start again there.
    public func move(_ ticketID: Int64, from: String, to: String, reason: String = "last routing step ran out", actor: String = "routing",
                     stickySeconds: TimeInterval, now: Date) async throws -> StoredWaitingTicket? {
        let rows = try await pool.query("""
            WITH u AS (
                UPDATE switchboard.tickets SET queue = $3, queue_entered_at = $4, updated_at = $4
                WHERE id = $1 AND queue = $2 AND assignee IS NULL AND status <> 'resolved' RETURNING id
            ),
            e AS (INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                  SELECT id, $4, $7, $6, jsonb_build_object('from', $2::text, 'to', $3::text, 'reason', $5::text) FROM u)
            SELECT id FROM u
            """, [ticketID, from, to, now, reason, actor, TicketEventKind.moved.rawValue])
        guard !rows.isEmpty else { return nil }
        return try await waiting([ticketID], stickySeconds: stickySeconds).first
    }

    /// The outcome of a status change, for the actors.
    public struct StatusChange: Sendable, Equatable {
        public var previous: TicketStatus
        public var assignee: String?
        public var queue: String?
    }

    /// Sets a ticket's status (an agent resolves it or waits on the customer), with a
    /// `status_changed` event. Nil when the ticket does not exist or already has that status.
    /// `also`: a second event saying why, in the same statement (auto-close's `auto_resolved`).
    public func setStatus(_ ticketID: Int64, to status: TicketStatus, actor: String, now: Date,
                          also: (kind: TicketEventKind, data: String)? = nil) async throws -> StatusChange? {
        let rows = try await pool.query("""
            WITH old AS (SELECT id, status FROM switchboard.tickets WHERE id = $1 FOR UPDATE),
            u AS (
                UPDATE switchboard.tickets t SET status = $2, resolved_at = CASE WHEN $2 = 'resolved' THEN $4::timestamptz END, updated_at = $4
                FROM old WHERE t.id = old.id AND old.status <> $2
                RETURNING t.id, old.status AS previous, t.assignee, t.queue
            ),
            e AS (INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                  SELECT id, $4, $5, $3, jsonb_build_object('from', previous, 'to', $2::text) FROM u
                  UNION ALL
                  SELECT id, $4, $6, $3, $7::jsonb FROM u WHERE $6::text IS NOT NULL)
            SELECT previous, assignee, queue FROM u
            """, [ticketID, status.rawValue, actor, now, TicketEventKind.statusChanged.rawValue, also?.kind.rawValue, also?.data ?? "{}"])
        guard let row = rows.first else { return nil }
        return StatusChange(previous: TicketStatus(rawValue: try row.decode(0, as: String.self)) ?? .open,
                            assignee: try row.decode(1), queue: try row.decode(2))
    }

    // MARK: By hand

    public struct ManualAssignment: Sendable, Equatable {
        public var previous: String?
        public var queue: String?
        public var status: TicketStatus
    }

    /// A supervisor gives a ticket to an agent, whoever held it, whatever routing would choose: an
    /// `assigned` event saying by whom. Nil when the ticket is resolved or unknown, or the agent
    /// already holds it.
    /// With `onlyIfUnassigned` (an agent taking a ticket), nil also when someone holds it.
    public func assign(_ ticketID: Int64, to agentID: String, actor: String, reason: String, now: Date, onlyIfUnassigned: Bool = false) async throws -> ManualAssignment? {
        let rows = try await pool.query("""
            WITH old AS (SELECT id, assignee FROM switchboard.tickets WHERE id = $1 AND status <> 'resolved' FOR UPDATE),
            u AS (
                UPDATE switchboard.tickets t SET assignee = $2, last_assignee = $2, assigned_at = $3, updated_at = $3
                FROM old WHERE t.id = old.id AND old.assignee IS DISTINCT FROM $2 AND (NOT $6 OR old.assignee IS NULL)
                  AND EXISTS (SELECT 1 FROM switchboard.agents a WHERE a.id = $2 AND a.active)
                RETURNING t.id, old.assignee AS previous, t.queue, t.status,
                          extract(epoch FROM $3 - coalesce(t.waiting_since, t.created_at)) AS waited
            ),
            e AS (INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                  SELECT id, $3, $7, $4, jsonb_build_object('agent', $2::text, 'queue', queue, 'reason', 'by hand', 'detail', $5::text,
                                                                    'previous', previous, 'waited_seconds', round(waited::numeric, 3)) FROM u),
            a AS (UPDATE switchboard.agents SET last_assigned_at = $3 WHERE id = $2 AND EXISTS (SELECT 1 FROM u))
            SELECT previous, queue, status FROM u
            """, [ticketID, agentID, now, actor, reason, onlyIfUnassigned, TicketEventKind.assigned.rawValue])
        guard let row = rows.first else { return nil }
        return ManualAssignment(previous: try row.decode(0), queue: try row.decode(1), status: TicketStatus(rawValue: try row.decode(2, as: String.self)) ?? .open)
    }

    /// Queues a supervisor paused (they stay paused across restarts).
    public func pausedQueues() async throws -> Set<String> {
        Set(try await pool.query("SELECT queue FROM switchboard.queue_states WHERE paused").map { try $0.decode(0, as: String.self) })
    }

    public func setQueuePaused(_ queue: String, _ paused: Bool, actor: String, now: Date) async throws {
        try await pool.query("""
            INSERT INTO switchboard.queue_states (queue, paused, changed_at, changed_by) VALUES ($1, $2, $3, $4)
            ON CONFLICT (queue) DO UPDATE SET paused = EXCLUDED.paused, changed_at = EXCLUDED.changed_at, changed_by = EXCLUDED.changed_by
            """, [queue, paused, now, actor])
    }

    // MARK: Escalation

    /// Sets a ticket's priority with a `priority_changed` event. Returns the ticket's queue when it
    /// waits in one (its place changes), nil otherwise; throws nothing for an unchanged priority.
    public func setPriority(_ ticketID: Int64, to priority: WaitingOrder.Priority, actor: String, reason: String, now: Date) async throws -> PriorityChange? {
        let rows = try await pool.query("""
            WITH old AS (SELECT id, priority FROM switchboard.tickets WHERE id = $1 AND status <> 'resolved' FOR UPDATE),
            u AS (
                UPDATE switchboard.tickets t SET priority = $2, updated_at = $3 FROM old
                WHERE t.id = old.id AND old.priority <> $2
                RETURNING t.id, old.priority AS previous, t.queue, t.assignee
            ),
            e AS (INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                  SELECT id, $3, $6, $4, jsonb_build_object('from', previous, 'to', $2::text, 'reason', $5::text) FROM u)
            SELECT previous, queue, assignee FROM u
            """, [ticketID, priority.name, now, actor, reason, TicketEventKind.priorityChanged.rawValue])
        guard let row = rows.first else { return nil }
        return PriorityChange(previous: WaitingOrder.Priority(name: try row.decode(0)) ?? .normal, queue: try row.decode(1), assignee: try row.decode(2))
    }

    public struct PriorityChange: Sendable, Equatable {
        public var previous: WaitingOrder.Priority
        public var queue: String?
        public var assignee: String?
    }

    /// The ticket's priority, queue and assignee (nil: no such open ticket).
    public func placement(_ ticketID: Int64) async throws -> TicketPlacement? {
        let rows = try await pool.query("SELECT priority, queue, assignee FROM switchboard.tickets WHERE id = $1 AND status <> 'resolved'", [ticketID])
        guard let row = rows.first else { return nil }
        return TicketPlacement(priority: WaitingOrder.Priority(name: try row.decode(0)) ?? .normal, queue: try row.decode(1), assignee: try row.decode(2))
    }

    /// Adds a tag to a ticket with a `tagged` event. False when it already had it (or is unknown).
    public func addTag(_ ticketID: Int64, _ tag: String, actor: String, reason: String, now: Date) async throws -> Bool {
        let rows = try await pool.query("""
            WITH u AS (
                UPDATE switchboard.tickets SET tags = array_append(tags, $2), updated_at = $3
                WHERE id = $1 AND NOT ($2 = ANY(tags)) RETURNING id
            ),
            e AS (INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                  SELECT id, $3, $6, $4, jsonb_build_object('tag', $2::text, 'reason', $5::text) FROM u)
            SELECT id FROM u
            """, [ticketID, tag, now, actor, reason, TicketEventKind.tagged.rawValue])
        return !rows.isEmpty
    }

    /// Removes a tag with an `untagged` event. False when the ticket did not have it (or is unknown).
    public func removeTag(_ ticketID: Int64, _ tag: String, actor: String, now: Date) async throws -> Bool {
        let rows = try await pool.query("""
            WITH u AS (
                UPDATE switchboard.tickets SET tags = array_remove(tags, $2), updated_at = $3
                WHERE id = $1 AND $2 = ANY(tags) RETURNING id
            ),
            e AS (INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                  SELECT id, $3, $5, $4, jsonb_build_object('tag', $2::text) FROM u)
            SELECT id FROM u
            """, [ticketID, tag, now, actor, TicketEventKind.untagged.rawValue])
        return !rows.isEmpty
    }

    /// Files an agent's ticket under another queue (a `moved` event), before it goes back to that
    /// queue: a supervisor's transfer. Nil when the ticket has no agent, is resolved, or is there
    /// already; else the queue it was in.
    public func moveAssigned(_ ticketID: Int64, to queue: String, actor: String, now: Date) async throws -> String? {
        let rows = try await pool.query("""
            WITH old AS (SELECT id, queue FROM switchboard.tickets WHERE id = $1 FOR UPDATE),
            u AS (
                UPDATE switchboard.tickets t SET queue = $2, updated_at = $3 FROM old
                WHERE t.id = old.id AND t.assignee IS NOT NULL AND t.status <> 'resolved' AND old.queue IS DISTINCT FROM $2
                RETURNING t.id, old.queue AS previous
            ),
            e AS (INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                  SELECT id, $3, $5, $4, jsonb_build_object('from', previous, 'to', $2::text, 'reason', 'transferred by ' || $4) FROM u)
            SELECT coalesce(previous, '') FROM u
            """, [ticketID, queue, now, actor, TicketEventKind.moved.rawValue])
        return try rows.first?.decode(0, as: String.self)
    }
}

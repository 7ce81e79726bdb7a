import Foundation
import Postgres
import SwitchboardCore

/// Reading every waiting ticket at start without holding them all as text: a cursor hands them over
/// in chunks, each decoded while the server reads the next one.
extension RoutingStore {
    /// Every waiting ticket (in a queue, no assignee, not resolved), to `body` in chunks of at most
    /// `chunkSize`, in no particular order: a queue serves in its own order, so the rebuild puts
    /// every ticket in before any queue matches. One snapshot (the cursor's) covers them all, as one
    /// query did. The rows and their decoding are those of `waiting(_:stickySeconds:)`.
    public func streamWaiting(stickySeconds: TimeInterval, chunkSize: Int = 10_000,
                              _ body: @Sendable ([StoredWaitingTicket]) async throws -> Void) async throws {
        precondition(chunkSize >= 1, "a chunk holds at least one ticket")
        try await pool.withTransaction { transaction in
            _ = try await transaction.pipeline([
                LocalSettings.wholeResultCursor,
                PostgresStatement(Self.waitingCursorSQL),
            ])
            var decoder = WaitingRowDecoder(stickySeconds: stickySeconds)
            let fetch = "FETCH \(chunkSize) FROM rebuild_waiting"
            var rows = try await transaction.query(fetch, decoding: WaitingRow.init)
            while !rows.isEmpty {
                // The server reads the next chunk while this one is decoded and handed over.
                async let next = transaction.query(fetch, decoding: WaitingRow.init)
                let chunk = try rows.map { try decoder.decode($0) }
                try await body(chunk)
                rows = try await next
            }
        }
    }

    static let waitingCursorSQL = """
        DECLARE rebuild_waiting NO SCROLL CURSOR FOR
        SELECT t.id, t.queue, t.priority, t.waiting_since, t.queue_entered_at, t.customer_window_expires_at, t.required_skills::text,
               t.excluded_agents, last.last_assignee, last.contact_at, t.created_at
        FROM switchboard.tickets t
        LEFT JOIN LATERAL (SELECT p.last_assignee, coalesce(p.resolved_at, p.updated_at) AS contact_at FROM switchboard.tickets p
                           WHERE p.customer_id = t.customer_id AND p.last_assignee IS NOT NULL
                           ORDER BY p.assigned_at DESC NULLS LAST, p.id DESC LIMIT 1) AS last ON true
        WHERE t.queue IS NOT NULL AND t.assignee IS NULL AND t.status <> 'resolved'
        """
}

/// A waiting ticket's row as read in place on the connection's loop (the columns of
/// `RoutingStore.waiting`); `WaitingRowDecoder` makes the value routing keeps.
struct WaitingRow: Sendable {
    var id: Int64, queue: String, priority: String, waitingSince: Date?, enteredQueueAt: Date?, windowExpiresAt: Date?
    var skills: String, excluded: String, lastAgent: String?, lastContactAt: Date?, createdAt: Date

    init(_ cells: PostgresCells) throws {
        func required<T>(_ value: T?, _ column: String) throws -> T {
            guard let value else { throw PostgresError.decoding(column: column, expected: "\(T.self)", reason: "unexpected NULL") }
            return value
        }
        id = try required(try cells.int64(0), "id")
        queue = try required(cells.string(1), "queue")
        priority = try required(cells.string(2), "priority")
        waitingSince = try cells.date(3)
        enteredQueueAt = try cells.date(4)
        windowExpiresAt = try cells.date(5)
        skills = try required(cells.string(6), "required_skills")
        excluded = try required(cells.string(7), "excluded_agents")
        lastAgent = cells.string(8)
        lastContactAt = try cells.date(9)
        createdAt = try required(try cells.date(10), "created_at")
    }
}

/// Makes waiting tickets from their rows as `RoutingStore.waiting` does, sharing what repeats: one
/// requirement array per distinct `required_skills` text (a few rules make them all), one string per
/// queue and agent name. A million waiting tickets then carry no array or string of their own, and
/// the JSON of a rule's skills is parsed once, not once per ticket.
struct WaitingRowDecoder {
    let stickySeconds: TimeInterval
    private var requirements: [String: [SkillRequirement]] = [:]
    private var names: [String: String] = [:]
    private var excluded: [String: Set<String>] = [:]

    init(stickySeconds: TimeInterval) {
        self.stickySeconds = stickySeconds
    }

    mutating func decode(_ row: WaitingRow) throws -> StoredWaitingTicket {
        let waitingSince = row.waitingSince ?? row.createdAt
        let sticky = StickyRouting.preference(lastAgent: row.lastAgent.map { shared($0) }, lastContactAt: row.lastContactAt, stickySeconds: stickySeconds)
        let ticket = WaitingOrder.Ticket(id: row.id, priority: WaitingOrder.Priority(name: row.priority) ?? .normal,
                                         waitingSince: waitingSince, customerWindowExpiresAt: row.windowExpiresAt)
        return StoredWaitingTicket(
            queue: shared(row.queue),
            waiting: QueueMatcher.WaitingTicket(ticket: ticket, ruleRequirements: try requirements(row.skills),
                                                enteredQueueAt: row.enteredQueueAt ?? waitingSince,
                                                stickyAgent: sticky?.agent, stickyUntil: sticky?.until,
                                                excludedAgents: try excludedAgents(row.excluded)))
    }

    /// The rule's skills (`{"lang:es": 3}`) as requirements, sorted by skill; levels outside 1–5 dropped.
    private mutating func requirements(_ text: String) throws -> [SkillRequirement] {
        if let known = requirements[text] { return known }
        let skills = try JSONDecoder().decode([String: Int].self, from: Data(text.utf8))
        let parsed = skills.sorted { $0.key < $1.key }.compactMap { skill, level in
            (1...5).contains(level) ? SkillRequirement(shared(skill), atLeast: level) : nil
        }
        requirements[text] = parsed
        return parsed
    }

    private mutating func excludedAgents(_ text: String) throws -> Set<String> {
        guard text != "{}" else { return [] }
        if let known = excluded[text] { return known }
        let agents = Set(try [String](postgresText: text, oid: PostgresOID.textArray).map { shared($0) })
        excluded[text] = agents
        return agents
    }

    private mutating func shared(_ name: String) -> String {
        if let known = names[name] { return known }
        names[name] = name
        return name
    }
}

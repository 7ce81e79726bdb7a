import Foundation
import Logging
import Postgres
import Synchronization
import SwitchboardCore

/// Writes webhook deliveries: the raw body, customers, tickets (threaded), messages, statuses and the
/// ticket events, all in one transaction per call, so a delivery is stored whole or not at all.
///
/// Exactly once: a message is keyed by its `wamid` and a status by (`wamid`, status). Messages of one
/// customer to one business number are serialized with a transaction-scoped advisory lock, taken in a
/// fixed order, so concurrent deliveries neither duplicate a message nor open two tickets.
public struct WebhookIngestStore: Sendable {
    let pool: PostgresPool
    /// A message this soon after its customer's last ticket was resolved reopens that ticket.
    let reopenWithin: TimeInterval
    /// Business numbers known to be in the table (learned after commit), so most messages skip the upsert.
    private let knownNumbers = KnownBusinessNumbers()

    public init(pool: PostgresPool, reopenWithin: TimeInterval) {
        self.pool = pool
        self.reopenWithin = reopenWithin
    }

    /// Stores several deliveries in one transaction (group commit) and returns a result per delivery.
    public func store(_ deliveries: [IncomingDelivery]) async throws -> [IngestResult] {
        let written = try await pool.withRetryingTransaction(isolation: .readCommitted) { transaction in
            // Lock every thread the batch touches, in one order, before writing anything.
            // One round trip: the keys' hashes are sorted before any lock is taken (the subquery is
            // materialized in order), so two transactions never wait on each other in a cycle.
            let keys = Array(Set(deliveries.flatMap { $0.messages.map(\.threadKey) }))
            if !keys.isEmpty {
                try await transaction.query(
                    """
                    SELECT pg_advisory_xact_lock(h) FROM
                        (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1 OFFSET 0) AS ordered
                    """,
                    [keys]
                )
            }
            return try await writeBatch(deliveries, in: transaction)
        }
        knownNumbers.learn(written.1)
        return written.0
    }

    public func store(_ delivery: IncomingDelivery) async throws -> IngestResult {
        guard let result = try await store([delivery]).first else {
            preconditionFailure("one delivery in, one result out")
        }
        return result
    }

    /// A customer thread: one customer with one business number.
    private struct Thread: Hashable {
        let customerID: Int64
        let businessNumber: String
    }

    /// Writes a batch in a fixed number of statements: deliveries, dedupe, customers, tickets,
    /// messages, events, statuses. Threading is decided in Swift between the reads and the writes.
    private func writeBatch(_ deliveries: [IncomingDelivery], in transaction: PostgresTransaction) async throws -> ([IngestResult], Set<String>) {
        // 1. The raw deliveries. Ids come from a sequence in the order of `ord`, so sorted ids map back.
        let deliveryRows = deliveries.enumerated().map { index, delivery in
            IngestRows.Delivery(ord: index, receivedAt: delivery.receivedAt.timeIntervalSince1970, bodyHex: IngestRows.hex(delivery.body),
                                messages: delivery.messages.count, statuses: delivery.statuses.count, decodeProblem: delivery.decodeProblem)
        }
        let deliveryIDs = try await transaction.query(
            """
            INSERT INTO switchboard.webhook_deliveries (received_at, body, messages, statuses, decode_problem)
            SELECT to_timestamp(received_at), decode(body_hex, 'hex'), messages, statuses, decode_problem
            FROM jsonb_to_recordset($1::jsonb) AS d(ord int, received_at float8, body_hex text, messages int, statuses int, decode_problem text)
            ORDER BY ord RETURNING id
            """,
            [try IngestRows.json(deliveryRows)]
        ).map { try $0.decode(0, as: Int64.self) }.sorted()
        var results = deliveryIDs.map { IngestResult(deliveryID: $0) }

        // 2. Which messages are new: not stored before, and the first of their wamid in this batch.
        let allWamids = Array(Set(deliveries.flatMap { $0.messages.map(\.wamid) }))
        var seen = Set(try await transaction.query("SELECT wamid FROM switchboard.messages WHERE wamid = ANY($1::text[])", [allWamids])
            .map { try $0.decode(0, as: String.self) })
        var fresh: [(delivery: Int, message: IncomingMessage, receivedAt: Date)] = []
        for (index, delivery) in deliveries.enumerated() {
            for message in delivery.messages {
                if seen.insert(message.wamid).inserted {
                    fresh.append((index, message, delivery.receivedAt))
                } else {
                    results[index].duplicates.append(message.wamid)
                }
            }
        }

        // 3. Business numbers this process has not seen committed.
        var numbers = Set<String>()
        for item in fresh where !knownNumbers.contains(item.message.businessNumberID) && numbers.insert(item.message.businessNumberID).inserted {
            try await upsertBusinessNumber(item.message, in: transaction)
        }

        // 4. Customers: create the unknown ones, fill in identifiers nobody else holds, then read ids.
        let customerIDs = try await customers(for: fresh.map(\.message), in: transaction)

        // 5. Tickets: the latest of every thread, locked; each thread's first message decides.
        var threadOfMessage: [Thread] = []
        var firstOfThread: [Thread: Int] = [:]
        for (position, item) in fresh.enumerated() {
            guard let customerID = customerIDs[position] else { throw PostgresError.unexpected("a customer was not found after upsert") }
            let thread = Thread(customerID: customerID, businessNumber: item.message.businessNumberID)
            threadOfMessage.append(thread)
            if firstOfThread[thread] == nil { firstOfThread[thread] = position }
        }
        let threads = Array(firstOfThread.keys)
        var latest: [Thread: TicketThreading.LatestTicket] = [:]
        if !threads.isEmpty {
            let rows = try await transaction.query(
                """
                SELECT id, customer_id, business_number, status, resolved_at FROM switchboard.tickets WHERE id IN (
                    SELECT DISTINCT ON (customer_id, business_number) id FROM switchboard.tickets
                    WHERE (customer_id, business_number) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))
                    ORDER BY customer_id, business_number, created_at DESC, id DESC)
                FOR UPDATE
                """,
                [threads.map { Int($0.customerID) }, threads.map(\.businessNumber)]
            )
            for row in rows {
                guard let status = TicketStatus(rawValue: try row.decode(3, as: String.self)) else {
                    throw PostgresError.unexpected("a ticket has an unknown status")
                }
                let thread = Thread(customerID: try row.decode(1, as: Int64.self), businessNumber: try row.decode(2, as: String.self))
                latest[thread] = .init(id: try row.decode(0, as: Int64.self), status: status, resolvedAt: try row.decode(4, as: Date?.self))
            }
        }
        var decisions: [Thread: TicketThreading.Decision] = [:]
        var lastInbound: [Thread: Date] = [:]
        for (position, thread) in threadOfMessage.enumerated() {
            lastInbound[thread] = max(lastInbound[thread] ?? .distantPast, fresh[position].receivedAt)
        }
        var newTickets: [IngestRows.NewTicket] = []
        var updates: [IngestRows.TicketUpdate] = []
        for (index, thread) in threads.enumerated() {
            guard let first = firstOfThread[thread], let last = lastInbound[thread] else { continue }
            let decision = TicketThreading.decide(latest: latest[thread], receivedAt: fresh[first].receivedAt, reopenWithin: reopenWithin)
            decisions[thread] = decision
            let closes = CustomerServiceWindow.closes(afterInboundAt: last).timeIntervalSince1970
            switch decision {
            case .newTicket:
                newTickets.append(.init(ord: index, customerID: thread.customerID, businessNumber: thread.businessNumber,
                                        createdAt: fresh[first].receivedAt.timeIntervalSince1970, lastInboundAt: last.timeIntervalSince1970, windowCloses: closes))
            case .append(let id), .wakeUp(let id), .reopen(let id):
                updates.append(.init(id: id, lastInboundAt: last.timeIntervalSince1970, windowCloses: closes))
            }
        }
        var ticketOf: [Thread: Int64] = [:]
        if !newTickets.isEmpty {
            let created = try await transaction.query(
                """
                INSERT INTO switchboard.tickets (customer_id, business_number, created_at, updated_at, last_inbound_at, customer_window_expires_at)
                SELECT customer_id, business_number, to_timestamp(created_at), to_timestamp(created_at), to_timestamp(last_inbound_at), to_timestamp(window_closes)
                FROM jsonb_to_recordset($1::jsonb) AS t(ord int, customer_id bigint, business_number text, created_at float8, last_inbound_at float8, window_closes float8)
                ORDER BY ord RETURNING id, customer_id, business_number
                """,
                [try IngestRows.json(newTickets)]
            )
            for row in created {
                ticketOf[Thread(customerID: try row.decode(1, as: Int64.self), businessNumber: try row.decode(2, as: String.self))] = try row.decode(0, as: Int64.self)
            }
        }
        if !updates.isEmpty {
            try await transaction.query(
                """
                UPDATE switchboard.tickets AS t SET status = 'open', resolved_at = NULL, updated_at = to_timestamp(u.last_inbound_at),
                    last_inbound_at = greatest(t.last_inbound_at, to_timestamp(u.last_inbound_at)),
                    customer_window_expires_at = greatest(t.customer_window_expires_at, to_timestamp(u.window_closes))
                FROM jsonb_to_recordset($1::jsonb) AS u(id bigint, last_inbound_at float8, window_closes float8)
                WHERE t.id = u.id
                """,
                [try IngestRows.json(updates)]
            )
        }
        for (thread, decision) in decisions {
            switch decision {
            case .append(let id), .wakeUp(let id), .reopen(let id): ticketOf[thread] = id
            case .newTicket: break
            }
        }

        // 6. Messages, then the events: each thread's own first, then one per message.
        var messageRows: [IngestRows.Message] = []
        for (position, item) in fresh.enumerated() {
            guard let ticketID = ticketOf[threadOfMessage[position]] else { throw PostgresError.unexpected("a message has no ticket") }
            let message = item.message
            messageRows.append(.init(ord: position, ticketID: ticketID, wamid: message.wamid, type: message.type, body: message.body,
                                     details: message.detailsJSON, targetWamid: message.targetWamid, payload: message.payloadJSON,
                                     sentAt: message.sentAt?.timeIntervalSince1970, receivedAt: item.receivedAt.timeIntervalSince1970))
        }
        var messageIDs: [String: Int64] = [:]
        if !messageRows.isEmpty {
            let inserted = try await transaction.query(
                """
                INSERT INTO switchboard.messages (ticket_id, direction, wamid, type, body, details, target_wamid, payload, provider_sent_at, received_at)
                SELECT ticket_id, 'inbound', wamid, type, body, details::jsonb, target_wamid, payload::jsonb, to_timestamp(sent_at), to_timestamp(received_at)
                FROM jsonb_to_recordset($1::jsonb) AS m(ord int, ticket_id bigint, wamid text, type text, body text, details text, target_wamid text, payload text, sent_at float8, received_at float8)
                ORDER BY ord RETURNING id, wamid
                """,
                [try IngestRows.json(messageRows)]
            )
            for row in inserted { messageIDs[try row.decode(1, as: String.self)] = try row.decode(0, as: Int64.self) }
        }
        var events: [IngestRows.Event] = []
        var threadEventWritten = Set<Thread>()
        for (position, item) in fresh.enumerated() {
            let thread = threadOfMessage[position]
            guard let ticketID = ticketOf[thread], let messageID = messageIDs[item.message.wamid], let decision = decisions[thread] else {
                throw PostgresError.unexpected("a stored message lost its ticket or id")
            }
            let at = item.receivedAt.timeIntervalSince1970
            if threadEventWritten.insert(thread).inserted {
                switch decision {
                case .newTicket: events.append(.init(ord: events.count, ticketID: ticketID, at: at, kind: "created", data: #"{"by": "inbound message"}"#))
                case .wakeUp: events.append(.init(ord: events.count, ticketID: ticketID, at: at, kind: "status_changed", data: #"{"from": "pending", "to": "open", "by": "customer message"}"#))
                case .reopen: events.append(.init(ord: events.count, ticketID: ticketID, at: at, kind: "reopened", data: #"{"by": "customer message"}"#))
                case .append: break
                }
            }
            events.append(.init(ord: events.count, ticketID: ticketID, at: at, kind: "message_received",
                                data: #"{"message_id": \#(messageID), "type": \#(IngestRows.jsonString(item.message.type))}"#))
            let threading = position == firstOfThread[thread] ? decision : .append(to: ticketID)
            results[item.delivery].stored.append(.init(wamid: item.message.wamid, messageID: messageID, ticketID: ticketID,
                                                       ticketReference: "", threading: threading))
        }
        if !events.isEmpty {
            try await transaction.query(
                """
                INSERT INTO switchboard.ticket_events (ticket_id, at, kind, data)
                SELECT ticket_id, to_timestamp(at), kind, data::jsonb
                FROM jsonb_to_recordset($1::jsonb) AS e(ord int, ticket_id bigint, at float8, kind text, data text) ORDER BY ord
                """,
                [try IngestRows.json(events)]
            )
        }
        let ticketIDs = Array(Set(ticketOf.values)).map { Int($0) }
        if !ticketIDs.isEmpty {
            var references: [Int64: String] = [:]
            for row in try await transaction.query("SELECT id, reference FROM switchboard.tickets WHERE id = ANY($1::bigint[])", [ticketIDs]) {
                references[try row.decode(0, as: Int64.self)] = try row.decode(1, as: String.self)
            }
            for index in results.indices {
                for stored in results[index].stored.indices {
                    results[index].stored[stored].ticketReference = references[results[index].stored[stored].ticketID] ?? ""
                }
            }
        }

        // 7. Statuses: recorded once per (wamid, status); outbound messages move forward only.
        try await writeStatuses(deliveries, results: &results, in: transaction)
        return (results, numbers)
    }

    /// Creates customers not seen before, fills identifiers an existing record lacks (unless another
    /// customer holds them: merging is a person's decision), and returns each message's customer id.
    private func customers(for messages: [IncomingMessage], in transaction: PostgresTransaction) async throws -> [Int64?] {
        guard !messages.isEmpty else { return [] }
        let rows = messages.enumerated().map { index, message in
            IngestRows.Customer(ord: index, waID: message.customerWaID, userID: message.customerUserID, profileName: message.customerName,
                                country: message.customerWaID.flatMap(CallingCodes.country(ofPhone:)))
        }
        let json = try IngestRows.json(rows)
        // Fill first (for records found by one identifier), then create what is still unknown.
        try await transaction.query(
            """
            UPDATE switchboard.customers AS c SET
                wa_id = coalesce(c.wa_id, CASE WHEN NOT EXISTS (SELECT 1 FROM switchboard.customers x WHERE x.wa_id = n.wa_id) THEN n.wa_id END),
                user_id = coalesce(c.user_id, CASE WHEN NOT EXISTS (SELECT 1 FROM switchboard.customers x WHERE x.user_id = n.user_id) THEN n.user_id END),
                profile_name = coalesce(n.profile_name, c.profile_name), updated_at = now()
            FROM (SELECT DISTINCT ON (coalesce(wa_id, ''), coalesce(user_id, '')) * FROM jsonb_to_recordset($1::jsonb)
                  AS r(ord int, wa_id text, user_id text, profile_name text, country text) ORDER BY coalesce(wa_id, ''), coalesce(user_id, ''), ord DESC) AS n
            WHERE c.id = (SELECT min(id) FROM switchboard.customers y WHERE y.wa_id = n.wa_id OR y.user_id = n.user_id)
              AND (c.wa_id IS NULL AND n.wa_id IS NOT NULL OR c.user_id IS NULL AND n.user_id IS NOT NULL
                   OR n.profile_name IS DISTINCT FROM c.profile_name AND n.profile_name IS NOT NULL)
            """,
            [json]
        )
        try await transaction.query(
            """
            INSERT INTO switchboard.customers (wa_id, user_id, profile_name, country)
            SELECT DISTINCT ON (coalesce(wa_id, user_id)) wa_id, user_id, profile_name, country
            FROM jsonb_to_recordset($1::jsonb) AS r(ord int, wa_id text, user_id text, profile_name text, country text)
            WHERE NOT EXISTS (SELECT 1 FROM switchboard.customers c WHERE c.wa_id = r.wa_id OR c.user_id = r.user_id)
            ORDER BY coalesce(wa_id, user_id), ord
            ON CONFLICT DO NOTHING
            """,
            [json]
        )
        let found = try await transaction.query(
            """
            SELECT r.ord, (SELECT min(id) FROM switchboard.customers c WHERE c.wa_id = r.wa_id OR c.user_id = r.user_id)
            FROM jsonb_to_recordset($1::jsonb) AS r(ord int, wa_id text, user_id text)
            """,
            [json]
        )
        var ids = [Int64?](repeating: nil, count: messages.count)
        for row in found { ids[try row.decode(0, as: Int.self)] = try row.decode(1, as: Int64?.self) }
        return ids
    }

    private func writeStatuses(_ deliveries: [IncomingDelivery], results: inout [IngestResult], in transaction: PostgresTransaction) async throws {
        var rows: [IngestRows.Status] = []
        var owner: [String: Int] = [:]
        for (index, delivery) in deliveries.enumerated() {
            for status in delivery.statuses where owner["\(status.wamid)|\(status.status)"] == nil {
                owner["\(status.wamid)|\(status.status)"] = index
                rows.append(.init(ord: rows.count, wamid: status.wamid, status: status.status, occurredAt: status.occurredAt?.timeIntervalSince1970,
                                  errors: status.errorsJSON, payload: status.payloadJSON))
            }
        }
        guard !rows.isEmpty else { return }
        let recorded = try await transaction.query(
            """
            INSERT INTO switchboard.message_statuses (wamid, status, occurred_at, errors, payload)
            SELECT wamid, status, to_timestamp(occurred_at), errors::jsonb, payload::jsonb
            FROM jsonb_to_recordset($1::jsonb) AS s(ord int, wamid text, status text, occurred_at float8, errors text, payload text)
            ORDER BY ord
            ON CONFLICT (wamid, status) DO NOTHING
            RETURNING wamid, status
            """,
            [try IngestRows.json(rows)]
        )
        var newlyRecorded = Set<String>()
        for row in recorded {
            let key = "\(try row.decode(0, as: String.self))|\(try row.decode(1, as: String.self))"
            newlyRecorded.insert(key)
            if let index = owner[key] { results[index].statusesRecorded += 1 }
        }
        // Apply what was newly recorded, in arrival order, to the outbound messages it concerns.
        let wamids = Array(Set(rows.map(\.wamid)))
        var current: [String: (id: Int64, status: String?)] = [:]
        for row in try await transaction.query(
            "SELECT id, wamid, status FROM switchboard.messages WHERE wamid = ANY($1::text[]) AND direction = 'outbound' FOR UPDATE", [wamids]
        ) {
            current[try row.decode(1, as: String.self)] = (try row.decode(0, as: Int64.self), try row.decode(2, as: String?.self))
        }
        var changed: [String: IngestRows.StatusUpdate] = [:]
        for delivery in deliveries {
            for status in delivery.statuses where newlyRecorded.contains("\(status.wamid)|\(status.status)") {
                guard let message = current[status.wamid], DeliveryProgress.advances(from: message.status, to: status.status) else { continue }
                current[status.wamid] = (message.id, status.status)
                let previous = changed[status.wamid]
                changed[status.wamid] = .init(id: message.id, status: status.status, at: status.occurredAt?.timeIntervalSince1970,
                                              errorCode: status.errorCode ?? previous?.errorCode, errorTitle: status.errorTitle ?? previous?.errorTitle)
            }
        }
        guard !changed.isEmpty else { return }
        try await transaction.query(
            """
            UPDATE switchboard.messages AS m SET status = u.status, status_at = to_timestamp(u.at),
                error_code = coalesce(u.error_code, m.error_code), error_title = coalesce(u.error_title, m.error_title)
            FROM jsonb_to_recordset($1::jsonb) AS u(id bigint, status text, at float8, error_code int, error_title text)
            WHERE m.id = u.id
            """,
            [try IngestRows.json(Array(changed.values))]
        )
    }

    private func upsertBusinessNumber(_ message: IncomingMessage, in transaction: PostgresTransaction) async throws {
        try await transaction.query(
            """
            INSERT INTO switchboard.business_numbers (phone_number_id, display_phone_number) VALUES ($1, $2)
            ON CONFLICT (phone_number_id) DO UPDATE SET display_phone_number = coalesce(EXCLUDED.display_phone_number, business_numbers.display_phone_number)
            WHERE business_numbers.display_phone_number IS DISTINCT FROM EXCLUDED.display_phone_number AND EXCLUDED.display_phone_number IS NOT NULL
            """,
            [message.businessNumberID, message.businessDisplayNumber]
        )
    }

}

/// The business numbers this process has seen committed. Rows are never deleted, so a number once
/// known stays known; it is learned only after its transaction commits.
final class KnownBusinessNumbers: Sendable {
    private let numbers = Mutex<Set<String>>([])

    func contains(_ number: String) -> Bool { numbers.withLock { $0.contains(number) } }
    func learn(_ learned: Set<String>) {
        guard !learned.isEmpty else { return }
        numbers.withLock { $0.formUnion(learned) }
    }
}

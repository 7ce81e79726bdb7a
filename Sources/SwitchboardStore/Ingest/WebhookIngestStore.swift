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
            var results: [IngestResult] = []
            var numbers = Set<String>()
            for delivery in deliveries {
                results.append(try await write(delivery, numbers: &numbers, in: transaction))
            }
            return (results, numbers)
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

    private func write(_ delivery: IncomingDelivery, numbers: inout Set<String>, in transaction: PostgresTransaction) async throws -> IngestResult {
        let inserted = try await transaction.query(
            "INSERT INTO switchboard.webhook_deliveries (received_at, body, messages, statuses, decode_problem) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            [delivery.receivedAt, PostgresBytes(delivery.body), delivery.messages.count, delivery.statuses.count, delivery.decodeProblem]
        )
        var result = IngestResult(deliveryID: try inserted[0].decode(0, as: Int64.self))
        for message in delivery.messages {
            if let stored = try await write(message, receivedAt: delivery.receivedAt, numbers: &numbers, in: transaction) {
                result.stored.append(stored)
            } else {
                result.duplicates.append(message.wamid)
            }
        }
        for status in delivery.statuses {
            if try await write(status, in: transaction) { result.statusesRecorded += 1 }
        }
        return result
    }

    /// Stores one message; nil when its wamid is already stored.
    private func write(_ message: IncomingMessage, receivedAt: Date, numbers: inout Set<String>, in transaction: PostgresTransaction) async throws -> IngestResult.StoredMessage? {
        let seen = try await transaction.query("SELECT 1 FROM switchboard.messages WHERE wamid = $1", [message.wamid])
        if !seen.isEmpty { return nil }

        if !knownNumbers.contains(message.businessNumberID) && numbers.insert(message.businessNumberID).inserted {
            try await upsertBusinessNumber(message, in: transaction)
        }

        let customerID = try await customer(for: message, in: transaction)
        let latestRows = try await transaction.query(
            """
            SELECT id, status, resolved_at FROM switchboard.tickets
            WHERE customer_id = $1 AND business_number = $2 ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE
            """,
            [customerID, message.businessNumberID]
        )
        let latest: TicketThreading.LatestTicket? = try latestRows.first.map { row in
            guard let status = TicketStatus(rawValue: try row.decode(1, as: String.self)) else {
                throw PostgresError.unexpected("a ticket has an unknown status")
            }
            return .init(id: try row.decode(0, as: Int64.self), status: status, resolvedAt: try row.decode(2, as: Date?.self))
        }
        let decision = TicketThreading.decide(latest: latest, receivedAt: receivedAt, reopenWithin: reopenWithin)
        let windowCloses = CustomerServiceWindow.closes(afterInboundAt: receivedAt)
        let ticketID: Int64
        switch decision {
        case .newTicket:
            let created = try await transaction.query(
                """
                INSERT INTO switchboard.tickets (customer_id, business_number, created_at, updated_at, last_inbound_at, customer_window_expires_at)
                VALUES ($1, $2, $3, $3, $3, $4) RETURNING id
                """,
                [customerID, message.businessNumberID, receivedAt, windowCloses]
            )
            ticketID = try created[0].decode(0, as: Int64.self)
            try await event(ticketID, "created", at: receivedAt, data: #"{"by": "inbound message"}"#, in: transaction)
        case .append(let id), .wakeUp(let id), .reopen(let id):
            ticketID = id
            try await transaction.query(
                """
                UPDATE switchboard.tickets SET status = 'open', resolved_at = NULL, updated_at = $2,
                    last_inbound_at = greatest(last_inbound_at, $2),
                    customer_window_expires_at = greatest(customer_window_expires_at, $3)
                WHERE id = $1
                """,
                [id, receivedAt, windowCloses]
            )
            if case .wakeUp = decision {
                try await event(id, "status_changed", at: receivedAt, data: #"{"from": "pending", "to": "open", "by": "customer message"}"#, in: transaction)
            } else if case .reopen = decision {
                try await event(id, "reopened", at: receivedAt, data: #"{"by": "customer message"}"#, in: transaction)
            }
        }
        let stored = try await transaction.query(
            """
            INSERT INTO switchboard.messages (ticket_id, direction, wamid, type, body, details, target_wamid, payload, provider_sent_at, received_at)
            VALUES ($1, 'inbound', $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $9)
            RETURNING id, (SELECT reference FROM switchboard.tickets WHERE id = $1)
            """,
            [ticketID, message.wamid, message.type, message.body, message.detailsJSON, message.targetWamid, message.payloadJSON, message.sentAt, receivedAt]
        )
        let messageID = try stored[0].decode(0, as: Int64.self)
        try await transaction.query(
            "INSERT INTO switchboard.ticket_events (ticket_id, at, kind, data) VALUES ($1, $2, 'message_received', jsonb_build_object('message_id', $3::bigint, 'type', $4::text))",
            [ticketID, receivedAt, messageID, message.type]
        )
        return .init(wamid: message.wamid, messageID: messageID, ticketID: ticketID,
                     ticketReference: try stored[0].decode(1, as: String.self), threading: decision)
    }

    /// Finds the customer by wa_id or business-scoped user id, creating or completing the record.
    private func customer(for message: IncomingMessage, in transaction: PostgresTransaction) async throws -> Int64 {
        let found = try await transaction.query(
            "SELECT id, wa_id, user_id FROM switchboard.customers WHERE wa_id = $1 OR user_id = $2 ORDER BY id LIMIT 1",
            [message.customerWaID, message.customerUserID]
        )
        if let row = found.first {
            let id = try row.decode(0, as: Int64.self)
            // Fill in an identifier the record lacks, unless another customer already holds it: the two
            // records may be one person, but merging customers is a decision for a person, not for ingest.
            try await transaction.query(
                """
                UPDATE switchboard.customers SET
                    wa_id = coalesce(wa_id, CASE WHEN NOT EXISTS (SELECT 1 FROM switchboard.customers WHERE wa_id = $2) THEN $2 END),
                    user_id = coalesce(user_id, CASE WHEN NOT EXISTS (SELECT 1 FROM switchboard.customers WHERE user_id = $3) THEN $3 END),
                    profile_name = coalesce($4, profile_name), updated_at = now()
                WHERE id = $1 AND (wa_id IS NULL AND $2::text IS NOT NULL OR user_id IS NULL AND $3::text IS NOT NULL
                                   OR $4::text IS DISTINCT FROM profile_name AND $4::text IS NOT NULL)
                """,
                [id, message.customerWaID, message.customerUserID, message.customerName]
            )
            return id
        }
        let created = try await transaction.query(
            "INSERT INTO switchboard.customers (wa_id, user_id, profile_name, country) VALUES ($1, $2, $3, $4) RETURNING id",
            [message.customerWaID, message.customerUserID, message.customerName, message.customerWaID.flatMap(CallingCodes.country(ofPhone:))]
        )
        return try created[0].decode(0, as: Int64.self)
    }

    /// Records a status once per (wamid, status) and moves an outbound message's status forward only.
    private func write(_ status: IncomingStatus, in transaction: PostgresTransaction) async throws -> Bool {
        let recorded = try await transaction.query(
            """
            INSERT INTO switchboard.message_statuses (wamid, status, occurred_at, errors, payload) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)
            ON CONFLICT (wamid, status) DO NOTHING
            """,
            [status.wamid, status.status, status.occurredAt, status.errorsJSON, status.payloadJSON]
        )
        guard recorded.affectedRows == 1 else { return false }
        let current = try await transaction.query(
            "SELECT id, status FROM switchboard.messages WHERE wamid = $1 AND direction = 'outbound' FOR UPDATE", [status.wamid]
        )
        if let row = current.first, DeliveryProgress.advances(from: try row.decode(1, as: String?.self), to: status.status) {
            try await transaction.query(
                "UPDATE switchboard.messages SET status = $2, status_at = $3, error_code = coalesce($4, error_code), error_title = coalesce($5, error_title) WHERE id = $1",
                [try row.decode(0, as: Int64.self), status.status, status.occurredAt, status.errorCode, status.errorTitle]
            )
        }
        return true
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

    private func event(_ ticketID: Int64, _ kind: String, at: Date, data: String, in transaction: PostgresTransaction) async throws {
        try await transaction.query(
            "INSERT INTO switchboard.ticket_events (ticket_id, at, kind, data) VALUES ($1, $2, $3, $4::jsonb)",
            [ticketID, at, kind, data]
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

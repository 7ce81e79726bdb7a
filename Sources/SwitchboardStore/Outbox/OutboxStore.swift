import Foundation
import Postgres
import SwitchboardCore

/// The outbox: replies are recorded (with the message on the ticket and an event) before anything is
/// sent, then each send moves queued → sending → sent | failed.
///
/// `sending` is committed before the request leaves, so after a crash the daemon knows which sends
/// may have reached Meta (see `recoverInterrupted`).
public struct OutboxStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    // MARK: Recording replies

    /// Records a reply on its ticket and queues its send, or refuses it (nothing written).
    ///
    /// - Parameter request: builds the Graph API request body (JSON text) for the send's id and the
    ///   ticket's customer; called inside the transaction, once the ticket is known.
    /// - Throws: `ReplyRefusal` (unknown ticket, window closed), or a database error.
    public func enqueue(_ draft: ReplyDraft, now: Date, request: (UUID, ReplyRecipient) throws -> String) async throws -> QueuedReply {
        try await pool.withTransaction { transaction in
            let rows = try await transaction.query(
                """
                SELECT t.id, t.business_number, t.customer_window_expires_at, c.wa_id, c.user_id, b.sending_paused_reason, c.id
                FROM switchboard.tickets t
                JOIN switchboard.customers c ON c.id = t.customer_id
                JOIN switchboard.business_numbers b ON b.phone_number_id = t.business_number
                WHERE t.reference = $1
                FOR UPDATE OF t
                """,
                [draft.ticketReference]
            )
            guard let ticket = rows.first else { throw ReplyRefusal.unknownTicket(draft.ticketReference) }
            let ticketID = try ticket.decode(0, as: Int64.self)
            let number = try ticket.decode(1, as: String.self)
            let windowExpires = try ticket.decode(2, as: Date?.self)
            let recipient = ReplyRecipient(waID: try ticket.decode(3, as: String?.self), userID: try ticket.decode(4, as: String?.self))
            let pausedReason = try ticket.decode(5, as: String?.self)
            // Pacing and order follow the customer record, not one of its identifiers (a wa_id can
            // be filled in later for a customer first known by user id).
            let pacingKey = "customer:\(try ticket.decode(6, as: Int64.self))"
            if let refusal = CustomerServiceWindow.refusal(freeForm: draft.isFreeForm, expiresAt: windowExpires, now: now) {
                throw refusal
            }
            let id = UUID()
            let body = try request(id, recipient)
            if let automation = draft.automation {
                // Once per cause: the key taken means this decision was carried out before.
                let claimed = try await transaction.query(
                    """
                    INSERT INTO switchboard.automation_sends (key, ticket_id, reason, rule, outbox_id, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING RETURNING key
                    """, [automation.key, ticketID, automation.reason, automation.rule, id, now])
                guard !claimed.isEmpty else { throw AutomaticMessageAlreadyRecorded(key: automation.key) }
            }
            var messageID: Int64?
            if draft.isMessage {
                messageID = try await transaction.query(
                    """
                    INSERT INTO switchboard.messages (ticket_id, direction, outbound_id, type, body, details, received_at, status, status_at)
                    VALUES ($1, 'outbound', $2, $3, $4,
                            $5::jsonb || CASE WHEN $7::text IS NULL THEN '{}'::jsonb
                                              ELSE jsonb_build_object('automation', jsonb_build_object('reason', $7::text, 'rule', $8::text, 'key', $9::text)) END,
                            $6, 'queued', $6)
                    RETURNING id
                    """,
                    [ticketID, id, draft.kind, draft.readableText, draft.detailsJSON, now, draft.automation?.reason, draft.automation?.rule, draft.automation?.key]
                ).first?.decode(0, as: Int64.self)
            }
            if let file = draft.file {
                // Once: a second reply with the same upload finds it taken and changes nothing.
                let attached = try await transaction.query(
                    """
                    UPDATE switchboard.media SET message_id = $1
                    WHERE id = $2 AND ticket_id = $3 AND direction = 'outbound' AND state = 'stored' AND message_id IS NULL
                    RETURNING id
                    """, [messageID, file, ticketID])
                guard !attached.isEmpty else { throw ReplyRefusal.fileAlreadySent(file) }
            }
            try await transaction.query(
                """
                INSERT INTO switchboard.outbox (id, business_number, ticket_id, message_id, recipient, kind, free_form, request, created_by, created_at, next_attempt_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $10)
                """,
                [id, number, ticketID, messageID, pacingKey, draft.kind, draft.isFreeForm, body, draft.author, now]
            )
            try await transaction.query(
                "INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data) VALUES ($1, $2, $6, $3, jsonb_build_object('outbound_id', $4::text, 'type', $5::text))",
                [ticketID, now, draft.author, id.uuidString.lowercased(), draft.kind, TicketEventKind.replyQueued.rawValue]
            )
            return QueuedReply(id: id, ticketID: ticketID, businessNumber: number, messageID: messageID, sendingPausedReason: pausedReason)
        }
    }

    // MARK: Sending

    /// Business numbers with sends waiting.
    public func numbersWithQueuedSends() async throws -> [String] {
        try await pool.query("SELECT DISTINCT business_number FROM switchboard.outbox WHERE state = 'queued'")
            .map { try $0.decode(0, as: String.self) }
    }

    /// The oldest queued sends of one business number, at most `perRecipient` of each recipient, so
    /// that one customer with a long queue (paced seconds apart) does not hide everyone else's.
    public func queued(businessNumber: String, limit: Int, perRecipient: Int = 3) async throws -> [OutboxEntry] {
        try await pool.query(
            """
            SELECT id, seq, business_number, recipient, next_attempt_at FROM (
                SELECT id, seq, business_number, recipient, next_attempt_at,
                       row_number() OVER (PARTITION BY recipient ORDER BY seq) AS place
                FROM switchboard.outbox WHERE business_number = $1 AND state = 'queued') AS q
            WHERE place <= $3 ORDER BY seq LIMIT $2
            """,
            [businessNumber, limit, perRecipient]
        ).map { row in
            OutboxEntry(id: try row.decode(0), sequence: try row.decode(1), businessNumber: try row.decode(2), recipient: try row.decode(3),
                        nextAttemptAt: try row.decode(4))
        }
    }

    /// Marks a queued send as leaving now and counts the attempt. Nil when it is no longer queued.
    ///
    /// - Parameter unconfirmed: the time of an earlier call for this send whose answer was lost (the
    ///   update may have committed): a send in `sending` since exactly then is taken again, uncounted.
    public func beginAttempt(_ id: UUID, now: Date, unconfirmed: Date? = nil) async throws -> OutboxAttempt? {
        guard let row = try await pool.query(
            """
            UPDATE switchboard.outbox o SET state = 'sending', last_attempt_at = $2,
                attempts = CASE WHEN o.state = 'queued' THEN o.attempts + 1 ELSE o.attempts END
            FROM switchboard.tickets t
            WHERE o.id = $1 AND t.id = o.ticket_id AND (o.state = 'queued' OR (o.state = 'sending' AND o.last_attempt_at = $3))
            RETURNING o.attempts, o.free_form, t.customer_window_expires_at, o.request::text
            """,
            [id, now, unconfirmed]
        ).first else { return nil }
        return OutboxAttempt(number: try row.decode(0), isFreeForm: try row.decode(1), customerWindowExpiresAt: try row.decode(2), requestJSON: try row.decode(3))
    }

    /// Meta accepted the send: the outbox row, the message (with any status that arrived first), the
    /// ticket's response times and an event, in one transaction.
    /// Nil when the send was not ours to record (already recorded) or carried no message (a read
    /// receipt); else the message's status now, for followers' ticks.
    @discardableResult
    public func recordSent(_ id: UUID, wamid: String?, at now: Date) async throws -> IngestResult.StatusChange? {
        try await pool.withTransaction { transaction in
            try await markSent(id, wamid: wamid, at: now, in: transaction)
        }
    }

    private func markSent(_ id: UUID, wamid: String?, at now: Date, in transaction: PostgresTransaction) async throws -> IngestResult.StatusChange? {
        let rows = try await transaction.query(
            """
            WITH o AS (
                UPDATE switchboard.outbox SET state = 'sent', wamid = $2, finished_at = $3, last_error_code = NULL, last_error = NULL
                WHERE id = $1 AND state = 'sending'
                RETURNING ticket_id, message_id, kind, created_by
            ), m AS (
                -- A status webhook may have got here first (matched by the outbound id): keep its
                -- wamid and never move its status back.
                UPDATE switchboard.messages m SET wamid = coalesce(m.wamid, $2),
                    status = CASE WHEN m.status IS NULL OR m.status = 'queued' THEN 'sent' ELSE m.status END,
                    status_at = CASE WHEN m.status IS NULL OR m.status = 'queued' THEN $3 ELSE m.status_at END
                FROM o WHERE m.id = o.message_id RETURNING m.id, m.status
            ), t AS (
                -- An automatic message (greeting, menu, survey…) is not the first response: a person's is.
                UPDATE switchboard.tickets t SET last_outbound_at = $3, updated_at = $3,
                    first_response_at = CASE WHEN o.created_by LIKE 'automation:%' THEN t.first_response_at ELSE COALESCE(t.first_response_at, $3) END
                FROM o WHERE t.id = o.ticket_id AND o.message_id IS NOT NULL RETURNING t.id
            ), e AS (
                INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                SELECT ticket_id, $3, CASE WHEN message_id IS NULL THEN $4 ELSE $5 END, created_by,
                       jsonb_build_object('outbound_id', $1::text, 'wamid', $2::text, 'type', kind)
                FROM o RETURNING id
            )
            SELECT (SELECT message_id FROM o), (SELECT count(*) FROM e), (SELECT status FROM m), (SELECT ticket_id FROM o)
            """,
            [id, wamid, now, TicketEventKind.readReceiptSent.rawValue, TicketEventKind.replySent.rawValue]
        )
        guard let row = rows.first, try row.decode(1, as: Int.self) == 1 else { return nil }
        // Meta's "sent" (or later) status may have arrived before this commit, keyed by a wamid no
        // message had yet: apply the furthest one now.
        guard let messageID = try row.decode(0, as: Int64?.self), let ticketID = try row.decode(3, as: Int64?.self) else { return nil }
        let current = try row.decode(2, as: String?.self) ?? "sent"
        guard let wamid else { return IngestResult.StatusChange(messageID: messageID, ticketID: ticketID, status: current) }
        var status = current
        var statusAt = now
        var errorCode: Int?
        var errorTitle: String?
        for recorded in try await transaction.query(
            "SELECT status, occurred_at, errors->0->>'code', errors->0->>'title' FROM switchboard.message_statuses WHERE wamid = $1 ORDER BY id", [wamid]
        ) {
            let name = try recorded.decode(0, as: String.self)
            guard DeliveryProgress.advances(from: status, to: name) else { continue }
            status = name
            statusAt = try recorded.decode(1, as: Date?.self) ?? now
            errorCode = try recorded.decode(2, as: String?.self).flatMap { Int($0) }
            errorTitle = try recorded.decode(3, as: String?.self)
        }
        if status != current {
            try await transaction.query(
                "UPDATE switchboard.messages SET status = $2, status_at = $3, error_code = COALESCE($4, error_code), error_title = COALESCE($5, error_title) WHERE id = $1",
                [messageID, status, statusAt, errorCode, errorTitle]
            )
        }
        return IngestResult.StatusChange(messageID: messageID, ticketID: ticketID, status: status)
    }

    /// The send failed in a way worth retrying: queued again for `nextAttempt`.
    public func recordRetry(_ id: UUID, nextAttempt: Date, errorCode: Int?, error: String) async throws {
        try await pool.query(
            "UPDATE switchboard.outbox SET state = 'queued', next_attempt_at = $2, last_error_code = $3, last_error = $4 WHERE id = $1 AND state = 'sending'",
            [id, nextAttempt, errorCode, error]
        )
    }

    /// The send failed for good: the outbox row and the message are failed with Meta's code and title,
    /// and the ticket gets an event.
    /// Nil when it was not ours to record or carried no message; else the message, now failed.
    @discardableResult
    public func recordFailure(_ id: UUID, errorCode: Int?, error: String, at now: Date) async throws -> IngestResult.StatusChange? {
        let rows = try await pool.query(
            """
            WITH o AS (
                UPDATE switchboard.outbox SET state = 'failed', finished_at = $4, last_error_code = $2, last_error = $3
                WHERE id = $1 AND state IN ('queued', 'sending')
                RETURNING ticket_id, message_id, kind, created_by
            ), m AS (
                UPDATE switchboard.messages m SET status = 'failed', status_at = $4, error_code = $2, error_title = $3 FROM o WHERE m.id = o.message_id RETURNING m.id
            ), e AS (
                INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                SELECT ticket_id, $4, $5, created_by, jsonb_build_object('outbound_id', $1::text, 'type', kind, 'error_code', $2::int, 'error', $3::text)
                FROM o
            )
            SELECT message_id, ticket_id FROM o WHERE message_id IS NOT NULL
            """,
            [id, errorCode, error, now, TicketEventKind.replyFailed.rawValue]
        )
        guard let row = rows.first else { return nil }
        return IngestResult.StatusChange(messageID: try row.decode(0), ticketID: try row.decode(1), status: "failed")
    }

    /// Sending through `businessNumber` cannot work until a person acts: the send goes back to the
    /// queue uncounted, the number is marked paused and an alert is raised (once).
    public func suspendSending(_ businessNumber: String, requeue id: UUID, reason: String, at now: Date) async throws {
        try await pool.withTransaction { transaction in
            try await transaction.query(
                "UPDATE switchboard.outbox SET state = 'queued', attempts = attempts - 1, last_error = $2 WHERE id = $1 AND state = 'sending'",
                [id, reason]
            )
            try await transaction.query(
                "UPDATE switchboard.business_numbers SET sending_paused_reason = $2, sending_paused_at = COALESCE(sending_paused_at, $3) WHERE phone_number_id = $1",
                [businessNumber, reason, now]
            )
            try await transaction.query(
                """
                INSERT INTO switchboard.alerts (raised_at, kind, subject, message) VALUES ($3, 'sending_paused', $1, $2)
                ON CONFLICT (kind, subject) WHERE cleared_at IS NULL DO NOTHING
                """,
                [businessNumber, "sending through \(businessNumber) is paused: \(reason)", now]
            )
        }
    }

    /// Lifts every pause and clears its alert; returns the numbers that were paused. The daemon calls
    /// it at start: a restart is how an operator puts in a new access token. If the token is still
    /// bad, the first send pauses the number again.
    public func resumeAllSending(at now: Date) async throws -> [String] {
        try await pool.withTransaction { transaction in
            let numbers = try await transaction.query(
                "UPDATE switchboard.business_numbers SET sending_paused_reason = NULL, sending_paused_at = NULL WHERE sending_paused_at IS NOT NULL RETURNING phone_number_id"
            ).map { try $0.decode(0, as: String.self) }
            try await transaction.query(
                "UPDATE switchboard.alerts SET cleared_at = $1 WHERE kind = 'sending_paused' AND cleared_at IS NULL", [now]
            )
            return numbers
        }
    }

    /// Sends a crash left in `sending`: those that a status webhook confirms (it echoes the send's id
    /// in `biz_opaque_callback_data`) are marked sent; those whose attempt began before
    /// `unconfirmedBefore` are queued again and will be sent, possibly a second time (see
    /// docs/outbound.md); later ones are left `sending` (`waiting`), for their status webhook to
    /// arrive first — Meta's comes within seconds of a send it accepted.
    public func recoverInterrupted(at now: Date, unconfirmedBefore: Date? = nil) async throws -> (confirmed: Int, requeued: Int, waiting: Int) {
        try await pool.withTransaction { transaction in
            let interrupted = try await transaction.query(
                """
                SELECT o.id, s.wamid, o.last_attempt_at FROM switchboard.outbox o
                LEFT JOIN LATERAL (
                    SELECT wamid FROM switchboard.message_statuses
                    WHERE payload ? 'biz_opaque_callback_data' AND payload ->> 'biz_opaque_callback_data' = o.id::text
                    LIMIT 1
                ) s ON true
                WHERE o.state = 'sending'
                FOR UPDATE OF o
                """
            )
            var confirmed = 0, requeued = 0, waiting = 0
            for row in interrupted {
                let id = try row.decode(0, as: UUID.self)
                if let wamid = try row.decode(1, as: String?.self) {
                    _ = try await markSent(id, wamid: wamid, at: now, in: transaction)
                    confirmed += 1
                } else if let unconfirmedBefore, let attempted = try row.decode(2, as: Date?.self), attempted >= unconfirmedBefore {
                    waiting += 1
                } else {
                    try await transaction.query("UPDATE switchboard.outbox SET state = 'queued' WHERE id = $1", [id])
                    requeued += 1
                }
            }
            return (confirmed, requeued, waiting)
        }
    }
}

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
        let deliveries = deliveries.map(\.storable)
        let written = try await pool.withRetryingTransaction(isolation: .readCommitted) { transaction in
            // The first statement of the batch's first pipeline locks every thread it touches, in
            // one order, before anything is read or written.
            try await writeBatch(deliveries, in: transaction)
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
    private struct CustomerThread: Hashable {
        let customerID: Int64
        let businessNumber: String
    }

    /// Writes a batch in two pipelined round trips, BEGIN and COMMIT included (plus one when statuses
    /// change): first the raw
    /// deliveries and every read threading needs (locks, known wamids, customers, the latest ticket of
    /// every thread); then, with threading decided in Swift, the tickets, messages, events and statuses.
    private func writeBatch(_ deliveries: [IncomingDelivery], in transaction: PostgresTransaction) async throws -> ([IngestResult], Set<String>) {
        let everything = deliveries.enumerated().flatMap { index, delivery in delivery.messages.map { (delivery: index, message: $0, receivedAt: delivery.receivedAt) } }
        // The customers' messages are threaded; the business app's echoes only find their ticket.
        let all = everything.filter { !$0.message.isEcho }
        let echoes = everything.filter(\.message.isEcho)
        // Echoes too: an echo is placed under its conversation's lock, after a concurrent batch that
        // opens the conversation's new ticket, never beside it.
        let keys = Array(Set(everything.map(\.message.threadKey)))
        // The customers of the batch's messages, one column per array (row `ord` is message `ord`).
        let identities: [(any PostgresEncodable)?] = [
            all.map(\.message.customerWaID), all.map(\.message.customerUserID), all.map(\.message.customerName),
            all.map { $0.message.customerWaID.flatMap(CallingCodes.country(ofPhone:)) }, all.map(\.message.businessNumberID),
        ]
        var numbers = Set<String>()
        var numberRows: [IngestRows.Number] = []
        for item in all where !knownNumbers.contains(item.message.businessNumberID) && numbers.insert(item.message.businessNumberID).inserted {
            numberRows.append(.init(id: item.message.businessNumberID, display: item.message.businessDisplayNumber))
        }

        // Round trip 1.
        var first: [PostgresStatement] = [
            HotPathSettings.statement(),
            // The keys' hashes are sorted before any lock is taken (the subquery is materialized in
            // order), so two transactions never wait on each other in a cycle.
            PostgresStatement("""
                SELECT pg_advisory_xact_lock(h) FROM
                    (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1 OFFSET 0) AS ordered
                """, [keys]),
            PostgresStatement("""
                INSERT INTO switchboard.webhook_deliveries (received_at, body, messages, statuses, decode_problem)
                SELECT received_at, decode(body_hex, 'hex'), messages, statuses, decode_problem
                FROM unnest($1::timestamptz[], $2::text[], $3::int8[], $4::int8[], $5::text[]) WITH ORDINALITY
                     AS d(received_at, body_hex, messages, statuses, decode_problem, ord)
                ORDER BY ord RETURNING id
                """, [deliveries.map(\.receivedAt), deliveries.map { IngestRows.hex($0.body) }, deliveries.map(\.messages.count),
                      deliveries.map(\.statuses.count), deliveries.map(\.decodeProblem)]),
            // Per key through the unique index: with `wamid = ANY($1)` the cached generic plan turned
            // into a sequential scan of all messages once the table grew. `LIMIT 1` (a wamid is
            // unique) keeps the subquery from being pulled up into a join, which a plan made while
            // the table was small (a new database, statistics of a few thousand rows) hashed against
            // every message, on every batch, until the next ANALYZE.
            PostgresStatement("""
                SELECT m.wamid FROM unnest($1::text[]) AS k(wamid)
                CROSS JOIN LATERAL (SELECT wamid FROM switchboard.messages WHERE wamid = k.wamid LIMIT 1) AS m
                """, [Array(Set(all.map(\.message.wamid)))]),
        ]
        if !numberRows.isEmpty {
            first.append(PostgresStatement("""
                INSERT INTO switchboard.business_numbers (phone_number_id, display_phone_number)
                SELECT id, display FROM unnest($1::text[], $2::text[]) AS n(id, display)
                ON CONFLICT (phone_number_id) DO UPDATE SET display_phone_number = coalesce(EXCLUDED.display_phone_number, business_numbers.display_phone_number)
                """, [numberRows.map(\.id), numberRows.map(\.display)]))
        }
        let customersAt = first.count
        // Every lookup below is a correlated scalar subquery on a unique index (or a LATERAL one), so
        // its cost follows the batch, not the table: joins and NOT EXISTS against the batch's rows
        // (whose number the generic plan can only guess) let the cached plan hash whole tables.
        let identityRows = "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS r(wa_id, user_id, profile_name, country, business_number, ord)"
        let customerOfRow = """
            (SELECT min(id) FROM (SELECT id FROM switchboard.customers WHERE wa_id = r.wa_id
                                  UNION ALL SELECT id FROM switchboard.customers WHERE user_id = r.user_id) AS found)
            """
        first += [
            // Fill in identifiers a record lacks, unless another customer holds them (merging is a
            // person's decision), then create the customers still unknown, then read every id.
            PostgresStatement("""
                UPDATE switchboard.customers AS c SET
                    wa_id = coalesce(c.wa_id, CASE WHEN NOT EXISTS (SELECT 1 FROM switchboard.customers x WHERE x.wa_id = n.wa_id) THEN n.wa_id END),
                    user_id = coalesce(c.user_id, CASE WHEN NOT EXISTS (SELECT 1 FROM switchboard.customers x WHERE x.user_id = n.user_id) THEN n.user_id END),
                    profile_name = coalesce(n.profile_name, c.profile_name), updated_at = now()
                FROM (SELECT DISTINCT ON (coalesce(wa_id, ''), coalesce(user_id, '')) r.*, \(customerOfRow) AS target
                      FROM \(identityRows)
                      ORDER BY coalesce(wa_id, ''), coalesce(user_id, ''), ord DESC) AS n
                WHERE c.id = n.target
                  -- An index condition on c: the planner would otherwise hash the whole table.
                  AND c.id = ANY(ARRAY(SELECT \(customerOfRow) FROM \(identityRows)))
                  AND (c.wa_id IS NULL AND n.wa_id IS NOT NULL OR c.user_id IS NULL AND n.user_id IS NOT NULL
                       OR n.profile_name IS DISTINCT FROM c.profile_name AND n.profile_name IS NOT NULL)
                """, identities),
            PostgresStatement("""
                INSERT INTO switchboard.customers (wa_id, user_id, profile_name, country)
                SELECT DISTINCT ON (coalesce(wa_id, user_id)) wa_id, user_id, profile_name, country
                FROM \(identityRows)
                WHERE (SELECT id FROM switchboard.customers c WHERE c.wa_id = r.wa_id) IS NULL
                  AND (SELECT id FROM switchboard.customers c WHERE c.user_id = r.user_id) IS NULL
                ORDER BY coalesce(wa_id, user_id), ord
                ON CONFLICT DO NOTHING
                """, identities),
            PostgresStatement("""
                SELECT r.ord - 1, \(customerOfRow)
                FROM \(identityRows)
                """, identities),
            PostgresStatement("""
                SELECT t.id, t.customer_id, t.business_number, t.status, t.resolved_at,
                       (SELECT s.open_until FROM switchboard.csat_surveys s WHERE s.ticket_id = t.id AND t.status = 'resolved')
                FROM (SELECT DISTINCT \(customerOfRow) AS customer_id, r.business_number
                      FROM \(identityRows)) AS k
                CROSS JOIN LATERAL (SELECT id FROM switchboard.tickets WHERE customer_id = k.customer_id AND business_number = k.business_number
                                    ORDER BY created_at DESC, id DESC LIMIT 1) AS latest
                JOIN switchboard.tickets t ON t.id = latest.id
                FOR UPDATE OF t
                """, identities),
        ]
        let read = try await transaction.pipeline(first)
        var results = try read[2].map { try $0.decode(0, as: Int64.self) }.sorted().map { IngestResult(deliveryID: $0) }
        var seen = Set(try read[3].map { try $0.decode(0, as: String.self) })
        var customerOf = [Int64?](repeating: nil, count: all.count)
        for row in read[customersAt + 2] { customerOf[try row.decode(0, as: Int.self)] = try row.decode(1, as: Int64?.self) }
        var latest: [CustomerThread: TicketThreading.LatestTicket] = [:]
        for row in read[customersAt + 3] {
            guard let status = TicketStatus(rawValue: try row.decode(3, as: String.self)) else {
                throw PostgresError.unexpected("a ticket has an unknown status")
            }
            let thread = CustomerThread(customerID: try row.decode(1, as: Int64.self), businessNumber: try row.decode(2, as: String.self))
            latest[thread] = .init(id: try row.decode(0, as: Int64.self), status: status, resolvedAt: try row.decode(4, as: Date?.self),
                                   surveyOpenUntil: try row.decode(5, as: Date?.self))
        }

        // Threading, decided here: a thread's first new message may open, wake or reopen a ticket;
        // the rest append to it.
        var fresh: [(delivery: Int, message: IncomingMessage, receivedAt: Date, thread: CustomerThread)] = []
        for (ord, item) in all.enumerated() {
            guard seen.insert(item.message.wamid).inserted else {
                results[item.delivery].duplicates.append(item.message.wamid)
                continue
            }
            guard let customerID = customerOf[ord] else { throw PostgresError.unexpected("a customer was not found after upsert") }
            fresh.append((item.delivery, item.message, item.receivedAt, CustomerThread(customerID: customerID, businessNumber: item.message.businessNumberID)))
        }
        var firstOfThread: [CustomerThread: Int] = [:]
        var lastInbound: [CustomerThread: Date] = [:]
        var asksForAnswer: Set<CustomerThread> = []
        for (position, item) in fresh.enumerated() {
            if firstOfThread[item.thread] == nil { firstOfThread[item.thread] = position }
            lastInbound[item.thread] = max(lastInbound[item.thread] ?? .distantPast, item.receivedAt)
            if TicketThreading.asksForAnswer(type: item.message.type) { asksForAnswer.insert(item.thread) }
        }
        var decisions: [CustomerThread: TicketThreading.Decision] = [:]
        var attachedTo: [CustomerThread: Int64] = [:]
        var newTickets: [IngestRows.NewTicket] = []
        var updates: [IngestRows.TicketUpdate] = []
        var events: [IngestRows.Event] = []
        for (thread, position) in firstOfThread.sorted(by: { $0.value < $1.value }) {
            guard let last = lastInbound[thread] else { continue }
            let receivedAt = fresh[position].receivedAt
            let decision = TicketThreading.decide(latest: latest[thread], receivedAt: receivedAt, reopenWithin: reopenWithin,
                                                  asksForAnswer: asksForAnswer.contains(thread))
            decisions[thread] = decision
            let closes = CustomerServiceWindow.closes(afterInboundAt: last)
            let event: (kind: TicketEventKind, data: String)?
            switch decision {
            case .newTicket:
                newTickets.append(.init(customerID: thread.customerID, businessNumber: thread.businessNumber,
                                        createdAt: receivedAt, lastInboundAt: last, windowCloses: closes))
                event = (.created, #"{"by": "inbound message"}"#)
            case .append(let id):
                updates.append(.init(id: id, lastInboundAt: last, windowCloses: closes))
                event = nil
            case .wakeUp(let id):
                updates.append(.init(id: id, lastInboundAt: last, windowCloses: closes))
                event = (.statusChanged, #"{"from": "pending", "to": "open", "by": "customer message"}"#)
            case .reopen(let id):
                let place = TicketThreading.placeAfterReopen(receivedAt: receivedAt)
                updates.append(.init(id: id, lastInboundAt: last, windowCloses: closes,
                                     place: .init(assignee: place.assignee, queue: place.queue, waitingSince: place.waitingSince,
                                                  excludedAgents: place.excludedAgents)))
                event = (.reopened, #"{"by": "customer message"}"#)
            case .attach(let id):
                updates.append(.init(id: id, lastInboundAt: last, windowCloses: closes, keepStatus: true))
                attachedTo[thread] = id
                event = nil
            }
            if let event {
                events.append(.init(ord: 2 * position, customerID: thread.customerID, businessNumber: thread.businessNumber,
                                    at: receivedAt, kind: event.kind.rawValue, data: event.data))
            }
        }
        var messageRows: [IngestRows.Message] = []
        for (position, item) in fresh.enumerated() {
            let message = item.message
            messageRows.append(.init(ord: 2 * position + 1, customerID: item.thread.customerID, businessNumber: item.thread.businessNumber,
                                     wamid: message.wamid, type: message.type, body: message.body, details: message.detailsJSON,
                                     targetWamid: message.targetWamid, payload: message.payloadJSON,
                                     sentAt: message.sentAt, receivedAt: item.receivedAt, ticketID: attachedTo[item.thread]))
        }

        // Round trip 2. Every thread now has exactly one ticket that is not resolved: messages and
        // events find it by customer and number.
        var second: [PostgresStatement] = []
        if !newTickets.isEmpty {
            second.append(PostgresStatement("""
                INSERT INTO switchboard.tickets (customer_id, business_number, created_at, updated_at, last_inbound_at, customer_window_expires_at)
                SELECT customer_id, business_number, created_at, created_at, last_inbound_at, window_closes
                FROM unnest($1::int8[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[]) WITH ORDINALITY
                     AS t(customer_id, business_number, created_at, last_inbound_at, window_closes, ord)
                ORDER BY ord
                """, [newTickets.map(\.customerID), newTickets.map(\.businessNumber), newTickets.map(\.createdAt), newTickets.map(\.lastInboundAt),
                      newTickets.map(\.windowCloses)]))
        }
        if !updates.isEmpty {
            second.append(PostgresStatement("""
                UPDATE switchboard.tickets AS t SET status = CASE WHEN u.keep_status THEN t.status ELSE 'open' END,
                    resolved_at = CASE WHEN u.keep_status THEN t.resolved_at END, updated_at = u.last_inbound_at,
                    last_inbound_at = greatest(t.last_inbound_at, u.last_inbound_at),
                    customer_window_expires_at = greatest(t.customer_window_expires_at, u.window_closes),
                    -- A reopen's place in routing, as the core decided it, in the reopen's own transaction.
                    assignee = CASE WHEN u.reopen THEN u.assignee ELSE t.assignee END,
                    assigned_at = CASE WHEN u.reopen THEN NULL ELSE t.assigned_at END,
                    queue = CASE WHEN u.reopen THEN u.queue ELSE t.queue END,
                    queue_entered_at = CASE WHEN u.reopen THEN NULL ELSE t.queue_entered_at END,
                    waiting_since = CASE WHEN u.reopen THEN u.waiting_since ELSE t.waiting_since END,
                    -- Each reopen's excluded agents travel as one array literal: arrays of arrays cannot be ragged.
                    excluded_agents = CASE WHEN u.reopen THEN u.excluded_agents::text[] ELSE t.excluded_agents END
                FROM unnest($1::int8[], $2::timestamptz[], $3::timestamptz[], $4::bool[], $5::bool[], $6::text[], $7::text[], $8::timestamptz[], $9::text[])
                     AS u(id, last_inbound_at, window_closes, reopen, keep_status, assignee, queue, waiting_since, excluded_agents)
                WHERE t.id = u.id
                  -- An index condition on t: the planner would otherwise hash the whole table.
                  AND t.id = ANY($1::int8[])
                """, [updates.map(\.id), updates.map(\.lastInboundAt), updates.map(\.windowCloses), updates.map { $0.place != nil }, updates.map(\.keepStatus),
                      updates.map { $0.place?.assignee }, updates.map { $0.place?.queue }, updates.map { $0.place?.waitingSince },
                      updates.map { ($0.place?.excludedAgents ?? []).postgresParameter.text }]))
        }
        let messagesAt = second.count
        if !messageRows.isEmpty {
            // Messages and their events in one statement: a thread's event (created, woken, reopened)
            // comes before its first message's `message_received`, every event in message order.
            // The events read the inserted messages from the CTE, not by looking each wamid up again.
            second.append(PostgresStatement("""
                WITH input AS (
                    SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                                         $10::text[], $11::timestamptz[], $12::timestamptz[])
                        AS m(ord, customer_id, business_number, ticket_id, wamid, type, body, details, target_wamid, payload, sent_at, received_at)
                ),
                m AS (
                    INSERT INTO switchboard.messages (ticket_id, direction, wamid, type, body, details, target_wamid, payload, provider_sent_at, received_at)
                    SELECT coalesce(m.ticket_id, (SELECT id FROM switchboard.tickets t WHERE t.customer_id = m.customer_id AND t.business_number = m.business_number AND t.status <> 'resolved')),
                           'inbound', wamid, type, body, details::jsonb, target_wamid, payload::jsonb, sent_at, received_at
                    FROM input AS m
                    ORDER BY ord
                    RETURNING id, wamid, ticket_id, type
                ),
                e AS (
                    INSERT INTO switchboard.ticket_events (ticket_id, at, kind, data)
                    SELECT ticket_id, at, kind, data FROM (
                        SELECT e.ord, (SELECT id FROM switchboard.tickets t WHERE t.customer_id = e.customer_id AND t.business_number = e.business_number AND t.status <> 'resolved') AS ticket_id,
                               e.at, e.kind, e.data::jsonb AS data
                        FROM unnest($13::int8[], $14::int8[], $15::text[], $16::timestamptz[], $17::text[], $18::text[]) AS e(ord, customer_id, business_number, at, kind, data)
                        UNION ALL
                        SELECT i.ord, m.ticket_id, i.received_at, $19, jsonb_build_object('message_id', m.id, 'type', m.type)
                        FROM m JOIN input i ON i.wamid = m.wamid
                    ) AS events
                    ORDER BY ord
                )
                SELECT id, wamid, ticket_id, (SELECT reference FROM switchboard.tickets t WHERE t.id = m.ticket_id) FROM m
                """, [messageRows.map(\.ord), messageRows.map(\.customerID), messageRows.map(\.businessNumber), messageRows.map(\.ticketID),
                      messageRows.map(\.wamid), messageRows.map(\.type), messageRows.map(\.body), messageRows.map(\.details), messageRows.map(\.targetWamid),
                      messageRows.map(\.payload), messageRows.map(\.sentAt), messageRows.map(\.receivedAt),
                      events.map(\.ord), events.map(\.customerID), events.map(\.businessNumber), events.map(\.at), events.map(\.kind), events.map(\.data),
                      TicketEventKind.messageReceived.rawValue]))
            // Every file a message carries is recorded with it, for the fetcher to find.
            let withMedia = fresh.map(\.message).filter { MediaKind(messageType: $0.type) != nil }.map(\.wamid)
            if !withMedia.isEmpty { second.append(Self.recordFiles(of: withMedia)) }
        }
        let echoesAt = second.count
        if !echoes.isEmpty { second += try echoStatements(echoes.map { ($0.message, $0.receivedAt, results[$0.delivery].deliveryID) }) }
        let statusPlan = try statusStatements(deliveries)
        let statusesAt = second.count
        second += statusPlan.statements
        // Without statuses to apply, COMMIT rides along: the batch costs two round trips in all.
        let written: [PostgresRows]
        if second.isEmpty {
            written = []
        } else if statusPlan.statements.isEmpty {
            written = try await transaction.pipelineAndCommit(second)
        } else {
            written = try await transaction.pipeline(second)
        }

        if !messageRows.isEmpty {
            var stored: [String: (id: Int64, ticket: Int64, reference: String)] = [:]
            for row in written[messagesAt] {
                stored[try row.decode(1, as: String.self)] = (try row.decode(0, as: Int64.self), try row.decode(2, as: Int64.self), try row.decode(3, as: String.self))
            }
            for (position, item) in fresh.enumerated() {
                guard let row = stored[item.message.wamid], let decision = decisions[item.thread] else {
                    throw PostgresError.unexpected("a stored message lost its ticket or id")
                }
                let rest: TicketThreading.Decision = if case .attach = decision { .attach(to: row.ticket) } else { .append(to: row.ticket) }
                let threading = position == firstOfThread[item.thread] ? decision : rest
                results[item.delivery].stored.append(.init(wamid: item.message.wamid, messageID: row.id, ticketID: row.ticket,
                                                           ticketReference: row.reference, threading: threading,
                                                           asksForAnswer: TicketThreading.asksForAnswer(type: item.message.type)))
            }
        }
        if !echoes.isEmpty {
            var placed: [String: (id: Int64, ticket: Int64, reference: String)] = [:]
            var unplaced = Set<String>()
            for row in written[echoesAt] {
                let wamid = try row.decode(1, as: String.self)
                if let id = try row.decode(0, as: Int64?.self), let ticket = try row.decode(2, as: Int64?.self), let reference = try row.decode(3, as: String?.self) {
                    placed[wamid] = (id, ticket, reference)
                } else {
                    unplaced.insert(wamid)
                }
            }
            var done = Set<String>()
            for item in echoes where done.insert(item.message.wamid).inserted {
                if let row = placed[item.message.wamid] {
                    results[item.delivery].stored.append(.init(wamid: item.message.wamid, messageID: row.id, ticketID: row.ticket, ticketReference: row.reference,
                                                               threading: .attach(to: row.ticket), asksForAnswer: false, isEcho: true,
                                                               answersCustomer: ConversationTurn.saysSomething(type: item.message.type)))
                } else if unplaced.contains(item.message.wamid) {
                    results[item.delivery].unplacedEchoes.append(item.message.wamid)
                } else {
                    results[item.delivery].duplicates.append(item.message.wamid)
                }
            }
        }
        if !statusPlan.statements.isEmpty {
            try await applyStatuses(statusPlan, recorded: written[statusesAt], outbound: written[statusesAt + 1], deliveries: deliveries,
                                    results: &results, in: transaction)
        }
        return (results, numbers)
    }

    /// Records the file each of these stored messages carries, `pending` for the fetcher.
    private static func recordFiles(of wamids: [String]) -> PostgresStatement {
        PostgresStatement("""
            INSERT INTO switchboard.media (message_id, ticket_id, wa_media_id, kind, mime_type, sha256, file_name)
            SELECT m.id, m.ticket_id, m.details->'media'->>'id', m.type, m.details->'media'->>'mime_type', m.details->'media'->>'sha256',
                   m.details->'media'->>'filename'
            FROM switchboard.messages m
            WHERE m.wamid = ANY($1::text[]) AND m.details->'media'->>'id' IS NOT NULL
            ON CONFLICT (message_id) DO NOTHING
            """, [wamids])
    }

    /// The business app's echoes: each an outbound message on its customer's latest ticket with the
    /// number, whatever that ticket's status (an echo opens, wakes and reopens nothing, and leaves
    /// the customer service window as it is), with a `message_echoed` event, and its file recorded
    /// for the fetcher. An echo to a customer with no ticket is not stored (the raw delivery keeps
    /// it); its row comes back without an id.
    private func echoStatements(_ echoes: [(message: IncomingMessage, receivedAt: Date, deliveryID: Int64)]) throws -> [PostgresStatement] {
        let rows = try IngestRows.json(echoes.enumerated().map { ord, echo in
            IngestRows.Echo(ord: ord, deliveryID: echo.deliveryID, answers: ConversationTurn.saysSomething(type: echo.message.type), waID: echo.message.customerWaID, userID: echo.message.customerUserID, businessNumber: echo.message.businessNumberID,
                            wamid: echo.message.wamid, type: echo.message.type, body: echo.message.body, details: echo.message.detailsJSON,
                            targetWamid: echo.message.targetWamid, payload: echo.message.payloadJSON, sentAt: echo.message.sentAt?.timeIntervalSince1970,
                            receivedAt: echo.receivedAt.timeIntervalSince1970)
        })
        var statements = [PostgresStatement("""
            WITH e AS (
                SELECT DISTINCT ON (wamid) * FROM jsonb_to_recordset($1::jsonb) AS e(ord int, delivery_id bigint, answers boolean, wa_id text, user_id text, business_number text, wamid text, type text,
                                                                                     body text, details text, target_wamid text, payload text, sent_at float8, received_at float8)
                ORDER BY wamid, ord
            ),
            placed AS (
                SELECT e.*, (SELECT t.id FROM switchboard.tickets t
                             WHERE t.business_number = e.business_number
                               AND t.customer_id = (SELECT min(id) FROM (SELECT id FROM switchboard.customers WHERE wa_id = e.wa_id
                                                                         UNION ALL SELECT id FROM switchboard.customers WHERE user_id = e.user_id) AS c)
                             ORDER BY t.created_at DESC, t.id DESC LIMIT 1) AS ticket_id
                FROM e
            ),
            m AS (
                INSERT INTO switchboard.messages (ticket_id, direction, wamid, type, body, details, target_wamid, payload, provider_sent_at, received_at, status, status_at)
                SELECT ticket_id, 'outbound', wamid, type, body, details::jsonb, target_wamid, payload::jsonb, to_timestamp(sent_at), to_timestamp(received_at),
                       'sent', to_timestamp(received_at)
                FROM placed WHERE ticket_id IS NOT NULL ORDER BY ord
                ON CONFLICT (wamid) DO NOTHING
                RETURNING id, wamid, ticket_id, type, received_at
            ),
            -- What the business app said (not a reaction, an edit, a deletion) answers the customer.
            answered AS (
                UPDATE switchboard.tickets t SET last_outbound_at = greatest(t.last_outbound_at, a.last), first_response_at = coalesce(t.first_response_at, a.first)
                FROM (SELECT m.ticket_id, min(m.received_at) AS first, max(m.received_at) AS last FROM m JOIN e ON e.wamid = m.wamid
                      WHERE e.answers GROUP BY m.ticket_id) AS a
                WHERE t.id = a.ticket_id
            ),
            ev AS (
                INSERT INTO switchboard.ticket_events (ticket_id, at, kind, actor, data)
                SELECT ticket_id, received_at, $2, 'business_app', jsonb_build_object('message_id', id, 'type', type) FROM m
            ),
            -- Every element a delivery did not put on a ticket says why there.
            unplaced AS (
                UPDATE switchboard.webhook_deliveries d SET decode_problem = concat_ws('; ', d.decode_problem, x.reasons)
                FROM (SELECT delivery_id, string_agg('message_echoes ' || wamid || ': to a customer with no ticket on this number, kept raw', '; ' ORDER BY ord) AS reasons
                      FROM placed WHERE ticket_id IS NULL GROUP BY delivery_id) AS x
                WHERE d.id = x.delivery_id
            )
            SELECT m.id, m.wamid, m.ticket_id, t.reference FROM m JOIN switchboard.tickets t ON t.id = m.ticket_id
            UNION ALL
            SELECT NULL, p.wamid, NULL, NULL FROM placed p WHERE p.ticket_id IS NULL
            """, [rows, TicketEventKind.messageEchoed.rawValue])]
        let withMedia = echoes.map(\.message).filter { MediaKind(messageType: $0.type) != nil }.map(\.wamid)
        if !withMedia.isEmpty { statements.append(Self.recordFiles(of: withMedia)) }
        return statements
    }

    /// The statuses of a batch: recorded once per (wamid, status), attributed to the first delivery
    /// that carried each.
    private struct StatusPlan {
        var statements: [PostgresStatement] = []
        var owner: [String: Int] = [:]
    }

    private func statusStatements(_ deliveries: [IncomingDelivery]) throws -> StatusPlan {
        var plan = StatusPlan()
        var rows: [IngestRows.Status] = []
        for (index, delivery) in deliveries.enumerated() {
            for status in delivery.statuses where plan.owner["\(status.wamid)|\(status.status)"] == nil {
                plan.owner["\(status.wamid)|\(status.status)"] = index
                rows.append(.init(ord: rows.count, wamid: status.wamid, status: status.status, occurredAt: status.occurredAt?.timeIntervalSince1970,
                                  errors: status.errorsJSON, payload: status.payloadJSON))
            }
        }
        guard !rows.isEmpty else { return plan }
        var outboundIDs: [String: String] = [:]
        for delivery in deliveries {
            for status in delivery.statuses {
                if let id = status.outboundID { outboundIDs[status.wamid] = id.uuidString.lowercased() }
                else if outboundIDs[status.wamid] == nil { outboundIDs[status.wamid] = "" }
            }
        }
        let wamids = outboundIDs.map { ($0.key, $0.value) }
        plan.statements = [
            PostgresStatement("""
                INSERT INTO switchboard.message_statuses (wamid, status, occurred_at, errors, payload)
                SELECT wamid, status, to_timestamp(occurred_at), errors::jsonb, payload::jsonb
                FROM jsonb_to_recordset($1::jsonb) AS s(ord int, wamid text, status text, occurred_at float8, errors text, payload text)
                ORDER BY ord
                ON CONFLICT (wamid, status) DO NOTHING
                RETURNING wamid, status
                """, [try IngestRows.json(rows)]),
            // A sent message is found by its wamid, or by the outbound id Meta echoes: the status can
            // arrive before the send's wamid is recorded. The row lock orders this with that record.
            PostgresStatement(
                """
                SELECT m.id, k.wamid, m.status FROM unnest($1::text[], $2::text[]) AS k(wamid, outbound_id)
                CROSS JOIN LATERAL (SELECT id, status FROM switchboard.messages
                                    WHERE direction = 'outbound' AND (wamid = k.wamid OR outbound_id = NULLIF(k.outbound_id, '')::uuid)
                                    ORDER BY (wamid = k.wamid) IS TRUE DESC LIMIT 1 FOR UPDATE) AS m
                """,
                [wamids.map(\.0), wamids.map(\.1)]),
        ]
        return plan
    }

    /// Moves outbound messages forward with what was newly recorded, in arrival order.
    private func applyStatuses(_ plan: StatusPlan, recorded: PostgresRows, outbound: PostgresRows, deliveries: [IncomingDelivery],
                               results: inout [IngestResult], in transaction: PostgresTransaction) async throws {
        var newlyRecorded = Set<String>()
        for row in recorded {
            let key = "\(try row.decode(0, as: String.self))|\(try row.decode(1, as: String.self))"
            newlyRecorded.insert(key)
            if let index = plan.owner[key] { results[index].statusesRecorded += 1 }
        }
        var current: [String: (id: Int64, status: String?)] = [:]
        for row in outbound {
            current[try row.decode(1, as: String.self)] = (try row.decode(0, as: Int64.self), try row.decode(2, as: String?.self))
        }
        var changed: [String: IngestRows.StatusUpdate] = [:]
        for delivery in deliveries {
            for status in delivery.statuses where newlyRecorded.contains("\(status.wamid)|\(status.status)") {
                guard let message = current[status.wamid], DeliveryProgress.advances(from: message.status, to: status.status) else { continue }
                current[status.wamid] = (message.id, status.status)
                let previous = changed[status.wamid]
                changed[status.wamid] = .init(id: message.id, wamid: status.wamid, status: status.status, at: status.occurredAt?.timeIntervalSince1970,
                                              errorCode: status.errorCode ?? previous?.errorCode, errorTitle: status.errorTitle ?? previous?.errorTitle)
            }
        }
        guard !changed.isEmpty else { return }
        let updated = try await transaction.query(
            """
            UPDATE switchboard.messages AS m SET status = u.status, status_at = to_timestamp(u.at), wamid = coalesce(m.wamid, u.wamid),
                error_code = coalesce(u.error_code, m.error_code), error_title = coalesce(u.error_title, m.error_title)
            FROM jsonb_to_recordset($1::jsonb) AS u(id bigint, wamid text, status text, at float8, error_code int, error_title text)
            WHERE m.id = u.id AND m.id = ANY($2::bigint[])
            RETURNING m.id, m.ticket_id, m.status
            """,
            [try IngestRows.json(Array(changed.values)), changed.values.map(\.id)]
        )
        // Told to followers (delivery ticks), with the delivery that brought each status.
        let owners = Dictionary(changed.values.map { ($0.id, plan.owner["\($0.wamid)|\($0.status)"] ?? 0) }, uniquingKeysWith: { first, _ in first })
        for row in updated {
            let id = try row.decode(0, as: Int64.self)
            results[owners[id] ?? 0].statusChanges.append(.init(messageID: id, ticketID: try row.decode(1), status: try row.decode(2)))
        }
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

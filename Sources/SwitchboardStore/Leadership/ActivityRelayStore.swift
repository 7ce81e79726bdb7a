import Foundation
import Postgres
import SwitchboardCore

/// What a standby ingested, handed to the leader through the database (migration 0014): the same
/// `IngestResult` parts the leader's own ingest hands its router, written after the standby's
/// commit, read by the leader (a few times a second) and deleted once acted on.
public struct ActivityRelayStore: Sendable {
    public struct Relayed: Sendable, Equatable {
        public var id: Int64
        public var messages: [IngestResult.StoredMessage]
        public var statuses: [IngestResult.StatusChange]
    }

    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public func relay(from node: String, messages: [IngestResult.StoredMessage], statuses: [IngestResult.StatusChange]) async throws {
        if messages.isEmpty && statuses.isEmpty { return }
        try await pool.query("INSERT INTO switchboard.activity_relay (node, messages, statuses) VALUES ($1, $2::jsonb, $3::jsonb)", [node, try JSONText.encode(messages.map(RelayedMessage.init)), try JSONText.encode(statuses.map(RelayedStatus.init))])
    }

    /// The oldest relayed activity, in order.
    public func pending(limit: Int = 200) async throws -> [Relayed] {
        let decoder = JSONDecoder()
        return try await pool.query("SELECT id, messages::text, statuses::text FROM switchboard.activity_relay ORDER BY id LIMIT $1", [limit]).map { row in
            Relayed(id: try row.decode(0, as: Int64.self),
                    messages: try decoder.decode([RelayedMessage].self, from: Data(try row.decode(1, as: String.self).utf8)).map { try $0.stored },
                    statuses: try decoder.decode([RelayedStatus].self, from: Data(try row.decode(2, as: String.self).utf8)).map(\.change))
        }
    }

    /// Forgets activity the leader has acted on.
    public func forget(_ ids: [Int64]) async throws {
        if ids.isEmpty { return }
        try await pool.query("DELETE FROM switchboard.activity_relay WHERE id = ANY($1::bigint[])", [ids])
    }
}

/// `IngestResult.StoredMessage` as relayed JSON.
private struct RelayedMessage: Codable {
    var wamid: String
    var message: Int64
    var ticket: Int64
    var reference: String
    /// append, wake_up, reopen, new_ticket, attach (with `target` for all but new_ticket)
    var threading: String
    var target: Int64?
    var asks: Bool
    var echo: Bool
    var answers: Bool

    init(_ stored: IngestResult.StoredMessage) {
        wamid = stored.wamid
        message = stored.messageID
        ticket = stored.ticketID
        reference = stored.ticketReference
        switch stored.threading {
        case .append(let id): (threading, target) = ("append", id)
        case .wakeUp(let id): (threading, target) = ("wake_up", id)
        case .reopen(let id): (threading, target) = ("reopen", id)
        case .attach(let id): (threading, target) = ("attach", id)
        case .newTicket: (threading, target) = ("new_ticket", nil)
        }
        asks = stored.asksForAnswer
        echo = stored.isEcho
        answers = stored.answersCustomer
    }

    var stored: IngestResult.StoredMessage {
        get throws {
            let decision: TicketThreading.Decision
            switch (threading, target) {
            case ("append", let id?): decision = .append(to: id)
            case ("wake_up", let id?): decision = .wakeUp(id)
            case ("reopen", let id?): decision = .reopen(id)
            case ("attach", let id?): decision = .attach(to: id)
            case ("new_ticket", _): decision = .newTicket
            default: throw PostgresError.unexpected("relayed activity: unknown threading \(threading)")
            }
            return IngestResult.StoredMessage(wamid: wamid, messageID: message, ticketID: ticket, ticketReference: reference, threading: decision,
                                              asksForAnswer: asks, isEcho: echo, answersCustomer: answers)
        }
    }
}

private struct RelayedStatus: Codable {
    var message: Int64
    var ticket: Int64
    var status: String

    init(_ change: IngestResult.StatusChange) {
        message = change.messageID
        ticket = change.ticketID
        status = change.status
    }

    var change: IngestResult.StatusChange { .init(messageID: message, ticketID: ticket, status: status) }
}

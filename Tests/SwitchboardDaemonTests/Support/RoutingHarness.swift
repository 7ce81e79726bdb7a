import Foundation
import JSON
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import TestSupport

/// A router on a fresh database with a virtual clock, fed through the real ingest store, so a test
/// can write as a customer, act as an agent, move time, and read what PostgreSQL holds.
struct RoutingHarness {
    let pool: PostgresPool
    let timers: VirtualTimers
    let router: TicketRouter
    let ingest: WebhookIngestStore
    static let start = Date(timeIntervalSince1970: 1_790_000_000)

    static func make(_ label: String, _ configuration: RoutingConfiguration, pool existing: PostgresPool? = nil, timers existingTimers: VirtualTimers? = nil,
                     events: EventStream? = nil, rebuild: Bool = true, rebuildChunkSize: Int = 10_000) async throws -> RoutingHarness {
        let pool: PostgresPool
        if let existing {
            pool = existing
        } else {
            pool = try await TestDatabase.freshPool(label, size: 8)
            try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: TestDatabase.quietLogger).migrate()
        }
        let timers = existingTimers ?? VirtualTimers(start: start)
        let router = TicketRouter(configuration: configuration, pool: pool, timers: timers, logger: TestDatabase.quietLogger, events: events,
                                  rebuildChunkSize: rebuildChunkSize)
        if rebuild { try await router.rebuild() }
        return RoutingHarness(pool: pool, timers: timers, router: router, ingest: WebhookIngestStore(pool: pool, reopenWithin: 24 * 3600))
    }

    /// A customer message arrives through ingest and routing; returns the ticket's id.
    @discardableResult
    func customerWrites(_ waID: String, _ text: String, wamid: String = "wamid.\(UUID().uuidString)") async throws -> Int64 {
        let stored = try await customerMessageCommitted(waID, text, wamid: wamid)
        await router.committed(stored)
        await router.settle()
        guard let ticket = stored.first?.ticketID else { throw HarnessError.notStored(wamid) }
        return ticket
    }

    /// The business answers from the WhatsApp Business app on the same number: its echo, stored
    /// and told to routing as the webhook path does.
    @discardableResult
    func businessAppSends(_ waID: String, _ text: String, type: String = "text", details: String = "{}") async throws -> [IngestResult.StoredMessage] {
        let wamid = "wamid.echo.\(UUID().uuidString)"
        let echo = IncomingMessage(wamid: wamid, businessNumberID: "106540352242922", businessDisplayNumber: "15550783881", customerWaID: waID,
                                   type: type, body: text, detailsJSON: details, payloadJSON: #"{"id": "\#(wamid)"}"#, isEcho: true)
        let stored = try await ingest.store([IncomingDelivery(body: Array("{}".utf8), messages: [echo], statuses: [], decodeProblem: nil, receivedAt: timers.now)])
            .flatMap(\.stored)
        await router.committed(stored)
        await router.settle()
        return stored
    }

    /// A customer message committed by ingest but not (yet) told to routing.
    func customerMessageCommitted(_ waID: String, _ text: String, wamid: String = "wamid.\(UUID().uuidString)") async throws -> [IngestResult.StoredMessage] {
        let message = IncomingMessage(wamid: wamid, businessNumberID: "106540352242922", businessDisplayNumber: "15550783881", customerWaID: waID,
                                      customerName: "Customer \(waID)", type: "text", body: text, payloadJSON: #"{"id": "\#(wamid)"}"#)
        let result = try await ingest.store([IncomingDelivery(body: Array("{}".utf8), messages: [message], statuses: [], decodeProblem: nil, receivedAt: timers.now)])
        return result.flatMap(\.stored)
    }

    /// A customer's file message (image, document, …) with what Meta's webhook says of the file;
    /// returns its ticket.
    func customerSendsFile(_ waID: String, kind: String, mediaID: String, mimeType: String, sha256: String?, fileName: String? = nil,
                           caption: String? = nil) async throws -> Int64 {
        var media: [String: JSONValue] = ["id": .string(mediaID), "mime_type": .string(mimeType), "voice": false, "animated": false]
        if let sha256 { media["sha256"] = .string(sha256) }
        if let fileName { media["filename"] = .string(fileName) }
        let wamid = "wamid.\(UUID().uuidString)"
        let message = IncomingMessage(wamid: wamid, businessNumberID: "106540352242922", businessDisplayNumber: "15550783881", customerWaID: waID,
                                      customerName: "Customer \(waID)", type: kind, body: caption, detailsJSON: JSONValue.object(["media": .object(media)]).jsonText,
                                      payloadJSON: #"{"id": "\#(wamid)"}"#)
        let stored = try await ingest.store([IncomingDelivery(body: Array("{}".utf8), messages: [message], statuses: [], decodeProblem: nil, receivedAt: timers.now)])
            .flatMap(\.stored)
        await router.committed(stored)
        await router.settle()
        guard let ticket = stored.first?.ticketID else { throw HarnessError.unknownAgent("no ticket for \(waID)") }
        return ticket
    }

    /// The id of the file a ticket's message carries.
    func mediaID(ofTicket ticket: Int64) async throws -> Int64? {
        try await pool.query("SELECT f.id FROM switchboard.media f JOIN switchboard.messages m ON m.id = f.message_id WHERE m.ticket_id = $1 ORDER BY f.id",
                             [ticket]).first?.decode(0, as: Int64.self)
    }

    func advance(by seconds: TimeInterval) async {
        await timers.advance(to: timers.now.addingTimeInterval(seconds))
        await router.settle()
    }

    func assignee(_ ticket: Int64) async throws -> String? {
        try await pool.query("SELECT assignee FROM switchboard.tickets WHERE id = $1", [ticket]).first?.decode(0, as: String?.self)
    }

    /// The data of a ticket's events of one kind, oldest first, as JSON objects.
    func events(_ ticket: Int64, _ kind: String) async throws -> [[String: Any]] {
        try await pool.query("SELECT data::text FROM switchboard.ticket_events WHERE ticket_id = $1 AND kind = $2 ORDER BY id", [ticket, kind]).map { row in
            let text: String = try row.decode(0)
            return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
        }
    }

    func setStatus(_ ticket: Int64, _ status: TicketStatus) async throws {
        guard try await router.setStatus(ticket, to: status, actor: "test") else { throw HarnessError.unchanged(ticket) }
        await router.settle()
    }

    func setPresence(_ agent: String, _ presence: AgentPresence) async throws {
        guard try await router.setPresence(agent, to: presence, actor: "test") else { throw HarnessError.unknownAgent(agent) }
        await router.settle()
    }

    enum HarnessError: Error {
        case notStored(String)
        case unchanged(Int64)
        case unknownAgent(String)
    }
}

extension RoutingConfiguration {
    /// One queue, `support`, with the given strategy and steps; every ticket goes there needing
    /// `skills`; the agents are online unless `presence` says otherwise.
    static func testing(agents: [AgentDefinition], presence: [String: AgentPresence] = [:], strategy: RoutingStrategy = .leastLoaded,
                        steps: [RoutingStep] = [RoutingStep(requirements: [], timeout: nil)], extraQueues: [QueueDefinition] = [],
                        rules: [RoutingRule]? = nil, acceptWithin: TimeInterval? = nil, grace: TimeInterval = 120,
                        pendingCounts: Bool = true, stickySeconds: TimeInterval = 86_400) -> RoutingConfiguration {
        var initial = Dictionary(uniqueKeysWithValues: agents.map { ($0.id, AgentPresence.online) })
        initial.merge(presence) { _, new in new }
        return RoutingConfiguration(
            queues: [QueueDefinition(name: "support", strategy: strategy, steps: steps, acceptWithin: acceptWithin)] + extraQueues,
            rules: rules ?? [RoutingRule(name: "all", actions: .init(queue: "support"))],
            agents: agents, initialPresence: initial, pendingCountsAgainstCapacity: pendingCounts, stickySeconds: stickySeconds,
            presenceGraceSeconds: grace)
    }
}

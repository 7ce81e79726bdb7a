import Foundation
import Hummingbird
import HummingbirdTesting
import JSON
import Logging
import NIOCore
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport
import WhatsApp

/// The agents' API over a fresh database: routing on a virtual clock, the event log fed by the
/// enricher, an outbox that records replies (its clock is the routing clock), and every response
/// checked against `docs/openapi.json`.
struct APIHarness {
    let routing: RoutingHarness
    let events: EventStream
    let log: EventLog
    let api: AgentAPI
    let store: ControlStore
    let document: OpenAPIDocument
    let enricher: Task<Void, any Error>
    /// Read receipts and typing indicators, running when the harness has a Graph API stand-in.
    let signals: Task<Void, any Error>?

    /// - Parameter graph: a Graph API stand-in that takes agents' uploads (replies are only queued).
    /// - Parameter automation: the `automation` section in force, read at each call as the daemon's
    ///   reloadable configuration is (the queues' fallback templates).
    static func start(_ label: String, configuration: RoutingConfiguration, silence: TimeInterval = 120, graph: GraphAPIStandIn? = nil,
                      automation: @escaping @Sendable () -> AutomationConfiguration = { AutomationConfiguration() }) async throws -> APIHarness {
        let events = EventStream()
        let routing = try await RoutingHarness.make(label, configuration, events: events)
        let log = EventLog(capacity: 1000, maxAge: 3600)
        let store = ControlStore(pool: routing.pool)
        let enricher = EventEnricher(events: events, log: log, store: store, logger: TestDatabase.quietLogger)
        let task = Task { try await enricher.run() }
        let timers = routing.timers
        let client = GraphAPIClient(configuration: .init(baseURL: graph?.baseURL ?? "http://127.0.0.1:9", version: "v24.0",
                                                         accessToken: graph?.accessToken ?? "unused", timeout: .seconds(60)),
                                    httpClient: .shared)
        let outbox = OutboxService(store: OutboxStore(pool: routing.pool), client: client,
                                   settings: .init(messagesPerSecond: 80, limits: .init(customerInterval: 0, maxInFlight: 4),
                                                   retryPolicy: RetryPolicy(baseDelay: 1, maxDelay: 1, maxAttempts: 1)),
                                   now: { timers.now }, logger: TestDatabase.quietLogger)
        let signals = graph.map { _ in
            CustomerSignals(settings: .init(markReadOnOpen: true, typingIndicator: true), store: ReadReceiptStore(pool: routing.pool), client: client,
                            now: { timers.now }, logger: TestDatabase.quietLogger)
        }
        let api = AgentAPI(router: routing.router, store: store, outbox: outbox, events: events, log: log, timers: routing.timers,
                           settings: .init(presenceSilenceSeconds: silence, eventRetentionCount: 1000, eventRetentionSeconds: 3600, maxPageSize: 200),
                           uploads: graph.map { _ in MediaUploader(store: MediaStore(pool: routing.pool), client: client, logger: TestDatabase.quietLogger) },
                           signals: signals, templates: [MessageTemplate(name: "order_update", language: "en_US", text: "Hello {{1}}, your order {{2}} is on its way")],
                           automation: automation, logger: TestDatabase.quietLogger)
        // The enricher follows the stream once it has subscribed.
        while events.subscriberCount == 0 { await Task.yield() }
        return APIHarness(routing: routing, events: events, log: log, api: api, store: store, document: try OpenAPIDocument.load(), enricher: task,
                          signals: signals.map { service in Task { try await service.run() } })
    }

    func stop() {
        enricher.cancel()
        signals?.cancel()
    }

    func application() -> some ApplicationProtocol {
        let router = Router()
        api.register(on: router)
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: TestDatabase.quietLogger)
    }

    func token(_ agent: String) async throws -> String {
        try #require(try await store.tokens.issue(agentID: agent, label: nil, by: "test", now: Date())).token.text
    }

    func reference(_ ticket: Int64) async throws -> String {
        try #require(try await routing.pool.query("SELECT reference FROM switchboard.tickets WHERE id = $1", [ticket]).first?.decode(0, as: String.self))
    }

    /// One call; the response must be as the document describes (an issue is recorded otherwise).
    func call(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ documented: String, _ path: String, token: String?,
              body: JSONValue? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws -> (status: Int, body: JSONValue?) {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil { headers[.contentType] = "application/json" }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: JSONWriter.write($0)) })
        let text = String(buffer: response.body)
        let json = text.isEmpty ? nil : try? JSONParser.parse(Array(text.utf8))
        if !text.isEmpty && json == nil { Issue.record("\(method) \(path): not JSON: \(text)", sourceLocation: sourceLocation) }
        for problem in document.problems(method: method.rawValue, path: documented, status: Int(response.status.code), body: json) {
            Issue.record("\(problem)", sourceLocation: sourceLocation)
        }
        return (Int(response.status.code), json)
    }
}

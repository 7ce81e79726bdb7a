import Foundation
import Hummingbird
import JSON
import Logging
import SwitchboardCore
import SwitchboardStore

/// The agents' HTTP API under `/api/v1` (described in `docs/openapi.json`): bearer tokens issued
/// with `switchboardctl issue-token`, every call authorised by `Permissions.decide`, every change a
/// ticket event with the agent as actor.
public struct AgentAPI: Sendable {
    let router: TicketRouter
    let store: ControlStore
    let outbox: OutboxService?
    /// Agents' files to the Graph API; nil when sending is not configured.
    let uploads: MediaUploader?
    /// Read receipts and typing indicators; nil when sending is not configured.
    let signals: CustomerSignals?
    let events: EventStream
    let log: EventLog
    let presence: APIPresenceWatch
    /// Routing's clock: an acceptance is dated on the same clock as the assignment it accepts.
    let timers: any RoutingTimers
    let maxPageSize: Int
    let sessionIdle: TimeInterval
    /// `whatsapp.templates`: what the reply box offers when the window has closed.
    let templates: [MessageTemplate]
    /// The `automation` section in force (reloadable: read at each call), for the queues'
    /// fallback templates.
    let automation: @Sendable () -> AutomationConfiguration
    let logger: Logger

    public init(router: TicketRouter, store: ControlStore, outbox: OutboxService?, events: EventStream, log: EventLog, timers: any RoutingTimers,
                settings: SwitchboardConfiguration.API, uploads: MediaUploader? = nil, signals: CustomerSignals? = nil,
                templates: [MessageTemplate] = [], automation: @escaping @Sendable () -> AutomationConfiguration = { AutomationConfiguration() },
                logger: Logger) {
        self.router = router
        self.templates = templates
        self.automation = automation
        self.signals = signals
        self.uploads = uploads
        self.store = store
        self.outbox = outbox
        self.events = events
        self.log = log
        self.timers = timers
        self.presence = APIPresenceWatch(router: router, timers: timers, silence: settings.presenceSilenceSeconds, logger: logger)
        self.maxPageSize = settings.maxPageSize
        self.sessionIdle = settings.sessionIdleSeconds
        self.logger = logger
    }

    /// Every endpoint of `APIEndpoint.all`; on a declared path, any other method answers 405 with
    /// `Allow` naming the declared ones (HEAD comes with GET).
    public func register(on http: Router<BasicRequestContext>) {
        let api = http.group("api/v1")
        for endpoint in APIEndpoint.all {
            api.on(RouterPath(endpoint.path), method: endpoint.method) { request, context in
                await handle(request, query: endpoint.query) { caller in
                    try await endpoint.run(self, caller, request, context.parameters.get("ref") ?? "")
                }
            }
        }
        for (path, declared) in APIEndpoint.methodsByPath {
            let allowed = declared.contains(.get) ? declared + [.head] : declared
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            for method in APIEndpoint.answeredMethods where !allowed.contains(method) {
                api.on(RouterPath(path), method: method) { request, _ in
                    var response = APIFailure(status: .methodNotAllowed, code: "method_not_allowed",
                                              message: "\(request.method.rawValue) is not a method of /api/v1/\(path); it takes \(allow)").response
                    response.headers[.allow] = allow
                    return response
                }
            }
        }
    }

    /// Authenticates, keeps the agent's presence alive, refuses query parameters the call does not
    /// take, runs the call, and turns failures into the API's JSON errors (an unexpected one is
    /// logged and answered 500 without details).
    func handle(_ request: Request, query: Set<String>, _ body: (APICaller) async throws -> Response) async -> Response {
        do {
            let caller = try await APICaller.authenticate(request, store: store, now: Date(), sessionIdle: sessionIdle)
            await presence.touch(caller.agentID)
            try APIQuery.check(request, takes: query)
            return try await body(caller)
        } catch let failure as APIFailure {
            return failure.response
        } catch {
            logger.error("API call failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return APIFailure(status: .internalServerError, code: "internal", message: "the call failed inside Switchboard; see its log").response
        }
    }

    // MARK: Me, presence, queues

    func me(_ caller: APICaller) async throws -> Response {
        guard let agent = router.roster.agent(caller.agentID) else { throw APIFailure.unauthorized }
        return APIResponse.json(APIRepresentation.agent(await agent.current))
    }

    func setPresence(_ caller: APICaller, _ request: Request) async throws -> Response {
        let body = try await APIBody.read(request)
        try body.only(["presence"])
        let text = try body.choice("presence", AgentPresence.allCases.map(\.rawValue))
        guard let presence = AgentPresence(rawValue: text) else { throw APIFailure.invalid("presence", "unknown") }
        guard try await router.setPresence(caller.agentID, to: presence, actor: caller.agentID) else { throw APIFailure.unauthorized }
        return try await me(caller)
    }

    func queues(_ caller: APICaller) async throws -> Response {
        let figures = try await QueueFigures.collect(router: router, store: store, only: nil)
            .filter { Permissions.canSee(caller.permissions, queue: $0.name) }
        return APIResponse.json(["queues": .array(figures.map(APIRepresentation.queue))])
    }
}

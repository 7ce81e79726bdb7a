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
    let events: EventStream
    let log: EventLog
    let presence: APIPresenceWatch
    let maxPageSize: Int
    let logger: Logger

    public init(router: TicketRouter, store: ControlStore, outbox: OutboxService?, events: EventStream, log: EventLog, timers: any RoutingTimers,
                settings: SwitchboardConfiguration.API, logger: Logger) {
        self.router = router
        self.store = store
        self.outbox = outbox
        self.events = events
        self.log = log
        self.presence = APIPresenceWatch(router: router, timers: timers, silence: settings.presenceSilenceSeconds, logger: logger)
        self.maxPageSize = settings.maxPageSize
        self.logger = logger
    }

    public func register(on http: Router<BasicRequestContext>) {
        let api = http.group("api/v1")
        api.get("me") { request, _ in await handle(request) { try await me($0) } }
        api.put("me/presence") { request, _ in await handle(request) { try await setPresence($0, request) } }
        api.post("me/heartbeat") { request, _ in await handle(request) { _ in Response(status: .noContent) } }
        api.get("queues") { request, _ in await handle(request) { try await queues($0) } }
        api.get("tickets") { request, _ in await handle(request) { try await tickets($0, request) } }
        api.get("tickets/:ref") { request, context in await handle(request) { try await ticket($0, context.parameters.get("ref") ?? "") } }
        api.post("tickets/:ref/take") { request, context in await handle(request) { try await take($0, context.parameters.get("ref") ?? "") } }
        api.post("tickets/:ref/assign") { request, context in await handle(request) { try await assign($0, context.parameters.get("ref") ?? "", request) } }
        api.post("tickets/:ref/status") { request, context in await handle(request) { try await status($0, context.parameters.get("ref") ?? "", request) } }
        api.post("tickets/:ref/priority") { request, context in await handle(request) { try await priority($0, context.parameters.get("ref") ?? "", request) } }
        api.post("tickets/:ref/tags") { request, context in await handle(request) { try await tag($0, context.parameters.get("ref") ?? "", request) } }
        api.post("tickets/:ref/notes") { request, context in await handle(request) { try await note($0, context.parameters.get("ref") ?? "", request) } }
        api.post("tickets/:ref/messages") { request, context in await handle(request) { try await reply($0, context.parameters.get("ref") ?? "", request) } }
        api.get("events") { request, _ in await handle(request) { try await follow($0, request) } }
    }

    /// Authenticates, keeps the agent's presence alive, runs the call, and turns failures into the
    /// API's JSON errors (an unexpected one is logged and answered 500 without details).
    func handle(_ request: Request, _ body: (APICaller) async throws -> Response) async -> Response {
        do {
            let caller = try await APICaller.authenticate(request, store: store, now: Date())
            await presence.touch(caller.agentID)
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

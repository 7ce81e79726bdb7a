import Foundation
import Hummingbird
import JSON
import SwitchboardCore
import SwitchboardStore

/// What the supervisors' dashboard shows, and the lists the inbox's pickers need: agents and
/// templates. Each filtered by the caller's `Permissions.canSee`.
extension AgentAPI {
    /// The agents the caller may see: themselves; a supervisor their teams'; an admin everyone.
    func agents(_ caller: APICaller) async throws -> Response {
        var agents: [JSONValue] = []
        for agent in router.roster.all where Permissions.canSee(caller.permissions, agent: agent.id) {
            agents.append(APIRepresentation.agent(await agent.current))
        }
        return APIResponse.json(["agents": .array(agents)])
    }

    /// The templates of the configuration (`whatsapp.templates`), offered once the customer
    /// service window has closed.
    func templates(_ caller: APICaller) async throws -> Response {
        APIResponse.json(["templates": .array(templates.map { template in
            ["name": .string(template.name), "language": .string(template.language), "parameters": APIResponse.int(template.parameters),
             "text": .string(template.text)]
        })])
    }

    /// Per queue, per agent, the tickets at risk and the last six hours' arrivals and waiting —
    /// for the queues and agents the caller may see. "Today" starts at midnight in the routing's
    /// business-hours time zone (UTC without one).
    func dashboard(_ caller: APICaller) async throws -> Response {
        // Routing's clock: the waits and arrivals it dated.
        let now = timers.now
        let permissions = caller.permissions
        let queues = try await QueueFigures.collect(router: router, store: store, only: nil, now: now)
            .filter { Permissions.canSee(permissions, queue: $0.name) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = await router.configuration.businessHours?.timeZone ?? TimeZone(identifier: "UTC") ?? .current
        let days = try await store.queueDays(since: calendar.startOfDay(for: now))
        let queueValues: [JSONValue] = queues.map { figures in
            guard case .object(var fields) = APIRepresentation.queue(figures) else { preconditionFailure("a queue is an object") }
            let day = days[figures.name] ?? QueueDay()
            fields["breached_today"] = APIResponse.int(day.breached)
            fields["first_response_attainment_today"] = day.firstResponseAttainment.map(JSONValue.number) ?? .null
            return .object(fields)
        }
        var states: [AgentState] = []
        for agent in router.roster.all where Permissions.canSee(permissions, agent: agent.id) { states.append(await agent.current) }
        let references = try await store.summaries(ofTickets: states.flatMap { $0.tickets.keys })
        let agentValues: [JSONValue] = states.map { state in
            guard case .object(var fields) = APIRepresentation.agent(state) else { preconditionFailure("an agent is an object") }
            fields["tickets"] = APIResponse.strings(state.tickets.keys.sorted().compactMap { references[$0]?.reference })
            return .object(fields)
        }
        let risk = try await store.atRisk(within: 30 * 60, now: now)
            .filter { Permissions.canSee(permissions, .init(assignee: $0.assignee, queue: $0.queue)) }
        let scope = Permissions.ticketScope(permissions)
        let chart = try await store.arrivals(now: now, bucket: 15 * 60, count: 24, queues: scope.everything ? nil : scope.queues.sorted())
        return APIResponse.json([
            "generated_at": APIResponse.timestamp(now),
            "queues": .array(queueValues),
            "agents": .array(agentValues),
            "at_risk": .array(risk.map { clock in
                ["ticket": .string(clock.ticket), "clock": .string(clock.clock), "policy": .string(clock.policy), "deadline": APIResponse.timestamp(clock.deadline),
                 "warned": .bool(clock.warnedAt != nil), "breached": .bool(clock.breachedAt != nil), "paused": .bool(clock.paused),
                 "queue": APIResponse.optional(clock.queue), "assignee": APIResponse.optional(clock.assignee)]
            }),
            "arrivals": .array(chart.map { ["at": APIResponse.timestamp($0.start), "arrivals": APIResponse.int($0.arrivals), "waiting": APIResponse.int($0.waiting)] }),
        ])
    }
}

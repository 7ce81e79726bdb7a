import Foundation
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport

/// Random sequences of arrivals, presence flips, resolves, pending, customers coming back, capacity
/// changes and step timeouts, applied concurrently (a batch at a time) to the real actors and a real
/// database. After each batch, once everything has settled, the invariants of routing must hold.
@Suite("Routing properties under concurrent events")
struct RoutingPropertyTests {
    static let skills = ["lang:es", "lang:en", "product:billing"]

    struct World {
        var routing: RoutingHarness
        var configuration: RoutingConfiguration
        var customers: [Int64: String] = [:]
        var nextCustomer = 0
    }

    static func configuration(_ random: inout SeededRandom) -> RoutingConfiguration {
        var agents = (0..<Int.random(in: 3...6, using: &random)).map { index in
            AgentDefinition(id: "agent\(index)", name: "Agent \(index)", capacity: Int.random(in: 1...8, using: &random),
                            skills: Dictionary(uniqueKeysWithValues: skills.filter { _ in Bool.random(using: &random) }.map { ($0, Int.random(in: 1...5, using: &random)) }),
                            queues: [["sales"], ["billing"], ["sales", "billing"]].randomElement(using: &random)!)
        }
        var presence = Dictionary(uniqueKeysWithValues: agents.map { ($0.id, AgentPresence.allCases.randomElement(using: &random)!) })
        // One expert starts online in both queues, so that every sequence assigns something.
        agents[0].skills = Dictionary(uniqueKeysWithValues: skills.map { ($0, 5) })
        agents[0].queues = ["sales", "billing"]
        presence["agent0"] = .online
        let steps = [RoutingStep(requirements: [], timeout: 30, ruleSkillLevel: 4), RoutingStep(requirements: [], timeout: 60, ruleSkillLevel: 2),
                     RoutingStep(requirements: [], timeout: nil, ruleSkillLevel: 0)]
        let queues = ["sales", "billing"].map {
            QueueDefinition(name: $0, strategy: RoutingStrategy.allCases.randomElement(using: &random)!, steps: steps)
        }
        let rules = [
            RoutingRule(name: "billing", conditions: .init(keywords: ["invoice"]), actions: .init(queue: "billing", priority: .high, requiredSkills: [SkillRequirement("product:billing", atLeast: 3)])),
            RoutingRule(name: "spanish", conditions: .init(keywords: ["hola"]), actions: .init(queue: "sales", requiredSkills: [SkillRequirement("lang:es", atLeast: 3)])),
            RoutingRule(name: "rest", actions: .init(queue: "sales", requiredSkills: [SkillRequirement("lang:en", atLeast: 2)])),
        ]
        return RoutingConfiguration(queues: queues, rules: rules, agents: agents, initialPresence: presence, pendingCountsAgainstCapacity: true,
                                    stickySeconds: 3600, presenceGraceSeconds: 45)
    }

    /// Two queues share one agent; a burst of tickets arrives in both at once, each arrival starting
    /// its queue's round. However the rounds interleave, exactly `capacity` tickets are assigned, the
    /// actor and the database agree, and the rest wait. (The reservation itself — the agent refusing
    /// a stale proposal — is tested deterministically in `AgentStateTests` and
    /// `QueueStateMachineTests`; here the timing decides whether the rounds overlap.)
    @Test(arguments: 0..<4)
    func twoQueuesRacingForOneAgentNeverOverfillIt(round: Int) async throws {
        let shared = AgentDefinition(id: "shared", name: "Shared", capacity: 3, queues: ["sales", "billing"])
        let configuration = RoutingConfiguration(
            queues: [QueueDefinition(name: "sales"), QueueDefinition(name: "billing")],
            rules: [RoutingRule(name: "billing", conditions: .init(keywords: ["invoice"]), actions: .init(queue: "billing")),
                    RoutingRule(name: "rest", actions: .init(queue: "sales"))],
            agents: [shared], initialPresence: ["shared": .online])
        let routing = try await RoutingHarness.make("routing_race_\(round)", configuration)
        // Tickets arrive in both queues at once, each arrival starting its queue's round.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<30 {
                group.addTask { _ = try await routing.customerWrites("4479000\(String(format: "%05d", index))", index % 2 == 0 ? "my invoice" : "hello") }
            }
            try await group.waitForAll()
        }
        let router = routing.router
        await router.settle()
        let held = try await routing.pool.query("SELECT count(*) FROM switchboard.tickets WHERE assignee = 'shared'").first?.decode(0, as: Int.self)
        #expect(held == 3)
        #expect(await router.roster.agent("shared")?.current.load == 3)
        let waiting = await (router.queue(named: "sales")?.waitingTickets().count ?? 0) + (router.queue(named: "billing")?.waitingTickets().count ?? 0)
        #expect(waiting == 27)
    }

    enum Event: Sendable {
        case arrival(String, String)
        case comeBack(String)
        case presence(String, AgentPresence)
        case status(Int64, TicketStatus)
        case capacity(String, Int)
    }

    @Test(arguments: 0..<6)
    func invariantsHoldAfterEveryBatchAndARestartRebuildsTheSameState(seed: Int) async throws {
        var random = SeededRandom(seed: UInt64(seed) &+ 4242)
        let configuration = Self.configuration(&random)
        var world = World(routing: try await RoutingHarness.make("routing_property_\(seed)", configuration), configuration: configuration)
        var assignedBefore = try await assignedEventCount(world.routing)
        var sawWaiting = 0
        for _ in 0..<12 {
            var capacityChanged: Set<String> = []
            if Int.random(in: 0..<4, using: &random) == 0 {
                await world.routing.advance(by: Double(Int.random(in: 5...70, using: &random)))
            } else {
                let events = try await batch(&world, &random)
                capacityChanged = try await apply(events, to: world)
            }
            sawWaiting += try await checkInvariants(world, assignedBefore: assignedBefore, capacityChanged: capacityChanged)
            assignedBefore = try await assignedEventCount(world.routing)
        }
        // The sequence exercised routing: tickets were assigned, and some had to wait.
        let assigned = try await assignedEventCount(world.routing).values.reduce(0, +)
        #expect(assigned > 0 && sawWaiting > 0, "assigned \(assigned), seen waiting \(sawWaiting)")
        try await checkRestart(world)
    }

    /// Applies a batch concurrently and waits until routing has settled; returns the agents whose
    /// capacity changed.
    private func apply(_ events: [Event], to world: World) async throws -> Set<String> {
        var capacityChanged: Set<String> = []
        for case .capacity(let agent, _) in events { capacityChanged.insert(agent) }
        let router = world.routing.router
        let routing = world.routing
        try await withThrowingTaskGroup(of: Void.self) { group in
            for event in events {
                group.addTask {
                    switch event {
                    case .arrival(let customer, let text): try await routing.customerWrites(customer, text)
                    case .comeBack(let customer): try await routing.customerWrites(customer, "hola, sigo esperando")
                    case .presence(let agent, let presence): _ = try await router.setPresence(agent, to: presence, actor: "property")
                    case .status(let ticket, let status): _ = try await router.setStatus(ticket, to: status, actor: "property")
                    case .capacity(let agent, let capacity): _ = try await router.setCapacity(agent, to: capacity)
                    }
                }
            }
            try await group.waitForAll()
        }
        await router.settle()
        return capacityChanged
    }

    /// Reopens, resolves and restarts, interleaved (issue #16). Customers whose ticket was resolved
    /// write again, so it reopens; assigned tickets are resolved; and now and then the router is
    /// replaced by a new one rebuilt from the database while customers write: some messages are
    /// committed before the rebuild and told to routing after it (as the daemon answers webhooks
    /// before routing is rebuilt), some during the rebuild, and some never (the daemon died between
    /// commit and routing). After every step, and after a last restart, the agents' actors equal the
    /// database, nobody was given more than their capacity, and nothing waits while an eligible
    /// agent has room.
    @Test(arguments: 0..<6)
    func reopensResolvesAndRestartsKeepEveryAgentsLoadEqualToTheDatabase(seed: Int) async throws {
        var random = SeededRandom(seed: UInt64(seed) &+ 9191)
        let configuration = Self.configuration(&random)
        var world = World(routing: try await RoutingHarness.make("routing_reopen_\(seed)", configuration), configuration: configuration)
        var assignedBefore = try await assignedEventCount(world.routing)
        for step in 0..<16 {
            var capacityChanged: Set<String> = []
            if step % 4 == 3 {
                world.routing = try await restart(world, &random)
            } else {
                var events = try await batch(&world, &random)
                for customer in try await resolvedCustomers(world.routing).filter({ _ in Int.random(in: 0..<3, using: &random) == 0 }) {
                    events.append(.comeBack(customer))
                }
                // Resolve most of what is assigned, so that its customers can come back.
                let assigned = try await world.routing.pool.query("SELECT id FROM switchboard.tickets WHERE assignee IS NOT NULL AND status = 'open' ORDER BY id")
                    .map { try $0.decode(0, as: Int64.self) }
                let touched = Set(events.compactMap { if case .status(let ticket, _) = $0 { ticket } else { nil } })
                for ticket in assigned where !touched.contains(ticket) && Int.random(in: 0..<3, using: &random) > 0 {
                    events.append(.status(ticket, .resolved))
                }
                capacityChanged = try await apply(events, to: world)
            }
            try await checkInvariants(world, assignedBefore: assignedBefore, capacityChanged: capacityChanged)
            assignedBefore = try await assignedEventCount(world.routing)
        }
        let reopened = try await world.routing.pool.query("SELECT count(*) FROM switchboard.ticket_events WHERE kind = 'reopened'").first?.decode(0, as: Int.self) ?? 0
        #expect(reopened > 0, "the sequence reopened no ticket")
        try await checkRestart(world)
    }

    /// Customers whose latest ticket is resolved (writing again reopens it).
    private func resolvedCustomers(_ routing: RoutingHarness) async throws -> [String] {
        try await routing.pool.query("""
            SELECT c.wa_id FROM switchboard.customers c
            CROSS JOIN LATERAL (SELECT status FROM switchboard.tickets t WHERE t.customer_id = c.id ORDER BY t.created_at DESC, t.id DESC LIMIT 1) AS l
            WHERE l.status = 'resolved' ORDER BY c.id
            """).map { try $0.decode(0, as: String.self) }
    }

    /// The daemon dies and starts again: the old router stops; customers write while the new one
    /// rebuilds. Returns the new harness.
    private func restart(_ world: World, _ random: inout SeededRandom) async throws -> RoutingHarness {
        let before = world.routing
        before.timers.cancelAll()
        await before.router.settle()
        let pending = try await before.pool.query("""
            SELECT c.wa_id FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id WHERE t.status = 'pending' ORDER BY t.id
            """).map { try $0.decode(0, as: String.self) }
        var writers = (try await resolvedCustomers(before) + pending).filter { _ in Bool.random(using: &random) }
        writers.shuffle(using: &random)
        // Before the rebuild: committed; told to routing once it runs, or never (the process died).
        var early: [IngestResult.StoredMessage] = []
        for (index, customer) in writers.prefix(writers.count / 2).enumerated() {
            let stored = try await before.customerMessageCommitted(customer, "hello again, me")
            if index % 3 != 2 { early += stored }
        }
        let during = Array(writers.dropFirst(writers.count / 2))
        let told = early
        let timers = VirtualTimers(start: before.timers.now)
        let router = TicketRouter(configuration: world.configuration, pool: before.pool, timers: timers, logger: TestDatabase.quietLogger)
        let after = RoutingHarness(pool: before.pool, timers: timers, router: router, ingest: before.ingest)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await router.rebuild() }
            group.addTask { await router.committed(told) }
            for customer in during {
                group.addTask { try await after.customerWrites(customer, "hello again, me") }
            }
            try await group.waitForAll()
        }
        await router.settle()
        return after
    }

    private func batch(_ world: inout World, _ random: inout SeededRandom) async throws -> [Event] {
        let open = try await world.routing.pool.query("SELECT id, status FROM switchboard.tickets WHERE status <> 'resolved' ORDER BY id")
            .map { (try $0.decode(0, as: Int64.self), try $0.decode(1, as: String.self)) }
        let pending = try await world.routing.pool.query("""
            SELECT c.wa_id FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id WHERE t.status = 'pending' ORDER BY t.id
            """).map { try $0.decode(0, as: String.self) }
        var events: [Event] = []
        var touched: Set<Int64> = [], agentsTouched: Set<String> = []
        for _ in 0..<Int.random(in: 4...16, using: &random) {
            switch Int.random(in: 0..<10, using: &random) {
            case 0...3:
                world.nextCustomer += 1
                let text = ["hello, where is my order", "hola, necesito ayuda", "my invoice is wrong", "question"].randomElement(using: &random)!
                events.append(.arrival("4477009\(String(format: "%05d", world.nextCustomer))", text))
            case 4:
                if let customer = pending.randomElement(using: &random) { events.append(.comeBack(customer)) }
            case 5, 6:
                if let (ticket, _) = open.randomElement(using: &random), touched.insert(ticket).inserted {
                    events.append(.status(ticket, [TicketStatus.resolved, .resolved, .pending].randomElement(using: &random)!))
                }
            case 7, 8:
                let agent = world.configuration.agents.randomElement(using: &random)!.id
                if agentsTouched.insert(agent).inserted { events.append(.presence(agent, AgentPresence.allCases.randomElement(using: &random)!)) }
            default:
                let agent = world.configuration.agents.randomElement(using: &random)!.id
                if agentsTouched.insert(agent).inserted { events.append(.capacity(agent, Int.random(in: 0...4, using: &random))) }
            }
        }
        return events
    }

    private func assignedEventCount(_ routing: RoutingHarness) async throws -> [String: Int] {
        let rows = try await routing.pool.query("SELECT data->>'agent', count(*) FROM switchboard.ticket_events WHERE kind = 'assigned' GROUP BY 1")
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.decode(0, as: String.self), try $0.decode(1, as: Int.self)) })
    }

    private struct AgentRow {
        var presence: AgentPresence, capacity: Int, queues: [String], skills: [String: Int], load: Int, tickets: [Int64: TicketStatus]
    }

    private func agents(_ routing: RoutingHarness) async throws -> [String: AgentRow] {
        let stored = try await AgentStore(pool: routing.pool).loadActive()
        var held: [String: [Int64: TicketStatus]] = [:]
        for row in try await routing.pool.query("SELECT assignee, id, status FROM switchboard.tickets WHERE assignee IS NOT NULL AND status <> 'resolved'") {
            held[try row.decode(0, as: String.self), default: [:]][try row.decode(1, as: Int64.self)] = TicketStatus(rawValue: try row.decode(2, as: String.self))
        }
        return Dictionary(uniqueKeysWithValues: stored.map { agent in
            let tickets = held[agent.definition.id] ?? [:]
            return (agent.definition.id, AgentRow(presence: agent.presence, capacity: agent.definition.capacity, queues: agent.definition.queues,
                                                  skills: agent.definition.skills, load: tickets.count, tickets: tickets))
        })
    }

    /// Returns how many tickets were waiting.
    @discardableResult
    private func checkInvariants(_ world: World, assignedBefore: [String: Int], capacityChanged: Set<String>) async throws -> Int {
        let routing = world.routing
        let pool = routing.pool
        let agents = try await agents(routing)
        let assignedNow = try await assignedEventCount(routing)

        // No agent over capacity, unless their capacity was cut and nothing was given to them since
        // (a cut in this very batch may land after an assignment made under the old capacity).
        for (id, agent) in agents where agent.load > agent.capacity && !capacityChanged.contains(id) {
            #expect(assignedNow[id, default: 0] == assignedBefore[id, default: 0], "\(id) holds \(agent.load) of \(agent.capacity) and was given more")
        }
        // The actors agree with the database.
        for (id, agent) in agents {
            let state = try #require(await routing.router.roster.agent(id)?.current)
            #expect(state.tickets == agent.tickets, "the actor of \(id) disagrees with the database")
            #expect(state.reserved.isEmpty)
            #expect(state.presence == agent.presence)
            #expect(state.definition.capacity == agent.capacity)
        }

        // No ticket assigned twice in its events without being taken back in between.
        let events = try await pool.query("""
            SELECT ticket_id, kind FROM switchboard.ticket_events WHERE kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened') ORDER BY id
            """)
        var holding: [Int64: Bool] = [:]
        for row in events {
            let ticket: Int64 = try row.decode(0)
            if try row.decode(1, as: String.self) == "assigned" {
                #expect(holding[ticket] != true, "ticket \(ticket) assigned twice")
                holding[ticket] = true
            } else {
                holding[ticket] = false
            }
        }

        // A ticket that is not resolved has an agent exactly when its last assignment was not taken
        // back since (a reopen returns it to routing in the same transaction).
        for row in try await pool.query("SELECT id, assignee FROM switchboard.tickets WHERE status <> 'resolved'") {
            let ticket: Int64 = try row.decode(0)
            let assignee: String? = try row.decode(1)
            #expect((assignee != nil) == (holding[ticket] == true), "ticket \(ticket) has assignee \(assignee ?? "none") against its events")
        }

        // Each assignment met the step in force when it was made.
        let assignments = try await pool.query("""
            SELECT e.ticket_id, e.at, e.data::text, t.required_skills::text, t.queue_entered_at, t.queue
            FROM switchboard.ticket_events e JOIN switchboard.tickets t ON t.id = e.ticket_id
            WHERE e.kind = 'assigned' AND e.at >= t.queue_entered_at
            """)
        for row in assignments {
            let data = try #require(try JSONSerialization.jsonObject(with: Data(try row.decode(2, as: String.self).utf8)) as? [String: Any])
            let rule = try JSONDecoder().decode([String: Int].self, from: Data(try row.decode(3, as: String.self).utf8))
                .sorted { $0.key < $1.key }.map { SkillRequirement($0.key, atLeast: $0.value) }
            let queue = try #require(world.configuration.queue(named: try row.decode(5, as: String.self)))
            let at: Date = try row.decode(1)
            guard case .step(let index, _) = RoutingSteps.inForce(queue.steps, since: try row.decode(4), now: at) else {
                Issue.record("assigned after the last step ran out")
                continue
            }
            #expect(data["step"] as? Int == index + 1)
            let required = queue.steps[index].requirements(given: rule)
            #expect(data["requirements"] as? [String] == required.map(\.description))
            let agentID = try #require(data["agent"] as? String)
            let agent = try #require(agents[agentID])
            #expect(required.allSatisfy { $0.isMet(by: agent.skills) }, "assignment without the required skills")
        }

        // Every ticket is resolved, assigned, or waiting in its queue's actor; and none waits while an
        // eligible online agent of its queue has spare capacity (work-conserving).
        var waitingInActors: [Int64: QueueMatcher.WaitingTicket] = [:]
        for name in await routing.router.queueNames {
            for ticket in await routing.router.queue(named: name)?.waitingTickets() ?? [] { waitingInActors[ticket.ticket.id] = ticket }
        }
        let tickets = try await pool.query("SELECT id, status, assignee, queue FROM switchboard.tickets ORDER BY id")
        let now = routing.timers.now
        for row in tickets {
            let id: Int64 = try row.decode(0)
            let status: String = try row.decode(1)
            let assignee: String? = try row.decode(2)
            guard status != "resolved", assignee == nil else {
                #expect(waitingInActors[id] == nil, "ticket \(id) is \(status), \(assignee ?? "unassigned"), yet waits in a queue")
                continue
            }
            let waiting = try #require(waitingInActors[id], "ticket \(id) is neither assigned, waiting nor resolved")
            let queueName: String = try #require(try row.decode(3, as: String?.self))
            let queue = try #require(world.configuration.queue(named: queueName))
            guard case .step(let index, _) = RoutingSteps.inForce(queue.steps, since: waiting.enteredQueueAt, now: now) else { continue }
            let required = waiting.requirements(under: queue.steps[index])
            let eligible = agents.filter { id, agent in
                agent.presence == .online && agent.load < agent.capacity && agent.queues.contains(queueName)
                    && !waiting.excludedAgents.contains(id) && required.allSatisfy { $0.isMet(by: agent.skills) }
            }
            #expect(eligible.isEmpty, "ticket \(id) waits while \(eligible.keys.sorted()) could take it")
        }
        return waitingInActors.count
    }

    /// A second router rebuilt from the database holds what the first one held.
    private func checkRestart(_ world: World) async throws {
        let before = world.routing
        before.timers.cancelAll()
        let after = try await RoutingHarness.make("unused", world.configuration, pool: before.pool, timers: VirtualTimers(start: before.timers.now))
        await after.router.settle()
        for agent in before.router.roster.all {
            let old = await agent.current
            let new = try #require(await after.router.roster.agent(agent.id)?.current)
            #expect(new.tickets == old.tickets, "\(agent.id) holds other tickets after the restart")
            #expect(new.presence == old.presence && new.definition == old.definition)
        }
        for name in await before.router.queueNames {
            func key(_ ticket: QueueMatcher.WaitingTicket) -> String {
                "\(ticket.ticket.id) \(ticket.ticket.priority) \(ticket.ticket.waitingSince.timeIntervalSince1970) \(ticket.enteredQueueAt.timeIntervalSince1970) \(ticket.excludedAgents.sorted())"
            }
            let old = await before.router.queue(named: name)?.waitingTickets().map(key)
            let new = await after.router.queue(named: name)?.waitingTickets().map(key)
            #expect(old == new, "queue \(name) differs after the restart")
        }
    }
}

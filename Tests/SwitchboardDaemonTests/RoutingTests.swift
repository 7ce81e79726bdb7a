import Foundation
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport

@Suite("Routing with a real database: classification, assignment, instant matching, timers")
struct RoutingTests {
    let ana = AgentDefinition(id: "ana", name: "Ana", capacity: 1, skills: ["lang:es": 5, "lang:en": 3], queues: ["support"])
    let ben = AgentDefinition(id: "ben", name: "Ben", capacity: 1, skills: ["lang:en": 5], queues: ["support"])

    @Test func customersWritingInTwoLanguagesGoToTheAgentWhoSpeaksTheirs() async throws {
        let rules = [RoutingRule(name: "spanish", conditions: .init(languages: ["es"]), actions: .init(queue: "support", requiredSkills: [SkillRequirement("lang:es", atLeast: 3)])),
                     RoutingRule(name: "default", actions: .init(queue: "support", requiredSkills: [SkillRequirement("lang:en", atLeast: 4)]))]
        var spanishSpeaker = ana
        spanishSpeaker.skills = ["lang:es": 5]
        let routing = try await RoutingHarness.make("routing_languages", .testing(agents: [spanishSpeaker, ben], strategy: .bestSkill, rules: rules))
        let english = try await routing.customerWrites("447700900123", "Hi, my order has not arrived yet, can you help?")
        let spanish = try await routing.customerWrites("34612345678", "Hola, quiero saber dónde está mi pedido")
        #expect(try await routing.assignee(english) == "ben")
        #expect(try await routing.assignee(spanish) == "ana")
        let routed = try #require(try await routing.events(spanish, "routed").first)
        #expect(routed["rule"] as? String == "spanish")
        #expect(routed["language"] as? String == "es")
        #expect(routed["required_skills"] as? [String] == ["lang:es>=3"])
        let assigned = try #require(try await routing.events(spanish, "assigned").first)
        #expect(assigned["agent"] as? String == "ana")
        #expect(assigned["strategy"] as? String == "best-skill")
        #expect(assigned["step"] as? Int == 1)
        #expect(assigned["detail"] as? String == "highest proficiency (lang:es=5); load 0 of 1")
        let language = try await routing.pool.query("SELECT language FROM switchboard.customers WHERE wa_id = '34612345678'").first?.decode(0, as: String?.self)
        #expect(language == "es")
    }

    @Test func aResolvedTicketFreesCapacityAndTheNextWaitingTicketIsAssignedAtOnce() async throws {
        let routing = try await RoutingHarness.make("routing_resolve", .testing(agents: [ana]))
        let first = try await routing.customerWrites("34600000001", "hola")
        let second = try await routing.customerWrites("34600000002", "hola")
        #expect(try await routing.assignee(first) == "ana")
        #expect(try await routing.assignee(second) == nil)
        #expect(await routing.router.queue(named: "support")?.waitingTickets().map(\.ticket.id) == [second])
        try await routing.setStatus(first, .resolved)
        #expect(try await routing.assignee(second) == "ana")
        #expect(await routing.router.queue(named: "support")?.waitingTickets().isEmpty == true)
    }

    @Test func pendingTicketsCountAgainstCapacityOnlyWhenConfigured() async throws {
        for counts in [true, false] {
            let routing = try await RoutingHarness.make("routing_pending_\(counts)", .testing(agents: [ana], pendingCounts: counts))
            let first = try await routing.customerWrites("34600000011", "hola")
            let second = try await routing.customerWrites("34600000012", "hola")
            try await routing.setStatus(first, .pending)
            #expect(try await routing.assignee(second) == (counts ? nil : "ana"))
        }
    }

    @Test func anAgentComingOnlineTakesTheWaitingTicketsInPriorityThenAgeOrder() async throws {
        var wide = ana
        wide.capacity = 2
        let rules = [RoutingRule(name: "urgent", conditions: .init(keywords: ["fraud"]), actions: .init(queue: "support", priority: .urgent)),
                     RoutingRule(name: "rest", actions: .init(queue: "support"))]
        let routing = try await RoutingHarness.make("routing_online", .testing(agents: [wide], presence: ["ana": .offline], rules: rules))
        let old = try await routing.customerWrites("34600000021", "hello")
        await routing.advance(by: 10)
        let newer = try await routing.customerWrites("34600000022", "hello again")
        await routing.advance(by: 10)
        let urgent = try await routing.customerWrites("34600000023", "there is fraud on my card")
        #expect(await routing.router.queue(named: "support")?.waitingTickets().map(\.ticket.id) == [urgent, old, newer])
        try await routing.setPresence("ana", .online)
        #expect(try await routing.assignee(urgent) == "ana")
        #expect(try await routing.assignee(old) == "ana")
        #expect(try await routing.assignee(newer) == nil)
    }

    @Test func aStepRelaxesAtItsExactTimeoutAndTheLastOneMovesTheTicket() async throws {
        var novice = ben
        novice.skills = ["lang:es": 2]
        novice.queues = ["support"]
        let steps = [RoutingStep(requirements: [], timeout: 60, ruleSkillLevel: 4), RoutingStep(requirements: [], timeout: 300, moveToQueue: "tier2", ruleSkillLevel: 3)]
        let rules = [RoutingRule(name: "es", actions: .init(queue: "support", requiredSkills: [SkillRequirement("lang:es", atLeast: 3)]))]
        let sam = AgentDefinition(id: "sam", name: "Sam", capacity: 5, skills: [:], queues: ["tier2"])
        let routing = try await RoutingHarness.make("routing_steps", .testing(agents: [novice, sam], steps: steps, extraQueues: [QueueDefinition(name: "tier2", steps: [RoutingStep(requirements: [], timeout: nil, ruleSkillLevel: 0)])], rules: rules))
        let ticket = try await routing.customerWrites("34600000031", "hola")
        await routing.advance(by: 59)
        #expect(try await routing.assignee(ticket) == nil)
        await routing.advance(by: 1)
        // Step 2 asks lang:es>=3; Ben has 2: still nobody. At 60 + 300 s the ticket moves to tier2.
        #expect(try await routing.assignee(ticket) == nil)
        await routing.advance(by: 299)
        #expect(try await routing.assignee(ticket) == nil)
        #expect(try await routing.events(ticket, "moved").isEmpty)
        await routing.advance(by: 1)
        let kinds = try await routing.pool.query("SELECT kind || ' ' || data::text FROM switchboard.ticket_events WHERE ticket_id = $1 ORDER BY id", [ticket]).map { try $0.decode(0, as: String.self) }
        #expect(try await routing.assignee(ticket) == "sam", "\(kinds)")
        let moved = try #require(try await routing.events(ticket, "moved").first)
        #expect(moved["from"] as? String == "support")
        #expect(moved["to"] as? String == "tier2")
    }

    @Test func relaxationLetsALessProficientAgentTakeTheTicketAfterTheTimeout() async throws {
        var novice = ben
        novice.skills = ["lang:es": 2]
        let steps = [RoutingStep(requirements: [], timeout: 60, ruleSkillLevel: 4), RoutingStep(requirements: [], timeout: nil, ruleSkillLevel: 2)]
        let rules = [RoutingRule(name: "es", actions: .init(queue: "support", requiredSkills: [SkillRequirement("lang:es", atLeast: 3)]))]
        let routing = try await RoutingHarness.make("routing_relax", .testing(agents: [novice], steps: steps, rules: rules))
        let ticket = try await routing.customerWrites("34600000041", "hola")
        #expect(try await routing.assignee(ticket) == nil)
        await routing.advance(by: 60)
        #expect(try await routing.assignee(ticket) == "ben")
        let assigned = try #require(try await routing.events(ticket, "assigned").first)
        #expect(assigned["step"] as? Int == 2)
        #expect(assigned["requirements"] as? [String] == ["lang:es>=2"])
        #expect(assigned["waited_seconds"] as? Double == 60)
    }

    @Test func anAbsentAgentsOpenTicketsReturnToTheQueueAfterTheGracePeriodKeepingTheirAge() async throws {
        var wideBen = ben
        wideBen.capacity = 3
        let routing = try await RoutingHarness.make("routing_grace", .testing(agents: [ana, wideBen], presence: ["ben": .offline], grace: 120))
        let ticket = try await routing.customerWrites("34600000051", "hola")
        #expect(try await routing.assignee(ticket) == "ana")
        try await routing.setPresence("ana", .away)
        await routing.advance(by: 119)
        #expect(try await routing.assignee(ticket) == "ana")
        await routing.advance(by: 1)
        // Nobody online: it waits, at its old place (waiting since it arrived).
        #expect(try await routing.assignee(ticket) == nil)
        let back = try #require(await routing.router.queue(named: "support")?.waitingTickets().first)
        #expect(back.ticket.waitingSince == RoutingHarness.start)
        let unassigned = try #require(try await routing.events(ticket, "unassigned").first)
        #expect(unassigned["agent"] as? String == "ana")
        #expect(unassigned["reason"] as? String == "agent away past the grace period")
        try await routing.setPresence("ben", .online)
        #expect(try await routing.assignee(ticket) == "ben")
    }

    @Test func anAgentBackWithinTheGracePeriodKeepsTheirTickets() async throws {
        let routing = try await RoutingHarness.make("routing_grace_back", .testing(agents: [ana, ben], grace: 120))
        let ticket = try await routing.customerWrites("34600000061", "hola")
        let owner = try #require(try await routing.assignee(ticket))
        try await routing.setPresence(owner, .offline)
        await routing.advance(by: 60)
        try await routing.setPresence(owner, .online)
        await routing.advance(by: 600)
        #expect(try await routing.assignee(ticket) == owner)
        #expect(try await routing.events(ticket, "unassigned").isEmpty)
    }

    @Test func anAssignmentNotAcceptedInTimeMovesToTheNextAgentAndTheMissIsRecorded() async throws {
        let routing = try await RoutingHarness.make("routing_accept", .testing(agents: [ana, ben], acceptWithin: 90))
        let ticket = try await routing.customerWrites("34600000071", "hola")
        let first = try #require(try await routing.assignee(ticket))
        await routing.advance(by: 90)
        let second = try #require(try await routing.assignee(ticket))
        #expect(second != first)
        let missed = try #require(try await routing.events(ticket, "acceptance_missed").first)
        #expect(missed["agent"] as? String == first)
        // The second agent answers in time: it stays.
        try await routing.pool.query("""
            INSERT INTO switchboard.messages (ticket_id, direction, outbound_id, type, body, received_at, status)
            VALUES ($1, 'outbound', gen_random_uuid(), 'text', 'Hola, lo miro', $2, 'queued')
            """, [ticket, routing.timers.now])
        await routing.advance(by: 90)
        #expect(try await routing.assignee(ticket) == second)
    }

    @Test func aReturningCustomerGoesBackToTheAgentWhoHelpedThemWhileStickinessLasts() async throws {
        var wideAna = ana, wideBen = ben
        wideAna.capacity = 5
        wideBen.capacity = 5
        let routing = try await RoutingHarness.make("routing_sticky", .testing(agents: [wideAna, wideBen], presence: ["ben": .offline], stickySeconds: 72 * 3600))
        let first = try await routing.customerWrites("34600000081", "hola")
        #expect(try await routing.assignee(first) == "ana")
        // Ana ends with two tickets, Ben with none: least-loaded alone would pick Ben next.
        for customer in ["34600000082", "34600000083"] { _ = try await routing.customerWrites(customer, "hola") }
        try await routing.setPresence("ben", .online)
        try await routing.setStatus(first, .resolved)
        let loads = try await routing.pool.query("SELECT assignee, count(*) FROM switchboard.tickets WHERE status <> 'resolved' GROUP BY assignee ORDER BY assignee")
            .map { "\(try $0.decode(0, as: String.self))=\(try $0.decode(1, as: Int.self))" }
        #expect(loads == ["ana=2"])
        // Past the 24 h reopen window, so a new ticket; within the 72 h sticky period.
        await routing.advance(by: 25 * 3600)
        let back = try await routing.customerWrites("34600000081", "una pregunta más")
        #expect(back != first)
        #expect(try await routing.assignee(back) == "ana")
        let assigned = try #require(try await routing.events(back, "assigned").first)
        #expect(assigned["reason"] as? String == "sticky")
        // After the sticky period, the strategy decides again.
        try await routing.setStatus(back, .resolved)
        await routing.advance(by: 73 * 3600)
        let later = try await routing.customerWrites("34600000081", "hola de nuevo")
        #expect(try await routing.assignee(later) == "ben")
        #expect(try await routing.events(later, "assigned").first?["reason"] as? String == "least-loaded")
    }

    @Test func aReloadSwapsRulesAndAnAgentRemovedFromTheFileHandsBackTheirTickets() async throws {
        var wideAna = ana, wideBen = ben
        wideAna.capacity = 5
        wideBen.capacity = 5
        let initial = RoutingConfiguration.testing(agents: [wideAna], presence: ["ana": .online], extraQueues: [QueueDefinition(name: "vip")])
        let routing = try await RoutingHarness.make("routing_reload", initial)
        let first = try await routing.customerWrites("34600000091", "hola")
        #expect(try await routing.assignee(first) == "ana")

        // The new file: VIP words go to the vip queue, Ben joins, Ana is gone.
        var reloaded = initial
        reloaded.rules = [RoutingRule(name: "vip", conditions: .init(keywords: ["gold"]), actions: .init(queue: "vip", priority: .high)),
                          RoutingRule(name: "all", actions: .init(queue: "support"))]
        wideBen.queues = ["support", "vip"]
        reloaded.agents = [wideBen]
        reloaded.initialPresence = ["ben": .online]
        try await routing.router.reconfigure(reloaded)
        await routing.router.settle()

        #expect(try await routing.assignee(first) == "ben")
        #expect(try await routing.events(first, "unassigned").first?["reason"] as? String == "agent deactivated")
        let active = try await routing.pool.query("SELECT id, active FROM switchboard.agents ORDER BY id").map { "\(try $0.decode(0, as: String.self))=\(try $0.decode(1, as: Bool.self))" }
        #expect(active == ["ana=false", "ben=true"])
        let gold = try await routing.customerWrites("34600000092", "I am a gold member")
        #expect(try await routing.pool.query("SELECT queue, priority FROM switchboard.tickets WHERE id = $1", [gold]).first.map {
            "\(try $0.decode(0, as: String.self)) \(try $0.decode(1, as: String.self))" } == "vip high")
        #expect(try await routing.assignee(gold) == "ben")
    }
}

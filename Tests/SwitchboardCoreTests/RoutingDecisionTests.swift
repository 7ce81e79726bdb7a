import Foundation
import SwitchboardCore
import Testing

@Suite("Routing decisions: eligibility, ranking per strategy, steps in force, waiting order")
struct RoutingDecisionTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    func agent(_ id: String, _ presence: AgentPresence = .online, capacity: Int = 3, load: Int = 0, skills: [String: Int] = [:],
               idleSince: TimeInterval? = nil) -> AgentSnapshot {
        AgentSnapshot(id: id, presence: presence, capacity: capacity, load: load, skills: skills,
                      lastAssignedAt: idleSince.map { t0.addingTimeInterval(-$0) })
    }

    @Test(arguments: AgentPresence.allCases, [0, 2, 3])
    func onlyOnlineAgentsWithSpareCapacityAndTheSkillsAreEligible(presence: AgentPresence, load: Int) {
        let requirement = [SkillRequirement("lang:es", atLeast: 3)]
        for proficiency in 0...5 {
            let candidate = agent("a", presence, capacity: 3, load: load, skills: proficiency > 0 ? ["lang:es": proficiency] : [:])
            let expected = presence == .online && load < 3 && proficiency >= 3
            #expect(candidate.isEligible(for: requirement) == expected)
            #expect(AgentRanking.rank([candidate], strategy: .leastLoaded, requirements: requirement).map(\.id) == (expected ? ["a"] : []))
        }
    }

    @Test func leastLoadedComparesLoadRelativeToCapacity() {
        let agents = [agent("a", capacity: 2, load: 1), agent("b", capacity: 10, load: 3), agent("c", capacity: 4, load: 1), agent("d", capacity: 4, load: 1)]
        // c and d are at 25 %, b at 30 %, a at 50 %; c before d by id.
        #expect(AgentRanking.rank(agents, strategy: .leastLoaded, requirements: []).map(\.id) == ["c", "d", "b", "a"])
    }

    @Test func longestIdlePutsTheNeverAssignedFirst() {
        let agents = [agent("a", idleSince: 60), agent("b", idleSince: 600), agent("c"), agent("d", idleSince: 600)]
        #expect(AgentRanking.rank(agents, strategy: .longestIdle, requirements: []).map(\.id) == ["c", "b", "d", "a"])
    }

    @Test func roundRobinContinuesAfterTheLastServedAndSkipsTheIneligible() {
        let agents = [agent("d"), agent("a"), agent("c", .away), agent("b")]
        #expect(AgentRanking.rank(agents, strategy: .roundRobin, requirements: []).map(\.id) == ["a", "b", "d"])
        #expect(AgentRanking.rank(agents, strategy: .roundRobin, requirements: [], lastServed: "a").map(\.id) == ["b", "d", "a"])
        // The last served went away: the rotation goes on from where it would have been.
        #expect(AgentRanking.rank(agents, strategy: .roundRobin, requirements: [], lastServed: "c").map(\.id) == ["d", "a", "b"])
        #expect(AgentRanking.rank(agents, strategy: .roundRobin, requirements: [], lastServed: "d").map(\.id) == ["a", "b", "d"])
    }

    @Test func bestSkillSumsProficienciesOnTheRequiredSkillsThenLoad() {
        let requirements = [SkillRequirement("product:billing", atLeast: 2), SkillRequirement("lang:de", atLeast: 1)]
        let agents = [
            agent("a", load: 2, skills: ["product:billing": 5, "lang:de": 4]),
            agent("b", load: 0, skills: ["product:billing": 4, "lang:de": 5]),
            agent("c", load: 0, skills: ["product:billing": 3, "lang:de": 3, "lang:fr": 5]),
            agent("d", load: 0, skills: ["product:billing": 1, "lang:de": 5]),
        ]
        // a and b both score 9: b is less loaded. d misses billing>=2.
        #expect(AgentRanking.rank(agents, strategy: .bestSkill, requirements: requirements).map(\.id) == ["b", "a", "c"])
    }

    @Test func stepsRelaxAtTheirExactTimeoutAndTheLastMayMoveTheTicket() {
        let steps = [
            RoutingStep(requirements: [SkillRequirement("lang:es", atLeast: 4)], timeout: 60),
            RoutingStep(requirements: [SkillRequirement("lang:es", atLeast: 2)], timeout: 120),
            RoutingStep(requirements: [], timeout: 300, moveToQueue: "tier2"),
        ]
        #expect(RoutingSteps.inForce(steps, since: t0, now: t0) == .step(index: 0, until: t0.addingTimeInterval(60)))
        #expect(RoutingSteps.inForce(steps, since: t0, now: t0.addingTimeInterval(59.999)) == .step(index: 0, until: t0.addingTimeInterval(60)))
        #expect(RoutingSteps.inForce(steps, since: t0, now: t0.addingTimeInterval(60)) == .step(index: 1, until: t0.addingTimeInterval(180)))
        #expect(RoutingSteps.inForce(steps, since: t0, now: t0.addingTimeInterval(180)) == .step(index: 2, until: t0.addingTimeInterval(480)))
        #expect(RoutingSteps.inForce(steps, since: t0, now: t0.addingTimeInterval(480)) == .move(toQueue: "tier2"))
        let open = [RoutingStep(requirements: [], timeout: 30), RoutingStep(requirements: [], timeout: nil)]
        #expect(RoutingSteps.inForce(open, since: t0, now: t0.addingTimeInterval(86400)) == .step(index: 1, until: nil))
        let lastWithTimeoutNoMove = [RoutingStep(requirements: [], timeout: 30)]
        #expect(RoutingSteps.inForce(lastWithTimeoutNoMove, since: t0, now: t0.addingTimeInterval(31)) == .step(index: 0, until: nil))
    }

    @Test func waitingTicketsAreServedByPriorityThenAgeWithTheWindowBoost() {
        let order = WaitingOrder(windowBoost: 1800)
        let tickets = [
            WaitingOrder.Ticket(id: 1, priority: .normal, waitingSince: t0.addingTimeInterval(-600)),
            WaitingOrder.Ticket(id: 2, priority: .high, waitingSince: t0.addingTimeInterval(-60)),
            WaitingOrder.Ticket(id: 3, priority: .normal, waitingSince: t0.addingTimeInterval(-900)),
            // Its window closes in 20 minutes: served as urgent.
            WaitingOrder.Ticket(id: 4, priority: .low, waitingSince: t0.addingTimeInterval(-30), customerWindowExpiresAt: t0.addingTimeInterval(1200)),
            // Its window already closed: no boost (only a template can be sent now).
            WaitingOrder.Ticket(id: 5, priority: .low, waitingSince: t0.addingTimeInterval(-3000), customerWindowExpiresAt: t0.addingTimeInterval(-1)),
            WaitingOrder.Ticket(id: 6, priority: .urgent, waitingSince: t0.addingTimeInterval(-10)),
        ]
        #expect(order.sorted(tickets, now: t0).map(\.id) == [4, 6, 2, 3, 1, 5])
        #expect(WaitingOrder(windowBoost: 0).sorted(tickets, now: t0).map(\.id) == [6, 2, 3, 1, 5, 4])
    }
}

@Suite("Routing rules: first match wins")
struct RoutingRulesTests {
    let rules = [
        RoutingRule(name: "vip", conditions: .init(customerTags: ["vip"]), actions: .init(queue: "vip", priority: .high)),
        RoutingRule(name: "refunds-es", conditions: .init(languages: ["es"], keywords: ["reembolso", "devolver el dinero"]),
                    actions: .init(queue: "billing", requiredSkills: [SkillRequirement("lang:es", atLeast: 3)], tags: ["refund"])),
        RoutingRule(name: "menu-billing", conditions: .init(menuChoices: ["billing"]), actions: .init(queue: "billing")),
        RoutingRule(name: "second-number-de", conditions: .init(businessNumbers: ["222"], countries: ["DE", "AT"]), actions: .init(queue: "dach")),
        RoutingRule(name: "default", actions: .init(queue: "general", priority: .low)),
    ]

    func queue(_ facts: TicketFacts) -> String? { RoutingRules.classify(facts, rules: rules)?.name }

    @Test func theFirstMatchingRuleWins() {
        #expect(queue(TicketFacts(businessNumber: "111", language: "es", firstMessageText: "Quiero un reembolso", customerTags: ["vip"])) == "vip")
        #expect(queue(TicketFacts(businessNumber: "111", language: "es-MX", firstMessageText: "¿Me pueden DEVOLVER el dinero?")) == "refunds-es")
        #expect(queue(TicketFacts(businessNumber: "111", language: "es", firstMessageText: "REEMBOLSÓ")) == "refunds-es")
        #expect(queue(TicketFacts(businessNumber: "111", language: "es", firstMessageText: "reembolsos")) == "default")
        #expect(queue(TicketFacts(businessNumber: "111", language: "pt", firstMessageText: "reembolso")) == "default")
        #expect(queue(TicketFacts(businessNumber: "111", menuChoice: ["billing", "Billing questions"])) == "menu-billing")
        #expect(queue(TicketFacts(businessNumber: "222", country: "AT")) == "second-number-de")
        #expect(queue(TicketFacts(businessNumber: "222", country: nil)) == "default")
        #expect(queue(TicketFacts(businessNumber: "111", country: "DE")) == "default")
    }

    @Test func theMatchCarriesTheActionsAndWhereTheRuleIs() {
        let match = RoutingRules.classify(TicketFacts(businessNumber: "1", language: "es", firstMessageText: "reembolso"), rules: rules)
        #expect(match?.index == 1)
        #expect(match?.actions.requiredSkills == [SkillRequirement("lang:es", atLeast: 3)])
        #expect(match?.actions.tags == ["refund"])
        #expect(RoutingRules.classify(TicketFacts(businessNumber: "1"), rules: Array(rules.prefix(2))) == nil)
    }

    @Test func keywordsMatchWholeWordsIgnoringCaseAndAccents() {
        #expect(RoutingRules.words("¡Factura 42, POR favor! Ça va") == ["factura", "42", "por", "favor", "ca", "va"])
        #expect(RoutingRules.containsPhrase(["devolver", "el", "dinero"], in: RoutingRules.words("quiero DEVOLVER el dinero ya")))
        #expect(!RoutingRules.containsPhrase(["factura"], in: RoutingRules.words("facturas")))
        #expect(!RoutingRules.containsPhrase([], in: ["a"]))
    }

    @Test func keywordsChangedAfterTheRuleWasMadeAreTheOnesMatched() {
        var conditions = RoutingRule.Conditions(keywords: ["factura"])
        conditions.keywords = ["Devolución", "mi pedido"]
        let rules = [RoutingRule(name: "returns", conditions: conditions, actions: .init(queue: "returns")),
                     RoutingRule(name: "default", actions: .init(queue: "general"))]
        let queue = { (text: String) in RoutingRules.classify(TicketFacts(businessNumber: "1", firstMessageText: text), rules: rules)?.name }
        #expect(queue("Una DEVOLUCION por favor") == "returns")
        #expect(queue("¿Dónde está MI PEDIDO?") == "returns")
        #expect(queue("mi factura") == "default")
        conditions.keywords = nil
        #expect(conditions.isCatchAll)
    }
}

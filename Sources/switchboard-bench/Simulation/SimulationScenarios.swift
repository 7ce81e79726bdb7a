import Foundation
import RoutingSimulation
import SwitchboardCore

/// The two reference scenarios of the routing simulator.
enum SimulationScenarios {
    /// One queue, no skills, `agents` × `capacity` identical servers, exponential handle times and
    /// Poisson arrivals at a flat rate: an M/M/c queue, for which Erlang C gives the exact mean wait.
    static func erlang(agents: Int, capacity: Int, handleSeconds: Double, offeredLoad: Double, hours: Double, seed: UInt64) -> SimulationScenario {
        var random = SeededRandom(seed: seed)
        let perHour = offeredLoad / handleSeconds * 3600
        let routing = RoutingConfiguration(
            queues: [QueueDefinition(name: "support", order: WaitingOrder(windowBoost: 0))],
            rules: [RoutingRule(name: "all", actions: .init(queue: "support"))],
            agents: (0..<agents).map { AgentDefinition(id: String(format: "agent%03d", $0), name: "Agent \($0)", capacity: capacity, queues: ["support"]) })
        let arrivals = ArrivalProcess(peakPerHour: perHour, dailyCurve: ArrivalProcess.flat)
            .generate(hours: hours, rules: routing.rules, random: &random) { _ in TicketFacts(businessNumber: "1") }
        return SimulationScenario(name: "erlang", routing: routing, arrivals: arrivals, handleTime: { _, _, work, _ in work * handleSeconds },
                                  slaTarget: 60, warmup: min(24, hours / 10) * 3600)
    }

    static let products = ["billing", "tech", "orders"]
    static let productWords = ["billing": "invoice", "tech": "error", "orders": "delivery"]
    static let languages = ["en", "es", "pt"]

    /// Three products and three languages; 24 agents with uneven skills; a queue per product whose
    /// steps relax the rule's skills from level 4 to 2 to anyone. A proficient agent is faster, and
    /// an agent juggling several chats is slower on each, so who gets a ticket changes how long
    /// everyone waits.
    static func mixed(hours: Double, seed: UInt64, peakLoad: Double = 0.6) -> SimulationScenario {
        var random = SeededRandom(seed: seed)
        var agents: [AgentDefinition] = []
        for index in 0..<24 {
            var skills: [String: Int] = [:]
            let native = languages[index % 3]
            skills["lang:\(native)"] = 5
            if Bool.random(using: &random) {
                let second = languages.filter { $0 != native }.randomElement(using: &random)!
                skills["lang:\(second)"] = Int.random(in: 2...4, using: &random)
            }
            let count = Int.random(in: 1...3, using: &random)
            for product in products.shuffled(using: &random).prefix(count) { skills["product:\(product)"] = Int.random(in: 1...5, using: &random) }
            let queues = products.filter { skills["product:\($0)"] != nil }
            agents.append(AgentDefinition(id: String(format: "agent%02d", index), name: "Agent \(index)", capacity: 3, skills: skills, queues: queues))
        }
        // Every agent also serves the queues of products they do not know, where the last step lets
        // anyone answer.
        for index in agents.indices { agents[index].queues = products }
        let steps = [RoutingStep(requirements: [], timeout: 60, ruleSkillLevel: 4), RoutingStep(requirements: [], timeout: 240, ruleSkillLevel: 2),
                     RoutingStep(requirements: [], timeout: nil, ruleSkillLevel: 0)]
        let queues = products.map { QueueDefinition(name: $0, steps: steps, order: WaitingOrder(windowBoost: 0)) }
        var rules: [RoutingRule] = []
        for product in products {
            for language in languages {
                rules.append(RoutingRule(name: "\(product)-\(language)", conditions: .init(languages: [language], keywords: [productWords[product]!]),
                                         actions: .init(queue: product, requiredSkills: [SkillRequirement("lang:\(language)", atLeast: 3),
                                                                                         SkillRequirement("product:\(product)", atLeast: 3)])))
            }
        }
        rules.append(RoutingRule(name: "rest", actions: .init(queue: "orders")))
        let meanHandle = 480.0
        let slots = Double(agents.count * 3)
        let peakPerHour = peakLoad * slots / meanHandle * 3600
        let arrivals = ArrivalProcess(peakPerHour: peakPerHour, dailyCurve: ArrivalProcess.supportDay).generate(hours: hours, rules: rules, random: &random) { random in
            let language = pick(["en": 0.5, "es": 0.35, "pt": 0.15], &random)
            let product = pick(["billing": 0.4, "tech": 0.35, "orders": 0.25], &random)
            return TicketFacts(businessNumber: "1", language: language, firstMessageText: "about my \(productWords[product]!)")
        }
        let routing = RoutingConfiguration(queues: queues, rules: rules, agents: agents)
        return SimulationScenario(name: "mixed", routing: routing, arrivals: arrivals, handleTime: { agent, requirements, work, concurrent in
            // Proficiency 5 in both the language and the product: 0.6 of the mean; none of either: 2.1.
            let levels = requirements.map { agent.skills[$0.skill] ?? 0 }
            let skill = 0.6 + levels.reduce(0.0) { $0 + Double(5 - $1) * 0.15 }
            // Each other chat in progress makes this one 25 % slower.
            let juggling = 1 + 0.25 * Double(max(0, concurrent - 1))
            return work * meanHandle * skill * juggling
        }, slaTarget: 60, warmup: 24 * 3600)
    }

    private static func pick(_ weights: [String: Double], _ random: inout SeededRandom) -> String {
        let total = weights.values.reduce(0, +)
        var roll = Double.random(in: 0..<total, using: &random)
        for key in weights.keys.sorted() {
            roll -= weights[key]!
            if roll < 0 { return key }
        }
        return weights.keys.sorted().last!
    }
}

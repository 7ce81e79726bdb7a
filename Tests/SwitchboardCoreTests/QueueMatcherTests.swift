import Foundation
import SwitchboardCore
import Testing

@Suite("Queue matching: order, capacity, relaxation, stickiness, moves")
struct QueueMatcherTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    func waiting(_ id: Int64, _ priority: WaitingOrder.Priority = .normal, waitingFor seconds: TimeInterval = 0, needs: [SkillRequirement] = [],
                 sticky: String? = nil, stickyFor: TimeInterval = 0) -> QueueMatcher.WaitingTicket {
        let since = t0.addingTimeInterval(-seconds)
        return .init(ticket: .init(id: id, priority: priority, waitingSince: since), ruleRequirements: needs, enteredQueueAt: since,
                     stickyAgent: sticky, stickyUntil: sticky == nil ? nil : t0.addingTimeInterval(stickyFor))
    }

    func queue(_ strategy: RoutingStrategy = .leastLoaded, steps: [RoutingStep] = [RoutingStep(requirements: [], timeout: nil)]) -> QueueMatcher.Queue {
        .init(name: "q", strategy: strategy, steps: steps, order: WaitingOrder(windowBoost: 0))
    }

    @Test func higherPriorityAndOlderTicketsGetTheFreeCapacityFirst() {
        let agents = [AgentSnapshot(id: "a", presence: .online, capacity: 1, load: 0, skills: [:]),
                      AgentSnapshot(id: "b", presence: .online, capacity: 1, load: 0, skills: [:])]
        let outcome = QueueMatcher.match([waiting(1, waitingFor: 300), waiting(2, .high, waitingFor: 10), waiting(3, waitingFor: 600)],
                                         queue: queue(), agents: agents, lastServed: nil, now: t0)
        #expect(outcome.proposals.map(\.ticketID) == [2, 3])
        #expect(Set(outcome.proposals.map(\.agentID)) == ["a", "b"])
        #expect(outcome.agents.allSatisfy { $0.load == 1 })
        #expect(outcome.nextChange == nil)
    }

    @Test func aStepRelaxesAtItsTimeoutAndTheMatcherSaysWhenToLookAgain() {
        let steps = [RoutingStep(requirements: [SkillRequirement("lang:es", atLeast: 4)], timeout: 60),
                     RoutingStep(requirements: [SkillRequirement("lang:es", atLeast: 2)], timeout: nil)]
        let agents = [AgentSnapshot(id: "a", presence: .online, capacity: 2, load: 0, skills: ["lang:es": 2])]
        let early = QueueMatcher.match([waiting(1, waitingFor: 10)], queue: queue(steps: steps), agents: agents, lastServed: nil, now: t0)
        #expect(early.proposals.isEmpty)
        #expect(early.nextChange == t0.addingTimeInterval(50))
        let later = QueueMatcher.match([waiting(1, waitingFor: 60)], queue: queue(steps: steps), agents: agents, lastServed: nil, now: t0)
        #expect(later.proposals.map { [$0.agentID, "\($0.stepIndex)", $0.reason] } == [["a", "1", "least-loaded"]])
        #expect(later.proposals.first?.detail == "lowest load among eligible agents (load 0 of 2); has lang:es=2")
    }

    @Test func aReturningCustomerGetsTheirLastAgentWhileStickinessLasts() {
        let agents = [AgentSnapshot(id: "a", presence: .online, capacity: 5, load: 4, skills: [:]),
                      AgentSnapshot(id: "b", presence: .online, capacity: 5, load: 0, skills: [:])]
        let sticky = QueueMatcher.match([waiting(1, sticky: "a", stickyFor: 120)], queue: queue(), agents: agents, lastServed: nil, now: t0)
        #expect(sticky.proposals.map { [$0.agentID, "\($0.stepIndex)", $0.reason] } == [["a", "0", "sticky"]])
        #expect(sticky.proposals.first?.detail == "last helped this customer; no skills required; load 4 of 5")
        let expired = QueueMatcher.match([waiting(1, sticky: "a", stickyFor: 0)], queue: queue(), agents: agents, lastServed: nil, now: t0)
        #expect(expired.proposals.map(\.agentID) == ["b"])
        let away = [AgentSnapshot(id: "a", presence: .away, capacity: 5, load: 0, skills: [:])] + agents.dropFirst()
        let fallback = QueueMatcher.match([waiting(1, sticky: "a", stickyFor: 120)], queue: queue(), agents: away, lastServed: nil, now: t0)
        #expect(fallback.proposals.map(\.agentID) == ["b"])
        #expect(fallback.nextChange == t0.addingTimeInterval(120))
    }

    @Test func aTicketWhoseLastStepRanOutMoves() {
        let steps = [RoutingStep(requirements: [SkillRequirement("tier", atLeast: 2)], timeout: 300, moveToQueue: "tier2")]
        let outcome = QueueMatcher.match([waiting(1, waitingFor: 301), waiting(2, waitingFor: 10)], queue: queue(steps: steps),
                                         agents: [], lastServed: nil, now: t0)
        #expect(outcome.moves == [.init(ticketID: 1, queue: "tier2")])
        #expect(outcome.nextChange == t0.addingTimeInterval(290))
    }

    @Test func whileNobodyHasRoomARoundProposesNothingAndSetsNoTimerUnlessTicketsCanMove() {
        let full = [AgentSnapshot(id: "a", presence: .online, capacity: 1, load: 1, skills: [:]),
                    AgentSnapshot(id: "b", presence: .away, capacity: 3, load: 0, skills: [:])]
        let relaxing = [RoutingStep(requirements: [SkillRequirement("x", atLeast: 5)], timeout: 60), RoutingStep(requirements: [], timeout: nil)]
        let idle = QueueMatcher.match([waiting(1, waitingFor: 10)], queue: queue(steps: relaxing), agents: full, lastServed: nil, now: t0)
        #expect(idle.proposals.isEmpty && idle.moves.isEmpty && idle.nextChange == nil)
        // With a move at the end of the steps, the move still happens on time.
        let moving = [RoutingStep(requirements: [], timeout: 60, moveToQueue: "tier2")]
        let due = QueueMatcher.match([waiting(1, waitingFor: 10)], queue: queue(steps: moving), agents: full, lastServed: nil, now: t0)
        #expect(due.nextChange == t0.addingTimeInterval(50))
        let moved = QueueMatcher.match([waiting(1, waitingFor: 60)], queue: queue(steps: moving), agents: full, lastServed: nil, now: t0)
        #expect(moved.moves == [.init(ticketID: 1, queue: "tier2")])
    }

    @Test func roundRobinRotatesWithinOneRound() {
        let agents = ["a", "b", "c"].map { AgentSnapshot(id: $0, presence: .online, capacity: 9, load: 0, skills: [:]) }
        let outcome = QueueMatcher.match((1...4).map { waiting($0, waitingFor: Double(10 - $0)) }, queue: queue(.roundRobin), agents: agents,
                                         lastServed: "b", now: t0)
        #expect(outcome.proposals.map(\.agentID) == ["c", "a", "b", "c"])
    }

    /// Random queues and agents: no agent over capacity, each proposal satisfies the step in force,
    /// and afterwards no waiting ticket has an eligible agent left (work-conserving).
    @Test(arguments: 0..<50)
    func matchingIsSafeAndWorkConserving(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed) &+ 900)
        let skills = ["lang:es", "lang:en", "product:billing"]
        let agents = (0..<Int.random(in: 0...6, using: &random)).map { index in
            AgentSnapshot(id: "agent\(index)", presence: AgentPresence.allCases.randomElement(using: &random)!,
                          capacity: Int.random(in: 0...3, using: &random), load: Int.random(in: 0...2, using: &random),
                          skills: Dictionary(uniqueKeysWithValues: skills.filter { _ in Bool.random(using: &random) }.map { ($0, Int.random(in: 1...5, using: &random)) }))
        }
        let steps = [RoutingStep(requirements: [SkillRequirement(skills.randomElement(using: &random)!, atLeast: 4)], timeout: 60),
                     RoutingStep(requirements: [], timeout: nil)]
        let tickets = (0..<Int.random(in: 0...12, using: &random)).map { index in
            waiting(Int64(index), WaitingOrder.Priority.allCases.randomElement(using: &random)!, waitingFor: Double(Int.random(in: 0...120, using: &random)),
                    needs: Bool.random(using: &random) ? [SkillRequirement(skills.randomElement(using: &random)!, atLeast: Int.random(in: 1...3, using: &random))] : [])
        }
        let strategy = RoutingStrategy.allCases.randomElement(using: &random)!
        let outcome = QueueMatcher.match(tickets, queue: queue(strategy, steps: steps), agents: agents, lastServed: nil, now: t0)

        for agent in outcome.agents {
            let before = agents.first { $0.id == agent.id }!
            let given = outcome.proposals.filter { $0.agentID == agent.id }.count
            #expect(agent.load == before.load + given)
            #expect(given == 0 || agent.load <= agent.capacity, "over capacity")
        }
        #expect(Set(outcome.proposals.map(\.ticketID)).count == outcome.proposals.count, "a ticket proposed twice")
        let byID = Dictionary(uniqueKeysWithValues: tickets.map { ($0.ticket.id, $0) })
        for proposal in outcome.proposals {
            let ticket = byID[proposal.ticketID]!
            let agent = agents.first { $0.id == proposal.agentID }!
            #expect(agent.presence == .online)
            #expect((ticket.ruleRequirements + steps[proposal.stepIndex].requirements).allSatisfy { $0.isMet(by: agent.skills) })
        }
        let assigned = Set(outcome.proposals.map(\.ticketID))
        for ticket in tickets where !assigned.contains(ticket.ticket.id) {
            guard case .step(let index, _) = RoutingSteps.inForce(steps, since: ticket.enteredQueueAt, now: t0) else { continue }
            let requirements = ticket.ruleRequirements + steps[index].requirements
            #expect(!outcome.agents.contains { $0.isEligible(for: requirements) }, "ticket \(ticket.ticket.id) waits beside an eligible agent")
        }
    }
}

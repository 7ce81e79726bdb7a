import Foundation

/// One round of matching for one queue: waiting tickets in serving order, each given to the best
/// eligible agent under the step in force for it, capacity reserved as it goes, until no waiting
/// ticket has an eligible agent (work-conserving). Pure: the queue actor calls it after any event
/// that could change the answer, and commits the proposals before telling anyone.
public enum QueueMatcher {
    public struct WaitingTicket: Sendable, Equatable {
        public var ticket: WaitingOrder.Ticket
        /// From the routing rule; every step's requirements come on top.
        public var ruleRequirements: [SkillRequirement]
        /// When the ticket entered this queue: the steps count from here.
        public var enteredQueueAt: Date
        /// The agent who last helped this customer, preferred while `stickyUntil` lasts.
        public var stickyAgent: String?
        public var stickyUntil: Date?
        /// Agents who let this ticket's acceptance time run out: it goes to someone else.
        public var excludedAgents: Set<String>

        public init(ticket: WaitingOrder.Ticket, ruleRequirements: [SkillRequirement], enteredQueueAt: Date,
                    stickyAgent: String? = nil, stickyUntil: Date? = nil, excludedAgents: Set<String> = []) {
            self.ticket = ticket
            self.ruleRequirements = ruleRequirements
            self.enteredQueueAt = enteredQueueAt
            self.stickyAgent = stickyAgent
            self.stickyUntil = stickyUntil
            self.excludedAgents = excludedAgents
        }

        /// Everything an agent must have for this ticket under `step`.
        public func requirements(under step: RoutingStep) -> [SkillRequirement] { step.requirements(given: ruleRequirements) }
    }

    public struct Queue: Sendable, Equatable {
        public var name: String
        public var strategy: RoutingStrategy
        public var steps: [RoutingStep]
        public var order: WaitingOrder

        public init(name: String, strategy: RoutingStrategy, steps: [RoutingStep], order: WaitingOrder) {
            self.name = name
            self.strategy = strategy
            self.steps = steps
            self.order = order
        }
    }

    public struct Proposal: Sendable, Equatable {
        public var ticketID: Int64
        public var agentID: String
        public var stepIndex: Int
        /// Why this agent: `sticky`, or the strategy's name.
        public var reason: String
        /// The same for a person: "highest proficiency (lang:es=5), load 1 of 5".
        public var detail: String

        public init(ticketID: Int64, agentID: String, stepIndex: Int, reason: String, detail: String = "") {
            self.ticketID = ticketID
            self.agentID = agentID
            self.stepIndex = stepIndex
            self.reason = reason
            self.detail = detail
        }
    }

    /// A ticket whose last step ran out, and the queue it moves to.
    public struct Move: Sendable, Equatable {
        public var ticketID: Int64
        public var queue: String

        public init(ticketID: Int64, queue: String) {
            self.ticketID = ticketID
            self.queue = queue
        }
    }

    public struct Outcome: Sendable, Equatable {
        public var proposals: [Proposal]
        public var moves: [Move]
        /// The agents with the proposals' capacity reserved, for the next round.
        public var agents: [AgentSnapshot]
        /// When a waiting ticket's step, stickiness or window boost next changes (nil: never): match
        /// again then.
        public var nextChange: Date?
    }

    /// Any collection of waiting tickets: a queue passes its dictionary's values, not a copy of
    /// them (with a backlog of thousands and nobody free, a round then costs nothing per ticket).
    public static func match(_ waiting: some Collection<WaitingTicket>, queue: Queue, agents: [AgentSnapshot], lastServed: String?, now: Date) -> Outcome {
        // Online agents with room. Once there are none, the rest of a round only looks for moves and
        // the next change; with no step that moves tickets, nothing can change until an agent event
        // (which starts a round anyway), so a backlog costs nothing per arrival.
        var available = agents.filter(\.isAvailable).count
        if available == 0 && !queue.steps.contains(where: { $0.moveToQueue != nil }) {
            return Outcome(proposals: [], moves: [], agents: agents, nextChange: nil)
        }
        var agents = agents
        var lastServed = lastServed
        var proposals: [Proposal] = []
        var moves: [Move] = []
        var nextChange: Date?
        func note(_ date: Date?) {
            guard let date, date > now else { return }
            nextChange = min(nextChange ?? date, date)
        }
        let byTicket = Dictionary(waiting.map { ($0.ticket.id, $0) }, uniquingKeysWith: { first, _ in first })
        for ticket in queue.order.sorted(waiting.map(\.ticket), now: now) {
            guard let entry = byTicket[ticket.id] else { continue }
            note(queue.order.boostStarts(for: ticket))
            note(queue.order.nextAging(of: ticket, now: now))
            let stepIndex: Int
            switch RoutingSteps.inForce(queue.steps, since: entry.enteredQueueAt, now: now) {
            case .move(let target):
                moves.append(Move(ticketID: ticket.id, queue: target))
                continue
            case .step(let index, let until):
                stepIndex = index
                note(until)
            }
            guard available > 0 else { continue }
            let requirements = entry.requirements(under: queue.steps[stepIndex])
            var chosen: (agent: AgentSnapshot, reason: String)?
            if let sticky = entry.stickyAgent, let until = entry.stickyUntil, now < until, !entry.excludedAgents.contains(sticky) {
                note(until)
                if let agent = agents.first(where: { $0.id == sticky }), agent.isEligible(for: requirements) {
                    chosen = (agent, "sticky")
                }
            }
            let candidates = entry.excludedAgents.isEmpty ? agents : agents.filter { !entry.excludedAgents.contains($0.id) }
            if chosen == nil, let best = AgentRanking.rank(candidates, strategy: queue.strategy, requirements: requirements, lastServed: lastServed).first {
                chosen = (best, queue.strategy.rawValue)
            }
            guard let (agent, reason) = chosen, let index = agents.firstIndex(where: { $0.id == agent.id }) else { continue }
            let detail = explain(agent, reason: reason, strategy: queue.strategy, requirements: requirements, previous: lastServed)
            agents[index].load += 1
            agents[index].lastAssignedAt = now
            if !agents[index].hasSpareCapacity { available -= 1 }
            lastServed = agent.id
            proposals.append(Proposal(ticketID: ticket.id, agentID: agent.id, stepIndex: stepIndex, reason: reason, detail: detail))
        }
        return Outcome(proposals: proposals, moves: moves, agents: agents, nextChange: nextChange)
    }
}

extension QueueMatcher {
    /// The `assigned` event's explanation, from the agent as the decision saw them.
    static func explain(_ agent: AgentSnapshot, reason: String, strategy: RoutingStrategy, requirements: [SkillRequirement], previous: String?) -> String {
        let load = "load \(agent.load) of \(agent.capacity)"
        let skills = requirements.map { "\($0.skill)=\(agent.skills[$0.skill] ?? 0)" }.joined(separator: ", ")
        let meets = requirements.isEmpty ? "no skills required" : "has \(skills)"
        if reason == "sticky" { return "last helped this customer; \(meets); \(load)" }
        switch strategy {
        case .leastLoaded:
            return "lowest load among eligible agents (\(load)); \(meets)"
        case .longestIdle:
            let idle = agent.lastAssignedAt.map { "last assignment \(Int($0.timeIntervalSince1970))" } ?? "never assigned"
            return "longest idle (\(idle)); \(meets); \(load)"
        case .roundRobin:
            return "next in rotation\(previous.map { " after \($0)" } ?? ""); \(meets); \(load)"
        case .bestSkill:
            return "highest proficiency (\(requirements.isEmpty ? "no skills required" : skills)); \(load)"
        }
    }
}

extension WaitingOrder {
    /// When the window boost starts for `ticket` (nil: no boost ahead).
    func boostStarts(for ticket: Ticket) -> Date? {
        guard windowBoost > 0, let closes = ticket.customerWindowExpiresAt else { return nil }
        return closes.addingTimeInterval(-windowBoost)
    }
}

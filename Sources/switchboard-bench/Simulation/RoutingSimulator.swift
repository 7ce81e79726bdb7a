import Foundation
import Logging
import Synchronization
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore

/// What one simulation needs: the routing configuration, the trace, how long an agent takes.
struct SimulationScenario: Sendable {
    var name: String
    var routing: RoutingConfiguration
    var arrivals: [SimulatedArrival]
    /// Seconds an agent spends on a ticket that needs `requirements`, for `work` units of work,
    /// holding `concurrent` tickets at once (this one included).
    var handleTime: @Sendable (_ agent: AgentDefinition, _ requirements: [SkillRequirement], _ work: Double, _ concurrent: Int) -> Double
    /// A ticket is answered in time when assigned within this many seconds.
    var slaTarget: Double
    /// Arrivals before this (seconds) warm the system up and are not measured.
    var warmup: Double
}

/// The figures of one run.
struct SimulationResult: Sendable {
    var strategy: RoutingStrategy
    var waits: [Double] = []
    var handled = 0
    /// Tickets whose agent met every skill of their rule at the rule's level.
    var skillMatched = 0
    var busySeconds = 0.0
    var slotSeconds = 0.0
    var wallSeconds = 0.0
    var events = 0

    var meanWait: Double { waits.isEmpty ? .nan : waits.reduce(0, +) / Double(waits.count) }
    func percentile(_ p: Double) -> Double {
        guard !waits.isEmpty else { return .nan }
        let sorted = waits.sorted()
        return sorted[max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))]
    }
    func attainment(_ target: Double) -> Double { waits.isEmpty ? .nan : Double(waits.filter { $0 <= target }.count) / Double(waits.count) }
    var utilization: Double { slotSeconds > 0 ? busySeconds / slotSeconds : .nan }
    var skillMatchRate: Double { handled > 0 ? Double(skillMatched) / Double(handled) : .nan }
}

/// Records assignments in memory: the simulator measures routing decisions, not storage (the latency
/// benchmark measures the commit against PostgreSQL).
final class SimulatedLedger: AssignmentLedger {
    private let made = Mutex<[(AssignmentRecord, Date)]>([])

    func commit(_ records: [AssignmentRecord], now: Date) async throws -> [Int64: TicketStatus] {
        made.withLock { $0 += records.map { ($0, now) } }
        return Dictionary(uniqueKeysWithValues: records.map { ($0.ticketID, TicketStatus.open) })
    }

    func drain() -> [(AssignmentRecord, Date)] {
        made.withLock { made in
            defer { made = [] }
            return made
        }
    }
}

/// The queue actors by name, filled once they exist (their move handlers look each other up).
final class SimulatedQueues: Sendable {
    let queues = Mutex<[String: QueueActor]>([:])
    subscript(name: String) -> QueueActor? { queues.withLock { $0[name] } }
}

/// Replays a trace through the real `QueueActor`s and `AgentActor`s on a virtual clock: arrivals,
/// the routing rounds they cause, step timers, and completions after each agent's handle time.
enum RoutingSimulator {
    static func run(_ scenario: SimulationScenario, strategy: RoutingStrategy) async -> SimulationResult {
        let origin = Date(timeIntervalSince1970: 0)
        let timers = VirtualTimers(start: origin)
        let roster = AgentRoster()
        let ledger = SimulatedLedger()
        let tracker = WorkTracker()
        let queues = SimulatedQueues()
        var logger = Logger(label: "simulation")
        logger.logLevel = .critical
        let definitions = Dictionary(uniqueKeysWithValues: scenario.routing.agents.map { ($0.id, $0) })
        for agent in scenario.routing.agents {
            roster.set(AgentActor(state: AgentState(definition: agent, presence: .online, presenceSince: origin)), queues: agent.queues)
        }
        let waitingBox = Mutex<[Int64: QueueMatcher.WaitingTicket]>([:])
        for var definition in scenario.routing.queues {
            definition.strategy = strategy
            let queue = QueueActor(
                definition: definition, roster: roster, ledger: ledger, timers: timers, logger: logger,
                onMove: { move, _ in
                    guard let ticket = waitingBox.withLock({ $0[move.ticketID] }) else { return }
                    var moved = ticket
                    moved.enteredQueueAt = timers.now
                    let entering = moved
                    tracker.spawn { await queues[move.queue]?.enqueue([entering]) }
                },
                onRelease: { agents, from in
                    for agent in agents {
                        for name in roster.queues(of: agent) where name != from { tracker.spawn { await queues[name]?.match() } }
                    }
                })
            queues.queues.withLock { $0[definition.name] = queue }
        }

        var result = SimulationResult(strategy: strategy)
        let slots = scenario.routing.agents.reduce(0) { $0 + $1.capacity }
        let arrivalsByID = Dictionary(uniqueKeysWithValues: scenario.arrivals.map { ($0.id, $0) })
        var requirementsByID: [Int64: [SkillRequirement]] = [:]
        // Completions: (time, ticket, agent), kept sorted by time.
        var completions: [(at: Double, ticket: Int64, agent: String)] = []
        var nextArrival = 0
        var outstanding = 0
        let clockStart = ContinuousClock.now
        let end = scenario.arrivals.last?.at ?? 0

        func seconds(_ date: Date) -> Double { date.timeIntervalSince(origin) }
        func collect() async {
            for (record, at) in ledger.drain() {
                guard let arrival = arrivalsByID[record.ticketID], let agent = definitions[record.agentID] else { continue }
                let assignedAt = seconds(at)
                let rule = requirementsByID[record.ticketID] ?? []
                let concurrent = await roster.agent(record.agentID)?.current.load ?? 1
                let handle = scenario.handleTime(agent, rule, arrival.work, concurrent)
                let done = assignedAt + handle
                let index = completions.firstIndex { $0.at > done } ?? completions.count
                completions.insert((done, record.ticketID, record.agentID), at: index)
                outstanding -= 1
                waitingBox.withLock { _ = $0.removeValue(forKey: record.ticketID) }
                guard arrival.at >= scenario.warmup else { continue }
                result.waits.append(assignedAt - arrival.at)
                result.handled += 1
                if rule.allSatisfy({ $0.isMet(by: agent.skills) }) { result.skillMatched += 1 }
                if arrival.at <= end { result.busySeconds += min(done, end) - assignedAt }
            }
        }

        while nextArrival < scenario.arrivals.count || !completions.isEmpty || outstanding > 0 {
            let arrivalAt = nextArrival < scenario.arrivals.count ? scenario.arrivals[nextArrival].at : .infinity
            let completionAt = completions.first?.at ?? .infinity
            let timerAt = timers.nextDeadline.map(seconds) ?? .infinity
            let t = min(arrivalAt, completionAt, timerAt)
            guard t.isFinite else { break }  // tickets nobody can ever take
            await timers.advance(to: origin.addingTimeInterval(t))
            await tracker.idle()
            await collect()
            result.events += 1
            if completionAt == t, let done = completions.first {
                completions.removeFirst()
                if let agent = roster.agent(done.agent) {
                    await agent.drop(done.ticket)
                    for name in roster.queues(of: done.agent).sorted() { await queues[name]?.match() }
                }
            } else if arrivalAt == t {
                let arrival = scenario.arrivals[nextArrival]
                nextArrival += 1
                guard let match = RoutingRules.classify(arrival.facts, rules: scenario.routing.rules), let queue = queues[match.actions.queue] else { continue }
                requirementsByID[arrival.id] = match.actions.requiredSkills
                let ticket = QueueMatcher.WaitingTicket(
                    ticket: .init(id: arrival.id, priority: match.actions.priority, waitingSince: timers.now, customerWindowExpiresAt: timers.now.addingTimeInterval(86_400)),
                    ruleRequirements: match.actions.requiredSkills, enteredQueueAt: timers.now)
                waitingBox.withLock { $0[arrival.id] = ticket }
                outstanding += 1
                await queue.enqueue([ticket])
            }
            await tracker.idle()
            await collect()
        }
        result.slotSeconds = Double(slots) * max(0, end - scenario.warmup)
        result.wallSeconds = (ContinuousClock.now - clockStart).seconds
        return result
    }
}

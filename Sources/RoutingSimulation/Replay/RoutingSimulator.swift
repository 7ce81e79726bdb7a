import Foundation
import HeapModule
import Logging
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore

/// Replays a trace through the real `QueueActor`s and `AgentActor`s on a virtual clock: arrivals,
/// the routing rounds they cause, step timers, shift changes, customers giving up, and completions
/// after each agent's handle time.
///
/// Between two events everything routing started has finished (`WorkTracker.idle`), so each event
/// sees settled state. Events at the same instant run in this order: shift changes (an agent going
/// off at 12:00 takes nothing freed at 12:00), completions (capacity freed at the moment a customer
/// would give up still answers them: a wait equal to the patience is answered), abandonments, arrivals.
public enum RoutingSimulator {
    public static func run(_ scenario: SimulationScenario, strategy: RoutingStrategy) async -> SimulationResult {
        let origin = Date(timeIntervalSince1970: 0)
        let timers = VirtualTimers(start: origin)
        let roster = AgentRoster()
        let ledger = SimulatedLedger()
        let tracker = WorkTracker()
        let queues = SimulatedQueues()
        let waiting = WaitingTickets()
        var logger = Logger(label: "simulation")
        logger.logLevel = .critical
        let definitions = Dictionary(uniqueKeysWithValues: scenario.routing.agents.map { ($0.id, $0) })
        for agent in scenario.routing.agents {
            let presence = scenario.initialPresence[agent.id] ?? .online
            roster.set(AgentActor(state: AgentState(definition: agent, presence: presence, presenceSince: origin)), queues: agent.queues)
        }
        for var definition in scenario.routing.queues {
            definition.strategy = strategy
            let queue = QueueActor(
                definition: definition, roster: roster, ledger: ledger, timers: timers, logger: logger,
                onMove: { move, _ in
                    guard var moved = waiting[move.ticketID]?.ticket else { return }
                    moved.enteredQueueAt = timers.now
                    waiting.add(moved, in: move.queue)
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
        var completions = Heap<Scheduled<(ticket: Int64, agent: String)>>()
        var abandonments = Heap<Scheduled<Int64>>()
        var sequence = 0
        var nextArrival = 0
        var nextPresence = 0
        var outstanding = 0
        let clockStart = ContinuousClock.now
        let end = scenario.arrivals.last?.at ?? 0

        func seconds(_ date: Date) -> Double { date.timeIntervalSince(origin) }
        func measured(_ arrival: SimulatedArrival) -> Bool { arrival.at >= scenario.warmup }
        func collect() async {
            for (record, at) in ledger.drain() {
                guard let arrival = arrivalsByID[record.ticketID], let agent = definitions[record.agentID] else { continue }
                let assignedAt = seconds(at)
                let concurrent = await roster.agent(record.agentID)?.current.load ?? 1
                let done = assignedAt + scenario.handleTime(agent, arrival.requirements, arrival.work, concurrent)
                sequence += 1
                completions.insert(Scheduled(at: done, sequence: sequence, value: (record.ticketID, record.agentID)))
                outstanding -= 1
                waiting.remove(record.ticketID)
                guard measured(arrival) else { continue }
                result.byType[arrival.type, default: TypeFigures()].waits.append(assignedAt - arrival.at)
                if arrival.requirements.allSatisfy({ $0.isMet(by: agent.skills) }) { result.skillMatched += 1 }
                if arrival.at <= end { result.busySeconds += min(done, end) - assignedAt }
            }
        }
        func settle() async {
            await tracker.idle()
            await collect()
        }
        /// Matches every queue these agents serve, one after the other in name order.
        func matchQueues(of agents: [String]) async {
            for name in Set(agents.flatMap { roster.queues(of: $0) }).sorted() { await queues[name]?.match() }
        }

        while nextArrival < scenario.arrivals.count || !completions.isEmpty || outstanding > 0 {
            let arrivalAt = nextArrival < scenario.arrivals.count ? scenario.arrivals[nextArrival].at : .infinity
            let presenceAt = nextPresence < scenario.presenceChanges.count ? scenario.presenceChanges[nextPresence].at : .infinity
            let completionAt = completions.min?.at ?? .infinity
            let abandonAt = abandonments.min?.at ?? .infinity
            let timerAt = timers.nextDeadline.map(seconds) ?? .infinity
            let t = min(arrivalAt, presenceAt, completionAt, abandonAt, timerAt)
            guard t.isFinite else { break }  // tickets nobody can ever take
            await timers.advance(to: origin.addingTimeInterval(t))
            await settle()
            result.events += 1
            if presenceAt == t {
                // Everyone whose shift changes now, then one matching round per queue.
                var arriving: [String] = []
                while nextPresence < scenario.presenceChanges.count, scenario.presenceChanges[nextPresence].at == t {
                    let change = scenario.presenceChanges[nextPresence]
                    nextPresence += 1
                    guard let agent = roster.agent(change.agent) else { continue }
                    await agent.setPresence(change.presence, at: timers.now)
                    if change.presence == .online { arriving.append(change.agent) }
                }
                await matchQueues(of: arriving)
            } else if completionAt == t, let done = completions.popMin()?.value {
                if let agent = roster.agent(done.agent) {
                    await agent.drop(done.ticket)
                    await matchQueues(of: [done.agent])
                }
            } else if abandonAt == t, let ticketID = abandonments.popMin()?.value {
                // The customer gives up: the ticket leaves its queue the way a ticket resolved while
                // waiting does (the coordinator's `queueForgets`).
                if let entry = waiting.remove(ticketID), await queues[entry.queue]?.remove(ticketID) == true {
                    outstanding -= 1
                    if let arrival = arrivalsByID[ticketID], measured(arrival) { result.byType[arrival.type, default: TypeFigures()].abandoned += 1 }
                }
            } else if arrivalAt == t {
                let arrival = scenario.arrivals[nextArrival]
                nextArrival += 1
                if measured(arrival) { result.byType[arrival.type, default: TypeFigures()].offered += 1 }
                guard let queue = queues[arrival.queue] else { continue }
                let ticket = QueueMatcher.WaitingTicket(
                    ticket: .init(id: arrival.id, priority: arrival.priority, waitingSince: timers.now),
                    ruleRequirements: arrival.requirements, enteredQueueAt: timers.now)
                waiting.add(ticket, in: arrival.queue)
                outstanding += 1
                if let patience = arrival.patience {
                    sequence += 1
                    abandonments.insert(Scheduled(at: t + patience, sequence: sequence, value: arrival.id))
                }
                await queue.enqueue([ticket])
            }
            await settle()
        }
        let measuredFrom = max(scenario.warmup, scenario.arrivals.first?.at ?? 0)
        result.slotSeconds = Double(slots) * max(0, end - measuredFrom)
        result.wallSeconds = (ContinuousClock.now - clockStart).seconds
        return result
    }
}

/// An event at a time; equal times keep the order they were scheduled in.
struct Scheduled<Value>: Comparable {
    var at: Double
    var sequence: Int
    var value: Value

    static func < (a: Self, b: Self) -> Bool { (a.at, a.sequence) < (b.at, b.sequence) }
    static func == (a: Self, b: Self) -> Bool { a.at == b.at && a.sequence == b.sequence }
}

extension Duration {
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}

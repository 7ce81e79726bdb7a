import Foundation
import SwitchboardCore
import Testing

@Suite("Queue state machine: rounds, reruns, refusals, failed commits")
struct QueueStateMachineTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    func ticket(_ id: Int64, needs: [SkillRequirement] = []) -> QueueMatcher.WaitingTicket {
        .init(ticket: .init(id: id, priority: .normal, waitingSince: t0.addingTimeInterval(Double(id))), ruleRequirements: needs, enteredQueueAt: t0)
    }

    func machine(steps: [RoutingStep] = [RoutingStep(requirements: [], timeout: nil)]) -> QueueStateMachine {
        QueueStateMachine(queue: .init(name: "q", strategy: .leastLoaded, steps: steps, order: WaitingOrder(windowBoost: 0)))
    }

    let ana = AgentSnapshot(id: "ana", presence: .online, capacity: 1, load: 0, skills: ["lang:es": 5])
    let ben = AgentSnapshot(id: "ben", presence: .online, capacity: 1, load: 0, skills: [:])

    @Test func aTicketGoesThroughCollectReserveCommitIdle() {
        var queue = machine()
        do { let result = queue.enqueue(ticket(1)); #expect(result == .collectAgents) }
        guard case .reserve(let reservations, let moves) = queue.agentsCollected([ana], now: t0) else {
            Issue.record("expected a reservation")
            return
        }
        #expect(moves.isEmpty)
        #expect(reservations.map(\.proposal.agentID) == ["ana"])
        #expect(queue.waiting.isEmpty && queue.held.keys.sorted() == [1])
        let proposal = reservations[0].proposal
        do { let result = queue.reservationsSettled(granted: [proposal], refused: []) == .commit([proposal]); #expect(result) }
        do { let result = queue.commitsSettled(committed: [proposal], gone: [], failed: [], now: t0) == .idle(wakeAt: nil); #expect(result) }
        #expect(queue.held.isEmpty && queue.waiting.isEmpty)
        #expect(queue.lastServed == "ana")
    }

    /// An agent taking a ticket (or an escalation moving it) may only take one that waits: a ticket a
    /// round is placing stays that round's, neither removed nor withdrawn, so the round's commit
    /// decides and no agent is reserved twice for it.
    @Test func removeIfWaitingLeavesATicketARoundIsPlacingToThatRound() {
        var queue = machine()
        _ = queue.enqueue(ticket(1))
        _ = queue.enqueue(ticket(2))
        guard case .reserve(let reservations, _) = queue.agentsCollected([ana], now: t0) else {
            Issue.record("expected a reservation")
            return
        }
        #expect(queue.held.keys.sorted() == [1] && queue.waiting.keys.sorted() == [2])
        let removedHeld = queue.removeIfWaiting(1)
        #expect(!removedHeld)
        #expect(queue.held.keys.sorted() == [1])
        let removedWaiting = queue.removeIfWaiting(2)
        #expect(removedWaiting)
        #expect(queue.waiting.isEmpty)
        let proposal = reservations[0].proposal
        do { let result = queue.reservationsSettled(granted: [proposal], refused: []) == .commit([proposal]); #expect(result) }
        _ = queue.commitsSettled(committed: [proposal], gone: [], failed: [], now: t0)
        #expect(queue.held.isEmpty && queue.waiting.isEmpty)
    }

    @Test func eventsDuringARoundAreNotLostTheyRerunIt() {
        var queue = machine()
        do { let result = queue.enqueue(ticket(1)); #expect(result == .collectAgents) }
        do { let result = queue.enqueue(ticket(2)); #expect(result == .none) }
        do { let result = queue.poke(); #expect(result == .none) }
        // Nobody free this round: the round ends, but an event came in, so it runs again.
        do { let result = queue.agentsCollected([], now: t0); #expect(result == .collectAgents) }
        do { let result = queue.agentsCollected([], now: t0) == .idle(wakeAt: nil); #expect(result) }
        #expect(queue.waiting.keys.sorted() == [1, 2])
    }

    @Test func aPausedQueueRunsNoRoundUntilResumedAndAPauseMidRoundEndsIt() {
        var queue = machine()
        do { let result = queue.setPaused(true) == .idle(wakeAt: nil); #expect(result) }
        do { let result = queue.enqueue(ticket(1)) == .idle(wakeAt: nil); #expect(result) }
        #expect(queue.phase == .idle && queue.waiting.keys.sorted() == [1])
        do { let result = queue.setPaused(false); #expect(result == .collectAgents) }
        // Paused while collecting: the snapshots are ignored and the round ends with nothing proposed.
        do { let result = queue.setPaused(true); #expect(result == .none) }
        do { let result = queue.agentsCollected([ana], now: t0); #expect(result == .collectAgents) }
        do { let result = queue.agentsCollected([ana], now: t0) == .idle(wakeAt: nil); #expect(result) }
        #expect(queue.held.isEmpty && queue.waiting.keys.sorted() == [1])
    }

    @Test func aDrainingAgentIsNeitherAvailableNorEligible() {
        var drained = ana
        drained.draining = true
        #expect(ana.isAvailable && ana.isEligible(for: []))
        #expect(!drained.isAvailable && !drained.isEligible(for: []))
        var queue = machine()
        _ = queue.enqueue(ticket(1))
        do { let result = queue.agentsCollected([drained], now: t0) == .idle(wakeAt: nil); #expect(result) }
    }

    @Test func aRefusedReservationPutsTheTicketBackAndRerunsWithFreshSnapshots() {
        var queue = machine()
        _ = queue.enqueue(ticket(1))
        guard case .reserve(let reservations, _) = queue.agentsCollected([ana], now: t0) else {
            Issue.record("expected a reservation")
            return
        }
        // Ana took a ticket from another queue between the snapshot and the reservation.
        do { let result = queue.reservationsSettled(granted: [], refused: reservations.map(\.proposal)); #expect(result == .collectAgents) }
        #expect(queue.waiting.keys.sorted() == [1])
        let full = AgentSnapshot(id: "ana", presence: .online, capacity: 1, load: 1, skills: ["lang:es": 5])
        do { let result = queue.agentsCollected([full], now: t0) == .idle(wakeAt: nil); #expect(result) }
    }

    @Test func aFailedCommitKeepsTheTicketAndRetriesLater() {
        var queue = machine()
        queue.retryDelay = 2
        _ = queue.enqueue(ticket(1))
        guard case .reserve(let reservations, _) = queue.agentsCollected([ana], now: t0) else {
            Issue.record("expected a reservation")
            return
        }
        let proposal = reservations[0].proposal
        _ = queue.reservationsSettled(granted: [proposal], refused: [])
        do { let result = queue.commitsSettled(committed: [], gone: [], failed: [1], now: t0) == .idle(wakeAt: t0.addingTimeInterval(2)); #expect(result) }
        #expect(queue.waiting.keys.sorted() == [1])
    }

    @Test func aTicketRemovedDuringItsCommitIsNotPutBack() {
        var queue = machine()
        _ = queue.enqueue(ticket(1))
        guard case .reserve(let reservations, _) = queue.agentsCollected([ana], now: t0) else {
            Issue.record("expected a reservation")
            return
        }
        _ = queue.reservationsSettled(granted: reservations.map(\.proposal), refused: [])
        do { let result = queue.remove(1); #expect(result) }
        do { let result = queue.commitsSettled(committed: [], gone: [], failed: [1], now: t0) == .idle(wakeAt: nil); #expect(result) }
        #expect(queue.waiting.isEmpty && queue.held.isEmpty)
        do { let result = queue.remove(1); #expect(!result) }
    }

    @Test func reservationsCarryTheRequirementsOfTheStepInForce() {
        var queue = machine(steps: [RoutingStep(requirements: [], timeout: 60, ruleSkillLevel: 4),
                                    RoutingStep(requirements: [SkillRequirement("tier", atLeast: 1)], timeout: nil, ruleSkillLevel: 0)])
        _ = queue.enqueue(ticket(1, needs: [SkillRequirement("lang:es", atLeast: 3)]))
        guard case .reserve(let early, _) = queue.agentsCollected([ana, ben], now: t0) else {
            Issue.record("expected a reservation")
            return
        }
        #expect(early.map(\.requirements) == [[SkillRequirement("lang:es", atLeast: 4)]])
        #expect(early.map(\.proposal.agentID) == ["ana"])
        var later = machine(steps: [RoutingStep(requirements: [], timeout: 60, ruleSkillLevel: 4),
                                    RoutingStep(requirements: [SkillRequirement("tier", atLeast: 1)], timeout: nil, ruleSkillLevel: 0)])
        _ = later.enqueue(ticket(1, needs: [SkillRequirement("lang:es", atLeast: 3)]))
        let tiered = AgentSnapshot(id: "cy", presence: .online, capacity: 1, load: 0, skills: ["tier": 2])
        guard case .reserve(let relaxed, _) = later.agentsCollected([ben, tiered], now: t0.addingTimeInterval(60)) else {
            Issue.record("expected a reservation")
            return
        }
        #expect(relaxed.map(\.requirements) == [[SkillRequirement("tier", atLeast: 1)]])
        #expect(relaxed.map(\.proposal.agentID) == ["cy"])
    }

    @Test func aTicketWhoseLastStepRanOutIsMovedAndLeavesTheQueue() {
        var queue = machine(steps: [RoutingStep(requirements: [SkillRequirement("x", atLeast: 5)], timeout: 60, moveToQueue: "tier2")])
        _ = queue.enqueue(ticket(1))
        do { let result = queue.agentsCollected([ben], now: t0) == .idle(wakeAt: t0.addingTimeInterval(60)); #expect(result) }
        _ = queue.poke()
        do { let result = queue.agentsCollected([ben], now: t0.addingTimeInterval(60)) == .reserve([], moves: [.init(ticketID: 1, queue: "tier2")]); #expect(result) }
        #expect(queue.waiting.isEmpty)
        do { let result = queue.reservationsSettled(granted: [], refused: []) == .idle(wakeAt: nil); #expect(result) }
    }
}

@Suite("Agent state: capacity is reserved in one place")
struct AgentStateTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    func agent(capacity: Int = 2, presence: AgentPresence = .online, pendingCounts: Bool = true) -> AgentState {
        AgentState(definition: AgentDefinition(id: "ana", name: "Ana", capacity: capacity, skills: ["lang:es": 4], queues: ["q"]),
                   presence: presence, presenceSince: t0, pendingCountsAgainstCapacity: pendingCounts)
    }

    @Test func reservationsStopAtCapacityAndCountUntilReleased() {
        var state = agent(capacity: 2)
        do { let result = state.reserve(1, requirements: []); #expect(result) }
        do { let result = state.reserve(2, requirements: []); #expect(result) }
        do { let result = state.reserve(3, requirements: []); #expect(!result) }
        state.release(2)
        do { let result = state.reserve(3, requirements: []); #expect(result) }
        state.confirm(1, status: .open, at: t0)
        #expect(state.load == 2)
        #expect(state.tickets == [1: .open])
        #expect(state.lastAssignedAt == t0)
    }

    @Test func onlyAnOnlineAgentWithTheSkillsIsReserved() {
        var away = agent(presence: .away)
        do { let result = away.reserve(1, requirements: []); #expect(!result) }
        var online = agent()
        do { let result = online.reserve(1, requirements: [SkillRequirement("lang:es", atLeast: 5)]); #expect(!result) }
        do { let result = online.reserve(1, requirements: [SkillRequirement("lang:es", atLeast: 4)]); #expect(result) }
    }

    @Test func pendingTicketsCountOnlyWhenConfigured() {
        var counting = agent(capacity: 1)
        counting.hold(7, status: .pending)
        #expect(counting.load == 1)
        do { let result = counting.reserve(1, requirements: []); #expect(!result) }
        var notCounting = agent(capacity: 1, pendingCounts: false)
        notCounting.hold(7, status: .pending)
        #expect(notCounting.load == 0)
        do { let result = notCounting.reserve(1, requirements: []); #expect(result) }
    }

    @Test func aTicketResolvedBetweenCommitAndConfirmIsNotHeld() {
        var state = agent()
        do { let result = state.reserve(1, requirements: []); #expect(result) }
        do { let result = state.drop(1); #expect(result) }
        state.confirm(1, status: .open, at: t0)
        #expect(state.tickets.isEmpty)
        #expect(state.load == 0)
    }
}

import Foundation
import Logging
import SwitchboardCore
import SwitchboardStore

/// One queue's live state: its waiting tickets and its matching rounds. The decisions are the
/// `QueueStateMachine`'s; this actor performs them — snapshots, reservations, the commit, timers —
/// and re-reads nothing across an `await` that the machine has not been told about.
public actor QueueActor {
    /// Told after an assignment is committed (acceptance timers, metrics).
    public typealias CommittedHandler = @Sendable (_ records: [AssignmentRecord], _ at: Date) async -> Void
    /// Moves a ticket whose last step ran out to another queue. Must not wait for that queue (it
    /// starts the work and returns).
    public typealias MoveHandler = @Sendable (_ move: QueueMatcher.Move, _ from: String) -> Void
    /// Capacity reserved with these agents was given back: their other queues may now use it. Must
    /// not wait for those queues.
    public typealias ReleaseHandler = @Sendable (_ agents: Set<String>, _ from: String) -> Void
    /// A commit failed and may have been stored all the same (the connection broke after COMMIT was
    /// sent): the agents' memory of these tickets is read again from the database. Must not wait.
    public typealias UncertainHandler = @Sendable (_ tickets: [Int64]) -> Void

    public nonisolated let name: String
    private var definition: QueueDefinition
    private var machine: QueueStateMachine
    private let roster: AgentRoster
    private let ledger: any AssignmentLedger
    private let timers: any RoutingTimers
    private let onCommitted: CommittedHandler
    private let onMove: MoveHandler
    private let onRelease: ReleaseHandler
    private let onUncertain: UncertainHandler
    /// Held while an assignment is committed and the agent told, so the agent's actor hears of the
    /// ticket in commit order (see `TicketLocks`).
    private let locks: TicketLocks
    private let logger: Logger
    /// Callers of `match()` or `enqueue` that arrived during a round: answered when the rerun ends.
    private var roundWaiters: [CheckedContinuation<Void, Never>] = []

    public init(definition: QueueDefinition, roster: AgentRoster, ledger: any AssignmentLedger, timers: any RoutingTimers,
                logger: Logger, onCommitted: @escaping CommittedHandler = { _, _ in }, onMove: @escaping MoveHandler = { _, _ in },
                onRelease: @escaping ReleaseHandler = { _, _ in }, onUncertain: @escaping UncertainHandler = { _ in },
                locks: TicketLocks = TicketLocks()) {
        self.name = definition.name
        self.definition = definition
        self.machine = QueueStateMachine(queue: definition.matcherQueue)
        self.roster = roster
        self.ledger = ledger
        self.timers = timers
        self.onCommitted = onCommitted
        self.onMove = onMove
        self.onRelease = onRelease
        self.onUncertain = onUncertain
        self.locks = locks
        self.logger = logger
    }

    /// Adds tickets and returns once a matching round that saw them has ended.
    public func enqueue(_ tickets: [QueueMatcher.WaitingTicket]) async {
        guard !tickets.isEmpty else { return }
        var action = QueueStateMachine.Action.none
        for ticket in tickets {
            let next = machine.enqueue(ticket)
            if next != .none { action = next }
        }
        await perform(action)
    }

    /// Adds tickets read at start without a round (see `QueueStateMachine.load`); the rebuild calls
    /// `match()` once every stored ticket is in.
    public func load(_ tickets: [QueueMatcher.WaitingTicket]) {
        for ticket in tickets { machine.load(ticket) }
    }

    /// Matches now: an agent came online or freed capacity, a timer fired. Returns once a round that
    /// started after this call has ended.
    public func match() async {
        await perform(machine.poke())
    }

    /// The ticket no longer waits here (resolved, assigned by a person).
    @discardableResult
    public func remove(_ ticketID: Int64) -> Bool { machine.remove(ticketID) }

    /// The ticket leaves only if it waits; one a round is placing stays that round's (see the machine).
    public func removeIfWaiting(_ ticketID: Int64) -> Bool { machine.removeIfWaiting(ticketID) }

    /// Pauses or resumes assigning from this queue; resuming matches at once.
    public func setPaused(_ paused: Bool) async {
        guard paused != machine.paused else { return }
        await perform(machine.setPaused(paused))
    }

    public var isPaused: Bool { machine.paused }

    public func reconfigure(_ definition: QueueDefinition) async {
        self.definition = definition
        await perform(machine.reconfigure(definition.matcherQueue))
    }

    /// The waiting tickets in serving order, for the control commands and the tests.
    public func waitingTickets() -> [QueueMatcher.WaitingTicket] {
        let waiting = machine.waiting
        return definition.order.sorted(waiting.values.map(\.ticket), now: timers.now).compactMap { waiting[$0.id] }
    }

    public var isIdle: Bool { machine.phase == .idle }

    /// How many tickets wait and since when the oldest has (for status, without sorting).
    public func summary() -> (waiting: Int, oldestWaitingSince: Date?) {
        let waiting = machine.waiting
        return (waiting.count, waiting.values.map(\.ticket.waitingSince).min())
    }

    public var strategy: RoutingStrategy { definition.strategy }

    private func perform(_ first: QueueStateMachine.Action) async {
        if first == .none {
            await withCheckedContinuation { roundWaiters.append($0) }
            return
        }
        var action = first
        while true {
            switch action {
            case .none:
                preconditionFailure("a running round always says what comes next")
            case .collectAgents:
                var snapshots: [AgentSnapshot] = []
                for agent in roster.agents(serving: name) { snapshots.append(await agent.snapshot()) }
                action = machine.agentsCollected(snapshots, now: timers.now)
            case .reserve(let reservations, let moves):
                for move in moves { onMove(move, name) }
                var granted: [QueueMatcher.Proposal] = [], refused: [QueueMatcher.Proposal] = []
                for reservation in reservations {
                    let ok = await roster.agent(reservation.proposal.agentID)?.reserve(reservation.proposal.ticketID, requirements: reservation.requirements) ?? false
                    if ok { granted.append(reservation.proposal) } else { refused.append(reservation.proposal) }
                }
                action = machine.reservationsSettled(granted: granted, refused: refused)
            case .commit(let proposals):
                action = await commit(proposals)
            case .idle(let wakeAt):
                timers.schedule(.queueRound(queue: name), at: wakeAt) { [weak self] in await self?.match() }
                let waiters = roundWaiters
                roundWaiters = []
                waiters.forEach { $0.resume() }
                return
            }
        }
    }

    private func commit(_ proposals: [QueueMatcher.Proposal]) async -> QueueStateMachine.Action {
        let now = timers.now
        let records = proposals.map { proposal in
            AssignmentRecord(ticketID: proposal.ticketID, agentID: proposal.agentID, queue: name, strategy: definition.strategy,
                             stepIndex: proposal.stepIndex, reason: proposal.reason, detail: proposal.detail,
                             requirements: machine.held[proposal.ticketID]?.requirements(under: definition.steps[proposal.stepIndex]) ?? [])
        }
        var committed: [QueueMatcher.Proposal] = [], gone: [Int64] = [], failed: [Int64] = []
        var released: Set<String> = []
        await locks.withLocks(proposals.map(\.ticketID)) {
            var statuses: [Int64: TicketStatus] = [:]
            do {
                statuses = try await ledger.commit(records, now: now)
                for proposal in proposals {
                    if statuses[proposal.ticketID] != nil { committed.append(proposal) } else { gone.append(proposal.ticketID) }
                }
            } catch {
                logger.error("assignments not stored; the tickets wait and are tried again",
                             metadata: ["queue": "\(name)", "tickets": "\(proposals.count)", "error": "\(error)"])
                failed = proposals.map(\.ticketID)
            }
            for proposal in proposals {
                guard let agent = roster.agent(proposal.agentID) else { continue }
                if committed.contains(proposal) {
                    await agent.confirm(proposal.ticketID, status: statuses[proposal.ticketID] ?? .open, at: now)
                } else {
                    await agent.release(proposal.ticketID)
                    released.insert(proposal.agentID)
                }
            }
        }
        if !failed.isEmpty { onUncertain(failed) }
        // Another queue may have passed these agents over while the capacity was reserved here.
        if !released.isEmpty { onRelease(released, name) }
        if !committed.isEmpty {
            let done = Set(committed.map(\.ticketID))
            await onCommitted(records.filter { done.contains($0.ticketID) }, now)
        }
        return machine.commitsSettled(committed: committed, gone: gone, failed: failed, now: now)
    }
}

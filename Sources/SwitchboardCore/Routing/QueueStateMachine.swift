import Foundation

/// The decisions of one queue as a value: events in, actions out. The queue actor feeds it tickets
/// and agent snapshots and performs what it returns; nothing here waits, stamps or stores.
///
/// A matching round goes: collect agent snapshots → reserve capacity with the chosen agents → commit
/// the reserved assignments → idle until the next event or `wakeAt`. Events during a round are not
/// lost: they mark the round for a rerun, so every event is followed by a complete round.
public struct QueueStateMachine: Sendable {
    /// A proposal with everything the agent must have, for the agent to re-check when reserving.
    public struct Reservation: Sendable, Equatable {
        public var proposal: QueueMatcher.Proposal
        public var requirements: [SkillRequirement]
    }

    public enum Action: Sendable, Equatable {
        /// Nothing now: a round is running and will run again.
        case none
        /// Get fresh snapshots of the queue's agents, then call `agentsCollected`.
        case collectAgents
        /// Reserve capacity for each reservation and move each ticket; then call `reservationsSettled`.
        case reserve([Reservation], moves: [QueueMatcher.Move])
        /// Commit these assignments (capacity is reserved), then call `commitsSettled`.
        case commit([QueueMatcher.Proposal])
        /// The round is over; match again at `wakeAt` (nil: only on an event).
        case idle(wakeAt: Date?)
    }

    public enum Phase: Sendable, Equatable { case idle, collecting, reserving, committing }

    public private(set) var queue: QueueMatcher.Queue
    public private(set) var phase: Phase = .idle
    /// Waiting tickets by id.
    public private(set) var waiting: [Int64: QueueMatcher.WaitingTicket] = [:]
    /// Tickets proposed in the running round, out of `waiting` until the round settles them.
    public private(set) var held: [Int64: QueueMatcher.WaitingTicket] = [:]
    /// Held tickets that left the queue meanwhile (resolved, taken by hand): never put back.
    private var withdrawn: Set<Int64> = []
    public private(set) var lastServed: String?
    private var rerun = false
    private var wakeAt: Date?
    /// Paused (by a supervisor, or the whole daemon draining): tickets wait, nobody is assigned,
    /// nothing moves on, until resumed.
    public private(set) var paused = false
    /// After a failed commit, try again this much later rather than at once.
    public var retryDelay: TimeInterval = 1

    public init(queue: QueueMatcher.Queue, lastServed: String? = nil) {
        self.queue = queue
        self.lastServed = lastServed
    }

    /// A ticket to place, new or back from an agent.
    public mutating func enqueue(_ ticket: QueueMatcher.WaitingTicket) -> Action {
        withdrawn.remove(ticket.ticket.id)
        waiting[ticket.ticket.id] = ticket
        return startRound()
    }

    /// A ticket read at start: it waits here, and no round starts for it (the rebuild starts one
    /// once every stored ticket is in, so none is placed before an older one is known). Arriving
    /// during a round, it is seen by that round's rerun.
    public mutating func load(_ ticket: QueueMatcher.WaitingTicket) {
        withdrawn.remove(ticket.ticket.id)
        waiting[ticket.ticket.id] = ticket
        if phase != .idle { rerun = true }
    }

    /// The ticket no longer waits here (resolved, assigned by hand, moved). Returns whether it was here.
    @discardableResult
    public mutating func remove(_ ticketID: Int64) -> Bool {
        if waiting.removeValue(forKey: ticketID) != nil { return true }
        if held[ticketID] != nil {
            withdrawn.insert(ticketID)
            return true
        }
        return false
    }

    /// Takes the ticket out only if it waits here; a ticket a round is placing right now is left to
    /// that round (an agent taking it, an escalation moving it, a new priority: the round's
    /// assignment wins). Returns whether it was taken out.
    public mutating func removeIfWaiting(_ ticketID: Int64) -> Bool {
        waiting.removeValue(forKey: ticketID) != nil
    }

    /// Something that could change the answer happened (an agent came online or freed capacity, a
    /// timer fired, the configuration changed).
    public mutating func poke() -> Action { startRound() }

    /// Pauses or resumes assigning. Resuming starts a round at once.
    public mutating func setPaused(_ paused: Bool) -> Action {
        self.paused = paused
        return startRound()
    }

    public mutating func reconfigure(_ queue: QueueMatcher.Queue) -> Action {
        self.queue = queue
        return startRound()
    }

    public mutating func agentsCollected(_ agents: [AgentSnapshot], now: Date) -> Action {
        precondition(phase == .collecting, "snapshots arrive only when asked for")
        if paused {
            wakeAt = nil
            return endRound()
        }
        let outcome = QueueMatcher.match(waiting.values, queue: queue, agents: agents, lastServed: lastServed, now: now)
        wakeAt = outcome.nextChange
        var reservations: [Reservation] = []
        for proposal in outcome.proposals {
            guard let ticket = waiting.removeValue(forKey: proposal.ticketID) else { preconditionFailure("the matcher proposes only waiting tickets") }
            held[proposal.ticketID] = ticket
            reservations.append(Reservation(proposal: proposal, requirements: ticket.requirements(under: queue.steps[proposal.stepIndex])))
        }
        for move in outcome.moves { waiting.removeValue(forKey: move.ticketID) }
        guard !reservations.isEmpty || !outcome.moves.isEmpty else { return endRound() }
        phase = .reserving
        return .reserve(reservations, moves: outcome.moves)
    }

    /// Which reservations the agents granted. A refusal means the snapshot was stale: the ticket
    /// waits again and the round reruns with fresh snapshots.
    public mutating func reservationsSettled(granted: [QueueMatcher.Proposal], refused: [QueueMatcher.Proposal]) -> Action {
        precondition(phase == .reserving, "reservations settle only after they were asked for")
        for proposal in refused {
            putBack(proposal.ticketID)
            rerun = true
        }
        guard !granted.isEmpty else { return endRound() }
        phase = .committing
        return .commit(granted)
    }

    /// The outcome of the commit: `committed` are assigned for good; `gone` no longer need an agent
    /// (resolved or assigned elsewhere meanwhile); `failed` could not be stored and wait again.
    public mutating func commitsSettled(committed: [QueueMatcher.Proposal], gone: [Int64], failed: [Int64], now: Date) -> Action {
        precondition(phase == .committing, "commits settle only after they were asked for")
        for proposal in committed {
            held.removeValue(forKey: proposal.ticketID)
            withdrawn.remove(proposal.ticketID)
            lastServed = proposal.agentID
        }
        for id in gone {
            held.removeValue(forKey: id)
            withdrawn.remove(id)
        }
        for id in failed { putBack(id) }
        if !failed.isEmpty {
            let retry = now.addingTimeInterval(retryDelay)
            wakeAt = min(wakeAt ?? retry, retry)
        }
        return endRound()
    }

    private mutating func putBack(_ id: Int64) {
        guard let ticket = held.removeValue(forKey: id) else { return }
        if withdrawn.remove(id) == nil { waiting[id] = ticket }
    }

    private mutating func startRound() -> Action {
        guard phase == .idle else {
            rerun = true
            return .none
        }
        // A paused queue has no round to run: an idle answer, so callers waiting for one return.
        if paused { return .idle(wakeAt: nil) }
        phase = .collecting
        return .collectAgents
    }

    private mutating func endRound() -> Action {
        if rerun {
            rerun = false
            phase = .collecting
            return .collectAgents
        }
        phase = .idle
        return .idle(wakeAt: waiting.isEmpty ? nil : wakeAt)
    }
}

import Foundation
import Logging
import Postgres
import SwitchboardCore
import SwitchboardStore

/// Routing's front door: classifies new tickets, owns the agent and queue actors, and turns every
/// event that could change an assignment — a new ticket, presence, a resolve, a capacity change, a
/// timer — into matching at once. PostgreSQL holds the truth; the actors are rebuilt from it at start.
public actor TicketRouter: TicketActivitySink, SLAEscalator {
    private var configuration: RoutingConfiguration
    private let store: RoutingStore
    /// Assignments from every queue, committed together when they arrive together.
    private let ledger: GroupCommitLedger
    private let agentStore: AgentStore
    public nonisolated let roster = AgentRoster()
    /// Serializes each ticket's database change with telling the agents' actors (see `TicketLocks`).
    public nonisolated let locks = TicketLocks()
    private var queues: [String: QueueActor] = [:]
    private let timers: any RoutingTimers
    /// Follow-up work started without waiting; `settle()` waits for it.
    public nonisolated let work = WorkTracker()
    private let logger: Logger
    private let observer: (any RoutingObserver)?
    /// Where assignments are announced to followers (the control socket's `Watch`).
    private let events: EventStream?
    private var rebuilt = false
    /// Told of starts, customer messages and status changes (the SLA engine).
    private var sla: (any SLAActivitySink)?
    private var rebuildWaiters: [CheckedContinuation<Void, Never>] = []
    /// Work the database refused (it was down): done again, with back-off, until it succeeds.
    private var recovery = RoutingRecovery()
    /// Queues a supervisor paused (stored), and whether the whole daemon drains (not stored: a
    /// restart ends it, as a restart is what a drain usually precedes).
    private var pausedQueues: Set<String> = []
    public private(set) var isDraining = false

    public init(configuration: RoutingConfiguration, pool: PostgresPool, timers: any RoutingTimers, logger: Logger, observer: (any RoutingObserver)? = nil,
                events: EventStream? = nil) {
        self.events = events
        self.configuration = configuration
        self.store = RoutingStore(pool: pool)
        self.ledger = GroupCommitLedger(store)
        self.agentStore = AgentStore(pool: pool)
        self.timers = timers
        self.logger = logger
        self.observer = observer
    }

    /// Connects the SLA engine (set once at start, before `rebuild`).
    public func attach(sla: any SLAActivitySink) {
        self.sla = sla
    }

    // MARK: Start

    /// Loads agents (the configuration's first), assignments, waiting tickets in order, and timers
    /// from their stored start times; then routes what ingest committed but nobody routed.
    public func rebuild() async throws {
        let now = timers.now
        try await agentStore.syncConfigured(configuration.agents, presence: configuration.initialPresence, now: now)
        for stored in try await agentStore.loadActive() {
            let state = AgentState(definition: stored.definition, presence: stored.presence, presenceSince: stored.presenceSince,
                                   lastAssignedAt: stored.lastAssignedAt, pendingCountsAgainstCapacity: configuration.pendingCountsAgainstCapacity,
                                   draining: stored.draining)
            roster.set(AgentActor(state: state), queues: stored.definition.queues)
        }
        var orphaned: [String: [Int64]] = [:]
        let assignments = try await store.assignments()
        for assignment in assignments {
            if let agent = roster.agent(assignment.agentID) {
                await agent.hold(assignment.ticketID, status: assignment.status)
            } else {
                orphaned[assignment.agentID, default: []].append(assignment.ticketID)
            }
        }
        pausedQueues = try await store.pausedQueues()
        for definition in configuration.queues {
            let queue = makeQueue(definition)
            queues[definition.name] = queue
            await queue.setPaused(isHeld(definition.name))
        }
        await enqueue(try await store.waiting(nil, stickySeconds: configuration.stickySeconds))
        // Tickets of agents who were deactivated return to their queues at once.
        for (agentID, tickets) in orphaned.sorted(by: { $0.key < $1.key }) {
            await enqueue(try await store.unassign(tickets, from: agentID, kind: .unassigned, reason: "agent deactivated", exclude: false,
                                                   stickySeconds: configuration.stickySeconds, now: now))
        }
        try await route(nil)
        for agent in roster.all {
            let state = await agent.current
            if state.presence != .online && !state.tickets.isEmpty { scheduleGrace(agent.id, since: state.presenceSince) }
        }
        for assignment in assignments where assignment.status == .open {
            guard let queue = assignment.queue.flatMap(configuration.queue(named:)), let within = queue.acceptWithin, let at = assignment.assignedAt else { continue }
            scheduleAcceptance(ticketID: assignment.ticketID, agentID: assignment.agentID, assignedAt: at, within: within)
        }
        rebuilt = true
        let waiters = rebuildWaiters
        rebuildWaiters = []
        waiters.forEach { $0.resume() }
        logger.info("routing rebuilt", metadata: ["agents": "\(roster.all.count)", "queues": "\(queues.count)", "assigned": "\(assignments.count)"])
    }

    private func untilRebuilt() async {
        if rebuilt { return }
        await withCheckedContinuation { rebuildWaiters.append($0) }
    }

    private func makeQueue(_ definition: QueueDefinition) -> QueueActor {
        QueueActor(
            definition: definition, roster: roster, ledger: ledger, timers: timers, logger: logger,
            onCommitted: { [weak self] records, at in await self?.assignmentsCommitted(records, at: at) },
            onMove: { [weak self] move, from in
                guard let self else { return }
                self.work.spawn { await self.moveTicket(move, from: from) }
            },
            onRelease: { [weak self] agents, from in
                guard let self else { return }
                for agent in agents.sorted() {
                    for queue in self.roster.queues(of: agent).sorted() where queue != from {
                        self.work.spawn { await self.matchQueue(queue) }
                    }
                }
            },
            onUncertain: { [weak self] tickets in
                guard let self else { return }
                Task { await self.recover(reconciling: tickets) }
            },
            locks: locks
        )
    }

    // MARK: New activity from ingest

    /// New tickets are classified and queued; reopened ones are classified again; a pending ticket
    /// the customer wrote to is open again and counts for its agent.
    public func committed(_ messages: [IngestResult.StoredMessage]) async {
        if let observer {
            let fresh = messages.filter { $0.threading == .newTicket }.map(\.ticketID)
            if !fresh.isEmpty { observer.ticketsArrived(fresh, at: .now) }
        }
        if let events {
            let now = timers.now
            for message in messages {
                // A new ticket's first message: routing has not placed it yet, so nobody but an admin sees it;
                // its assignment is what agents hear of.
                var details = ["direction": "inbound", "message": "\(message.messageID)"]
                if message.threading == .newTicket { details["new_ticket"] = "true" }
                events.publish(DaemonEvent(kind: .message, ticketID: message.ticketID, reference: message.ticketReference, at: now, audience: [],
                                           details: details))
            }
        }
        await untilRebuilt()
        var toRoute: [Int64] = [], reopened: [Int64] = [], woken: [Int64] = [], wrote: [Int64] = []
        for message in messages {
            switch message.threading {
            case .newTicket: toRoute.append(message.ticketID)
            case .reopen: reopened.append(message.ticketID)
            case .wakeUp:
                woken.append(message.ticketID)
                wrote.append(message.ticketID)
            case .append: wrote.append(message.ticketID)
            }
        }
        if !wrote.isEmpty { await sla?.customerWrote(wrote) }
        // A reopen committed its return to routing with the message (`TicketThreading.placeAfterReopen`).
        toRoute += reopened
        do {
            if !toRoute.isEmpty { try await route(toRoute) }
        } catch {
            logger.error("routing new tickets failed; trying again until the database answers", metadata: ["tickets": "\(toRoute.count)", "error": "\(error)"])
            await recover(routing: true)
        }
        do {
            if !woken.isEmpty { try await wake(woken) }
        } catch {
            logger.error("could not count woken tickets for their agents; reading them again", metadata: ["tickets": "\(woken.count)", "error": "\(error)"])
            await recover(reconciling: woken)
        }
    }

    /// Classifies open tickets without a queue (these, or every one) and queues them; their SLAs
    /// start (or, reopened, restart) once their queue and priority are known. A ticket routed before
    /// is a reopened one, however it got here (live, or found at start after a crash).
    public func route(_ ticketIDs: [Int64]?) async throws {
        let unrouted = try await store.unrouted(ticketIDs)
        guard !unrouted.isEmpty else { return }
        let reopened = Set(unrouted.filter(\.routedBefore).map(\.ticketID))
        var decisions: [RoutingDecision] = []
        for ticket in unrouted {
            var facts = ticket.facts
            let guessed = facts.firstMessageText.flatMap(LanguageGuess.guess)
            facts.language = guessed ?? ticket.knownLanguage
            facts.withinBusinessHours = configuration.businessHours?.contains(ticket.createdAt) ?? true
            guard let match = RoutingRules.classify(facts, rules: configuration.rules) else {
                logger.error("no routing rule matched; the configuration's last rule should catch every ticket", metadata: ["ticket": "\(ticket.ticketID)"])
                continue
            }
            decisions.append(RoutingDecision(ticketID: ticket.ticketID, customerID: ticket.customerID, rule: match, language: guessed))
        }
        let waiting = try await store.recordRouting(decisions, stickySeconds: configuration.stickySeconds, now: timers.now)
        await sla?.ticketsStarted(waiting.map(\.waiting.ticket.id), reopened: reopened)
        await enqueue(waiting)
    }

    private func wake(_ ticketIDs: [Int64]) async throws {
        let now = timers.now
        let held = try await locks.withLocks(ticketIDs) {
            var held: [(StoredAssignment, AgentActor, AgentState)] = []
            for assignment in try await store.assignments(ticketIDs) {
                guard let agent = roster.agent(assignment.agentID) else { continue }
                await agent.hold(assignment.ticketID, status: assignment.status)
                held.append((assignment, agent, await agent.current))
            }
            return held
        }
        for (assignment, agent, state) in held {
            // The customer is back but their agent has been gone past the grace period: someone else answers.
            if state.presence != .online, now >= state.presenceSince.addingTimeInterval(configuration.presenceGraceSeconds),
               !(assignment.queue.flatMap(configuration.queue(named:))?.keepTicketsWhenAgentAway ?? false) {
                await requeue([assignment.ticketID], from: agent, kind: .unassigned, reason: "customer wrote while the agent was \(state.presence.rawValue)", exclude: false)
            }
        }
    }

    /// Puts stored waiting tickets into their queues' actors and waits for the matching rounds.
    private func enqueue(_ tickets: [StoredWaitingTicket]) async {
        let byQueue = Dictionary(grouping: tickets, by: \.queue)
        await withTaskGroup(of: Void.self) { group in
            for (name, tickets) in byQueue {
                guard let queue = queues[name] else {
                    logger.warning("tickets wait in a queue the configuration no longer has", metadata: ["queue": "\(name)", "tickets": "\(tickets.count)"])
                    continue
                }
                group.addTask { await queue.enqueue(tickets.map(\.waiting)) }
            }
        }
    }

    private func matchQueue(_ name: String) async {
        await queues[name]?.match()
    }

    private func matchQueues(of agentID: String) async {
        for queue in roster.queues(of: agentID).sorted() { await matchQueue(queue) }
    }

    // MARK: Agents and tickets

    /// Sets an agent's presence. Online: matching at once. Away or offline: after the grace period,
    /// their open tickets return to the queue (unless the queue keeps them). False: unknown agent.
    public func setPresence(_ agentID: String, to presence: AgentPresence, actor: String) async throws -> Bool {
        await untilRebuilt()
        let now = timers.now
        guard try await agentStore.setPresence(agentID, to: presence, at: now, actor: actor), let agent = roster.agent(agentID) else { return false }
        if await agent.current.presence != presence {
            events?.publish(DaemonEvent(kind: .presence, ticketID: nil, reference: nil, agent: agentID, at: now, audience: [agentID],
                                        details: ["presence": presence.rawValue, "by": actor]))
        }
        await agent.setPresence(presence, at: now)
        if presence == .online {
            timers.schedule("grace:\(agentID)", at: nil) { }
            await matchQueues(of: agentID)
        } else {
            scheduleGrace(agentID, since: now)
        }
        return true
    }

    /// Changes an agent's capacity; more capacity matches at once. False: unknown agent.
    public func setCapacity(_ agentID: String, to capacity: Int) async throws -> Bool {
        await untilRebuilt()
        guard try await agentStore.setCapacity(agentID, to: capacity, at: timers.now), let agent = roster.agent(agentID) else { return false }
        await agent.setCapacity(capacity)
        await matchQueues(of: agentID)
        return true
    }

    /// Resolves a ticket, sets it pending or opens it again; freed capacity is matched at once.
    /// False: unknown ticket, or it already had that status.
    public func setStatus(_ ticketID: Int64, to status: TicketStatus, actor: String) async throws -> Bool {
        await untilRebuilt()
        let change: RoutingStore.StatusChange
        do {
            let stored = try await locks.withLocks([ticketID]) { () -> RoutingStore.StatusChange? in
                guard let change = try await store.setStatus(ticketID, to: status, actor: actor, now: timers.now) else { return nil }
                if let assignee = change.assignee, let agent = roster.agent(assignee) {
                    if status == .resolved { await agent.drop(ticketID) } else { await agent.hold(ticketID, status: status) }
                } else if status == .resolved, let queue = change.queue.flatMap({ queues[$0] }) {
                    await queue.remove(ticketID)
                }
                return change
            }
            guard let stored else { return false }
            change = stored
        } catch {
            await recover(reconciling: [ticketID])
            throw error
        }
        events?.publish(DaemonEvent(kind: .statusChanged, ticketID: ticketID, reference: nil, queue: change.queue, agent: change.assignee, at: timers.now,
                                    audience: change.assignee.map { [$0] } ?? [], details: ["status": status.rawValue, "previous": change.previous.rawValue, "by": actor]))
        await sla?.statusChanged(ticketID, from: change.previous, to: status)
        if let assignee = change.assignee, roster.agent(assignee) != nil { await matchQueues(of: assignee) }
        return true
    }

    private func scheduleGrace(_ agentID: String, since: Date) {
        timers.schedule("grace:\(agentID)", at: since.addingTimeInterval(configuration.presenceGraceSeconds)) { [weak self] in
            await self?.graceEnded(agentID)
        }
    }

    /// The agent stayed away past the grace period: their open tickets go back to their queues.
    private func graceEnded(_ agentID: String) async {
        guard let agent = roster.agent(agentID) else { return }
        let state = await agent.current
        guard state.presence != .online else { return }
        do {
            let open = try await store.assignments(of: agentID).filter { assignment in
                assignment.status == .open && !(assignment.queue.flatMap(configuration.queue(named:))?.keepTicketsWhenAgentAway ?? false)
            }
            await requeue(open.map(\.ticketID), from: agent, kind: .unassigned, reason: "agent \(state.presence.rawValue) past the grace period", exclude: false)
        } catch {
            logger.error("could not return an absent agent's tickets; trying again shortly", metadata: ["agent": "\(agentID)", "error": "\(error)"])
            timers.schedule("grace:\(agentID)", at: timers.now.addingTimeInterval(5)) { [weak self] in await self?.graceEnded(agentID) }
        }
    }

    private func scheduleAcceptance(ticketID: Int64, agentID: String, assignedAt: Date, within: TimeInterval) {
        timers.schedule("accept:\(ticketID)", at: assignedAt.addingTimeInterval(within)) { [weak self] in
            await self?.acceptanceDue(ticketID: ticketID, agentID: agentID, assignedAt: assignedAt)
        }
    }

    private func assignmentsCommitted(_ records: [AssignmentRecord], at: Date) {
        observer?.ticketsAssigned(records.map(\.ticketID), at: .now)
        if let events {
            for record in records {
                events.publish(DaemonEvent(kind: .assigned, ticketID: record.ticketID, reference: nil, queue: record.queue, agent: record.agentID, at: at,
                                           audience: [record.agentID], details: ["agent": record.agentID, "queue": record.queue, "why": record.detail]))
            }
        }
        for record in records {
            guard let within = configuration.queue(named: record.queue)?.acceptWithin else { continue }
            scheduleAcceptance(ticketID: record.ticketID, agentID: record.agentID, assignedAt: at, within: within)
        }
    }

    /// The agent neither accepted nor answered in time: the ticket goes to someone else.
    private func acceptanceDue(ticketID: Int64, agentID: String, assignedAt: Date) async {
        guard let agent = roster.agent(agentID) else { return }
        do {
            guard try await store.acceptanceMissed(ticketID, agentID: agentID, assignedAt: assignedAt) else { return }
            await requeue([ticketID], from: agent, kind: .acceptanceMissed, reason: "not accepted or answered in time", exclude: true)
            await matchQueues(of: agentID)
        } catch {
            logger.error("could not check an acceptance time", metadata: ["ticket": "\(ticketID)", "error": "\(error)"])
        }
    }

    /// Every ticket a deactivated agent holds goes back to its queue; until that succeeds, the
    /// recovery loop tries again (a round that placed a ticket with them just before they left is
    /// refused by the database, so nothing new reaches them meanwhile).
    private func handBack(of agent: AgentActor, reason: String) async {
        do {
            let held = try await store.assignments(of: agent.id).map(\.ticketID)
            try await requeueOrThrow(held, from: agent, kind: .unassigned, reason: reason, exclude: false)
        } catch {
            logger.error("could not return a removed agent's tickets; trying again", metadata: ["agent": "\(agent.id)", "error": "\(error)"])
            recovery.removedAgents[agent.id] = (agent, reason)
            await recover()
        }
    }

    /// A new actor for an agent the database may still credit with tickets: it holds them too.
    private func loadHoldings(of agentID: String) async throws {
        let held = try await store.assignments(of: agentID).map(\.ticketID)
        if !held.isEmpty { try await reconcile(held) }
    }

    private func requeue(_ ticketIDs: [Int64], from agent: AgentActor, kind: TicketEventKind, reason: String, exclude: Bool) async {
        do {
            try await requeueOrThrow(ticketIDs, from: agent, kind: kind, reason: reason, exclude: exclude)
        } catch {
            logger.error("could not return tickets to their queues", metadata: ["agent": "\(agent.id)", "error": "\(error)"])
        }
    }

    /// Unassigns and queues again; on failure the agents' memory and the queues of these tickets
    /// are read again from the database once it answers.
    private func requeueOrThrow(_ ticketIDs: [Int64], from agent: AgentActor, kind: TicketEventKind, reason: String, exclude: Bool) async throws {
        guard !ticketIDs.isEmpty else { return }
        do {
            let waiting = try await locks.withLocks(ticketIDs) {
                let waiting = try await store.unassign(ticketIDs, from: agent.id, kind: kind, reason: reason, exclude: exclude,
                                                       stickySeconds: configuration.stickySeconds, now: timers.now)
                for ticket in waiting { await agent.drop(ticket.waiting.ticket.id) }
                return waiting
            }
            logger.info("tickets returned to their queues", metadata: ["agent": "\(agent.id)", "tickets": "\(waiting.count)", "reason": "\(reason)"])
            await enqueue(waiting)
        } catch {
            await recover(reconciling: ticketIDs)
            throw error
        }
    }

    private func moveTicket(_ move: QueueMatcher.Move, from: String) async {
        do {
            guard let moved = try await store.move(move.ticketID, from: from, to: move.queue, stickySeconds: configuration.stickySeconds, now: timers.now) else { return }
            await enqueue([moved])
        } catch {
            logger.error("could not move a ticket; it waits where it was", metadata: ["ticket": "\(move.ticketID)", "error": "\(error)"])
            // The queue dropped it from its waiting list: put it back from the stored state.
            if let back = try? await store.waiting([move.ticketID], stickySeconds: configuration.stickySeconds) { await enqueue(back) }
        }
    }

    // MARK: Agents managed through the control commands

    /// Creates or changes an agent; their queues match at once. Throws the store's error (e.g. the
    /// Unix user already names another agent).
    public func upsertAgent(_ definition: AgentDefinition, unixUser: String?) async throws {
        await untilRebuilt()
        try await agentStore.upsert(definition, unixUser: unixUser, now: timers.now)
        if let existing = roster.agent(definition.id) {
            await existing.update(definition, pendingCountsAgainstCapacity: configuration.pendingCountsAgainstCapacity)
            roster.set(existing, queues: definition.queues)
        } else {
            let stored = try await agentStore.loadActive().first { $0.definition.id == definition.id }
            let state = AgentState(definition: definition, presence: stored?.presence ?? .offline, presenceSince: stored?.presenceSince ?? timers.now,
                                   lastAssignedAt: stored?.lastAssignedAt, pendingCountsAgainstCapacity: configuration.pendingCountsAgainstCapacity,
                                   draining: stored?.draining ?? false)
            roster.set(AgentActor(state: state), queues: definition.queues)
            // Back after a removal whose hand-back had not finished: count what the database says they hold.
            try await loadHoldings(of: definition.id)
        }
        await matchQueues(of: definition.id)
    }

    /// Deactivates an agent; their open and pending tickets return to their queues. False: unknown.
    public func removeAgent(_ agentID: String, actor: String) async throws -> Bool {
        await untilRebuilt()
        guard try await agentStore.deactivate(agentID, at: timers.now, actor: actor) else { return false }
        if let agent = roster.agent(agentID) {
            roster.remove(agentID)
            await handBack(of: agent, reason: "agent removed")
        }
        return true
    }

    /// The queues the configuration defines (agents may serve only these).
    public var configuredQueueNames: Set<String> { Set(configuration.queues.map(\.name)) }

    // MARK: Draining, pausing, and changes by hand (the control commands)

    /// A queue assigns nothing while it is paused or the daemon drains.
    private func isHeld(_ queue: String) -> Bool { isDraining || pausedQueues.contains(queue) }

    /// Stops (or resumes) new assignments to one agent; what they hold stays with them. Nil:
    /// unknown agent; else whether anything changed.
    public func setDraining(agent agentID: String, _ draining: Bool) async throws -> Bool? {
        await untilRebuilt()
        guard let changed = try await agentStore.setDraining(agentID, draining, at: timers.now), let agent = roster.agent(agentID) else { return nil }
        await agent.setDraining(draining)
        if !draining { await matchQueues(of: agentID) }
        return changed
    }

    /// Stops (or resumes) every new assignment; running work continues. Returns whether anything changed.
    public func setDraining(_ draining: Bool) async -> Bool {
        await untilRebuilt()
        guard draining != isDraining else { return false }
        isDraining = draining
        for (name, queue) in queues { await queue.setPaused(isHeld(name)) }
        logger.notice(draining ? "daemon draining: no new assignments" : "daemon drain ended: assigning again")
        return true
    }

    /// Pauses (or resumes) one queue; stored, so it stays paused across restarts. Nil: unknown
    /// queue; else whether anything changed.
    public func setPaused(queue name: String, _ paused: Bool, actor: String) async throws -> Bool? {
        await untilRebuilt()
        guard let queue = queues[name] else { return nil }
        guard paused != pausedQueues.contains(name) else { return false }
        try await store.setQueuePaused(name, paused, actor: actor, now: timers.now)
        if paused { pausedQueues.insert(name) } else { pausedQueues.remove(name) }
        await queue.setPaused(isHeld(name))
        return true
    }

    public var pausedQueueNames: Set<String> { pausedQueues }

    public enum ManualAssignOutcome: Sendable, Equatable {
        case assigned(previous: String?)
        case alreadyHeld
        case unknownAgent
        /// Resolved, unknown, or not routed yet (no queue to return to).
        case notAssignable(String)
    }

    /// A supervisor gives the ticket to an agent: out of its queue, or away from its agent (whose
    /// queues then match again). Capacity and skills are the supervisor's call, not checked.
    public func assign(_ ticketID: Int64, to agentID: String, actor: String) async throws -> ManualAssignOutcome {
        await untilRebuilt()
        guard let agent = roster.agent(agentID) else { return .unknownAgent }
        enum Step { case done(ManualAssignOutcome, RoutingStore.ManualAssignment?), putBack }
        let step: Step
        do {
            step = try await locks.withLocks([ticketID]) { () -> Step in
                guard let place = try await store.placement(ticketID) else { return .done(.notAssignable("the ticket is resolved"), nil) }
                guard let queueName = place.queue else { return .done(.notAssignable("the ticket is not routed yet"), nil) }
                if place.assignee == agentID { return .done(.alreadyHeld, nil) }
                // Out of the queue first, so no round proposes it meanwhile (a round holding it finds it
                // taken when it commits, and lets it go).
                let removed = place.assignee == nil ? await queues[queueName]?.remove(ticketID) ?? false : false
                guard let done = try await store.assign(ticketID, to: agentID, actor: actor, reason: "assigned by \(actor)", now: timers.now) else {
                    return removed ? .putBack : .done(.alreadyHeld, nil)
                }
                await agent.hold(ticketID, status: done.status)
                if let previous = done.previous { await roster.agent(previous)?.drop(ticketID) }
                return .done(.assigned(previous: done.previous), done)
            }
        } catch {
            await recover(reconciling: [ticketID])
            throw error
        }
        switch step {
        case .putBack:
            await enqueue(try await store.waiting([ticketID], stickySeconds: configuration.stickySeconds))
            return .alreadyHeld
        case .done(let outcome, let done):
            guard let done else { return outcome }
            if let previous = done.previous, roster.agent(previous) != nil { work.spawn { await self.matchQueues(of: previous) } }
            events?.publish(DaemonEvent(kind: .assigned, ticketID: ticketID, reference: nil, queue: done.queue, agent: agentID, at: timers.now,
                                        audience: [agentID] + (done.previous.map { [$0] } ?? []),
                                        details: ["agent": agentID, "queue": done.queue ?? "", "why": "assigned by \(actor)", "previous": done.previous ?? ""]))
            return outcome
        }
    }

    public enum TakeOutcome: Sendable, Equatable {
        case taken
        /// Someone holds it already (or it is resolved).
        case notWaiting
        /// The agent does not serve the ticket's queue.
        case notTheirQueue
        /// Not online, draining, or at capacity.
        case noRoom
    }

    /// An agent takes an unassigned ticket of a queue they serve, within their capacity: the
    /// capacity is reserved on the agent first (the same reservation routing makes), so a take and
    /// a routing round can never together push the agent past it.
    public func take(_ ticketID: Int64, agentID: String) async throws -> TakeOutcome {
        await untilRebuilt()
        guard let agent = roster.agent(agentID) else { return .notTheirQueue }
        enum Step { case done(TakeOutcome, queue: String?), putBack(TakeOutcome) }
        let step: Step
        do {
            step = try await locks.withLocks([ticketID]) { () -> Step in
                guard let place = try await store.placement(ticketID) else { return .done(.notWaiting, queue: nil) }
                // Taking again what one already holds (a retried request) is not an error.
                if place.assignee == agentID { return .done(.taken, queue: nil) }
                guard place.assignee == nil, let queueName = place.queue else { return .done(.notWaiting, queue: nil) }
                guard await agent.current.definition.queues.contains(queueName) else { return .done(.notTheirQueue, queue: nil) }
                // A round placing it right now decides (possibly for this very agent).
                guard let queue = queues[queueName], await queue.removeIfWaiting(ticketID) else { return .done(.notWaiting, queue: nil) }
                guard await agent.reserve(ticketID, requirements: []) else { return .putBack(.noRoom) }
                let done: RoutingStore.ManualAssignment?
                do {
                    done = try await store.assign(ticketID, to: agentID, actor: agentID, reason: "taken by \(agentID)", now: timers.now, onlyIfUnassigned: true)
                } catch {
                    await agent.release(ticketID)
                    throw error
                }
                guard let done else {
                    await agent.release(ticketID)
                    return .done(.notWaiting, queue: nil)
                }
                await agent.confirm(ticketID, status: done.status, at: timers.now)
                return .done(.taken, queue: queueName)
            }
        } catch {
            // Back into its queue from what is stored, and the agent's memory of it read again.
            await recover(reconciling: [ticketID])
            await enqueue((try? await store.waiting([ticketID], stickySeconds: configuration.stickySeconds)) ?? [])
            throw error
        }
        switch step {
        case .putBack(let outcome):
            await enqueue(try await store.waiting([ticketID], stickySeconds: configuration.stickySeconds))
            return outcome
        case .done(let outcome, let queueName):
            if let queueName {
                events?.publish(DaemonEvent(kind: .assigned, ticketID: ticketID, reference: nil, queue: queueName, agent: agentID, at: timers.now,
                                            audience: [agentID], details: ["agent": agentID, "queue": queueName, "why": "taken by \(agentID)"]))
            }
            return outcome
        }
    }

    /// Adds a tag by hand. False: it had it already (or the ticket is unknown).
    public func addTag(_ ticketID: Int64, _ tag: String, actor: String) async throws -> Bool {
        try await store.addTag(ticketID, tag, actor: actor, reason: "by hand", now: timers.now)
    }

    /// Takes a ticket from its agent back to its queue. False: it has no agent (or is resolved).
    public func unassign(_ ticketID: Int64, actor: String) async throws -> Bool {
        await untilRebuilt()
        let outcome: (waiting: [StoredWaitingTicket], assignee: String, queue: String?)?
        do {
            outcome = try await locks.withLocks([ticketID]) {
                guard let place = try await store.placement(ticketID), let assignee = place.assignee else { return nil }
                let waiting = try await store.unassign([ticketID], from: assignee, kind: .unassigned, reason: "unassigned by \(actor)", exclude: false,
                                                       stickySeconds: configuration.stickySeconds, now: timers.now, actor: actor)
                guard !waiting.isEmpty else { return nil }
                await roster.agent(assignee)?.drop(ticketID)
                return (waiting, assignee, place.queue)
            }
        } catch {
            await recover(reconciling: [ticketID])
            throw error
        }
        guard let outcome else { return false }
        events?.publish(DaemonEvent(kind: .unassigned, ticketID: ticketID, reference: nil, queue: outcome.queue, agent: outcome.assignee, at: timers.now,
                                    audience: [outcome.assignee], details: ["agent": outcome.assignee, "why": "unassigned by \(actor)"]))
        await enqueue(outcome.waiting)
        await matchQueues(of: outcome.assignee)
        return true
    }

    /// Sets a ticket's priority by hand; a waiting ticket takes its new place in the queue. False:
    /// unchanged (or resolved or unknown).
    public func setPriority(_ ticketID: Int64, to priority: WaitingOrder.Priority, actor: String) async throws -> Bool {
        await untilRebuilt()
        guard let change = try await store.setPriority(ticketID, to: priority, actor: actor, reason: "set by \(actor)", now: timers.now) else { return false }
        try await requeueAfterPriorityChange(ticketID, change)
        events?.publish(DaemonEvent(kind: .priorityChanged, ticketID: ticketID, reference: nil, queue: change.queue, agent: change.assignee, at: timers.now,
                                    audience: change.assignee.map { [$0] } ?? [], details: ["priority": priority.name, "previous": change.previous.name, "by": actor]))
        return true
    }

    /// A waiting ticket whose priority changed takes its new place in the queue.
    private func requeueAfterPriorityChange(_ ticketID: Int64, _ change: RoutingStore.PriorityChange) async throws {
        if change.assignee == nil, let name = change.queue, let queue = queues[name], await queue.removeIfWaiting(ticketID) {
            await enqueue(try await store.waiting([ticketID], stickySeconds: configuration.stickySeconds))
        }
    }

    // MARK: SLA escalations

    /// Raises the priority (the ticket's place in its queue follows), adds a tag, or moves the ticket
    /// to another queue: a ticket an agent holds is taken from them first, because the escalation
    /// says the promise needs someone else. Each change writes its event with the reason.
    public func escalate(_ ticketID: Int64, actions: [SLAPolicy.Action], reason: String) async {
        await untilRebuilt()
        for action in actions {
            do {
                switch action {
                case .notifySupervisors:
                    continue
                case .addTag(let tag):
                    _ = try await store.addTag(ticketID, tag, actor: "sla", reason: reason, now: timers.now)
                case .raisePriority:
                    guard let place = try await store.placement(ticketID), place.priority < .urgent,
                          let higher = WaitingOrder.Priority(rawValue: place.priority.rawValue + 1),
                          let change = try await store.setPriority(ticketID, to: higher, actor: "sla", reason: reason, now: timers.now) else { continue }
                    try await requeueAfterPriorityChange(ticketID, change)
                case .moveTo(let target):
                    try await escalationMove(ticketID, to: target, reason: reason)
                }
            } catch {
                logger.error("SLA escalation not applied", metadata: ["ticket": "\(ticketID)", "action": "\(action)", "error": "\(error)"])
            }
        }
    }

    /// Takes the ticket from its agent (or out of its queue) and moves it to `target`, under the
    /// ticket's lock; then queues it there.
    private func escalationMove(_ ticketID: Int64, to target: String, reason: String) async throws {
        enum Step { case nothing, moved(StoredWaitingTicket?, releasedAgent: String?) }
        let step: Step
        do {
            step = try await locks.withLocks([ticketID]) { () -> Step in
                guard let place = try await store.placement(ticketID), let from = place.queue, from != target else { return .nothing }
                if let assignee = place.assignee {
                    guard let agent = roster.agent(assignee) else { return .nothing }
                    let waiting = try await store.unassign([ticketID], from: assignee, kind: .unassigned, reason: reason, exclude: false,
                                                           stickySeconds: configuration.stickySeconds, now: timers.now)
                    guard !waiting.isEmpty else { return .nothing }
                    await agent.drop(ticketID)
                } else if let queue = queues[from] {
                    // Mid-round the queue may be reserving an agent for it: then the round decides.
                    guard await queue.removeIfWaiting(ticketID) else { return .nothing }
                }
                let moved = try await store.move(ticketID, from: from, to: target, reason: reason, actor: "sla",
                                                 stickySeconds: configuration.stickySeconds, now: timers.now)
                return .moved(moved, releasedAgent: place.assignee)
            }
        } catch {
            await recover(reconciling: [ticketID])
            await enqueue((try? await store.waiting([ticketID], stickySeconds: configuration.stickySeconds)) ?? [])
            throw error
        }
        guard case .moved(let moved, let releasedAgent) = step else { return }
        if let releasedAgent { work.spawn { await self.matchQueues(of: releasedAgent) } }
        if let moved {
            await enqueue([moved])
        } else {
            await enqueue(try await store.waiting([ticketID], stickySeconds: configuration.stickySeconds))
        }
    }

    // MARK: Recovery after the database failed

    /// Remembers work the database refused and starts (once) a loop that does it again with
    /// back-off until it succeeds: routing what is unrouted, and reading the agents' holdings of
    /// tickets whose change may or may not have been committed (a connection lost after COMMIT).
    private func recover(routing: Bool = false, reconciling tickets: [Int64] = []) async {
        recovery.pendingRouting = recovery.pendingRouting || routing
        recovery.toReconcile.formUnion(tickets)
        guard !recovery.stopped else { return }
        guard !recovery.running else { return }
        recovery.running = true
        Task { await self.recoveryLoop() }
    }

    private func recoveryLoop() async {
        var delay = Duration.milliseconds(200)
        while recovery.pendingRouting || !recovery.toReconcile.isEmpty || !recovery.removedAgents.isEmpty {
            let tickets = recovery.toReconcile
            let routing = recovery.pendingRouting
            let removed = recovery.removedAgents
            recovery.toReconcile = []
            recovery.pendingRouting = false
            recovery.removedAgents = [:]
            var unfinished = removed
            do {
                for (id, (agent, reason)) in removed.sorted(by: { $0.key < $1.key }) {
                    let held = try await store.assignments(of: id).map(\.ticketID)
                    try await requeueOrThrow(held, from: agent, kind: .unassigned, reason: reason, exclude: false)
                    unfinished.removeValue(forKey: id)
                }
                if !tickets.isEmpty { try await reconcile(tickets.sorted()) }
                if routing { try await route(nil) }
                delay = .milliseconds(200)
            } catch {
                recovery.removedAgents.merge(unfinished) { current, _ in current }
                recovery.toReconcile.formUnion(tickets)
                recovery.pendingRouting = recovery.pendingRouting || routing
                if Task.isCancelled || recovery.stopped { break }
                logger.warning("routing recovery waits for the database", metadata: ["error": "\(error)", "retry_in": "\(delay)",
                                                                                   "tickets": "\(recovery.toReconcile.count)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
        recovery.running = false
    }

    /// Makes the agents' memory of these tickets what the database holds, under the tickets' locks,
    /// and puts those that wait in the database back into their queues (a change may have committed
    /// its return to the queue and failed before the queue heard of it). Reservations (a round
    /// committing) are left alone: that round settles them under the lock.
    private func reconcile(_ tickets: [Int64]) async throws {
        try await locks.withLocks(tickets) {
            let holders = try await store.holders(tickets)
            for agent in roster.all {
                for ticket in tickets {
                    if let held = holders[ticket], held.agentID == agent.id, held.status != .resolved {
                        await agent.hold(ticket, status: held.status)
                    } else {
                        await agent.forget(ticket)
                    }
                }
            }
        }
        await enqueue(try await store.waiting(tickets, stickySeconds: configuration.stickySeconds))
        logger.info("agents' tickets read again from the database", metadata: ["tickets": "\(tickets.count)"])
    }

    /// Stops the recovery loop (shutdown).
    public func stopRecovery() {
        recovery.stopped = true
    }

    // MARK: Configuration and inspection

    /// Applies a reloaded routing section: rules at once, queue settings at the next round, agents
    /// synchronised with the database. A queue added is created; a queue removed keeps its actor
    /// until its tickets are gone (they can no longer be routed there).
    public func reconfigure(_ new: RoutingConfiguration) async throws {
        await untilRebuilt()
        configuration = new
        try await agentStore.syncConfigured(new.agents, presence: new.initialPresence, now: timers.now)
        let active = try await agentStore.loadActive()
        let activeIDs = Set(active.map(\.definition.id))
        for agent in roster.all where !activeIDs.contains(agent.id) {
            // Removed from the file: deactivated in the database; their tickets go back to the queues.
            roster.remove(agent.id)
            await handBack(of: agent, reason: "agent deactivated")
        }
        for stored in active {
            let agent: AgentActor
            if let existing = roster.agent(stored.definition.id) {
                await existing.update(stored.definition, pendingCountsAgainstCapacity: new.pendingCountsAgainstCapacity)
                agent = existing
            } else {
                agent = AgentActor(state: AgentState(definition: stored.definition, presence: stored.presence, presenceSince: stored.presenceSince,
                                                     lastAssignedAt: stored.lastAssignedAt, pendingCountsAgainstCapacity: new.pendingCountsAgainstCapacity,
                                                     draining: stored.draining))
                roster.set(agent, queues: stored.definition.queues)
                try await loadHoldings(of: stored.definition.id)
                continue
            }
            roster.set(agent, queues: stored.definition.queues)
        }
        for definition in new.queues {
            if let queue = queues[definition.name] {
                await queue.reconfigure(definition)
            } else {
                let queue = makeQueue(definition)
                queues[definition.name] = queue
                await queue.setPaused(isHeld(definition.name))
                await queue.match()
            }
        }
    }

    /// Waits until every round and every follow-up started so far has finished.
    public func settle() async {
        await work.idle()
    }

    public func queue(named name: String) -> QueueActor? { queues[name] }

    public var queueNames: [String] { queues.keys.sorted() }

    /// Every queue actor, by name in order.
    public var queuesByName: [(String, QueueActor)] { queues.sorted { $0.key < $1.key } }
}

/// Work routing owes the database once it answers again (see `TicketRouter.recover`).
struct RoutingRecovery {
    /// Some committed ticket may not have been routed: route every unrouted one.
    var pendingRouting = false
    /// Tickets whose holder in the agents' memory must be read again from the database.
    var toReconcile: Set<Int64> = []
    /// Removed agents whose tickets are not all back in their queues yet, with the reason to record.
    var removedAgents: [String: (AgentActor, String)] = [:]
    var running = false
    var stopped = false
}

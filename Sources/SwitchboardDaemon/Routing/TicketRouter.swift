import Foundation
import Logging
import Postgres
import SwitchboardCore
import SwitchboardStore

/// Routing's front door: owns the agent and queue actors and `RoutingCoordinator`, the value that
/// decides everything outside a queue's round. Each event (a new ticket, presence, a resolve, a
/// command, a timer) is read from where it lives, fed to the coordinator, and what it returns is
/// performed in one `switch` (`perform`). PostgreSQL holds the truth; the actors are rebuilt from it.
///
/// The work is split by concern: `+Start` (rebuild, reconfigure), `+Ingest` (new tickets),
/// `+Agents` (presence, capacity, drain, pause, agents), `+Tickets` (status and changes by hand),
/// `+Escalation`, `+Returns` (tickets going back to queues), `+Recovery`.
public actor TicketRouter: TicketActivitySink, SLAEscalator {
    var coordinator: RoutingCoordinator
    let store: RoutingStore
    /// Assignments from every queue, committed together when they arrive together.
    let ledger: GroupCommitLedger
    let agentStore: AgentStore
    public nonisolated let roster = AgentRoster()
    /// Serializes each ticket's database change with telling the agents' actors (see `TicketLocks`).
    public nonisolated let locks = TicketLocks()
    var queues: [String: QueueActor] = [:]
    let timers: any RoutingTimers
    /// Follow-up work started without waiting; `settle()` waits for it.
    public nonisolated let work = WorkTracker()
    let logger: Logger
    let observer: (any RoutingObserver)?
    /// Where changes are announced to followers (the control socket's `Watch`, the API's stream).
    let events: EventStream?
    var rebuilt = false
    /// Told of starts, customer messages and status changes (the SLA engine).
    var sla: (any SLAActivitySink)?
    /// Greetings, triage menus, surveys (set once at start, before `rebuild`).
    var automation: AutomationEngine?
    var rebuildWaiters: [CheckedContinuation<Void, Never>] = []

    /// Waiting tickets read per chunk at start (see `loadStoredWaiting`).
    let rebuildChunkSize: Int

    /// - Parameter rebuildChunkSize: waiting tickets read from the database per chunk at start (a
    ///   test reads a few tickets in many chunks).
    public init(configuration: RoutingConfiguration, pool: PostgresPool, timers: any RoutingTimers, logger: Logger, observer: (any RoutingObserver)? = nil,
                events: EventStream? = nil, rebuildChunkSize: Int = 10_000) {
        self.rebuildChunkSize = rebuildChunkSize
        self.events = events
        self.coordinator = RoutingCoordinator(configuration: configuration)
        self.store = RoutingStore(pool: pool)
        self.ledger = GroupCommitLedger(store)
        self.agentStore = AgentStore(pool: pool)
        self.timers = timers
        self.logger = logger
        self.observer = observer
    }

    var configuration: RoutingConfiguration { coordinator.configuration }

    /// Connects the SLA engine (set once at start, before `rebuild`).
    public func attach(sla: any SLAActivitySink) {
        self.sla = sla
    }

    /// Connects automation (set once at start, before `rebuild`).
    public func attach(automation: AutomationEngine) {
        self.automation = automation
    }

    // MARK: Performing the coordinator's actions

    /// Does what the coordinator decided, in order.
    func perform(_ actions: [RoutingCoordinator.Action]) async {
        for action in actions {
            switch action {
            case .schedule(let timer, let at):
                timers.schedule(.routing(timer), at: at) { [weak self] in await self?.timerFired(timer) }
            case .cancel(let timer):
                timers.schedule(.routing(timer), at: nil) {}
            case .matchQueuesOf(let agentID):
                await matchQueues(of: agentID)
            case .announcePresence(let agentID, let presence, let actor):
                events?.publish(DaemonEvent(kind: .presence, ticketID: nil, reference: nil, agent: agentID, at: timers.now, audience: [agentID],
                                            details: ["presence": presence.rawValue, "by": actor]))
            case .collectTicketsOfAbsentAgent(let agentID):
                await collectTicketsOfAbsentAgent(agentID)
            case .checkAcceptance(let ticketID, let agentID, let assignedAt):
                await checkAcceptance(ticketID, agentID: agentID, assignedAt: assignedAt)
            case .returnToQueues(let tickets):
                await returnToQueues(tickets)
            case .handBack(let agentID, let reason):
                await handBack(agentID, reason: reason)
            case .holdQueue(let name, let held):
                await queues[name]?.setPaused(held)
            case .recover(let owed):
                Task { await self.recover(owed) }
            case .agentHolds(let agentID, let ticketID, let status):
                await roster.agent(agentID)?.hold(ticketID, status: status)
            case .agentDrops(let agentID, let ticketID):
                await roster.agent(agentID)?.drop(ticketID)
            case .queueForgets(let queue, let ticketID):
                await queues[queue]?.remove(ticketID)
            }
        }
    }

    /// Performs what must happen with a ticket's lock held: memory changes only, which never wait
    /// for a round (a round's commit takes ticket locks).
    func performUnderLock(_ actions: [RoutingCoordinator.Action]) async {
        for action in actions { precondition(action.isMemoryChange, "only memory changes are performed under a ticket's lock, not \(action)") }
        await perform(actions)
    }

    private func timerFired(_ timer: RoutingCoordinator.Timer) async {
        await perform(coordinator.timerFired(timer, now: timers.now))
    }

    // MARK: Queues

    func makeQueue(_ definition: QueueDefinition) -> QueueActor {
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
                Task { await self.needRecovery(.init(reconcile: Set(tickets))) }
            },
            locks: locks
        )
    }

    /// Puts stored waiting tickets into their queues' actors and waits for the matching rounds.
    func enqueue(_ tickets: [StoredWaitingTicket]) async {
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

    /// Queues again, from what is stored, tickets that wait in the database (after a change that
    /// may have taken them out of their queue's actor).
    func enqueueStored(_ ticketIDs: [Int64]?) async throws {
        await enqueue(try await store.waiting(ticketIDs, stickySeconds: configuration.stickySeconds))
    }

    func matchQueue(_ name: String) async {
        await queues[name]?.match()
    }

    func matchQueues(of agentID: String) async {
        for queue in roster.queues(of: agentID).sorted() { await matchQueue(queue) }
    }

    func untilRebuilt() async {
        if rebuilt { return }
        await withCheckedContinuation { rebuildWaiters.append($0) }
    }

    // MARK: Inspection

    /// Waits until every round and every follow-up started so far has finished.
    public func settle() async {
        await work.idle()
    }

    public func queue(named name: String) -> QueueActor? { queues[name] }

    public var queueNames: [String] { queues.keys.sorted() }

    /// Every queue actor, by name in order.
    public var queuesByName: [(String, QueueActor)] { queues.sorted { $0.key < $1.key } }

    /// The queues the configuration defines (agents may serve only these).
    public var configuredQueueNames: Set<String> { Set(configuration.queues.map(\.name)) }

    public var pausedQueueNames: Set<String> { coordinator.pausedQueues }

    public var isDraining: Bool { coordinator.isDraining }
}

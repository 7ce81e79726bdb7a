import Foundation
import Logging
import Synchronization
import SwitchboardCore
import SwitchboardStore

/// Told of each warning or breach acted on, with when it was due and when its timer ran: for the
/// benchmark's lateness figures. Must return quickly.
public protocol SLAFiringObserver: Sendable {
    func fired(due: Date, handledAt: Date)
}

/// The SLA engine: a timer actor per ticket with a running clock, one scheduler for all of them,
/// one ordered writer. After a restart a ticket's actor is made when it first needs one (see
/// `SLADormantTimers`); until then the rebuild's packed record of its clocks stands for it. Ticket
/// activity comes in through `SLAActivitySink`; warnings and breaches are stored (with their
/// events) before they are acted on: supervisors told through the event stream and the log, routing
/// changes through the escalator (the routing actors).
public final class SLAEngine: SLAActivitySink {
    struct State {
        /// The configured policies, in order, with their stored version ids.
        var policies: [SLAPolicyVersion] = []
        /// Every policy version a loaded ticket runs under.
        var versions: [Int64: SLAPolicyVersion] = [:]
        var timers: [Int64: SLATimer] = [:]
        /// Tickets the rebuild loaded whose actor is not made yet.
        var dormant = SLADormantTimers()
        var rebuilt = false
        var rebuildWaiters: [CheckedContinuation<Void, Never>] = []
        /// The policies of the configuration (registered at rebuild).
        var configured: [SLAPolicy]
        /// Alerts an earlier daemon stored and did not act on: read by the first rebuild attempt
        /// before anything fires, acted on by `actOnAlertsLeftByTheLastStop` (then empty).
        var leftByTheLastStop: [SLAAlertToActOn]?
    }

    let state: Mutex<State>
    let store: SLAStore?
    private let writer: SLAWriter
    let clock: any RoutingTimers
    private let events: EventStream
    private let escalator: Mutex<(any SLAEscalator)?> = Mutex(nil)
    private let observer: (any SLAFiringObserver)?
    let logger: Logger
    /// Escalations started after a step is stored; `settle()` waits for them.
    public let work: WorkTracker
    /// Acting on alerts reads and writes the database (the supervisors to tell, the escalation): a
    /// few at a time, however many fell due at once.
    private let acting: BoundedWork
    private let schedulerBox = Mutex<SLAScheduler?>(nil)
    private let metrics: SwitchboardMetrics?

    /// - Parameters:
    ///   - store: the database (nil in the benchmark: no policy registration, start facts or supervisors).
    ///   - ledger: where steps are written (the store itself in the daemon).
    ///   - clock: time and the scheduler's one wake-up timer (a virtual clock in tests).
    public init(policies: [SLAPolicy], store: SLAStore?, ledger: any SLALedger, clock: any RoutingTimers, events: EventStream,
                observer: (any SLAFiringObserver)? = nil, metrics: SwitchboardMetrics? = nil, logger: Logger) {
        self.metrics = metrics
        self.state = Mutex(State(configured: policies))
        self.store = store
        self.writer = SLAWriter(ledger: ledger, logger: logger)
        self.clock = clock
        self.events = events
        self.observer = observer
        self.logger = logger
        let work = WorkTracker()
        self.work = work
        self.acting = BoundedWork(limit: 4, tracker: work)
        let scheduler = SLAScheduler(timers: clock) { [weak self] entries in await self?.fire(entries) }
        schedulerBox.withLock { $0 = scheduler }
    }

    var scheduler: SLAScheduler {
        guard let scheduler = schedulerBox.withLock({ $0 }) else { preconditionFailure("set in init") }
        return scheduler
    }

    /// The routing side that carries out priority, queue and tag escalations.
    public func attach(escalator: any SLAEscalator) {
        self.escalator.withLock { $0 = escalator }
    }

    // MARK: Start and configuration

    /// Registers the configured policies, loads every open ticket's clocks, and fires at once what
    /// fell due while the daemon was stopped (marked late).
    public func rebuild() async throws {
        // Before anything of this start fires (a retry keeps the first read: alerts stored since
        // are this daemon's own, acted on as they come).
        if let store, state.withLock({ $0.leftByTheLastStop == nil }) {
            let found = try await store.toActOn()
            state.withLock { $0.leftByTheLastStop = found }
        }
        let configured = state.withLock { $0.configured }
        try await register(configured)
        if let store { try await restoreStored(from: store) }
        state.withLock { $0.rebuilt = true }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state.rebuildWaiters = [] }
            return state.rebuildWaiters
        }
        waiters.forEach { $0.resume() }
        await scheduler.wake()
        // Only the writes: what fell due while stopped may escalate, and an escalation waits for
        // routing's rebuild, which comes after this one (waiting for it here never ended).
        await writer.flushed()
        logger.info("SLA timers rebuilt", metadata: ["tickets": "\(timerCount)", "policies": "\(configured.count)"])
    }

    /// The tickets routed just before the last stop whose SLA start was never stored, for
    /// `startUnstarted`. The daemon's start reads them while both rebuilds run, since the read needs
    /// nothing they build (an anti-join over every open ticket, 1.5 s at 1,000,000, was the last step
    /// before `/readyz`). A ticket routed after the read starts its SLA as every routed ticket does.
    public func readUnstarted() async throws -> [Int64] {
        guard let store else { return [] }
        // Starts already made are stored first, so only the ones never made are read as unstarted.
        await writer.flushed()
        return try await store.unstarted()
    }

    /// Starts the SLAs `readUnstarted` found, from when they began: what fell due meanwhile fires at
    /// once, marked late. After routing's rebuild too, not inside this engine's: a breach's
    /// escalation waits for routing to be rebuilt. One that has started since the read, stored or in
    /// memory, is left as it is (`ticketsStarted` starts a ticket once).
    public func startUnstarted(_ unstarted: [Int64]) async {
        guard !unstarted.isEmpty else { return }
        logger.notice("SLAs started for tickets routed just before the last stop", metadata: ["tickets": "\(unstarted.count)"])
        await ticketsStarted(unstarted, reopened: [])
    }

    /// Acts on the warnings and breaches the last daemon stored and did not act on (stopped, killed
    /// or taken over in between), marked late, a few at a time as every alert is; `settle()` waits
    /// for them. After routing's rebuild, as `startUnstarted`: an escalation waits for routing.
    public func actOnAlertsLeftByTheLastStop() async {
        let left = state.withLock { state -> [SLAAlertToActOn] in
            defer { state.leftByTheLastStop = [] }
            return state.leftByTheLastStop ?? []
        }
        guard !left.isEmpty else { return }
        logger.notice("acting on SLA alerts stored before the last stop and not acted on", metadata: ["alerts": "\(left.count)"])
        let missing = Set(left.map(\.policyID)).filter { id in state.withLock { $0.versions[id] == nil } }
        var fetched: [Int64: SLAPolicy] = [:]
        if !missing.isEmpty, let store {
            do {
                fetched = try await store.policies(Array(missing))
            } catch {
                logger.error("SLA alerts left by the last stop not acted on; the next start tries again", metadata: ["alerts": "\(left.count)", "error": "\(error)"])
                return
            }
        }
        let now = clock.now
        for item in left {
            guard let policy = state.withLock({ $0.versions[item.policyID]?.policy }) ?? fetched[item.policyID] else {
                logger.error("an SLA alert's policy version is missing; not acted on", metadata: ["ticket": "\(item.alert.ticketID)", "policy_id": "\(item.policyID)"])
                continue
            }
            var late = item.alert
            late.late = max(late.late, now.timeIntervalSince(late.due))
            let alert = late
            work.spawn {
                self.acting.spawn { await self.act(on: alert, policy: policy, at: now) }
            }
        }
    }

    /// New policies apply to tickets that start from now on; running tickets keep theirs.
    public func reconfigure(_ policies: [SLAPolicy]) async throws {
        try await register(policies)
        state.withLock { $0.configured = policies }
    }

    private func register(_ policies: [SLAPolicy]) async throws {
        let ids: [Int64]
        if let store {
            ids = try await store.register(policies)
        } else {
            ids = policies.indices.map { Int64($0 + 1) }
        }
        state.withLock { state in
            state.policies = zip(policies, ids).map { policy, id in state.versions[id] ?? SLAPolicyVersion(id: id, policy: policy) }
            for version in state.policies { state.versions[version.id] = version }
        }
    }

    /// Timers for stored SLAs (policies looked up, unknown versions loaded from the store).
    public func restore(_ stored: [StoredSLA], policies known: [Int64: SLAPolicy] = [:]) async throws {
        let missing = Set(stored.map(\.policyID)).filter { id in known[id] == nil && state.withLock { $0.versions[id] == nil } }
        var fetched: [Int64: SLAPolicy] = [:]
        if !missing.isEmpty, let store { fetched = try await store.policies(Array(missing)) }
        var arms: [(Int64, Date)] = []
        state.withLock { state in
            for (id, policy) in known.merging(fetched, uniquingKeysWith: { a, _ in a }) where state.versions[id] == nil {
                state.versions[id] = SLAPolicyVersion(id: id, policy: policy)
            }
        }
        for sla in stored {
            guard let version = state.withLock({ $0.versions[sla.policyID] }) else {
                logger.error("a ticket's SLA policy version is missing; its clocks are not watched", metadata: ["ticket": "\(sla.ticketID)", "policy_id": "\(sla.policyID)"])
                continue
            }
            let timer = SLATimer(ticketID: sla.ticketID, version: version,
                                 startedAt: sla.snapshot.clocks.map(\.startedAt).min() ?? clock.now, snapshot: sla.snapshot)
            state.withLock { state in
                state.timers[sla.ticketID] = timer
                // What was read now replaces what the rebuild read.
                _ = state.dormant.take(sla.ticketID)
            }
            if let at = await timer.armAfterRestore() { arms.append((sla.ticketID, at)) }
        }
        for (ticketID, at) in arms { scheduler.schedule(ticketID, at: at) }
    }

    private func untilRebuilt() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.rebuilt { return true }
                state.rebuildWaiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    // MARK: Ticket activity

    public func ticketsStarted(_ ticketIDs: [Int64], reopened: Set<Int64>) async {
        guard !ticketIDs.isEmpty, let store else { return }
        await untilRebuilt()
        do {
            let now = clock.now
            for facts in try await store.startFacts(ticketIDs, reopened: reopened) {
                let at = min(facts.startedAt, now)
                if facts.policyID != nil {
                    // A reopened ticket keeps the policy it started under; its clocks start again.
                    guard reopened.contains(facts.ticketID), let timer = try await timer(facts.ticketID, load: true) else { continue }
                    await step(timer, .reopened, at: at)
                    continue
                }
                let choice = state.withLock { state in
                    state.policies.first { $0.policy.conditions.matches(queue: facts.queue, priority: facts.priority, tags: facts.tags, businessNumber: facts.businessNumber) }
                }
                guard let choice else { continue }
                // Once: a ticket whose start is in memory but not yet stored (live routing racing
                // `startUnstarted` at a takeover) keeps the timer it has. Two timers for one clock
                // would each store the breach and act on it.
                let timer = state.withLock { state -> SLATimer? in
                    guard state.timers[facts.ticketID] == nil, state.dormant.peek(facts.ticketID) == nil else { return nil }
                    let timer = SLATimer(ticketID: facts.ticketID, version: choice, startedAt: at)
                    state.timers[facts.ticketID] = timer
                    return timer
                }
                guard let timer else { continue }
                await step(timer, .started, at: at)
            }
        } catch {
            logger.error("SLA not started for new tickets", metadata: ["tickets": "\(ticketIDs.count)", "error": "\(error)"])
        }
    }

    public func customerWrote(_ ticketIDs: [Int64]) async {
        await untilRebuilt()
        for id in ticketIDs {
            guard let timer = existingTimer(id) else { continue }
            await step(timer, .customerMessage, at: clock.now)
        }
    }

    public func agentReplied(_ ticketID: Int64) async {
        await untilRebuilt()
        guard let timer = existingTimer(ticketID) else { return }
        await step(timer, .agentReply, at: clock.now)
    }

    public func statusChanged(_ ticketID: Int64, from: TicketStatus, to: TicketStatus) async {
        await untilRebuilt()
        guard let event = SLAStateMachine.event(statusChangedFrom: from, to: to) else { return }
        do {
            guard let timer = try await timer(ticketID, load: event == .reopened) else { return }
            await step(timer, event, at: clock.now)
        } catch {
            logger.error("SLA clocks not updated for a status change", metadata: ["ticket": "\(ticketID)", "error": "\(error)"])
        }
    }

    /// The ticket's timer; a resolved ticket's is loaded from the store when asked (it reopens).
    private func timer(_ ticketID: Int64, load: Bool) async throws -> SLATimer? {
        if let timer = existingTimer(ticketID) { return timer }
        guard load, let store else { return nil }
        try await restore(try await store.load([ticketID]))
        return state.withLock { $0.timers[ticketID] }
    }

    /// The ticket's timer actor: the one in memory, or one made now from what the rebuild read
    /// (its next deadline is already with the scheduler).
    private func existingTimer(_ ticketID: Int64) -> SLATimer? {
        state.withLock { state in
            if let timer = state.timers[ticketID] { return timer }
            guard let stored = state.dormant.take(ticketID) else { return nil }
            let timer = SLATimer(ticketID: ticketID, version: stored.version, startedAt: stored.startedAt, snapshot: stored.snapshot, scheduled: true)
            state.timers[ticketID] = timer
            return timer
        }
    }

    // MARK: Steps

    private func fire(_ entries: [SLAScheduler.Entry]) async {
        let timers = entries.map { existingTimer($0.ticketID) }
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for (entry, timer) in zip(entries, timers) {
                guard let timer else { continue }
                if running >= 64 {
                    await group.next()
                    running -= 1
                }
                running += 1
                group.addTask {
                    let now = self.clock.now
                    let step = await timer.fired(entry: entry.deadline, at: now, writer: self.writer)
                    if !step.alerts.isEmpty { self.observer?.fired(due: entry.deadline, handledAt: self.clock.now) }
                    await self.performed(step, timer: timer, at: now)
                }
            }
        }
    }

    private func step(_ timer: SLATimer, _ event: SLAStateMachine.Event, at now: Date) async {
        let step = await timer.handle(event, at: now, writer: writer)
        await performed(step, timer: timer, at: now)
    }

    /// After a step: arm the scheduler, forget a finished timer, and act on alerts once stored.
    private func performed(_ step: SLATimer.Step, timer: SLATimer, at now: Date) async {
        if let arm = step.arm { scheduler.schedule(timer.ticketID, at: arm) }
        if step.finished {
            state.withLock { state in
                if state.timers[timer.ticketID] === timer { state.timers[timer.ticketID] = nil }
            }
        }
        guard let sequence = step.sequence, !step.alerts.isEmpty else { return }
        work.spawn {
            await self.writer.written(through: sequence)
            self.acting.spawn {
                for alert in step.alerts { await self.act(on: alert, policy: timer.policy, at: now) }
            }
        }
    }

    /// Tells the supervisors and escalates; then forgets the stored alert, unless an escalation
    /// could not be applied (the next start acts on it again).
    private func act(on alert: SLAAlert, policy: SLAPolicy, at now: Date) async {
        let kind: DaemonEvent.Kind, actions: [SLAPolicy.Action]
        switch alert.kind {
        case .warning: (kind, actions) = (.slaWarning, policy.onWarning)
        case .breach: (kind, actions) = (.slaBreach, policy.onBreach)
        }
        let what = alert.kind == .warning ? "warning" : "breach"
        let ticketID = alert.ticketID
        metrics?.slaAlert(alert.kind == .warning ? .warning : .breach, clock: alert.clock.rawValue)
        var audience: [String] = []
        var reference: String?
        var queue: String?, assignee: String?
        if let store {
            do {
                if let found = try await store.audience(of: ticketID) {
                    reference = found.reference
                    queue = found.queue
                    assignee = found.assignee
                    if actions.contains(.notifySupervisors) { audience = found.supervisors }
                }
            } catch {
                logger.error("could not find the supervisors to tell", metadata: ["ticket": "\(ticketID)", "error": "\(error)"])
            }
        }
        let details = ["policy": policy.name, "clock": alert.clock.rawValue, "due_at": SLAEventData.timestamp(alert.due), "late_seconds": "\(alert.late)"]
        events.publish(DaemonEvent(kind: kind, ticketID: ticketID, reference: reference, queue: queue, agent: assignee, at: now, audience: audience, details: details))
        var metadata: Logger.Metadata = ["ticket": "\(reference ?? "#\(ticketID)")", "policy": "\(policy.name)", "clock": "\(alert.clock.rawValue)", "due_at": "\(details["due_at"] ?? "")"]
        if alert.late > 0 { metadata["late_seconds"] = "\(alert.late)" }
        if !audience.isEmpty { metadata["supervisors"] = "\(audience.joined(separator: ","))" }
        if kind == .slaBreach { logger.warning("SLA \(what)", metadata: metadata) } else { logger.notice("SLA \(what)", metadata: metadata) }
        let routingActions = actions.filter { $0 != .notifySupervisors }
        var escalated = true
        if !routingActions.isEmpty, let escalator = escalator.withLock({ $0 }) {
            escalated = await escalator.escalate(ticketID, actions: routingActions, reason: "SLA \(what): \(alert.clock.rawValue) (policy \(policy.name))")
        }
        guard escalated, let store else { return }
        do {
            try await store.acted(alert)
        } catch {
            logger.error("an SLA alert acted on is still stored; the next start acts on it again", metadata: ["ticket": "\(ticketID)", "error": "\(error)"])
        }
    }

    // MARK: Inspection

    /// Waits until every step so far is stored and every escalation started so far is done.
    public func settle() async {
        await writer.flushed()
        await work.idle()
    }

    /// Stops writing (graceful shutdown); what was not written is recomputed at the next start.
    public func stop() {
        writer.stop()
    }

    /// Tickets with SLA clocks in memory: timer actors, and what the rebuild read for the others.
    public var timerCount: Int { state.withLock { $0.timers.count + $0.dormant.count } }
    public var scheduledEntries: Int { scheduler.count }

    /// A ticket's clocks as they stand in memory (nil: no running SLA).
    public func clocks(of ticketID: Int64) async -> SLAStateMachine? {
        let (timer, stored) = state.withLock { state in (state.timers[ticketID], state.timers[ticketID] == nil ? state.dormant.peek(ticketID) : nil) }
        if let timer { return await timer.current }
        return stored.map { SLAStateMachine(targets: $0.version.policy.targets, snapshot: $0.snapshot) }
    }
}

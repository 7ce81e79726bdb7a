import Foundation

/// One ticket's SLA clocks as a value: ticket events in, actions out. First response runs from the
/// start (or a reopen) to the first agent reply; next response from each customer message that
/// follows an agent reply to the next agent reply; resolution from the start to resolved. Every clock
/// pauses while the ticket is pending and resumes when the customer writes; all count business time
/// only. The owner (the ticket's SLA timer actor) schedules the one timer `nextDeadline` names and
/// feeds `timerFired` when it goes off.
public struct SLAStateMachine: Sendable, Equatable {
    public enum Event: Sendable, Equatable {
        case started
        case customerMessage
        /// A reply by an agent to the customer (not an internal note, not an automatic message).
        case agentReply
        case pending
        /// Set open again by an agent while pending: the clocks run again (no new promise starts).
        case resumed
        case reopened
        case resolved
        case timerFired
    }

    /// How a clock ended.
    public enum Outcome: String, Sendable, Equatable {
        case met, breached
        /// The ticket was resolved (or reopened) before the clock could be met, e.g. no reply needed.
        case cancelled
    }

    public struct Record: Sendable, Equatable {
        public var clock: SLAClockKind
        public var outcome: Outcome
        public var target: TimeInterval
        public var startedAt: Date
        public var deadline: Date
        public var endedAt: Date
        /// Business seconds the clock ran (pauses excluded).
        public var elapsedBusiness: TimeInterval
        public var elapsedWall: TimeInterval
    }

    public enum Action: Sendable, Equatable {
        /// The warning threshold passed; `late` is how long after it this was noticed.
        case warn(SLAClockKind, deadline: Date, late: TimeInterval)
        /// The target passed; the clock keeps running until met, and is recorded as breached then.
        case breach(SLAClockKind, deadline: Date, late: TimeInterval)
        /// A clock ended: store it.
        case record(Record)
    }

    /// One running (or paused) clock; also its stored form (`sla_clocks`).
    public struct Clock: Sendable, Equatable, Codable {
        public var kind: SLAClockKind
        public var target: TimeInterval
        public var startedAt: Date
        /// Business seconds accumulated before `runningSince` (across pauses).
        public var accumulated: TimeInterval = 0
        /// Nil while paused.
        public var runningSince: Date?
        public var warned = false
        public var breached = false

        public init(kind: SLAClockKind, target: TimeInterval, startedAt: Date, accumulated: TimeInterval = 0, runningSince: Date?, warned: Bool = false, breached: Bool = false) {
            self.kind = kind
            self.target = target
            self.startedAt = startedAt
            self.accumulated = accumulated
            self.runningSince = runningSince
            self.warned = warned
            self.breached = breached
        }
    }

    /// Everything the machine remembers, for storage and for the rebuild after a restart.
    public struct Snapshot: Sendable, Equatable {
        public var clocks: [Clock]
        public var awaitingCustomer: Bool
        public var pending: Bool

        public init(clocks: [Clock], awaitingCustomer: Bool, pending: Bool) {
            self.clocks = clocks
            self.awaitingCustomer = awaitingCustomer
            self.pending = pending
        }
    }

    public let targets: SLATargets
    /// At most one clock of each kind, stored inline: a million tickets carry no dictionaries.
    private var clockSlots: (Clock?, Clock?, Clock?) = (nil, nil, nil)
    /// An agent has replied, so the next customer message starts the next-response clock.
    private var awaitingCustomer = false
    private var pending = false

    public init(targets: SLATargets) {
        self.targets = targets
    }

    /// The machine as it was stored.
    public init(targets: SLATargets, snapshot: Snapshot) {
        self.targets = targets
        awaitingCustomer = snapshot.awaitingCustomer
        pending = snapshot.pending
        for clock in snapshot.clocks { self[clock.kind] = clock }
    }

    public var snapshot: Snapshot {
        Snapshot(clocks: SLAClockKind.allCases.compactMap { self[$0] }, awaitingCustomer: awaitingCustomer, pending: pending)
    }

    public var isPending: Bool { pending }

    /// The clocks still running or paused.
    public var runningClocks: [Clock] { SLAClockKind.allCases.compactMap { self[$0] } }

    private subscript(kind: SLAClockKind) -> Clock? {
        get {
            switch kind {
            case .firstResponse: return clockSlots.0
            case .nextResponse: return clockSlots.1
            case .resolution: return clockSlots.2
            }
        }
        set {
            switch kind {
            case .firstResponse: clockSlots.0 = newValue
            case .nextResponse: clockSlots.1 = newValue
            case .resolution: clockSlots.2 = newValue
            }
        }
    }

    public static func == (a: SLAStateMachine, b: SLAStateMachine) -> Bool {
        a.targets == b.targets && a.snapshot == b.snapshot
    }

    /// Lateness below this is not reported as late (the scheduler's own jitter).
    public static let lateTolerance: TimeInterval = 1

    /// The clock event a change of ticket status is, if any: pending stops the clocks, resolved
    /// ends them, open again resumes them (from pending) or starts them again (from resolved).
    public static func event(statusChangedFrom from: TicketStatus, to: TicketStatus) -> Event? {
        switch (from, to) {
        case (_, .pending): .pending
        case (_, .resolved): .resolved
        case (.pending, .open): .resumed
        case (.resolved, .open): .reopened
        case (.open, .open): nil
        }
    }

    public mutating func handle(_ event: Event, at now: Date) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .started, .reopened:
            for kind in [SLAClockKind.firstResponse, .nextResponse, .resolution] { actions += end(kind, at: now, cancelled: true) }
            pending = false
            awaitingCustomer = false
            start(.firstResponse, at: now)
            start(.resolution, at: now)
        case .customerMessage:
            if pending {
                pending = false
                for kind in SLAClockKind.allCases { resume(kind, at: now) }
            }
            if awaitingCustomer && self[.nextResponse] == nil {
                start(.nextResponse, at: now)
            }
        case .agentReply:
            for kind in [SLAClockKind.firstResponse, .nextResponse] { actions += end(kind, at: now, cancelled: false) }
            awaitingCustomer = true
        case .pending:
            pending = true
            for kind in SLAClockKind.allCases { pause(kind, at: now) }
        case .resumed:
            if pending {
                pending = false
                for kind in SLAClockKind.allCases { resume(kind, at: now) }
            }
        case .resolved:
            actions += end(.resolution, at: now, cancelled: false)
            for kind in [SLAClockKind.firstResponse, .nextResponse] { actions += end(kind, at: now, cancelled: true) }
            awaitingCustomer = false
            pending = false
        case .timerFired:
            break
        }
        actions += due(at: now)
        return actions
    }

    /// When the next warning or breach falls due (nil: nothing running or all already fired).
    public var nextDeadline: Date? {
        SLAClockKind.allCases.compactMap { kind -> Date? in
            guard let clock = self[kind], clock.runningSince != nil else { return nil }
            if !clock.warned, targets.warningFraction < 1 { return moment(kind, fraction: targets.warningFraction) }
            if !clock.breached { return moment(kind, fraction: 1) }
            return nil
        }.min()
    }

    /// The business-time deadline of a running or paused clock, as things stand (a paused clock's
    /// deadline moves while it is paused; nil while paused).
    public func deadline(_ kind: SLAClockKind) -> Date? { moment(kind, fraction: 1) }

    /// When a running clock's warning falls due (nil while paused, or without a warning before the breach).
    public func warningMoment(_ kind: SLAClockKind) -> Date? {
        targets.warningFraction < 1 ? moment(kind, fraction: targets.warningFraction) : nil
    }

    // MARK: Clock arithmetic

    private func moment(_ kind: SLAClockKind, fraction: Double) -> Date? {
        guard let clock = self[kind], let since = clock.runningSince else { return nil }
        let remaining = max(0, clock.target * fraction - clock.accumulated)
        return targets.calendar.deadline(from: since, adding: remaining)
    }

    private mutating func start(_ kind: SLAClockKind, at now: Date) {
        guard let target = targets.target(kind) else { return }
        self[kind] = Clock(kind: kind, target: target, startedAt: now, runningSince: pending ? nil : now)
    }

    private mutating func pause(_ kind: SLAClockKind, at now: Date) {
        guard var clock = self[kind], let since = clock.runningSince else { return }
        clock.accumulated += targets.calendar.elapsed(from: since, to: now)
        clock.runningSince = nil
        self[kind] = clock
    }

    private mutating func resume(_ kind: SLAClockKind, at now: Date) {
        guard var clock = self[kind], clock.runningSince == nil else { return }
        clock.runningSince = now
        self[kind] = clock
    }

    /// Stops a clock: met (or breached, when its target passed — with the breach action if no timer
    /// reported it yet), or cancelled. Nothing when the clock is not running.
    private mutating func end(_ kind: SLAClockKind, at now: Date, cancelled: Bool) -> [Action] {
        guard var clock = self[kind] else { return [] }
        self[kind] = nil
        let deadline = moment(kind, fraction: 1, clock: clock) ?? now
        if let since = clock.runningSince { clock.accumulated += targets.calendar.elapsed(from: since, to: now) }
        let late = clock.accumulated > clock.target
        // A promise already broken stays broken, even when the clock ends without the reply.
        let outcome: Outcome = clock.breached || late ? .breached : (cancelled ? .cancelled : .met)
        var actions: [Action] = []
        if outcome == .breached && !clock.breached { actions.append(.breach(kind, deadline: deadline, late: lateness(deadline, now))) }
        actions.append(.record(Record(clock: kind, outcome: outcome, target: clock.target, startedAt: clock.startedAt, deadline: deadline, endedAt: now,
                                      elapsedBusiness: clock.accumulated, elapsedWall: now.timeIntervalSince(clock.startedAt))))
        return actions
    }

    private func moment(_ kind: SLAClockKind, fraction: Double, clock: Clock) -> Date? {
        guard let since = clock.runningSince else { return nil }
        return targets.calendar.deadline(from: since, adding: max(0, clock.target * fraction - clock.accumulated))
    }

    /// Warnings and breaches whose moment has come.
    private mutating func due(at now: Date) -> [Action] {
        var actions: [Action] = []
        for kind in SLAClockKind.allCases {
            guard var clock = self[kind], clock.runningSince != nil else { continue }
            if !clock.warned, let warning = moment(kind, fraction: targets.warningFraction), warning <= now {
                clock.warned = true
                if targets.warningFraction < 1 { actions.append(.warn(kind, deadline: warning, late: lateness(warning, now))) }
            }
            if !clock.breached, let deadline = moment(kind, fraction: 1), deadline <= now {
                clock.breached = true
                clock.warned = true
                actions.append(.breach(kind, deadline: deadline, late: lateness(deadline, now)))
            }
            self[kind] = clock
        }
        return actions
    }

    private func lateness(_ moment: Date, _ now: Date) -> TimeInterval {
        let late = now.timeIntervalSince(moment)
        return late > Self.lateTolerance ? late : 0
    }
}

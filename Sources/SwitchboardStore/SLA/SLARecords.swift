import Foundation
import SwitchboardCore

/// What choosing a ticket's SLA policy needs to know about it.
public struct SLAStartFacts: Sendable, Equatable {
    public var ticketID: Int64
    public var queue: String?
    public var priority: WaitingOrder.Priority
    public var tags: Set<String>
    public var businessNumber: String
    /// When the ticket started (its first message) or, reopened, when the customer wrote again.
    public var startedAt: Date
    /// The policy version already fixed on the ticket (a reopened ticket keeps it).
    public var policyID: Int64?
}

/// One ticket's SLA as stored, to rebuild its timer after a restart.
public struct StoredSLA: Sendable, Equatable {
    public var ticketID: Int64
    public var policyID: Int64
    public var snapshot: SLAStateMachine.Snapshot

    public init(ticketID: Int64, policyID: Int64, snapshot: SLAStateMachine.Snapshot) {
        self.ticketID = ticketID
        self.policyID = policyID
        self.snapshot = snapshot
    }
}

/// A ticket event the SLA engine writes (`sla_started`, `sla_warning`, `sla_breach`).
public struct SLAEventRow: Sendable, Equatable {
    public var kind: TicketEventKind
    public var at: Date
    /// JSON object text.
    public var data: String

    public init(kind: TicketEventKind, at: Date, data: String) {
        self.kind = kind
        self.at = at
        self.data = data
    }
}

/// A warning or breach to act on (tell the supervisors, escalate). Stored with the step that raised
/// it and kept until its actions ran (`SLAStore.acted`), so that a start after a daemon died in
/// between acts on it (`SLAStore.toActOn`).
public struct SLAAlert: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case warning, breach
    }

    public var ticketID: Int64
    public var kind: Kind
    public var clock: SLAClockKind
    /// The moment it was for: the warning moment or the deadline.
    public var due: Date
    /// How long after `due` it fired (a start acting on what fell due while stopped, or a busy host).
    public var late: TimeInterval

    public init(ticketID: Int64, kind: Kind, clock: SLAClockKind, due: Date, late: TimeInterval) {
        self.ticketID = ticketID
        self.kind = kind
        self.clock = clock
        self.due = due
        self.late = late
    }

    /// The alert a state machine's action raised (nil for a record).
    public init?(ticketID: Int64, _ action: SLAStateMachine.Action) {
        switch action {
        case .warn(let clock, let moment, let late): self.init(ticketID: ticketID, kind: .warning, clock: clock, due: moment, late: late)
        case .breach(let clock, let moment, let late): self.init(ticketID: ticketID, kind: .breach, clock: clock, due: moment, late: late)
        case .record: return nil
        }
    }
}

/// An alert a daemon stored and did not act on, with the policy version whose actions apply.
public struct SLAAlertToActOn: Sendable, Equatable {
    public var alert: SLAAlert
    public var policyID: Int64

    public init(alert: SLAAlert, policyID: Int64) {
        self.alert = alert
        self.policyID = policyID
    }
}

/// One step of one ticket's clocks, to store in one go: its state with the deadlines as they now
/// stand, the clocks that ended and the events.
public struct SLAChange: Sendable, Equatable {
    public struct ClockRow: Sendable, Equatable {
        public var clock: SLAStateMachine.Clock
        public var warnAt: Date?
        public var deadline: Date?

        public init(clock: SLAStateMachine.Clock, warnAt: Date?, deadline: Date?) {
            self.clock = clock
            self.warnAt = warnAt
            self.deadline = deadline
        }
    }

    public var ticketID: Int64
    public var policyID: Int64
    public var startedAt: Date
    public var awaitingCustomer: Bool
    public var pending: Bool
    public var clocks: [ClockRow]
    public var records: [SLAStateMachine.Record]
    public var events: [SLAEventRow]
    /// Warnings and breaches the step raised, kept until acted on.
    public var alerts: [SLAAlert]
    public var at: Date

    public init(ticketID: Int64, policyID: Int64, startedAt: Date, awaitingCustomer: Bool, pending: Bool, clocks: [ClockRow],
                records: [SLAStateMachine.Record], events: [SLAEventRow], alerts: [SLAAlert] = [], at: Date) {
        self.ticketID = ticketID
        self.policyID = policyID
        self.startedAt = startedAt
        self.awaitingCustomer = awaitingCustomer
        self.pending = pending
        self.clocks = clocks
        self.records = records
        self.events = events
        self.alerts = alerts
        self.at = at
    }

    /// Several steps of one batch as one per ticket: the last state wins, records, events and alerts add up
    /// (one statement may change a row only once).
    public static func merged(_ changes: [SLAChange]) -> [SLAChange] {
        var order: [Int64] = []
        var byTicket: [Int64: SLAChange] = [:]
        for change in changes {
            if var existing = byTicket[change.ticketID] {
                let records = existing.records + change.records
                let events = existing.events + change.events
                let alerts = existing.alerts + change.alerts
                existing = change
                existing.records = records
                existing.events = events
                existing.alerts = alerts
                byTicket[change.ticketID] = existing
            } else {
                order.append(change.ticketID)
                byTicket[change.ticketID] = change
            }
        }
        return order.compactMap { byTicket[$0] }
    }
}

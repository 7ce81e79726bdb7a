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
    public var at: Date

    public init(ticketID: Int64, policyID: Int64, startedAt: Date, awaitingCustomer: Bool, pending: Bool, clocks: [ClockRow],
                records: [SLAStateMachine.Record], events: [SLAEventRow], at: Date) {
        self.ticketID = ticketID
        self.policyID = policyID
        self.startedAt = startedAt
        self.awaitingCustomer = awaitingCustomer
        self.pending = pending
        self.clocks = clocks
        self.records = records
        self.events = events
        self.at = at
    }

    /// Several steps of one batch as one per ticket: the last state wins, records and events add up
    /// (one statement may change a row only once).
    public static func merged(_ changes: [SLAChange]) -> [SLAChange] {
        var order: [Int64] = []
        var byTicket: [Int64: SLAChange] = [:]
        for change in changes {
            if var existing = byTicket[change.ticketID] {
                let records = existing.records + change.records
                let events = existing.events + change.events
                existing = change
                existing.records = records
                existing.events = events
                byTicket[change.ticketID] = existing
            } else {
                order.append(change.ticketID)
                byTicket[change.ticketID] = change
            }
        }
        return order.compactMap { byTicket[$0] }
    }
}

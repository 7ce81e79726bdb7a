import Foundation
import SwitchboardCore
import SwitchboardStore

/// One ticket's SLA clocks: its state machine, the policy version fixed on it, and the deadline it
/// asked the scheduler to wake it at. Each step is handed to the writer before the next one is
/// taken, so stored state follows the same order.
actor SLATimer {
    /// What one step produced.
    struct Step: Sendable {
        /// Warnings and breaches to act on once the step is stored (stored with it until acted on).
        var alerts: [SLAAlert]
        /// The writer's sequence number of the stored step (nil: nothing changed).
        var sequence: Int?
        /// A deadline to ask the scheduler for.
        var arm: Date?
        /// No clock left: the timer can be dropped from memory.
        var finished: Bool
    }

    nonisolated let ticketID: Int64
    nonisolated let version: SLAPolicyVersion
    nonisolated var policy: SLAPolicy { version.policy }
    nonisolated let startedAt: Date
    private var machine: SLAStateMachine
    private var armedAt: Date?

    /// - Parameter scheduled: restored from a stored snapshot whose next deadline the scheduler
    ///   already has (the rebuild scheduled it), as `armAfterRestore` would have armed it.
    init(ticketID: Int64, version: SLAPolicyVersion, startedAt: Date, snapshot: SLAStateMachine.Snapshot? = nil, scheduled: Bool = false) {
        self.ticketID = ticketID
        self.version = version
        let policy = version.policy
        self.startedAt = startedAt
        machine = snapshot.map { SLAStateMachine(targets: policy.targets, snapshot: $0) } ?? SLAStateMachine(targets: policy.targets)
        if scheduled { armedAt = machine.nextDeadline }
    }

    /// The deadline to arm right after a restore.
    func armAfterRestore() -> Date? {
        armedAt = machine.nextDeadline
        return armedAt
    }

    /// A scheduler entry for `deadline` came due.
    func fired(entry deadline: Date, at now: Date, writer: SLAWriter) -> Step {
        if armedAt == deadline { armedAt = nil }
        return handle(.timerFired, at: now, writer: writer)
    }

    func handle(_ event: SLAStateMachine.Event, at now: Date, writer: SLAWriter) -> Step {
        let before = machine.snapshot
        let actions = machine.handle(event, at: now)
        let alerts = actions.compactMap { SLAAlert(ticketID: ticketID, $0) }
        let records = actions.compactMap { action -> SLAStateMachine.Record? in
            if case .record(let record) = action { record } else { nil }
        }
        var sequence: Int?
        if !actions.isEmpty || machine.snapshot != before || event == .started {
            var events: [SLAEventRow] = []
            if event == .started || event == .reopened {
                events.append(SLAEventRow(kind: .slaStarted, at: now, data: SLAEventData.started(policy: policy.name, reopened: event == .reopened, machine: machine)))
            }
            for alert in alerts {
                switch alert.kind {
                case .warning:
                    events.append(SLAEventRow(kind: .slaWarning, at: now, data: SLAEventData.alert(policy: policy.name, clock: alert.clock, moment: alert.due, late: alert.late,
                                                                                                     deadline: machine.deadline(alert.clock))))
                case .breach:
                    events.append(SLAEventRow(kind: .slaBreach, at: now, data: SLAEventData.alert(policy: policy.name, clock: alert.clock, moment: alert.due, late: alert.late,
                                                                                                    deadline: alert.due)))
                }
            }
            let rows = machine.runningClocks.map { SLAChange.ClockRow(clock: $0, warnAt: machine.warningMoment($0.kind), deadline: machine.deadline($0.kind)) }
            let snapshot = machine.snapshot
            sequence = writer.enqueue(SLAChange(ticketID: ticketID, policyID: version.id, startedAt: startedAt, awaitingCustomer: snapshot.awaitingCustomer,
                                                pending: snapshot.pending, clocks: rows, records: records, events: events, alerts: alerts, at: now))
        }
        var arm: Date?
        if let next = machine.nextDeadline, armedAt.map({ next < $0 }) ?? true {
            armedAt = next
            arm = next
        }
        return Step(alerts: alerts, sequence: sequence, arm: arm, finished: machine.runningClocks.isEmpty)
    }

    /// The clocks as they stand (for inspection and tests).
    var current: SLAStateMachine { machine }
}

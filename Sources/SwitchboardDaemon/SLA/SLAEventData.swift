import Foundation
import SwitchboardCore

/// The `data` of SLA ticket events, as JSON object text.
enum SLAEventData {
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func started(policy: String, reopened: Bool, machine: SLAStateMachine) -> String {
        var object: [String: Any] = ["policy": policy, "reopened": reopened]
        var deadlines: [String: String] = [:]
        for clock in machine.runningClocks {
            if let deadline = machine.deadline(clock.kind) { deadlines[clock.kind.rawValue] = timestamp(deadline) }
        }
        object["deadlines"] = deadlines
        return text(object)
    }

    static func alert(policy: String, clock: SLAClockKind, moment: Date, late: TimeInterval, deadline: Date?) -> String {
        var object: [String: Any] = ["policy": policy, "clock": clock.rawValue, "due_at": timestamp(moment), "late": late > 0,
                                     "late_seconds": (late * 1000).rounded() / 1000]
        if let deadline { object["deadline"] = timestamp(deadline) }
        return text(object)
    }

    private static func text(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            preconditionFailure("strings, booleans and numbers always serialise")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

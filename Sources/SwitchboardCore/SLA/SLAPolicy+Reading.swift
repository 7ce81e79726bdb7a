import Foundation

/// Reading the `calendars` and `sla` sections of the configuration.
public enum SLAConfigurationReader {
    /// The calendar every configuration has: open around the clock, UTC.
    public static let alwaysOpenName = "24x7"

    /// `calendars`: name → calendar (see `BusinessCalendar.read`), plus the built-in `24x7`.
    public static func calendars(_ object: ConfigObject?) -> [String: BusinessCalendar] {
        var calendars = [alwaysOpenName: BusinessCalendar.alwaysOpen()]
        guard let object else { return calendars }
        for name in object.keys.sorted() {
            if name == alwaysOpenName {
                object.report(name, "\"\(alwaysOpenName)\" is built in; choose another name")
                _ = object.value(name)
                continue
            }
            guard let entry = object.object(name) else { continue }
            if let calendar = BusinessCalendar.read(entry) { calendars[name] = calendar }
        }
        object.finish()
        return calendars
    }

    /// `sla.policies`, in order (the first matching policy applies). Unknown calendars and queues,
    /// a warning above 100 %, a policy without targets and unknown actions are reported.
    public static func policies(_ object: ConfigObject?, calendars: [String: BusinessCalendar], queues: Set<String>) -> [SLAPolicy] {
        guard let object else { return [] }
        let diagnostics = object.diagnosticsSink
        let queueList = queues.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
        var policies: [SLAPolicy] = []
        for (index, (path, value)) in object.array("policies").enumerated() {
            let entry = ConfigObject(value, path: path, diagnostics: diagnostics)
            let name = entry.string("name", default: "policy \(index + 1)")
            var conditions = SLAPolicy.Conditions()
            if let when = entry.object("when") {
                func strings(_ key: String) -> [String]? {
                    guard when.value(key) != nil else { return nil }
                    return when.array(key).compactMap { path, value in
                        guard case .string(let text) = value, !text.isEmpty else {
                            diagnostics.report(path, "expected a non-empty string, got \(value.shownInError)")
                            return nil
                        }
                        return text
                    }
                }
                if let names = strings("queues") {
                    for (position, queue) in names.enumerated() where !queues.contains(queue) {
                        diagnostics.report("\(when.keyPath("queues"))[\(position)]", "unknown queue \"\(queue)\" (queues: \(queueList))")
                    }
                    conditions.queues = Set(names)
                }
                if let names = strings("priorities") {
                    var priorities: Set<WaitingOrder.Priority> = []
                    for (position, text) in names.enumerated() {
                        if let priority = WaitingOrder.Priority(name: text) { priorities.insert(priority) } else {
                            diagnostics.report("\(when.keyPath("priorities"))[\(position)]", "expected one of \"low\", \"normal\", \"high\", \"urgent\", got \"\(text)\"")
                        }
                    }
                    conditions.priorities = priorities
                }
                conditions.tags = strings("tags").map(Set.init)
                conditions.businessNumbers = strings("businessNumbers").map(Set.init)
                when.finish()
            }
            let calendarName = entry.string("calendar", default: alwaysOpenName)
            let calendar = calendars[calendarName]
            if calendar == nil {
                entry.report("calendar", "unknown calendar \"\(calendarName)\" (calendars: \(calendars.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")))")
            }
            func minutes(_ key: String, scale: Double) -> TimeInterval? {
                entry.value(key) == nil ? nil : entry.number(key, in: 0.01...525_600, default: 1) * scale
            }
            let first = minutes("firstResponseMinutes", scale: 60)
            let next = minutes("nextResponseMinutes", scale: 60)
            let resolution = minutes("resolutionHours", scale: 3600)
            if first == nil && next == nil && resolution == nil {
                entry.report("firstResponseMinutes", "a policy needs at least one target: firstResponseMinutes, nextResponseMinutes or resolutionHours")
            }
            let warnAt = entry.number("warnAtPercent", in: 1...100, default: 80)
            let onWarning = actions(entry, "onWarning", queues: queues, queueList: queueList)
            let onBreach = actions(entry, "onBreach", queues: queues, queueList: queueList)
            entry.finish()
            if let calendar {
                policies.append(SLAPolicy(name: name, conditions: conditions, calendarName: calendarName,
                                          targets: SLATargets(firstResponse: first, nextResponse: next, resolution: resolution, warningFraction: warnAt / 100, calendar: calendar),
                                          onWarning: onWarning, onBreach: onBreach))
            }
        }
        object.finish()
        return policies
    }

    /// `[{"notify": "supervisors"}, {"raisePriority": true}, {"moveTo": "tier2"}, {"addTag": "late"}]`.
    static func actions(_ entry: ConfigObject, _ key: String, queues: Set<String>, queueList: String) -> [SLAPolicy.Action] {
        entry.array(key).compactMap { path, value -> SLAPolicy.Action? in
            guard case .object(let fields) = value, fields.count == 1, let (name, argument) = fields.first else {
                entry.diagnosticsSink.report(path, "expected one action: {\"notify\": \"supervisors\"}, {\"raisePriority\": true}, {\"moveTo\": \"queue\"} or {\"addTag\": \"tag\"}")
                return nil
            }
            switch (name, argument) {
            case ("notify", .string("supervisors")): return .notifySupervisors
            case ("raisePriority", .bool(true)): return .raisePriority
            case ("moveTo", .string(let queue)):
                guard queues.contains(queue) else {
                    entry.diagnosticsSink.report("\(path).moveTo", "unknown queue \"\(queue)\" (queues: \(queueList))")
                    return nil
                }
                return .moveTo(queue: queue)
            case ("addTag", .string(let tag)) where !tag.isEmpty: return .addTag(tag)
            default:
                entry.diagnosticsSink.report("\(path).\(name)", "not an action: \(name) = \(argument.shownInError) (known: notify \"supervisors\", raisePriority true, moveTo a queue, addTag a tag)")
                return nil
            }
        }
    }
}

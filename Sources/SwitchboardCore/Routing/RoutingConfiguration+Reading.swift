import Foundation

extension RoutingConfiguration {
    /// Reads the `routing` section (absent: `standard`), reporting every problem under its key path:
    /// an unknown queue, a proficiency outside 1–5, a step without timeout that is not last, a cycle
    /// of queue moves, a last rule that does not catch the rest.
    public static func read(_ object: ConfigObject?) -> RoutingConfiguration {
        guard let object else { return .standard }
        let diagnostics = object.diagnosticsSink
        let pendingCounts = object.bool("pendingCountsAgainstCapacity", default: true)
        let stickyMinutes = object.number("stickyMinutes", in: 0...525_600, default: 1440)
        let grace = object.number("presenceGraceSeconds", in: 0...86_400, default: 120)
        let businessHours = object.object("businessHours").flatMap(BusinessCalendar.read)

        var queues: [QueueDefinition] = []
        var queuePaths: [String: String] = [:]
        for (path, value) in object.array("queues") {
            let queue = ConfigObject(value, path: path, diagnostics: diagnostics)
            if let definition = readQueue(queue) {
                if queuePaths[definition.name] != nil {
                    queue.report("name", "queue \"\(definition.name)\" is defined twice (first at \(queuePaths[definition.name] ?? ""))")
                } else {
                    queuePaths[definition.name] = path
                    queues.append(definition)
                }
            }
            queue.finish()
        }
        if object.value("queues") == nil { queues = RoutingConfiguration.standard.queues }
        if queues.isEmpty { object.report("queues", "at least one queue is needed") }
        let known = Set(queues.map(\.name))
        let knownList = queues.map { "\"\($0.name)\"" }.joined(separator: ", ")
        func checkQueue(_ name: String, at path: String) {
            if !known.contains(name) { diagnostics.report(path, "unknown queue \"\(name)\" (queues: \(knownList))") }
        }
        for queue in queues {
            guard let path = queuePaths[queue.name], let last = queue.steps.last, let target = last.moveToQueue else { continue }
            checkQueue(target, at: "\(path).steps[\(queue.steps.count - 1)].moveTo")
        }
        if let cycle = moveCycle(queues) {
            let path = queuePaths[cycle[0]].map { "\($0).steps" } ?? object.keyPath("queues")
            diagnostics.report(path, "queue moves form a cycle: \(cycle.joined(separator: " → ")); a ticket would move forever")
        }

        var rules: [RoutingRule] = []
        let ruleEntries = object.array("rules")
        for (index, (path, value)) in ruleEntries.enumerated() {
            let rule = ConfigObject(value, path: path, diagnostics: diagnostics)
            if let parsed = readRule(rule, index: index) {
                checkQueue(parsed.actions.queue, at: rule.keyPath("queue"))
                if index == ruleEntries.count - 1 && !parsed.conditions.isCatchAll {
                    rule.report("when", "the last rule must have no conditions, so that it catches every ticket the others do not")
                }
                rules.append(parsed)
            }
            rule.finish()
        }
        if object.value("rules") == nil {
            rules = [RoutingRule(name: "default", actions: .init(queue: queues.first?.name ?? "default"))]
        } else if ruleEntries.isEmpty {
            object.report("rules", "at least one rule is needed; the last one, without conditions, catches the rest")
        }

        var agents: [AgentDefinition] = []
        var presence: [String: AgentPresence] = [:]
        var agentPaths: [String: String] = [:]
        for (path, value) in object.array("agents") {
            let agent = ConfigObject(value, path: path, diagnostics: diagnostics)
            if let definition = readAgent(agent, checkQueue: checkQueue) {
                if let first = agentPaths[definition.id] {
                    agent.report("id", "agent \"\(definition.id)\" is declared twice (first at \(first))")
                } else {
                    agentPaths[definition.id] = path
                    agents.append(definition)
                    if agent.value("presence") != nil { presence[definition.id] = agent.choice("presence", default: AgentPresence.offline) }
                }
            }
            agent.finish()
        }
        object.finish()
        return RoutingConfiguration(queues: queues, rules: rules, agents: agents, initialPresence: presence, pendingCountsAgainstCapacity: pendingCounts,
                                    stickySeconds: stickyMinutes * 60, presenceGraceSeconds: grace, businessHours: businessHours)
    }

    /// The first cycle of queue moves, as queue names with the first repeated at the end.
    static func moveCycle(_ queues: [QueueDefinition]) -> [String]? {
        let next = Dictionary(queues.compactMap { queue in queue.steps.last?.moveToQueue.map { (queue.name, $0) } }, uniquingKeysWith: { a, _ in a })
        for start in queues.map(\.name) {
            var path = [start]
            var current = start
            while let target = next[current] {
                if let loopStart = path.firstIndex(of: target) { return Array(path[loopStart...]) + [target] }
                path.append(target)
                current = target
            }
        }
        return nil
    }

    static func readSkills(_ object: ConfigObject, _ key: String) -> [String: Int] {
        guard let skills = object.object(key) else { return [:] }
        var result: [String: Int] = [:]
        for name in skills.keys.sorted() {
            guard !name.isEmpty, !name.contains(where: \.isWhitespace) else {
                skills.report(name, "a skill name has no spaces, e.g. \"lang:es\" or \"product:billing\"")
                _ = skills.value(name)
                continue
            }
            if let level = skills.optionalInteger(name, in: 1...5) { result[name] = level }
        }
        skills.finish()
        return result
    }

    static func readQueue(_ queue: ConfigObject) -> QueueDefinition? {
        let name = queue.optionalString("name")
        if name == nil && queue.value("name") == nil { queue.report("name", "required: the queue's name") }
        let strategy = queue.choice("strategy", default: RoutingStrategy.leastLoaded)
        var steps: [RoutingStep] = []
        let entries = queue.array("steps")
        for (index, (path, value)) in entries.enumerated() {
            let step = ConfigObject(value, path: path, diagnostics: queue.diagnosticsSink)
            let requirements = readSkills(step, "skills").sorted { $0.key < $1.key }.map { SkillRequirement($0.key, atLeast: $0.value) }
            let timeout = step.value("timeoutSeconds") == nil ? nil : step.number("timeoutSeconds", in: 1...604_800, default: 60)
            let moveTo = step.optionalString("moveTo")
            let ruleSkillLevel = step.optionalInteger("ruleSkillLevel", in: 0...5)
            let isLast = index == entries.count - 1
            if timeout == nil && !isLast {
                step.report("timeoutSeconds", "required: only the last step may go without a timeout (the steps after this one could never apply)")
            }
            if moveTo != nil && !isLast { step.report("moveTo", "only the last step may move a ticket to another queue") }
            if moveTo != nil && timeout == nil && isLast { step.report("timeoutSeconds", "required with moveTo: how long before the ticket moves") }
            if let moveTo, moveTo == name { step.report("moveTo", "a queue cannot move tickets to itself") }
            step.finish()
            steps.append(RoutingStep(requirements: requirements, timeout: timeout ?? (isLast ? nil : 60), moveToQueue: moveTo == name ? nil : moveTo,
                                     ruleSkillLevel: ruleSkillLevel))
        }
        if queue.value("steps") == nil { steps = [RoutingStep(requirements: [], timeout: nil)] }
        if steps.isEmpty { queue.report("steps", "at least one step is needed") }
        let order = WaitingOrder(windowBoost: queue.number("windowBoostMinutes", in: 0...1440, default: 30) * 60,
                                 agingStep: queue.number("priorityAgingMinutes", in: 0...10_080, default: 0) * 60)
        let keep = queue.bool("keepTicketsWhenAgentAway", default: false)
        let accept = queue.value("acceptWithinSeconds") == nil ? nil : queue.number("acceptWithinSeconds", in: 5...86_400, default: 120)
        guard let name, !steps.isEmpty else { return nil }
        return QueueDefinition(name: name, strategy: strategy, steps: steps, order: order, keepTicketsWhenAgentAway: keep, acceptWithin: accept)
    }

    static func readRule(_ rule: ConfigObject, index: Int) -> RoutingRule? {
        let name = rule.string("name", default: "rule \(index + 1)")
        var conditions = RoutingRule.Conditions()
        if let when = rule.object("when") {
            func strings(_ key: String) -> [String]? {
                guard when.value(key) != nil else { return nil }
                let values = when.array(key).compactMap { path, value -> String? in
                    guard case .string(let text) = value, !text.isEmpty else {
                        when.diagnosticsSink.report(path, "expected a non-empty string, got \(value.shownInError)")
                        return nil
                    }
                    return text
                }
                if values.isEmpty { when.report(key, "an empty list never matches; leave the key out instead") }
                return values
            }
            conditions.businessNumbers = strings("businessNumbers").map(Set.init)
            conditions.countries = strings("countries").map { Set($0.map { $0.uppercased() }) }
            conditions.languages = strings("languages").map(Set.init)
            conditions.keywords = strings("keywords")
            conditions.menuChoices = strings("menuChoices").map(Set.init)
            conditions.customerTags = strings("customerTags").map(Set.init)
            if when.value("withinBusinessHours") != nil { conditions.withinBusinessHours = when.bool("withinBusinessHours", default: true) }
            when.finish()
        }
        let queue = rule.optionalString("queue")
        if queue == nil && rule.value("queue") == nil { rule.report("queue", "required: the queue this rule sends tickets to") }
        let priority = rule.choice("priority", default: PriorityName.normal).priority
        let skills = readSkills(rule, "skills").sorted { $0.key < $1.key }.map { SkillRequirement($0.key, atLeast: $0.value) }
        let tags = rule.array("tags").compactMap { path, value -> String? in
            guard case .string(let text) = value, !text.isEmpty else {
                rule.diagnosticsSink.report(path, "expected a non-empty string, got \(value.shownInError)")
                return nil
            }
            return text
        }
        guard let queue else { return nil }
        return RoutingRule(name: name, conditions: conditions, actions: .init(queue: queue, priority: priority, requiredSkills: skills, tags: tags))
    }

    static func readAgent(_ agent: ConfigObject, checkQueue: (String, String) -> Void) -> AgentDefinition? {
        let id = agent.optionalString("id")
        if id == nil && agent.value("id") == nil { agent.report("id", "required: the agent's handle, e.g. \"ana\"") }
        if let id, !AgentDefinition.isValidID(id) {
            agent.report("id", "\"\(id)\" is not a handle: 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
        let name = agent.optionalString("name")
        let role = agent.choice("role", default: Role.agent)
        let teams = agent.array("teams").compactMap { path, value -> String? in
            guard case .string(let text) = value, !text.isEmpty else {
                agent.diagnosticsSink.report(path, "expected a non-empty string, got \(value.shownInError)")
                return nil
            }
            return text
        }
        let capacity = agent.integer("capacity", in: 0...1000, default: 5)
        let skills = readSkills(agent, "skills")
        let queues = agent.array("queues").compactMap { path, value -> String? in
            guard case .string(let text) = value else {
                agent.diagnosticsSink.report(path, "expected a queue name, got \(value.shownInError)")
                return nil
            }
            checkQueue(text, path)
            return text
        }
        if agent.value("queues") == nil { agent.report("queues", "required: the queues this agent takes tickets from") }
        guard let id, AgentDefinition.isValidID(id) else { return nil }
        return AgentDefinition(id: id, name: name ?? id, role: role, teams: teams, capacity: capacity, skills: skills, queues: queues)
    }
}

/// Priorities as the configuration spells them.
enum PriorityName: String, CaseIterable {
    case low, normal, high, urgent

    var priority: WaitingOrder.Priority { WaitingOrder.Priority(name: rawValue) ?? .normal }
}

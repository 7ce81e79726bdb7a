import Foundation

extension AutomationConfiguration {
    /// What the `automation` section may refer to elsewhere in the configuration.
    public struct References: Sendable {
        public var calendars: [String: BusinessCalendar]
        public var queues: Set<String>
        public var routingRules: Set<String>
        public var templates: [MessageTemplate]

        public init(calendars: [String: BusinessCalendar], queues: Set<String>, routingRules: Set<String>, templates: [MessageTemplate]) {
            self.calendars = calendars
            self.queues = queues
            self.routingRules = routingRules
            self.templates = templates
        }
    }

    /// Reads the `automation` section (absent: nothing automatic), reporting every problem under its
    /// key path: unknown calendars, queues, routing rules and templates, texts without the default
    /// language or with unknown variables, menus WhatsApp would refuse.
    public static func read(_ object: ConfigObject?, references: References) -> AutomationConfiguration {
        var configuration = AutomationConfiguration()
        guard let object else { return configuration }
        _ = object.optionalString("$comment", allowEmpty: true)  // room for a note to the reader
        let reader = Reader(references: references, defaultLanguage: object.string("defaultLanguage", default: "en"))
        configuration.defaultLanguage = reader.defaultLanguage
        let diagnostics = object.diagnosticsSink
        for (index, (path, value)) in object.array("greetings").enumerated() {
            let entry = ConfigObject(value, path: path, diagnostics: diagnostics)
            let name = entry.string("name", default: "greeting \(index + 1)")
            let scope = reader.scope(entry)
            if let text = reader.text(entry, "text", variables: ["customer.name", "ticket.reference"]) {
                configuration.greetings.append(GreetingRule(name: name, scope: scope, text: text))
            }
            entry.finish()
        }
        for (index, (path, value)) in object.array("outOfHours").enumerated() {
            let entry = ConfigObject(value, path: path, diagnostics: diagnostics)
            let name = entry.string("name", default: "out of hours \(index + 1)")
            let scope = reader.scope(entry)
            let calendarName = entry.optionalString("calendar")
            let calendar = calendarName.flatMap { references.calendars[$0] }
            if let calendarName, calendar == nil {
                entry.report("calendar", "unknown calendar \"\(calendarName)\" (known: \(references.calendars.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")))")
            } else if calendarName == nil {
                entry.report("calendar", "required: the business-hours calendar whose closed hours this rule answers")
            }
            let quiet = entry.integer("quietAfterAgentReplyMinutes", in: 0...1440, default: 10)
            let text = reader.text(entry, "text", variables: ["customer.name", "ticket.reference", "team.back"])
            if let calendarName, let calendar, let text {
                configuration.outOfHours.append(OutOfHoursRule(name: name, scope: scope, calendarName: calendarName, calendar: calendar,
                                                               quietAfterAgentReply: TimeInterval(quiet * 60), text: text))
            }
            entry.finish()
        }
        for (index, (path, value)) in object.array("triage").enumerated() {
            let entry = ConfigObject(value, path: path, diagnostics: diagnostics)
            if let rule = reader.triage(entry, index: index) { configuration.triage.append(rule) }
            entry.finish()
        }
        if let entry = object.object("autoClose") {
            configuration.autoClose = reader.autoClose(entry)
            entry.finish()
        }
        if let entry = object.object("csat") {
            configuration.csat = reader.csat(entry)
            entry.finish()
        }
        for (path, value) in object.array("templateFallbacks") {
            let entry = ConfigObject(value, path: path, diagnostics: diagnostics)
            if let fallback = reader.templateFallback(entry) { configuration.templateFallbacks.append(fallback) }
            entry.finish()
        }
        var claimed: [String: String] = [:]
        for (index, fallback) in configuration.templateFallbacks.enumerated() {
            for queue in fallback.queues.sorted() {
                if let other = claimed[queue] {
                    object.report("templateFallbacks[\(index)].queues", "queue \"\(queue)\" already has a fallback template (\"\(other)\")")
                }
                claimed[queue] = fallback.template.name
            }
        }
        object.finish()
        return configuration
    }

    private struct Reader {
        let references: References
        let defaultLanguage: String

        func scope(_ entry: ConfigObject) -> Scope {
            guard let when = entry.object("when") else { return Scope() }
            var scope = Scope()
            if when.value("businessNumbers") != nil { scope.businessNumbers = Set(strings(when, "businessNumbers")) }
            if when.value("queues") != nil {
                let queues = strings(when, "queues")
                for queue in queues where !references.queues.contains(queue) {
                    when.report("queues", "unknown queue \"\(queue)\" (known: \(references.queues.sorted().map { "\"\($0)\"" }.joined(separator: ", ")))")
                }
                scope.queues = Set(queues)
            }
            when.finish()
            return scope
        }

        func strings(_ object: ConfigObject, _ key: String) -> [String] {
            object.array(key).compactMap { path, value in
                guard case .string(let text) = value, !text.isEmpty else {
                    object.diagnosticsSink.report(path, "expected a non-empty string, got \(value.shownInError)")
                    return nil
                }
                return text
            }
        }

        /// A string, or an object of language → string that has the default language.
        func text(_ entry: ConfigObject, _ key: String, variables: Set<String>, limit: Int = 1024, required: Bool = true) -> LocalizedText? {
            guard let value = entry.value(key) else {
                if required { entry.report(key, "required") }
                return nil
            }
            func check(_ text: String, _ path: String) -> Bool {
                if text.isEmpty {
                    entry.diagnosticsSink.report(path, "must not be empty")
                    return false
                }
                if text.count > limit {
                    entry.diagnosticsSink.report(path, "longer than WhatsApp allows here (\(limit) characters)")
                    return false
                }
                if let problem = TextVariables.check(text, allowed: variables) {
                    entry.diagnosticsSink.report(path, problem.description)
                    return false
                }
                return true
            }
            switch value {
            case .string(let text):
                return check(text, entry.keyPath(key)) ? LocalizedText(text) : nil
            case .object(let values):
                var translations: [String: String] = [:]
                var fine = true
                for (language, value) in values.sorted(by: { $0.key < $1.key }) {
                    let path = "\(entry.keyPath(key)).\(language)"
                    guard case .string(let text) = value else {
                        entry.diagnosticsSink.report(path, "expected a string, got \(value.shownInError)")
                        fine = false
                        continue
                    }
                    if check(text, path) { translations[language] = text } else { fine = false }
                }
                guard fine else { return nil }
                guard translations[defaultLanguage] != nil else {
                    entry.report(key, "has no text in the default language \"\(defaultLanguage)\" (automation.defaultLanguage)")
                    return nil
                }
                return LocalizedText(translations, defaultLanguage: defaultLanguage)
            default:
                entry.report(key, "expected a string or an object of language → text, got \(value.shownInError)")
                return nil
            }
        }

        func triage(_ entry: ConfigObject, index: Int) -> TriageRule? {
            let name = entry.string("name", default: "triage \(index + 1)")
            let scope = scope(entry)
            let style = entry.choice("style", default: TriageRule.Style.buttons)
            let prompt = text(entry, "prompt", variables: ["customer.name", "ticket.reference"])
            let retry = text(entry, "retryPrompt", variables: ["customer.name", "ticket.reference"], required: false) ?? prompt
            // WhatsApp: a list's button says at most 20 characters; buttons have none.
            let button = text(entry, "button", variables: [], limit: 20, required: false) ?? LocalizedText("Choose")
            let titleLimit = style == .buttons ? 20 : 24
            var options: [TriageRule.Option] = []
            var ids: Set<String> = []
            for (path, value) in entry.array("options") {
                let option = ConfigObject(value, path: path, diagnostics: entry.diagnosticsSink)
                let id = option.optionalString("id")
                if id == nil { option.report("id", "required: what the customer's choice comes back as") }
                if let id, id.count > 200 { option.report("id", "longer than WhatsApp allows (200 characters)") }
                if let id, !ids.insert(id).inserted { option.report("id", "\"\(id)\" is already another option's id") }
                let title = text(option, "title", variables: [], limit: titleLimit)
                let tags = strings(option, "tags"), customerTags = strings(option, "customerTags")
                for (key, list) in [("tags", tags), ("customerTags", customerTags)] {
                    for tag in list { if let problem = TagRule.problem(tag) { option.report(key, problem) } }
                }
                let language = option.optionalString("language")
                option.finish()
                if let id, let title { options.append(.init(id: id, title: title, tags: tags, customerTags: customerTags, language: language)) }
            }
            let limit = style == .buttons ? 3 : 10
            if entry.value("options") == nil || options.isEmpty && entry.array("options").isEmpty {
                entry.report("options", "required: at least one option")
            } else if entry.array("options").count > limit {
                entry.report("options", "WhatsApp shows at most \(limit) options as \(style.rawValue), got \(entry.array("options").count)")
            }
            let maxAsks = entry.integer("maxAsks", in: 1...5, default: 2)
            let timeout = entry.integer("timeoutMinutes", in: 1...10_080, default: 10)
            let fallback = entry.optionalString("fallbackRule")
            if let fallback, !references.routingRules.contains(fallback) {
                entry.report("fallbackRule", "unknown routing rule \"\(fallback)\" (routing.rules names: \(references.routingRules.sorted().map { "\"\($0)\"" }.joined(separator: ", ")))")
            }
            guard let prompt, let retry, options.count == entry.array("options").count, !options.isEmpty, options.count <= limit else { return nil }
            return TriageRule(name: name, scope: scope, style: style, prompt: prompt, retryPrompt: retry, button: button, options: options,
                              maxAsks: maxAsks, timeout: TimeInterval(timeout * 60), fallbackRule: fallback)
        }

        func autoClose(_ entry: ConfigObject) -> AutoClose? {
            // Hours, fractions allowed (0.25 is a quarter of an hour; tests use seconds' worth).
            let pending: Double? = entry.value("pendingAfterHours") == nil ? nil : entry.number("pendingAfterHours", in: 0.001...8760, default: -1)
            if pending == nil { entry.report("pendingAfterHours", "required: hours without a customer message after which a pending ticket is resolved") }
            var open: [String: TimeInterval] = [:]
            for (path, value) in entry.array("openInQueues") {
                let item = ConfigObject(value, path: path, diagnostics: entry.diagnosticsSink)
                let queue = item.optionalString("queue")
                if let queue, !references.queues.contains(queue) { item.report("queue", "unknown queue \"\(queue)\"") }
                if queue == nil { item.report("queue", "required") }
                let hours: Double? = item.value("afterHours") == nil ? nil : item.number("afterHours", in: 0.001...8760, default: -1)
                if hours == nil { item.report("afterHours", "required") }
                if let queue, let hours, hours > 0, references.queues.contains(queue) { open[queue] = hours * 3600 }
                item.finish()
            }
            let closing = text(entry, "closingText", variables: ["customer.name", "ticket.reference", "agent.name"], required: false)
            guard let pending, pending > 0 else { return nil }
            return AutoClose(pendingAfter: pending * 3600, openAfterByQueue: open, closingText: closing)
        }

        func csat(_ entry: ConfigObject) -> CSAT? {
            let scope = scope(entry)
            let afterAgent = entry.bool("afterAgentResolve", default: true)
            let afterAuto = entry.bool("afterAutoClose", default: false)
            let prompt = text(entry, "prompt", variables: ["customer.name", "ticket.reference", "agent.name"])
            let button = text(entry, "button", variables: [], limit: 20, required: false) ?? LocalizedText("Rate")
            var ratings: [LocalizedText] = []
            let rows = entry.array("ratings")
            if entry.value("ratings") == nil {
                ratings = ["1 – Very bad", "2 – Bad", "3 – OK", "4 – Good", "5 – Excellent"].map(LocalizedText.init)
            } else if rows.count != 5 {
                entry.report("ratings", "expected five titles, worst (1) first, got \(rows.count)")
            } else {
                let holder = ConfigObject(.object(Dictionary(uniqueKeysWithValues: rows.enumerated().map { ("\($0.offset)", $0.element.value) })),
                                          path: entry.keyPath("ratings"), diagnostics: entry.diagnosticsSink)
                ratings = (0..<5).compactMap { text(holder, "\($0)", variables: [], limit: 24) }
                holder.finish()
            }
            var template: MessageTemplate?
            if let name = entry.optionalString("template") {
                template = references.templates.first { $0.name == name }
                if template == nil {
                    entry.report("template", "unknown template \"\(name)\" (whatsapp.templates names: \(references.templates.map { "\"\($0.name)\"" }.joined(separator: ", ")))")
                } else if let template, template.parameters > 0 {
                    entry.report("template", "the survey's template takes no parameters; \"\(name)\" takes \(template.parameters)")
                }
            }
            let expires = entry.integer("expiresAfterHours", in: 1...720, default: 24)
            let comment = entry.integer("commentMinutes", in: 0...1440, default: 10)
            let thanks = text(entry, "thanks", variables: ["customer.name", "ticket.reference", "agent.name"], required: false)
            guard let prompt, ratings.count == 5 else { return nil }
            var csat = CSAT(afterAgentResolve: afterAgent, afterAutoClose: afterAuto, prompt: prompt, button: button, ratings: ratings,
                        template: template.flatMap { $0.parameters == 0 ? $0 : nil }, expiresAfter: TimeInterval(expires * 3600),
                        commentWithin: TimeInterval(comment * 60), thanks: thanks)
            csat.scope = scope
            return csat
        }

        func templateFallback(_ entry: ConfigObject) -> TemplateFallback? {
            let queues = strings(entry, "queues")
            if entry.value("queues") == nil || queues.isEmpty { entry.report("queues", "required: the queues whose agents may send this template instead") }
            for queue in queues where !references.queues.contains(queue) { entry.report("queues", "unknown queue \"\(queue)\"") }
            let name = entry.optionalString("template")
            let template = name.flatMap { name in references.templates.first { $0.name == name } }
            if let name, template == nil {
                entry.report("template", "unknown template \"\(name)\" (whatsapp.templates names: \(references.templates.map { "\"\($0.name)\"" }.joined(separator: ", ")))")
            } else if name == nil {
                entry.report("template", "required")
            }
            let parameters = strings(entry, "parameters")
            for (index, parameter) in parameters.enumerated() {
                if let problem = TextVariables.check(parameter, allowed: ["customer.name", "agent.name", "ticket.reference"]) {
                    entry.diagnosticsSink.report("\(entry.keyPath("parameters"))[\(index)]", problem.description)
                }
            }
            if let template, parameters.count != template.parameters {
                entry.report("parameters", "template \"\(template.name)\" takes \(template.parameters) parameters, got \(parameters.count)")
            }
            guard let template, !queues.isEmpty, queues.allSatisfy(references.queues.contains), parameters.count == template.parameters else { return nil }
            return TemplateFallback(queues: Set(queues), template: template, parameters: parameters)
        }
    }
}

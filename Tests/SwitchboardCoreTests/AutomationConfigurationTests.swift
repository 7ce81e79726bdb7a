import Foundation
import SwitchboardCore
import Testing

@Suite("Automation configuration: each rule read, each refusal with its key path")
struct AutomationConfigurationTests {
    static let references = AutomationConfiguration.References(
        calendars: ["24x7": .alwaysOpen(), "office": .alwaysOpen()], queues: ["support", "billing"], routingRules: ["default", "billing menu"],
        templates: [MessageTemplate(name: "csat_request", language: "en_US", text: "How did we do?"),
                    MessageTemplate(name: "follow_up", language: "en_US", text: "Hello {{1}}, about {{2}}.")])

    private func read(_ json: String) -> (AutomationConfiguration, [String]) {
        let diagnostics = ConfigDiagnostics()
        let value = (try? JSONDecoder().decode(ConfigValue.self, from: Data(json.utf8))) ?? .null
        let root = ConfigObject(value, path: "", diagnostics: diagnostics)
        let configuration = AutomationConfiguration.read(root.object("automation"), references: Self.references)
        root.finish()
        return (configuration, diagnostics.issues.map(\.description))
    }

    @Test func everyRuleIsReadAsWritten() {
        let (configuration, issues) = read(#"""
            {"automation": {
              "defaultLanguage": "en",
              "greetings": [{"name": "hello", "when": {"businessNumbers": ["111"]}, "text": {"en": "Hi {{customer.name|there}}", "es": "Hola"}}],
              "outOfHours": [{"name": "night", "when": {"queues": ["support"]}, "calendar": "office", "quietAfterAgentReplyMinutes": 5,
                              "text": "Closed until {{team.back}}"}],
              "triage": [{"name": "topics", "when": {"businessNumbers": ["222"]}, "style": "list", "prompt": "Pick one", "button": "Topics",
                          "options": [{"id": "billing", "title": "Billing", "tags": ["billing"], "customerTags": ["payer"]},
                                      {"id": "es", "title": {"en": "Spanish", "es": "Español"}, "language": "es"}],
                          "timeoutMinutes": 5, "maxAsks": 3, "fallbackRule": "default"}],
              "autoClose": {"pendingAfterHours": 48, "openInQueues": [{"queue": "billing", "afterHours": 72}], "closingText": "Bye"},
              "csat": {"afterAutoClose": true, "prompt": "Rate us", "template": "csat_request", "expiresAfterHours": 12, "commentMinutes": 5, "thanks": "Thanks"},
              "templateFallbacks": [{"queues": ["support"], "template": "follow_up", "parameters": ["{{customer.name|there}}", "{{ticket.reference}}"]}]
            }}
            """#)
        #expect(issues == [])
        #expect(configuration.greetings.map(\.name) == ["hello"] && configuration.greetings[0].scope.businessNumbers == ["111"])
        #expect(configuration.greetings[0].text.text(for: "es") == "Hola")
        #expect(configuration.outOfHours.first?.quietAfterAgentReply == 300 && configuration.outOfHours.first?.calendarName == "office")
        let triage = configuration.triage.first
        #expect(triage?.style == .list)
        #expect(triage?.timeout == 300)
        #expect(triage?.maxAsks == 3)
        #expect(triage?.fallbackRule == "default")
        #expect(triage?.options.map(\.id) == ["billing", "es"])
        #expect(triage?.options.first?.customerTags == ["payer"])
        #expect(triage?.options.last?.language == "es")
        let autoClose = AutomationConfiguration.AutoClose(pendingAfter: 172_800, openAfterByQueue: ["billing": 259_200], closingText: LocalizedText("Bye"))
        #expect(configuration.autoClose == autoClose)
        let csat = configuration.csat
        #expect(csat?.afterAutoClose == true)
        #expect(csat?.template?.name == "csat_request")
        #expect(csat?.expiresAfter == TimeInterval(43_200))
        #expect(configuration.csat?.ratings.count == 5)
        #expect(configuration.templateFallback(forQueue: "support")?.template.name == "follow_up")
        #expect(configuration.templateFallback(forQueue: "billing") == nil)
    }

    @Test func mistakesAreNamedByTheirKeyPaths() {
        let (configuration, issues) = read(#"""
            {"automation": {
              "greetings": [{"text": {"es": "Hola"}}, {"text": "Hi {{customer.nmae}}"}],
              "outOfHours": [{"calendar": "weekends", "text": "Closed"}, {"text": "Closed"}],
              "triage": [{"style": "buttons", "prompt": "Pick", "options": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}, {"id": "c", "title": "C"}, {"id": "d", "title": "D"}]},
                         {"prompt": "Pick", "options": [{"id": "a", "title": "A title far too long for a button"}, {"id": "a", "title": "Again"}], "fallbackRule": "nope"}],
              "autoClose": {"openInQueues": [{"queue": "sales", "afterHours": 1}]},
              "csat": {"prompt": "Rate", "template": "follow_up", "ratings": ["1", "2"]},
              "templateFallbacks": [{"queues": ["support"], "template": "follow_up", "parameters": ["{{customer.name}}"]},
                                    {"queues": ["nowhere"], "template": "missing"}],
              "surveys": {}
            }}
            """#)
        #expect(configuration.greetings.isEmpty && configuration.outOfHours.isEmpty && configuration.triage.isEmpty)
        #expect(configuration.autoClose == nil && configuration.csat == nil && configuration.templateFallbacks.isEmpty)
        #expect(issues.contains("automation.greetings[0].text: has no text in the default language \"en\" (automation.defaultLanguage)"))
        #expect(issues.contains { $0.hasPrefix("automation.greetings[1].text: unknown variable {{customer.nmae}}") })
        #expect(issues.contains { $0.hasPrefix("automation.outOfHours[0].calendar: unknown calendar \"weekends\"") })
        #expect(issues.contains("automation.outOfHours[1].calendar: required: the business-hours calendar whose closed hours this rule answers"))
        #expect(issues.contains("automation.triage[0].options: WhatsApp shows at most 3 options as buttons, got 4"))
        #expect(issues.contains("automation.triage[1].options[0].title: longer than WhatsApp allows here (20 characters)"))
        #expect(issues.contains("automation.triage[1].options[1].id: \"a\" is already another option's id"))
        #expect(issues.contains { $0.hasPrefix("automation.triage[1].fallbackRule: unknown routing rule \"nope\"") })
        #expect(issues.contains("automation.autoClose.pendingAfterHours: required: hours without a customer message after which a pending ticket is resolved"))
        #expect(issues.contains("automation.autoClose.openInQueues[0].queue: unknown queue \"sales\""))
        #expect(issues.contains("automation.csat.ratings: expected five titles, worst (1) first, got 2"))
        #expect(issues.contains("automation.csat.template: the survey's template takes no parameters; \"follow_up\" takes 2"))
        #expect(issues.contains("automation.templateFallbacks[0].parameters: template \"follow_up\" takes 2 parameters, got 1"))
        #expect(issues.contains("automation.templateFallbacks[1].queues: unknown queue \"nowhere\""))
        #expect(issues.contains { $0.hasPrefix("automation.templateFallbacks[1].template: unknown template \"missing\"") })
        #expect(issues.contains { $0.hasPrefix("automation.surveys: unknown key") })
    }
}

import Foundation
import SwitchboardCore
import Testing

@Suite("Routing configuration: what is accepted, and every refusal with its key path")
struct RoutingConfigurationTests {
    /// Reads `{"routing": …}` and returns the configuration and the problems found.
    private func read(_ routing: String) -> (RoutingConfiguration, [String]) {
        let diagnostics = ConfigDiagnostics()
        let value = (try? JSONDecoder().decode(ConfigValue.self, from: Data(#"{"routing": \#(routing)}"#.utf8))) ?? .null
        let root = ConfigObject(value, path: "", diagnostics: diagnostics)
        let configuration = RoutingConfiguration.read(root.object("routing"))
        root.finish()
        return (configuration, diagnostics.issues.map(\.description))
    }

    private let queues = #""queues": [{"name": "support", "steps": [{"ruleSkillLevel": 4, "timeoutSeconds": 60}, {"ruleSkillLevel": 0}]}, {"name": "tier2"}]"#

    @Test func aCompleteSectionIsReadAsWritten() {
        let (configuration, issues) = read(#"""
            {\#(queues), "stickyMinutes": 30, "pendingCountsAgainstCapacity": false,
             "rules": [{"name": "es", "when": {"languages": ["es"], "keywords": ["factura"]}, "queue": "support", "priority": "high", "skills": {"lang:es": 3}, "tags": ["billing"]},
                       {"name": "rest", "queue": "tier2"}],
             "agents": [{"id": "ana", "name": "Ana", "capacity": 4, "skills": {"lang:es": 5}, "queues": ["support"], "presence": "online", "role": "supervisor"}]}
            """#)
        #expect(issues == [])
        #expect(configuration.queues.map(\.name) == ["support", "tier2"])
        #expect(configuration.queues[0].steps == [RoutingStep(requirements: [], timeout: 60, ruleSkillLevel: 4), RoutingStep(requirements: [], timeout: nil, ruleSkillLevel: 0)])
        #expect(configuration.rules[0].actions == .init(queue: "support", priority: .high, requiredSkills: [SkillRequirement("lang:es", atLeast: 3)], tags: ["billing"]))
        #expect(configuration.rules[0].conditions.keywords == ["factura"])
        #expect(configuration.rules[1].conditions.isCatchAll)
        #expect(configuration.agents == [AgentDefinition(id: "ana", name: "Ana", role: .supervisor, capacity: 4, skills: ["lang:es": 5], queues: ["support"])])
        #expect(configuration.initialPresence == ["ana": .online])
        #expect(configuration.stickySeconds == 1800)
        #expect(!configuration.pendingCountsAgainstCapacity)
    }

    @Test func withoutASectionEveryTicketGoesToOneDefaultQueue() {
        let diagnostics = ConfigDiagnostics()
        let configuration = RoutingConfiguration.read(nil)
        #expect(diagnostics.issues.isEmpty)
        #expect(configuration.queues.map(\.name) == ["default"])
        #expect(RoutingRules.classify(TicketFacts(businessNumber: "1"), rules: configuration.rules)?.actions.queue == "default")
    }

    @Test func aRuleNamingAnUnknownQueueIsRefused() {
        let (_, issues) = read(#"{\#(queues), "rules": [{"queue": "billing"}]}"#)
        #expect(issues == [#"routing.rules[0].queue: unknown queue "billing" (queues: "support", "tier2")"#])
    }

    @Test func aProficiencyOutsideOneToFiveIsRefusedWhereverItIs() {
        let (_, issues) = read(#"""
            {\#(queues), "rules": [{"queue": "support", "skills": {"lang:es": 7}}],
             "agents": [{"id": "ana", "queues": ["support"], "skills": {"product:billing": 0}}]}
            """#)
        #expect(issues == [
            "routing.rules[0].skills.lang:es: expected an integer 1–5, got 7",
            "routing.agents[0].skills.product:billing: expected an integer 1–5, got 0",
        ])
    }

    @Test func aStepWithoutTimeoutMustBeTheLast() {
        let (_, issues) = read(#"{"queues": [{"name": "q", "steps": [{"skills": {"lang:es": 4}}, {"skills": {}}]}], "rules": [{"queue": "q"}]}"#)
        #expect(issues == ["routing.queues[0].steps[0].timeoutSeconds: required: only the last step may go without a timeout (the steps after this one could never apply)"])
    }

    @Test func aCycleOfQueueMovesIsRefused() {
        let (_, issues) = read(#"""
            {"queues": [{"name": "a", "steps": [{"timeoutSeconds": 60, "moveTo": "b"}]},
                        {"name": "b", "steps": [{"timeoutSeconds": 60, "moveTo": "c"}]},
                        {"name": "c", "steps": [{"timeoutSeconds": 60, "moveTo": "a"}]}],
             "rules": [{"queue": "a"}]}
            """#)
        #expect(issues == ["routing.queues[0].steps: queue moves form a cycle: a → b → c → a; a ticket would move forever"])
    }

    @Test func movesMustNameAQueueAndHaveATimeout() {
        let (_, issues) = read(#"{"queues": [{"name": "a", "steps": [{"moveTo": "nowhere"}]}], "rules": [{"queue": "a"}]}"#)
        #expect(issues == [
            "routing.queues[0].steps[0].timeoutSeconds: required with moveTo: how long before the ticket moves",
            #"routing.queues[0].steps[0].moveTo: unknown queue "nowhere" (queues: "a")"#,
        ])
    }

    @Test func theLastRuleMustCatchTheRest() {
        let (_, issues) = read(#"{\#(queues), "rules": [{"when": {"countries": ["ES"]}, "queue": "support"}]}"#)
        #expect(issues == ["routing.rules[0].when: the last rule must have no conditions, so that it catches every ticket the others do not"])
    }

    @Test func agentsAreCheckedForHandlesDuplicatesAndQueues() {
        let (configuration, issues) = read(#"""
            {\#(queues), "rules": [{"queue": "support"}],
             "agents": [{"id": "ana", "queues": ["support"]}, {"id": "ana", "queues": ["tier2"]}, {"id": "bad handle", "queues": ["vip"]},
                        {"id": "cy", "queues": ["support"], "presence": "busy", "capacity": -1}]}
            """#)
        #expect(issues == [
            #"routing.agents[1].id: agent "ana" is declared twice (first at routing.agents[0])"#,
            #"routing.agents[2].id: "bad handle" is not a handle: 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit"#,
            #"routing.agents[2].queues[0]: unknown queue "vip" (queues: "support", "tier2")"#,
            "routing.agents[3].capacity: expected an integer 0–1000, got -1",
            #"routing.agents[3].presence: expected one of "online", "away", "offline", got "busy""#,
        ])
        #expect(configuration.agents.map(\.id) == ["ana", "cy"])
    }

    @Test func aMisspeltKeyIsNamedWithASuggestion() {
        let (_, issues) = read(#"{\#(queues), "rules": [{"queue": "support", "prority": "high"}]}"#)
        #expect(issues == [#"routing.rules[0].prority: unknown key; did you mean "priority"?"#])
    }

    @Test func businessHoursNeedAZoneWellFormedIntervalsAndNoOverlap() {
        let (_, issues) = read(#"{"businessHours": {"timeZone": "Mars/Olympus", "days": {"mon": ["22:00-06:00"], "tue": ["9-17", "05:00-07:00"]}, "holidays": {"2026-02-30": "closed", "2026-12-24": ["14:00-02:00"]}}}"#)
        #expect(issues == [
            #"routing.businessHours.timeZone: unknown time zone "Mars/Olympus" (an IANA name such as "Europe/Madrid")"#,
            #"routing.businessHours.days.tue[0]: expected "HH:MM-HH:MM" (an end before the start runs past midnight), got "9-17""#,
            "routing.businessHours.days.tue: intervals overlap: mon 22:00-06:00 and tue 05:00-07:00",
            #"routing.businessHours.holidays.2026-02-30: not a date like "2026-12-25""#,
            #"routing.businessHours.holidays.2026-12-24[0]: expected closed hours "HH:MM-HH:MM" within the day, got "14:00-02:00""#,
        ])
    }
}

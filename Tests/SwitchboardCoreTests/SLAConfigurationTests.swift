import Foundation
import SwitchboardCore
import Testing

@Suite("SLA configuration: calendars and policies, and every refusal with its key path")
struct SLAConfigurationTests {
    private func read(_ json: String, queues: Set<String> = ["support", "tier2"]) -> ([String: BusinessCalendar], [SLAPolicy], [String]) {
        let diagnostics = ConfigDiagnostics()
        let value = (try? JSONDecoder().decode(ConfigValue.self, from: Data(json.utf8))) ?? .null
        let root = ConfigObject(value, path: "", diagnostics: diagnostics)
        let calendars = SLAConfigurationReader.calendars(root.object("calendars"))
        let policies = SLAConfigurationReader.policies(root.object("sla"), calendars: calendars, queues: queues)
        root.finish()
        return (calendars, policies, diagnostics.issues.map(\.description))
    }

    @Test func aPolicyIsReadWithItsCalendarTargetsAndActions() {
        let (calendars, policies, issues) = read(#"""
            {"calendars": {"office": {"timeZone": "Europe/Madrid", "days": {"mon": ["09:00-13:00", "14:00-18:00"]}, "holidays": {"2026-12-25": "closed"}}},
             "sla": {"policies": [
                {"name": "vip", "when": {"priorities": ["urgent", "high"], "queues": ["support"]}, "calendar": "office",
                 "firstResponseMinutes": 2, "resolutionHours": 8, "warnAtPercent": 75,
                 "onWarning": [{"notify": "supervisors"}], "onBreach": [{"raisePriority": true}, {"moveTo": "tier2"}, {"addTag": "sla-breached"}]},
                {"name": "standard", "firstResponseMinutes": 60, "nextResponseMinutes": 120}]}}
            """#)
        #expect(issues == [])
        #expect(Set(calendars.keys) == ["24x7", "office"])
        #expect(policies.map(\.name) == ["vip", "standard"])
        let vip = policies[0]
        #expect(vip.targets.firstResponse == 120 && vip.targets.resolution == 8 * 3600 && vip.targets.nextResponse == nil)
        #expect(vip.targets.warningFraction == 0.75)
        #expect(vip.targets.calendar == calendars["office"])
        #expect(vip.onBreach == [.raisePriority, .moveTo(queue: "tier2"), .addTag("sla-breached")])
        #expect(policies[1].calendarName == "24x7")
        #expect(policies.policy(queue: "support", priority: .high, tags: [], businessNumber: "1")?.name == "vip")
        #expect(policies.policy(queue: "tier2", priority: .high, tags: [], businessNumber: "1")?.name == "standard")
    }

    @Test func badPoliciesAreRefusedWithTheirKeyPaths() {
        let (_, _, issues) = read(#"""
            {"calendars": {"office": {"timeZone": "Europe/Nowhere", "days": {"mon": ["09:00-18:00", "17:00-19:00"]}}},
             "sla": {"policies": [
                {"calendar": "night", "warnAtPercent": 120, "when": {"queues": ["billing"]}, "onBreach": [{"moveTo": "vip"}, {"escalate": true}]}]}}
            """#)
        #expect(issues == [
            #"calendars.office.timeZone: unknown time zone "Europe/Nowhere" (an IANA name such as "Europe/Madrid")"#,
            "calendars.office.days.mon: intervals overlap: mon 09:00-18:00 and mon 17:00-19:00",
            #"sla.policies[0].when.queues[0]: unknown queue "billing" (queues: "support", "tier2")"#,
            #"sla.policies[0].calendar: unknown calendar "night" (calendars: "24x7")"#,
            "sla.policies[0].firstResponseMinutes: a policy needs at least one target: firstResponseMinutes, nextResponseMinutes or resolutionHours",
            "sla.policies[0].warnAtPercent: expected a number from 1 to 100, got 120",
            #"sla.policies[0].onBreach[0].moveTo: unknown queue "vip" (queues: "support", "tier2")"#,
            "sla.policies[0].onBreach[1].escalate: not an action: escalate = true (known: notify \"supervisors\", raisePriority true, moveTo a queue, addTag a tag)",
        ])
    }

    @Test func aPolicyStoredWithATicketReadsBackEqualAndItsTextNamesOneVersion() throws {
        let (_, policies, issues) = read(#"""
            {"calendars": {"office": {"timeZone": "Europe/Madrid", "days": {"mon": ["09:00-13:00", "14:00-18:00"], "fri": ["22:00-02:00"]},
                                      "holidays": {"2026-12-25": "closed", "2026-12-24": ["14:00-18:00"], "2027-01-01": "closed"}}},
             "sla": {"policies": [
                {"name": "vip", "when": {"priorities": ["urgent", "high"], "queues": ["support", "tier2"], "tags": ["b", "a", "c"]}, "calendar": "office",
                 "firstResponseMinutes": 2, "resolutionHours": 8, "warnAtPercent": 75,
                 "onWarning": [{"notify": "supervisors"}], "onBreach": [{"raisePriority": true}, {"moveTo": "tier2"}, {"addTag": "sla-breached"}]}]}}
            """#)
        #expect(issues == [])
        let policy = try #require(policies.first)
        let text = try policy.canonicalJSON()
        #expect(try SLAPolicy.decode(canonicalJSON: text) == policy)
        // Sets and holidays are written sorted: the same policy read again gives the same text.
        let (_, again, _) = read(#"""
            {"calendars": {"office": {"timeZone": "Europe/Madrid", "days": {"fri": ["22:00-02:00"], "mon": ["09:00-13:00", "14:00-18:00"]},
                                      "holidays": {"2027-01-01": "closed", "2026-12-24": ["14:00-18:00"], "2026-12-25": "closed"}}},
             "sla": {"policies": [
                {"name": "vip", "when": {"tags": ["c", "a", "b"], "queues": ["tier2", "support"], "priorities": ["high", "urgent"]}, "calendar": "office",
                 "firstResponseMinutes": 2, "resolutionHours": 8, "warnAtPercent": 75,
                 "onWarning": [{"notify": "supervisors"}], "onBreach": [{"raisePriority": true}, {"moveTo": "tier2"}, {"addTag": "sla-breached"}]}]}}
            """#)
        #expect(try again.first?.canonicalJSON() == text)
        #expect(text.contains(#""holidays":[{"closed":[{"length":240,"start":840}],"day":"2026-12-24"},{"closed":"all","day":"2026-12-25"}"#))
        // A damaged row is an error, not a crash.
        #expect(throws: DecodingError.self) { try SLAPolicy.decode(canonicalJSON: text.replacingOccurrences(of: "Europe/Madrid", with: "Mars/Olympus")) }
        #expect(throws: DecodingError.self) { try SLAPolicy.decode(canonicalJSON: text.replacingOccurrences(of: #""length":240"#, with: #""length":0"#)) }
    }
}

import Foundation
import JSON
import SwitchboardCore
import SwitchboardDaemon
import Testing
import TestSupport

/// What a person sees from the real `switchboardctl` against the control socket served in process:
/// options before the subcommand, `watch` lines (the agent named, values quoted, escalation steps)
/// and `watch --json` (one object a line), `ticket` (events in time order, data as key=value),
/// `status` during a drain, and `accept`.
@Suite("switchboardctl as a person sees it: options, watch, ticket, status, accept")
struct SwitchboardctlOutputTests {
    static let ana = AgentDefinition(id: "ana", name: "Ana", teams: ["care"], capacity: 2, queues: ["support"])
    static let ben = AgentDefinition(id: "ben", name: "Ben", teams: ["care"], capacity: 2, queues: ["support"])
    static let agentAna = ControlHarness.peer(.agent, agent: "ana", queues: ["support"])
    static let admin = ControlHarness.peer(.admin, agent: nil, queues: nil)

    static func start(_ label: String) async throws -> ControlHarness {
        try await ControlHarness.start(label, configuration: .testing(agents: [ana, ben], presence: ["ana": .online, "ben": .offline],
                                                                      extraQueues: [QueueDefinition(name: "supervisors")]),
                                       access: ControlHarness.selfAdmin)
    }

    static func ctl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await runCommand(ControlHarness.switchboardctl, arguments)
    }

    static func call(_ harness: ControlHarness, _ method: String, _ parameters: [String: ConfigValue], _ peer: ControlService.Peer = admin) async -> VarlinkReply? {
        guard case .single(let reply, _) = await harness.service.respond(to: VarlinkCall(method: "io.switchboard.Control." + method, parameters: parameters), from: peer) else {
            return nil
        }
        return reply
    }

    @Test func theGlobalOptionsMayComeBeforeTheSubcommandOrAfterIt() async throws {
        let harness = try await Self.start("ctl_global_options")
        defer { harness.stop() }
        for arguments in [["--socket", harness.socket, "status"], ["status", "--socket", harness.socket], ["--json", "--socket", harness.socket, "queues"],
                          ["--socket", harness.socket, "queues", "--json"]] {
            let result = try await Self.ctl(arguments)
            #expect(result.status == 0, "switchboardctl \(arguments.joined(separator: " ")): \(result.output)")
            #expect(result.output.contains("support"), "switchboardctl \(arguments.joined(separator: " ")): \(result.output)")
        }
        #expect(try await Self.ctl(["--json", "--socket", harness.socket, "queues"]).output.contains(#""name" : "support""#))
    }

    @Test func watchNamesTheAgentQuotesValuesShowsEscalationStepsAndPrintsOneJSONObjectALine() async throws {
        let harness = try await Self.start("ctl_watch_lines")
        defer { harness.stop() }
        let human = harness.directory + "/watch.out", json = harness.directory + "/watch.json"
        let watchers = try [human, json].map { path in
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ControlHarness.switchboardctl)
            process.arguments = ["--socket", harness.socket, "watch"] + (path == json ? ["--json"] : [])
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try process.run()
            return process
        }
        defer { watchers.forEach { $0.terminate() } }
        for _ in 0..<200 where harness.events.subscriberCount < 2 { try await Task.sleep(for: .milliseconds(25)) }
        #expect(harness.events.subscriberCount == 2)

        let router = harness.routing.router
        let ticket = try await harness.routing.customerWrites("447700900501", "Hello")
        let reference = try await ControlMethodsTests.reference(harness, ticket)
        #expect(try await router.setPresence("ben", to: .online, actor: "control:sam"))
        #expect(await Self.call(harness, "Accept", ["reference": .string(reference)], Self.agentAna)?.error == nil)
        #expect(try await router.setPriority(ticket, to: .urgent, actor: "control:sam"))
        #expect(try await router.unassign(ticket, actor: "control:sam"))
        // An SLA breach's escalation: taken from Ana (sticky routing gave it back to her), moved, tagged.
        let breach = "SLA breach: first_response (policy demo)"
        await router.escalate(ticket, actions: [.moveTo(queue: "supervisors"), .addTag("sla-breached")], reason: breach)
        var lines: [String] = []
        for _ in 0..<200 {
            lines = ((try? String(contentsOfFile: human, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            if lines.contains(where: { $0.contains(" tagged ") }) { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        let shown = lines.joined(separator: "\n")
        for expected in [
            "presence agent=ben by=control:sam presence=online to=ben",
            "assigned \(reference) agent=ana queue=support why=\"lowest load among eligible agents (load 0 of 2); no skills required\" to=ana",
            "accepted \(reference) agent=ana by=control:ana queue=support to=ana",
            "priority_changed \(reference) agent=ana by=control:sam previous=normal priority=urgent queue=support why=\"set by control:sam\" to=ana",
            "unassigned \(reference) agent=ana by=control:sam queue=support why=\"unassigned by control:sam\" to=ana",
            "unassigned \(reference) agent=ana by=sla queue=support why=\"SLA breach: first_response (policy demo)\" to=ana",
            "moved \(reference) by=sla from=support queue=supervisors why=\"SLA breach: first_response (policy demo)\"",
            "tagged \(reference) by=sla queue=supervisors tag=sla-breached why=\"SLA breach: first_response (policy demo)\"",
        ] {
            #expect(lines.contains { $0.hasSuffix(" " + expected) }, "watch did not print …\(expected)\nit printed:\n\(shown)")
        }
        // Every line of --json is one JSON object, the same events in the same order.
        var objects: [JSONValue] = []
        for _ in 0..<200 {
            let text = (try? String(contentsOfFile: json, encoding: .utf8)) ?? ""
            objects = text.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
            if objects.count >= lines.count && text.hasSuffix("\n") { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        let jsonLines = ((try? String(contentsOfFile: json, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(jsonLines.count == lines.count, "\(jsonLines)")
        #expect(objects.count == jsonLines.count && objects.allSatisfy(\.isObject), "\(jsonLines)")
        #expect(objects.map { $0["kind"]?.string ?? "?" } == lines.map { String($0.split(separator: " ")[1]) })
        #expect(objects.first { $0["kind"]?.string == "presence" }?["agent"]?.string == "ben")
    }

    @Test func ticketListsEventsInTimeOrderWithTheirDataAsKeyValuePairs() async throws {
        let harness = try await Self.start("ctl_ticket_events")
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900511", "Hello")
        let reference = try await ControlMethodsTests.reference(harness, ticket)
        // A note stamped by the control socket's clock (now), then a priority change stamped by
        // routing's (the test's virtual clock, which is earlier): written in one order, they
        // happened in the other.
        #expect(await Self.call(harness, "AddNote", ["reference": .string(reference), "text": "Called back"])?.error == nil)
        #expect(try await harness.routing.router.setPriority(ticket, to: .high, actor: "control:sam"))
        let result = try await Self.ctl(["--socket", harness.socket, "ticket", reference])
        #expect(result.status == 0, "\(result.output)")
        let events = result.output.components(separatedBy: "\nEVENTS\n").last?.components(separatedBy: "\n\n").first?
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        let times = events.map { String($0.prefix { $0 != " " }) }
        #expect(times == times.sorted(), "\(result.output)")
        #expect(events.map { $0.split(separator: " ")[1] } == ["created", "message_received", "routed", "assigned", "priority_changed", "note_added"],
                "\(result.output)")
        #expect(events.contains { $0.hasSuffix("priority_changed control:sam from=normal reason=\"set by control:sam\" to=high") }, "\(result.output)")
        #expect(events.contains { $0.contains(" routed routing ") && $0.contains("priority=normal queue=support required_skills=[] rule=all rule_position=1 tags=[]") },
                "\(result.output)")
        #expect(events.contains { $0.contains("assigned routing agent=ana detail=\"lowest load among eligible agents (load 0 of 2); no skills required\"") }, "\(result.output)")
        #expect(!result.output.contains("{\""), "raw JSON in \(result.output)")
    }

    @Test func statusShowsADaemonDrainOnceAndOnlyPausedQueuesAsPaused() async throws {
        let harness = try await Self.start("ctl_status_drain")
        defer { harness.stop() }
        #expect(await Self.call(harness, "Drain", [:])?.error == nil)
        let draining = try await Self.ctl(["--socket", harness.socket, "status"])
        #expect(draining.output.components(separatedBy: "DRAINING").count == 2, "\(draining.output)")
        #expect(!draining.output.contains("(paused)"), "\(draining.output)")
        #expect(await Self.call(harness, "PauseQueue", ["name": "support"])?.error == nil)
        let paused = try await Self.ctl(["--socket", harness.socket, "status"])
        #expect(paused.output.contains("\nsupport (paused)"), "\(paused.output)")
    }

    @Test func acceptIsAnsweredAsAPersonReadsIt() async throws {
        let harness = try await Self.start("ctl_accept")
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900521", "Hello")
        let reference = try await ControlMethodsTests.reference(harness, ticket)
        // The test's user acts as no agent: it is told how an admin links it to one.
        let unlinked = try await Self.ctl(["--socket", harness.socket, "accept", reference])
        #expect(unlinked.status == 77, "\(unlinked.output)")
        #expect(unlinked.output.contains("acts as no agent; an admin links them to their agent record: switchboardctl update-agent AGENT --unix-user"),
                "\(unlinked.output)")
        // Linked to Ben, who does not hold it: a conflict naming its code.
        let me = getuid() == 0 ? "root" : ProcessInfo.processInfo.userName
        #expect(try await Self.ctl(["--socket", harness.socket, "update-agent", "ben", "--unix-user", me]).status == 0)
        let notTheirs = try await Self.ctl(["--socket", harness.socket, "accept", reference])
        #expect(notTheirs.status == 1, "\(notTheirs.output)")
        #expect(notTheirs.output.contains("conflict (not_your_ticket): \(reference) is assigned to another agent; only its agent accepts it"),
                "\(notTheirs.output)")
        // Given to Ben, he accepts it; again is answered as done before.
        #expect(await Self.call(harness, "Assign", ["reference": .string(reference), "agent": "ben"])?.error == nil)
        let accepted = try await Self.ctl(["--socket", harness.socket, "accept", reference])
        #expect(accepted.status == 0 && accepted.output.contains("\(reference) accepted by ben at "), "\(accepted.output)")
        let again = try await Self.ctl(["--socket", harness.socket, "accept", reference])
        #expect(again.status == 0 && again.output.contains("\(reference) was already accepted by ben at "), "\(again.output)")
        let written = try await harness.routing.events(ticket, "accepted")
        #expect(written.count == 1)
        #expect(written.first?["agent"] as? String == "ben")
    }
}

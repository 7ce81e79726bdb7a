import Foundation
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport

/// The control socket with a real database: framing and bad input, introspection, permissions,
/// streaming, and the audit.
@Suite("Control socket: Varlink framing, permissions, Watch, audit")
struct ControlSocketTests {
    static let ana = AgentDefinition(id: "ana", name: "Ana", teams: ["care"], capacity: 2, queues: ["support"])
    static let ben = AgentDefinition(id: "ben", name: "Ben", teams: ["care"], capacity: 2, queues: ["support"])
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func configuration(anaOnline: Bool = true) -> RoutingConfiguration {
        .testing(agents: [ana, ben], presence: ["ana": anaOnline ? .online : .offline, "ben": .offline])
    }

    @Test func severalCallsArrivingInPiecesOnOneConnectionAreAnsweredInOrder() async throws {
        let harness = try await ControlHarness.start("control_framing", configuration: Self.configuration())
        defer { harness.stop() }
        let client = try await harness.connect()
        let calls = Array(#"{"method": "org.varlink.service.GetInfo"}"#.utf8) + [0] + Array(#"{"method": "io.switchboard.Control.Status", "parameters": {}}"#.utf8) + [0]
        try await client.send(Array(calls[0..<7]))
        try await client.send(Array(calls[7..<50]))
        try await client.send(Array(calls[50...]))
        let info = try VarlinkTestClient.object(try #require(try await client.receive()))
        let infoParameters = try #require(info["parameters"] as? [String: Any])
        #expect(infoParameters["interfaces"] as? [String] == ["org.varlink.service", "io.switchboard.Control"])
        let status = try VarlinkTestClient.object(try #require(try await client.receive()))
        let parameters = try #require(status["parameters"] as? [String: Any])
        #expect(parameters["role"] as? String == "admin")
        let queues = try #require(parameters["queues"] as? [[String: Any]])
        #expect(queues.map { $0["name"] as? String } == ["support"])
        #expect(queues.first?["agents_online"] as? Int == 1)
        #expect(queues.first?["agents_free"] as? Int == 1)
        // The same connection keeps serving.
        let again = try await client.call("io.switchboard.Control.ListAgents")
        #expect(((again["parameters"] as? [String: Any])?["agents"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["ana", "ben"])
    }

    @Test func badInputGetsANamedErrorAndClosesOnlyThatConnection() async throws {
        let harness = try await ControlHarness.start("control_bad_input", configuration: Self.configuration(), maxMessageBytes: 4096)
        defer { harness.stop() }
        let garbage = try await harness.connect()
        try await garbage.send(Array("{not json".utf8) + [0])
        let reply = try VarlinkTestClient.object(try #require(try await garbage.receive()))
        #expect(reply["error"] as? String == "io.switchboard.Control.InvalidArgument")
        #expect(((reply["parameters"] as? [String: Any])?["reason"] as? String)?.hasPrefix("not valid JSON") == true)
        #expect(try await garbage.receive() == nil)

        let huge = try await harness.connect()
        try await huge.send([UInt8](repeating: UInt8(ascii: "x"), count: 5000))
        let refused = try VarlinkTestClient.object(try #require(try await huge.receive()))
        #expect((refused["parameters"] as? [String: Any])?["reason"] as? String == "message longer than 4096 bytes")
        #expect(try await huge.receive() == nil)

        let notACall = try await harness.connect()
        try await notACall.send(Array(#"{"parameters": {}}"#.utf8) + [0])
        let missing = try VarlinkTestClient.object(try #require(try await notACall.receive()))
        #expect((missing["parameters"] as? [String: Any])?["reason"] as? String == #"a call needs "method": a string"#)

        let fine = try await harness.connect()
        let status = try await fine.call("io.switchboard.Control.Status")
        #expect(status["error"] == nil)
        let unknown = try await fine.call("io.switchboard.Control.Explode")
        #expect(unknown["error"] as? String == "org.varlink.service.MethodNotFound")
        let elsewhere = try await fine.call("com.example.Other.Method")
        #expect(elsewhere["error"] as? String == "org.varlink.service.InterfaceNotFound")
        let wrongType = try await fine.call("io.switchboard.Control.ListTickets", #"{"limit": "ten"}"#)
        #expect(wrongType["error"] as? String == "io.switchboard.Control.InvalidArgument")
        #expect((wrongType["parameters"] as? [String: Any])?["reason"] as? String == #"expected an integer, got "ten""#)
    }

    @Test func theInterfaceDescriptionIsTheFileInTheRepository() async throws {
        let harness = try await ControlHarness.start("control_describe", configuration: Self.configuration())
        defer { harness.stop() }
        let client = try await harness.connect()
        let reply = try await client.call("org.varlink.service.GetInterfaceDescription", #"{"interface": "io.switchboard.Control"}"#)
        let file = try String(contentsOf: Self.repository.appendingPathComponent("Sources/SwitchboardDaemon/Control/io.switchboard.Control.varlink"), encoding: .utf8)
        #expect((reply["parameters"] as? [String: Any])?["description"] as? String == file)
        let service = try await client.call("org.varlink.service.GetInterfaceDescription", #"{"interface": "org.varlink.service"}"#)
        #expect(((service["parameters"] as? [String: Any])?["description"] as? String)?.contains("interface org.varlink.service") == true)
    }

    @Test func watchStreamsAnAssignmentAsItHappensFilteredByAgent() async throws {
        let harness = try await ControlHarness.start("control_watch", configuration: Self.configuration())
        defer { harness.stop() }
        let everything = try await harness.connect()
        try await everything.send(method: "io.switchboard.Control.Watch", more: true)
        let onlyBen = try await harness.connect()
        try await onlyBen.send(method: "io.switchboard.Control.Watch", parameters: #"{"agent": "ben"}"#, more: true)
        let notStreaming = try await harness.connect()
        let refused = try await notStreaming.call("io.switchboard.Control.Watch")
        #expect(refused["error"] as? String == "org.varlink.service.ExpectedMore")
        // Both subscriptions registered before the customer writes (a reply on another connection
        // does not say the server has handled these two: count the followers).
        var waited = 0
        while harness.events.subscriberCount < 2, waited < 1200 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        #expect(harness.events.subscriberCount == 2)
        let ticket = try await harness.routing.customerWrites("447700900101", "Hello, I need help")
        let reference = try #require(try await harness.routing.pool.query("SELECT reference FROM switchboard.tickets WHERE id = $1", [ticket]).first?.decode(0, as: String.self))
        // The customer's message comes first; then its wait in the queue, then the assignment.
        let message = try VarlinkTestClient.object(try #require(try await everything.receive()))
        #expect(message["continues"] as? Bool == true)
        #expect(((message["parameters"] as? [String: Any])?["event"] as? [String: Any])?["kind"] as? String == "message")
        let queued = try #require(try await everything.nextEvent(skipping: ["message"]))
        #expect(queued["kind"] as? String == "queued" && (queued["queue"] as? String) == "support")
        let event = try #require(try await everything.nextEvent(skipping: ["message"]))
        #expect(event["kind"] as? String == "assigned")
        #expect(event["ticket"] as? String == reference)
        #expect((event["details"] as? [String: Any])?["agent"] as? String == "ana")
        // Ben's follower saw nothing of Ana's assignment: the next thing it gets is Ben's own.
        try await harness.routing.setPresence("ben", .online)
        let second = try await harness.routing.customerWrites("447700900102", "Hello again")
        let third = try await harness.routing.customerWrites("447700900103", "And once more")
        let benPresence = try #require(try await onlyBen.nextEvent(skipping: ["message"]))
        #expect(benPresence["kind"] as? String == "presence")
        let benEvent = try #require(try await onlyBen.nextEvent(skipping: ["message"]))
        let benDetails = try #require(benEvent["details"] as? [String: Any])
        #expect(benDetails["agent"] as? String == "ben")
        let benHas = try await harness.routing.pool.query("SELECT count(*)::int FROM switchboard.tickets WHERE assignee = 'ben' AND id = ANY($1)", [[second, third]]).first?.decode(0, as: Int.self)
        #expect((benHas ?? 0) >= 1)
    }

    @Test func mutatingCallsAreAuditedWithTheCallerAndTheResult() async throws {
        let harness = try await ControlHarness.start("control_audit", configuration: Self.configuration())
        defer { harness.stop() }
        let client = try await harness.connect()
        let changed = try await client.call("io.switchboard.Control.SetPresence", #"{"id": "ben", "presence": "away"}"#)
        #expect(((changed["parameters"] as? [String: Any])?["agent"] as? [String: Any])?["presence"] as? String == "away")
        let bad = try await client.call("io.switchboard.Control.SetPresence", #"{"id": "ben", "presence": "asleep"}"#)
        #expect(bad["error"] as? String == "io.switchboard.Control.InvalidArgument")
        let missing = try await client.call("io.switchboard.Control.SetPresence", #"{"id": "zoe", "presence": "online"}"#)
        #expect(missing["error"] as? String == "io.switchboard.Control.NotFound")
        _ = try await client.call("io.switchboard.Control.Status")
        let rows = try await harness.routing.pool.query(
            "SELECT unix_user, uid, role, method, arguments->>'id', arguments->>'presence', result FROM switchboard.control_audit ORDER BY id"
        ).map { row in
            "\(try row.decode(0, as: String.self)) \(try row.decode(1, as: Int.self)) \(try row.decode(2, as: String.self)) \(try row.decode(3, as: String.self)) "
                + "\(try row.decode(4, as: String.self)) \(try row.decode(5, as: String.self)) \(try row.decode(6, as: String.self))"
        }
        let me = getuid() == 0 ? "root 0 admin" : "\(String(cString: getpwuid(getuid()).pointee.pw_name)) \(getuid()) admin"
        #expect(rows == ["\(me) io.switchboard.Control.SetPresence ben away ok",
                         "\(me) io.switchboard.Control.SetPresence ben asleep InvalidArgument",
                         "\(me) io.switchboard.Control.SetPresence zoe online NotFound"])
        let presence = try await harness.routing.pool.query("SELECT presence FROM switchboard.agents WHERE id = 'ben'").first?.decode(0, as: String.self)
        #expect(presence == "away")
    }

    @Test func rolesDecideWhatEachCallerMayDoAndSeeThroughTheService() async throws {
        var configuration = Self.configuration(anaOnline: true)
        configuration.queues.append(QueueDefinition(name: "billing"))
        let harness = try await ControlHarness.start("control_roles", configuration: configuration)
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900111", "Hello")
        let reference = try #require(try await harness.routing.pool.query("SELECT reference FROM switchboard.tickets WHERE id = $1", [ticket]).first?.decode(0, as: String.self))
        let ana = ControlHarness.peer(.agent, agent: "ana", queues: ["support"])
        let ben = ControlHarness.peer(.agent, agent: "ben", queues: ["support"])
        let billingLead = ControlHarness.peer(.supervisor, agent: "lee", queues: ["billing"])
        let supportLead = ControlHarness.peer(.supervisor, agent: "sam", queues: ["support"])
        func error(_ method: String, _ parameters: [String: ConfigValue], _ peer: ControlService.Peer) async -> String? {
            guard case .single(let reply, _) = await harness.service.respond(to: VarlinkCall(method: "io.switchboard.Control." + method, parameters: parameters), from: peer) else {
                return "streamed"
            }
            return reply.error.map { String($0.split(separator: ".").last ?? "") }
        }
        #expect(await error("ShowTicket", ["reference": .string(reference)], ana) == nil)
        #expect(await error("ShowTicket", ["reference": .string(reference)], ben) == "NotFound")
        #expect(await error("ShowTicket", ["reference": .string(reference)], billingLead) == "NotFound")
        #expect(await error("ShowTicket", ["reference": .string(reference)], supportLead) == nil)
        #expect(await error("ShowTicket", ["reference": .string("T-999999")], supportLead) == "NotFound")
        #expect(await error("SetPresence", ["id": .string("ana"), "presence": .string("away")], ben) == "PermissionDenied")
        #expect(await error("SetPresence", ["id": .string("ben"), "presence": .string("away")], ben) == nil)
        #expect(await error("Reload", [:], supportLead) == "PermissionDenied")
        #expect(await error("ShowAgent", ["id": .string("ana")], ben) == "PermissionDenied")
        #expect(await error("Status", [:], ben) == nil)
        let refused = ControlService.Peer(credentials: PeerCredentials(pid: 1, uid: 4242, gid: 4242, user: "mallory", groups: []), caller: nil,
                                          refusal: "Unix user mallory has no role")
        #expect(await error("Status", [:], refused) == "PermissionDenied")
        #expect(await error("RemoveAgent", ["id": .string("ana")], refused) == "PermissionDenied")
        // Refused calls that would change something are audited too.
        let audited = try await harness.routing.pool.query("SELECT unix_user, method, result FROM switchboard.control_audit WHERE result <> 'ok' ORDER BY id")
            .map { "\(try $0.decode(0, as: String.self)) \(try $0.decode(1, as: String.self)) \(try $0.decode(2, as: String.self))" }
        #expect(audited == ["ben io.switchboard.Control.SetPresence PermissionDenied", "sam io.switchboard.Control.Reload PermissionDenied",
                            "mallory io.switchboard.Control.RemoveAgent PermissionDenied"])
        #expect(harness.routing.router.roster.agent("ana") != nil)
        // An agent's ticket list holds only what they may see.
        guard case .single(let list, _) = await harness.service.respond(to: VarlinkCall(method: "io.switchboard.Control.ListTickets"), from: ben) else {
            Issue.record("ListTickets streamed")
            return
        }
        #expect(list.parameters["tickets"] == .array([]))
    }

    @Test func theReferenceVarlinkClientParsesTheInterfaceAndCallsIt() async throws {
        let harness = try await ControlHarness.start("control_python", configuration: Self.configuration())
        defer { harness.stop() }
        // The reference implementation (pip package varlink) builds its proxy from our interface
        // description, so this also checks that the .varlink file parses.
        let script = """
            import sys, varlink
            with varlink.Client(address="unix:" + sys.argv[1]) as client:
                print(",".join(client.get_interfaces()))
                with client.open("io.switchboard.Control", namespaced=True) as control:
                    status = control.Status()
                    print(status.role, ",".join(queue.name for queue in status.queues))
                    print(control.ShowAgent(id="ana").agent.skills)
                    try:
                        control.ShowAgent(id="zoe")
                    except varlink.VarlinkError as error:
                        print(error.error(), error.parameters()["name"])
            """
        let result = try await runCommand("/usr/bin/env", ["python3", "-c", script, harness.socket])
        #expect(result.status == 0, "python3 with the varlink package (pip install varlink): \(result.output)")
        #expect(result.output.split(separator: "\n") == ["org.varlink.service,io.switchboard.Control", "admin support", "{}",
                                                         "io.switchboard.Control.NotFound zoe"], "\(result.output)")
    }

    @Test func aRefusalSaysHowAnAdminGrantsARole() async throws {
        let access = ControlAccess(agents: .init(groups: ["switchboard-agents"]))
        let harness = try await ControlHarness.start("control_no_role_hint", configuration: Self.configuration(), access: access)
        defer { harness.stop() }
        let stranger = await harness.service.admit(PeerCredentials(pid: 1, uid: 4242, gid: 4242, user: "mallory", groups: []))
        #expect(stranger.caller == nil)
        #expect(stranger.refusal == "Unix user mallory has no role. An admin grants one in the configuration: mallory in control.agents.users "
                + "(or control.supervisors, control.admins), or in a group it names (usermod -aG switchboard-agents mallory), then runs: "
                + "switchboardctl reload; an agent is also linked to their record: switchboardctl update-agent AGENT --unix-user mallory")
        // In the agents' group but named by no agent record: the link is what is missing.
        let unlinked = await harness.service.admit(PeerCredentials(pid: 1, uid: 4243, gid: 4243, user: "eve", groups: ["switchboard-agents"]))
        #expect(unlinked.refusal == "no agent record names Unix user eve; an admin links it: switchboardctl update-agent AGENT --unix-user eve")
    }

    @Test func aPeerWithNoRoleIsRefusedByItsKernelCredentials() async throws {
        let harness = try await ControlHarness.start("control_unknown_peer", configuration: Self.configuration())
        defer { harness.stop() }
        if getuid() == 0 {
            // Root is always admin, so play the stranger: `switchboardctl` as nobody.
            chmod(harness.directory, 0o755)
            let ctl = URL(fileURLWithPath: DaemonProcess.executablePath).deletingLastPathComponent().appendingPathComponent("switchboardctl").path
            let result = try await runCommand("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", ctl, "status", "--socket", harness.socket])
            #expect(result.status == 77, "\(result.output)")
            #expect(result.output.contains("permission denied: Unix user nobody has no role"), "\(result.output)")
            // … and what an admin runs about it.
            #expect(result.output.contains("then runs: switchboardctl reload; an agent is also linked to their record: "
                                           + "switchboardctl update-agent AGENT --unix-user nobody"), "\(result.output)")
        } else {
            // This user has no role in an empty access list.
            let client = try await harness.connect()
            let reply = try await client.call("io.switchboard.Control.Status")
            #expect(reply["error"] as? String == "io.switchboard.Control.PermissionDenied")
        }
    }
}

/// Runs a command to completion on its own thread, with `input` on its standard input; returns its
/// status and combined output.
func runCommand(_ executable: String, _ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                let stdin = Pipe()
                if input != nil { process.standardInput = stdin }
                try process.run()
                if let input {
                    stdin.fileHandleForWriting.write(Data(input.utf8))
                    try stdin.fileHandleForWriting.close()
                }
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return (process.terminationStatus, String(decoding: data, as: UTF8.self))
            })
        }.start()
    }
}

import Foundation
import Postgres
import Testing
import TestSupport
import WhatsApp

/// The README's control walk-through, automated: the real daemon and the real `switchboardctl`.
@Suite("Control end to end: switchboardctl against the real daemon")
struct ControlEndToEndTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func statusAddAnAgentWatchAnAssignmentDrainTheAgentAndReadTheAudit() async throws {
        let directory = try makeTemporaryDirectory("control-e2e")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configPath = try ExampleDaemon.writeConfiguration(in: directory)
        let started = try await ExampleDaemon.start(configPath: configPath, directory: directory)
        let daemon = started.process, port = started.port

        let ctl = started.switchboardctl
        let socket = directory + "/control.sock"
        // The socket before the command, as operators type it (after it works too, as below).
        let shown = try await runCommand(ctl, ["--socket", socket, "status"])
        #expect(shown.status == 0, "\(shown.output)\nlog:\n\(daemon.log)")
        #expect(shown.output.contains("support      best-skill"), "\(shown.output)")

        let added = try await runCommand(ctl, ["add-agent", "eva", "--name", "Eva Novak", "--queue", "support", "--skill", "lang:en=5", "--skill", "lang:de=4",
                                               "--capacity", "3", "--socket", socket])
        #expect(added.status == 0, "\(added.output)")
        #expect(added.output.contains("lang:de=4,lang:en=5"), "\(added.output)")
        let refused = try await runCommand(ctl, ["add-agent", "eva", "--queue", "nowhere", "--socket", socket])
        #expect(refused.status == 64, "\(refused.output)")
        // Ben goes away, Eva comes online: the English customer can only be Eva's.
        #expect(try await runCommand(ctl, ["presence", "ben", "away", "--socket", socket]).status == 0)
        #expect(try await runCommand(ctl, ["presence", "eva", "online", "--socket", socket]).status == 0)

        let watchLog = directory + "/watch.out"
        _ = FileManager.default.createFile(atPath: watchLog, contents: nil)
        let watch = Process()
        watch.executableURL = URL(fileURLWithPath: ctl)
        watch.arguments = ["watch", "--socket", socket]
        watch.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: watchLog))
        try watch.run()
        defer { watch.terminate() }
        // The watch follows once the daemon counts it as a follower (bounded wait).
        for _ in 0..<1200 {
            let json = try await runCommand(ctl, ["status", "--json", "--socket", socket]).output
            if json.contains(#""followers" : 1"#) { break }
            try await Task.sleep(for: .milliseconds(50))
        }

        let secret = try ExampleDaemon.appSecret()
        let body = Array(try Data(contentsOf: Self.repository.appendingPathComponent("dev/webhooks/english-customer.json")))
        let response = try await httpRequest(port: port, method: "POST", path: "/webhooks/whatsapp",
                                             headers: ["X-Hub-Signature-256": WebhookSignature(appSecret: secret).headerValue(for: body), "Content-Type": "application/json"], body: body)
        #expect(response.status == 200)
        var seen = ""
        for _ in 0..<1200 {
            seen = (try? String(contentsOfFile: watchLog, encoding: .utf8)) ?? ""
            if seen.contains("assigned") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(seen.contains("assigned T-1001 agent=eva queue=support"), "watch printed: \(seen)\nlog:\n\(daemon.log)")

        // Eva drains: she keeps T-1001, and the next English customer waits for her (Ana is away,
        // so nobody else could take it) until the drain ends.
        #expect(try await runCommand(ctl, ["presence", "ana", "away", "--socket", socket]).status == 0)
        let drained = try await runCommand(ctl, ["drain", "eva", "--socket", socket])
        #expect(drained.status == 0 && drained.output.contains("agent eva is now draining"), "\(drained.output)")
        #expect(try await runCommand(ctl, ["agents", "--socket", socket]).output.contains("online (draining)"))
        let second = Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "447700900123", with: "447700900124")
            .replacingOccurrences(of: "wamid.DEV-ENGLISH-0001", with: "wamid.DEV-ENGLISH-0002").utf8)
        let secondResponse = try await httpRequest(port: port, method: "POST", path: "/webhooks/whatsapp",
                                                   headers: ["X-Hub-Signature-256": WebhookSignature(appSecret: secret).headerValue(for: second), "Content-Type": "application/json"],
                                                   body: second)
        #expect(secondResponse.status == 200)
        var waiting = ""
        for _ in 0..<1200 {
            waiting = try await runCommand(ctl, ["status", "--json", "--socket", socket]).output
            if waiting.contains(#""waiting" : 1"#) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(waiting.contains(#""waiting" : 1"#), "\(waiting)")
        let held = try await runCommand(ctl, ["ticket", "T-1002", "--json", "--socket", socket]).output
        #expect(!held.contains(#""assignee" : "eva""#), "\(held)")
        #expect(try await runCommand(ctl, ["drain", "--undo", "eva", "--socket", socket]).status == 0)
        for _ in 0..<1200 {
            seen = (try? String(contentsOfFile: watchLog, encoding: .utf8)) ?? ""
            if seen.contains("assigned T-1002") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(seen.contains("assigned T-1002 agent=eva queue=support"), "watch printed: \(seen)\nlog:\n\(daemon.log)")

        let database = try await PostgresConnection.connect(.init(connectionString: "host=\(directory)/state/postgres/data port=5432 user=switchboard dbname=switchboard"))
        let audit = try await database.query("SELECT unix_user, role, method, result FROM switchboard.control_audit ORDER BY id")
            .map { "\(try $0.decode(0, as: String.self)) \(try $0.decode(1, as: String.self)) \(try $0.decode(2, as: String.self)) \(try $0.decode(3, as: String.self))" }
        let me = getuid() == 0 ? "root" : ProcessInfo.processInfo.userName
        #expect(audit == ["\(me) admin io.switchboard.Control.AddAgent ok", "\(me) admin io.switchboard.Control.AddAgent InvalidArgument",
                          "\(me) admin io.switchboard.Control.SetPresence ok", "\(me) admin io.switchboard.Control.SetPresence ok",
                          "\(me) admin io.switchboard.Control.SetPresence ok", "\(me) admin io.switchboard.Control.Drain ok",
                          "\(me) admin io.switchboard.Control.Drain ok"])
        await database.close()

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log:\n\(daemon.log)")
    }
}

import Foundation
import JSON
import Testing
import TestSupport

/// The README's sign-in, end to end: an admin sets a password with `switchboardctl set-password`
/// (from standard input here, as a script would), the agent signs in to the real daemon, the API
/// takes the cookie, the session is listed and ended with `switchboardctl`; the password is in no
/// audit row.
@Suite("Web sign-in end to end: switchboardctl set-password, the real daemon, the cookie")
struct WebSignInEndToEndTests {
    @Test func anAdminSetsAPasswordTheAgentSignsInAndTheSessionIsEndedWithSwitchboardctl() async throws {
        let directory = try makeTemporaryDirectory("sign-in-e2e")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configPath = try ExampleDaemon.writeConfiguration(in: directory)
        let started = try await ExampleDaemon.start(configPath: configPath, directory: directory)
        let port = started.port, ctl = started.switchboardctl, socket = directory + "/control.sock"
        let password = "a password for Ana's shift"

        let short = try await runCommand(ctl, ["set-password", "ana", "--socket", socket], input: "short\n")
        #expect(short.status == 64 && short.output.contains("at least 12 characters"), "\(short.output)")
        let set = try await runCommand(ctl, ["set-password", "ana", "--socket", socket], input: password + "\n")
        #expect(set.status == 0 && set.output.contains("password set for ana"), "\(set.output)")

        let body = Array(JSONWriter.write(["handle": "ana", "password": .string(password)]).utf8)
        let refused = try await httpExchange(port: port, method: "POST", path: "/auth/sign-in", headers: ["Content-Type": "application/json"],
                                             body: Array(JSONWriter.write(["handle": "ana", "password": "not her password"]).utf8))
        #expect(refused.status == 401)
        let signedIn = try await httpExchange(port: port, method: "POST", path: "/auth/sign-in", headers: ["Content-Type": "application/json"], body: body)
        #expect(signedIn.status == 200)
        let cookie = try #require(signedIn.headers["set-cookie"]?.split(separator: ";").first.map(String.init))
        let me = try await httpExchange(port: port, path: "/api/v1/me", headers: ["Cookie": cookie])
        #expect(me.status == 200 && (try? JSONParser.parse(me.body))?["id"]?.string == "ana")

        let sessions = try await runCommand(ctl, ["sessions", "--json", "--socket", socket])
        let listed = try JSONParser.parse(Array(sessions.output.utf8))["sessions"]?.array ?? []
        #expect(listed.count == 1 && listed.first?["agent"]?.string == "ana", "\(sessions.output)")
        #expect(!sessions.output.contains("sbs_"))
        let ended = try await runCommand(ctl, ["end-sessions", "ana", "--socket", socket])
        #expect(ended.status == 0 && ended.output.contains("1 session ended"), "\(ended.output)")
        #expect(try await httpExchange(port: port, path: "/api/v1/me", headers: ["Cookie": cookie]).status == 401)

        // The audit says who set whose password, never the password.
        let audit = try await runCommand("/usr/bin/env", ["psql", "-At", "host=\(directory)/state/postgres/data user=switchboard dbname=switchboard",
                                                          "-c", "SELECT method || ' ' || arguments FROM switchboard.control_audit WHERE method LIKE '%SetPassword'"])
        #expect(audit.output.contains("SetPassword") && audit.output.contains("ana") && !audit.output.contains(password) && !audit.output.contains("short"),
                "\(audit.output)")
        started.process.signal(SIGTERM)
        #expect(await started.process.waitForExit() == 0)
    }
}

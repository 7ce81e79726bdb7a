import Foundation
import JSON
import Postgres
import Testing
import TestSupport
import WhatsApp

/// The README's walkthroughs run one after another on one state directory, as a newcomer runs
/// them: every sample webhook they send, in the README's order, with the shell section's commands
/// between. Each section brings a customer of its own (so something happens), and the tickets go
/// where the text says.
@Suite("README walkthroughs, one after another on one state")
struct ReadmeWalkthroughTests {
    /// The sample webhooks each walkthrough section sends, in the README's order.
    static func sends() throws -> [(section: String, files: [String])] {
        let readme = try String(contentsOf: ExampleDaemon.repository.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: "## See a message arrive"), let end = readme.range(of: "## Other commands") else { return [] }
        return readme[start.lowerBound..<end.lowerBound].components(separatedBy: "\n## ").map { section in
            (String(section.prefix { $0 != "\n" }).replacingOccurrences(of: "## ", with: ""), section.matches(of: /(?:\.\.\/shared\/fixtures\/whatsapp|dev\/webhooks)\/[a-z0-9-]+\.json/).map { String($0.output) })
        }
    }

    @Test func eachWalkthroughWorksAfterThePreviousOne() async throws {
        let sends = try Self.sends()
        #expect(sends.map(\.section) == ["See a message arrive", "See tickets routed", "Watch an SLA breach", "Run it from the shell", "Answer from the API",
                                          "Work in the browser"])
        // Every section that sends anything sends someone not sent before.
        var sent: Set<String> = []
        for (section, files) in sends where !files.isEmpty {
            #expect(!Set(files).isSubset(of: sent), "\(section) only resends \(files)")
            sent.formUnion(files)
        }

        let directory = try makeTemporaryDirectory("readme-walk")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let started = try await ExampleDaemon.start(configPath: try ExampleDaemon.writeConfiguration(in: directory), directory: directory)
        let daemon = started.process, socket = directory + "/control.sock"
        let database = try await PostgresConnection.connect(.init(connectionString: "host=\(directory)/state/postgres/data port=5432 user=switchboard dbname=switchboard"))
        let signer = WebhookSignature(appSecret: try ExampleDaemon.appSecret())
        func ctl(_ arguments: String...) async throws {
            let result = try await runCommand(started.switchboardctl, ["--socket", socket] + arguments)
            #expect(result.status == 0, "switchboardctl \(arguments.joined(separator: " ")): \(result.output)")
        }
        /// Waits for routing to place the customer's ticket: a deadline for the outcome (a minute,
        /// for a loaded CI machine running browsers beside it), not a measure of speed.
        func assignee(of customer: String) async throws -> String? {
            var found: String?
            for _ in 0..<1200 {
                found = try await database.query("""
                    SELECT t.assignee FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id WHERE c.profile_name = $1
                    """, [customer]).first?.decode(0, as: String?.self) ?? nil
                if found != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            return found
        }
        func signIn(_ handle: String, _ password: String) async throws -> String {
            let signedIn = try await httpExchange(port: started.port, method: "POST", path: "/auth/sign-in", headers: ["Content-Type": "application/json"],
                                                  body: Array(#"{"handle": "\#(handle)", "password": "\#(password)"}"#.utf8))
            return try #require(signedIn.headers["set-cookie"]?.split(separator: ";").first.map(String.init), "\(handle): \(signedIn.status)")
        }
        /// Each agent's presence, draining and open tickets, for a failure's message.
        func agents() async throws -> String {
            try await database.query("""
                SELECT a.id || ' ' || a.presence || CASE WHEN a.draining THEN ' draining' ELSE '' END || ' holds ' ||
                       (SELECT count(*) FROM switchboard.tickets t WHERE t.assignee = a.id AND t.status <> 'resolved')
                FROM switchboard.agents a WHERE a.active ORDER BY a.id
                """).map { try $0.decode(0, as: String.self) }.joined(separator: ", ")
        }
        for (section, files) in sends {
            if section == "Run it from the shell" {
                try await ctl("add-agent", "eva", "--name", "Eva Novak", "--queue", "support", "--skill", "lang:en=5", "--skill", "lang:de=4", "--capacity", "3")
                try await ctl("presence", "ben", "away")
                try await ctl("presence", "eva", "online")
            }
            if section == "Answer from the API" {
                try await ctl("resume-queue", "support")
                try await ctl("presence", "ben", "online")
                try await ctl("remove-agent", "eva")
            }
            var samCookie = ""
            let origin = "http://127.0.0.1:\(started.port)"
            if section == "Work in the browser" {
                // set-password asks on a terminal; here it reads the line a script would give it.
                for (agent, password) in [("ana", "Ana's own passphrase"), ("sam", "Sam's own passphrase")] {
                    let set = try await runCommand(started.switchboardctl, ["--socket", socket, "set-password", agent], input: password + "\n")
                    #expect(set.status == 0, "\(set.output)")
                }
                samCookie = try await signIn("sam", "Sam's own passphrase")
                // Sam pauses support from the dashboard before the customer writes.
                let paused = try await httpExchange(port: started.port, method: "POST", path: "/api/v1/queues/support/pause",
                                                    headers: ["Cookie": samCookie, "Origin": origin])
                #expect(paused.status == 200, "\(String(decoding: paused.body, as: UTF8.self))")
            }
            for file in files {
                let body = Array(try Data(contentsOf: ExampleDaemon.repository.appendingPathComponent(file)))
                let response = try await httpRequest(port: started.port, method: "POST", path: "/webhooks/whatsapp",
                                                     headers: ["X-Hub-Signature-256": signer.headerValue(for: body), "Content-Type": "application/json"], body: body)
                #expect(response.status == 200, "\(section): \(file)")
            }
            switch section {
            case "See tickets routed":
                #expect(try await assignee(of: "Lucía Fernández") == "ana")
                #expect(try await assignee(of: "Oliver Smith") == "ben")
            case "Run it from the shell": #expect(try await assignee(of: "Emma Brown") == "eva", "log:\n\(daemon.log)")
            case "Answer from the API":
                let noah = try await assignee(of: "Noah Wilson")
                let state = noah == "ben" ? "" : try await agents()
                #expect(noah == "ben", "Noah's ticket went to \(noah ?? "nobody"); agents: \(state)\nlog:\n\(daemon.log)")
            case "Work in the browser":
                let page = try await httpExchange(port: started.port, path: "/")
                #expect(page.status == 200 && String(decoding: page.body, as: UTF8.self).contains("<title>Switchboard</title>"))
                let dashboardPage = try await httpExchange(port: started.port, path: "/dashboard")
                #expect(dashboardPage.status == 200)
                // Ana's list has Lucía's ticket, with its last message.
                let ana = try await signIn("ana", "Ana's own passphrase")
                let tickets = try await httpExchange(port: started.port, path: "/api/v1/tickets?view=mine", headers: ["Cookie": ana])
                let mine = try JSONParser.parse(tickets.body)["tickets"]?.array ?? []
                #expect(mine.contains { $0["customer"]?.string == "Lucía Fernández" && $0["last_message"]?["preview"]?.string != nil }, "\(mine)")
                // Grace waits in the paused queue: Sam's dashboard counts her; resumed, routing takes her.
                // (Routing places her a moment after the webhook is acknowledged: a deadline, not a measure.)
                var support: JSONValue?, graceWaits = false, waitingInDatabase = -1
                for _ in 0..<1200 {
                    let board = try await httpExchange(port: started.port, path: "/api/v1/dashboard", headers: ["Cookie": samCookie])
                    support = (try JSONParser.parse(board.body)["queues"]?.array ?? []).first { $0["name"]?.string == "support" }
                    let row = try #require(try await database.query("""
                        SELECT bool_or(c.profile_name = 'Grace Taylor'), count(*)::int FROM switchboard.tickets t
                        JOIN switchboard.customers c ON c.id = t.customer_id WHERE t.queue = 'support' AND t.assignee IS NULL AND t.status <> 'resolved'
                        """).first)
                    (graceWaits, waitingInDatabase) = (try row.decode(0, as: Bool?.self) ?? false, try row.decode(1, as: Int.self))
                    if graceWaits, support?["waiting"]?.number == Double(waitingInDatabase) { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(graceWaits, "Grace is not waiting in support")
                #expect(support?["paused"]?.bool == true && support?["waiting"]?.number == Double(waitingInDatabase), "\(String(describing: support))")
                let resumed = try await httpExchange(port: started.port, method: "POST", path: "/api/v1/queues/support/resume",
                                                     headers: ["Cookie": samCookie, "Origin": origin])
                #expect(resumed.status == 200)
                #expect(try await assignee(of: "Grace Taylor") != nil)
                let levers = try await database.query("SELECT method FROM switchboard.control_audit WHERE unix_user = 'api:sam' ORDER BY id")
                    .map { try $0.decode(0, as: String.self) }
                #expect(levers == ["io.switchboard.Control.PauseQueue", "io.switchboard.Control.ResumeQueue"])
            default: break
            }
        }
        // One ticket per customer sent, each once.
        let tickets = try await database.query("SELECT count(*)::int FROM switchboard.tickets").first?.decode(0, as: Int.self)
        #expect(tickets == sent.count)
        await database.close()
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log:\n\(daemon.log)")
    }
}

import Foundation
import Postgres
import Testing
import TestSupport
import WhatsApp

/// The README's walk-through, automated: the real binary with `config.example.json`, two customers
/// writing in Spanish and English, each ticket assigned to the agent who speaks their language.
@Suite("Routing end to end with the example configuration")
struct RoutingEndToEndTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func twoCustomersInTwoLanguagesReachTheRightAgents() async throws {
        let directory = try makeTemporaryDirectory("routing-e2e")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The example as shipped, with its state, port and secrets pointed at this test's places.
        let example = try Data(contentsOf: Self.repository.appendingPathComponent("config.example.json"))
        var config = try #require(try JSONSerialization.jsonObject(with: example) as? [String: Any])
        config["stateDirectory"] = directory + "/state"
        config["http"] = ["host": "127.0.0.1", "port": 0]
        var whatsapp = try #require(config["whatsapp"] as? [String: Any])
        let dev = Self.repository.appendingPathComponent("dev").path
        whatsapp["appSecret"] = ["file": dev + "/whatsapp-app-secret"]
        whatsapp["verifyToken"] = ["file": dev + "/whatsapp-verify-token"]
        config["whatsapp"] = whatsapp
        let configPath = directory + "/config.json"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))

        let listener = try NotifyListener(abstract: false, directory: directory)
        let daemon = try DaemonProcess(arguments: ["run", "--config", configPath], environment: ["NOTIFY_SOCKET": listener.address],
                                       logFile: directory + "/daemon.log")
        try #require(await listener.waitFor("READY=1").count == 1, "no READY=1; log:\n\(daemon.log)")
        let status = try #require(listener.lastStatus)
        let port = try #require(status.range(of: #"http 127\.0\.0\.1:[0-9]+"#, options: .regularExpression).flatMap { Int(status[$0].split(separator: ":").last ?? "") })

        let secret = try String(contentsOfFile: dev + "/whatsapp-app-secret", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let signature = WebhookSignature(appSecret: secret)
        for name in ["spanish-customer.json", "english-customer.json"] {
            let body = Array(try Data(contentsOf: Self.repository.appendingPathComponent("dev/webhooks/" + name)))
            let response: (status: Int, body: String)
            do {
                response = try await httpRequest(port: port, method: "POST", path: "/webhooks/whatsapp",
                                                 headers: ["X-Hub-Signature-256": signature.headerValue(for: body), "Content-Type": "application/json"], body: body)
            } catch {
                Issue.record("POST \(name) to port \(port) failed: \(error); log:\n\(daemon.log)")
                throw error
            }
            #expect(response.status == 200, "\(name): \(response.body)")
        }

        let database = try await PostgresConnection.connect(.init(connectionString: "host=\(directory)/state/postgres/data port=5432 user=switchboard dbname=switchboard"))
        var assignees: [String: String] = [:]
        // Routing follows the acknowledgement; wait for both assignments to be committed.
        for _ in 0..<200 {
            assignees = Dictionary(uniqueKeysWithValues: try await database.query("""
                SELECT c.profile_name, t.assignee FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id WHERE t.assignee IS NOT NULL
                """).map { (try $0.decode(0, as: String.self), try $0.decode(1, as: String.self)) })
            if assignees.count == 2 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(assignees == ["Lucía Fernández": "ana", "Oliver Smith": "ben"], "log:\n\(daemon.log)")
        let reasons = try await database.query("""
            SELECT e.data->>'agent', e.data->>'strategy', e.data->>'detail' FROM switchboard.ticket_events e WHERE e.kind = 'assigned' ORDER BY e.data->>'agent'
            """).map { "\(try $0.decode(0, as: String.self)) \(try $0.decode(1, as: String.self)): \(try $0.decode(2, as: String.self))" }
        #expect(reasons == ["ana best-skill: highest proficiency (lang:es=5); load 0 of 5", "ben best-skill: highest proficiency (lang:en=5); load 0 of 5"])
        await database.close()

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log:\n\(daemon.log)")
    }
}

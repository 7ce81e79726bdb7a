import Foundation
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import Testing
import TestSupport
import WhatsApp

/// The README's SLA walk-through, automated: the real binary with `config.example.json` (its demo
/// policy shortened to 3 seconds), three customers; deadlines in the office calendar's business
/// time, and the demo ticket's warning, breach and escalation stored.
@Suite("SLA end to end with the example configuration")
struct SLAEndToEndTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func deadlinesFollowTheOfficeCalendarAndTheDemoTicketIsWarnedBreachedAndEscalated() async throws {
        let directory = try makeTemporaryDirectory("sla-e2e")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The demo policy promises a reply in 2 minutes; 3 seconds here, so the test sees the breach soon.
        var demoPolicy: String?
        let configPath = try ExampleDaemon.writeConfiguration(in: directory) { config in
            guard var sla = config["sla"] as? [String: Any], var policies = sla["policies"] as? [[String: Any]], !policies.isEmpty else { return }
            demoPolicy = policies[0]["name"] as? String
            policies[0]["firstResponseMinutes"] = 0.05
            sla["policies"] = policies
            config["sla"] = sla
        }
        #expect(demoPolicy == "demo")
        let started = try await ExampleDaemon.start(configPath: configPath, directory: directory)
        let daemon = started.process, port = started.port

        let secret = try ExampleDaemon.appSecret()
        let signature = WebhookSignature(appSecret: secret)
        for name in ["spanish-customer.json", "english-customer.json", "sla-demo-customer.json"] {
            let body = Array(try Data(contentsOf: Self.repository.appendingPathComponent("dev/webhooks/" + name)))
            let response = try await httpRequest(port: port, method: "POST", path: "/webhooks/whatsapp",
                                                 headers: ["X-Hub-Signature-256": signature.headerValue(for: body), "Content-Type": "application/json"], body: body)
            #expect(response.status == 200, "\(name): \(response.body)")
        }

        let database = try await PostgresConnection.connect(.init(connectionString: "host=\(directory)/state/postgres/data port=5432 user=switchboard dbname=switchboard"))
        // The demo ticket: wait (bounded) for the escalation that follows its breach.
        var escalated = false
        for _ in 0..<400 {
            escalated = try await database.query("""
                SELECT 1 FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id
                WHERE c.profile_name = 'Grace Hopper' AND 'sla-breached' = ANY(t.tags)
                """).count == 1
            if escalated { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(escalated, "log:\n\(daemon.log)")
        let demo = try await database.query("""
            SELECT e.kind, e.data->>'policy', t.queue, t.priority FROM switchboard.ticket_events e
            JOIN switchboard.tickets t ON t.id = e.ticket_id JOIN switchboard.customers c ON c.id = t.customer_id
            WHERE c.profile_name = 'Grace Hopper' AND e.kind IN ('sla_warning', 'sla_breach') ORDER BY e.id
            """).map { "\(try $0.decode(0, as: String.self)) \(try $0.decode(1, as: String.self)) \(try $0.decode(2, as: String.self)) \(try $0.decode(3, as: String.self))" }
        #expect(demo == ["sla_warning demo supervisors high", "sla_breach demo supervisors high"])

        // The other two run under "standard": 60 business minutes of the office calendar.
        let configuration = try SwitchboardConfiguration.load(path: configPath)
        let office = try #require(configuration.slaPolicies.first { $0.name == "standard" }?.targets.calendar)
        let clocks = try await database.query("""
            SELECT o.ticket, o.policy, s.started_at, o.deadline FROM bi.sla_open_clocks o
            JOIN switchboard.tickets t ON t.reference = o.ticket JOIN switchboard.ticket_slas s ON s.ticket_id = t.id
            WHERE o.clock = 'first_response' AND o.policy = 'standard' ORDER BY o.ticket
            """).map { (try $0.decode(0, as: String.self), try $0.decode(2, as: Date.self), try $0.decode(3, as: Date.self)) }
        #expect(clocks.count == 2)
        for (ticket, started, deadline) in clocks {
            #expect(abs(deadline.timeIntervalSince(office.deadline(from: started, adding: 3600))) < 0.001, "\(ticket)")
            #expect(abs(office.elapsed(from: started, to: deadline) - 3600) < 0.001, "\(ticket)")
        }
        await database.close()

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log:\n\(daemon.log)")
    }
}

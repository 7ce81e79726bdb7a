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
        let configPath = try ExampleDaemon.writeConfiguration(in: directory)
        let started = try await ExampleDaemon.start(configPath: configPath, directory: directory)
        let daemon = started.process, port = started.port

        let secret = try ExampleDaemon.appSecret()
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
        for _ in 0..<1200 {
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
        #expect(reasons == ["ana best-skill: highest proficiency (lang:es=5); load 0 of 5", "ben best-skill: highest proficiency (lang:en=5); load 0 of 8"])
        await database.close()

        // A forged delivery is refused and counted; then /metrics, read by Prometheus' own parser.
        let forged = try await httpRequest(port: port, method: "POST", path: "/webhooks/whatsapp",
                                           headers: ["X-Hub-Signature-256": "sha256=" + String(repeating: "0", count: 64)], body: Array("{}".utf8))
        #expect(forged.status == 401)
        // The assignment histogram is counted just after the commit the database showed: read
        // until it has both (an upper bound on a condition), then check every sample.
        var metrics = try await httpRequest(port: port, method: "GET", path: "/metrics", headers: [:], body: [])
        var samples = try await Self.prometheusSamples(metrics.body)
        for _ in 0..<1200 where !samples.contains("switchboard_routing_assignment_seconds_count 2.0") {
            try await Task.sleep(for: .milliseconds(50))
            metrics = try await httpRequest(port: port, method: "GET", path: "/metrics", headers: [:], body: [])
            samples = try await Self.prometheusSamples(metrics.body)
        }
        #expect(metrics.status == 200)
        for expected in [
            #"switchboard_webhook_deliveries_total{result="stored"} 2.0"#,
            #"switchboard_webhook_deliveries_total{result="bad_signature"} 1.0"#,
            #"switchboard_webhook_deliveries_total{result="failed"} 0.0"#,
            "switchboard_ingest_messages_total 2.0",
            "switchboard_routing_assignment_seconds_count 2.0",
            #"switchboard_agents{presence="online"} 2.0"#,
            #"switchboard_agents{presence="offline"} 1.0"#,
            #"switchboard_queue_waiting_tickets{queue="support"} 0.0"#,
            #"switchboard_queue_waiting_tickets{queue="supervisors"} 0.0"#,
            #"switchboard_db_pool_connections{state="size"} 10.0"#,
            #"switchboard_sla_breaches_total{clock="first_response"} 0.0"#,
            #"switchboard_outbound_sends_total{result="sent"} 0.0"#,
        ] {
            #expect(samples.contains(expected), "\(expected) not among:\n\(samples.joined(separator: "\n"))")
        }
        // The ingest histogram counted both deliveries (one transaction each, or one for both).
        let batches = samples.first { $0.hasPrefix("switchboard_ingest_batch_deliveries_sum ") }
        #expect(batches == "switchboard_ingest_batch_deliveries_sum 2.0")
        // Every metric the shipped alert rules use is one the daemon serves.
        let rules = try String(contentsOf: Self.repository.appendingPathComponent("deploy/prometheus/switchboard-alerts.yml"), encoding: .utf8)
        let used = Set(rules.matches(of: /switchboard_[a-z_]+/).map { String($0.output) })
        #expect(used.count >= 6)
        for name in used {
            #expect(samples.contains { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }, "the alert rules use \(name), which /metrics does not have")
        }

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log:\n\(daemon.log)")
    }

    /// Every sample of a Prometheus text exposition as `name{label="value",…} value`, labels sorted,
    /// parsed by the reference parser (the Python package prometheus-client): a line it cannot read fails.
    static func prometheusSamples(_ text: String) async throws -> [String] {
        let path = NSTemporaryDirectory() + "metrics-\(UUID().uuidString).txt"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                    print(s.name + ("{" + labels + "}" if labels else "") + " " + repr(float(s.value)))
            """
        let result = try await runCommand("/usr/bin/env", ["python3", "-c", script, path])
        #expect(result.status == 0, "python3 with prometheus-client (pip install prometheus-client) could not parse /metrics: \(result.output)")
        return result.output.split(separator: "\n").map(String.init)
    }
}

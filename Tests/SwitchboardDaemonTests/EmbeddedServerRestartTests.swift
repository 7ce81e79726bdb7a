import Foundation
import Postgres
import Testing
import TestSupport
import WhatsApp

/// The embedded PostgreSQL is the daemon's to keep alive (issue #16): killed, it is started again
/// by the daemon, the outage is visible in `status` and `/metrics`, webhooks are stored again
/// afterwards, and nothing of the server outlives the daemon.
@Suite("The embedded PostgreSQL, killed under the daemon")
struct EmbeddedServerRestartTests {
    @Test func aKilledEmbeddedServerIsStartedAgainShownInStatusAndMetricsAndStoresWebhooksAgain() async throws {
        let directory = try makeTemporaryDirectory("embedded-restart")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configPath = try ExampleDaemon.writeConfiguration(in: directory)
        let started = try await ExampleDaemon.start(configPath: configPath, directory: directory)
        let daemon = started.process, port = started.port
        let socket = directory + "/control.sock"
        let data = directory + "/state/postgres/data"

        let first = try #require(Self.postmasterPID(data))
        kill(first, SIGKILL)

        // The daemon notices and starts the server again (a new postmaster), then says so.
        var status: [String: Any] = [:]
        for _ in 0..<600 {
            let shown = try await runCommand(started.switchboardctl, ["status", "--json", "--socket", socket])
            if shown.status == 0, let reply = try JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [String: Any],
               let database = reply["database"] as? [String: Any], database["restarts"] as? Int == 1, database["running"] as? Bool == true {
                status = database
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(status["kind"] as? String == "embedded", "no restart reported; log:\n\(daemon.log.suffix(3000))")
        #expect((status["last_exit"] as? String)?.contains("9") == true, "\(status)")
        let second = try #require(Self.postmasterPID(data))
        #expect(second != first)
        let human = try await runCommand(started.switchboardctl, ["status", "--socket", socket])
        #expect(human.output.contains("database: embedded PostgreSQL running; restarted 1 time"), "\(human.output)")

        // A webhook is stored again (the pool reconnects by itself; until then Meta is told 503).
        let signature = WebhookSignature(appSecret: try ExampleDaemon.appSecret())
        let body = Array(try Data(contentsOf: ExampleDaemon.repository.appendingPathComponent("dev/webhooks/english-customer.json")))
        var answer = 0
        for _ in 0..<200 where answer != 200 {
            answer = try await httpRequest(port: port, method: "POST", path: "/webhooks/whatsapp",
                                           headers: ["X-Hub-Signature-256": signature.headerValue(for: body)], body: body).status
            #expect(answer == 200 || answer == 503, "a webhook after the restart was answered \(answer)")
            if answer != 200 { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(answer == 200)
        let database = try await PostgresConnection.connect(.init(connectionString: "host=\(data) port=5432 user=switchboard dbname=switchboard"))
        #expect(try await database.query("SELECT count(*) FROM switchboard.messages WHERE wamid = 'wamid.DEV-ENGLISH-0001'").first?.decode(0, as: Int.self) == 1)
        await database.close()

        let metrics = try await httpGet(port: port, path: "/metrics").body
        #expect(metrics.contains("switchboard_embedded_postgres_up 1"), "\(metrics.prefix(2000))")
        #expect(metrics.contains("switchboard_embedded_postgres_restarts 1"))
        #expect(daemon.log.contains("embedded PostgreSQL exited; starting it again"))

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log:\n\(daemon.log.suffix(3000))")
        #expect(processes(mentioning: data).isEmpty, "a PostgreSQL process outlived the daemon")
    }

    static func postmasterPID(_ data: String) -> pid_t? {
        guard let contents = try? String(contentsOfFile: data + "/postmaster.pid", encoding: .utf8) else { return nil }
        return contents.split(separator: "\n").first.flatMap { pid_t($0) }
    }
}

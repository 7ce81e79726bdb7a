import Foundation
import Postgres
import Synchronization
import Testing
import TestSupport
import WhatsApp

/// Issue #21's PostgreSQL failover: the real daemon on a two-host `database.url`
/// (`target_session_attrs=read-write`) over a primary and a synchronous streaming standby, under
/// webhook load; the primary stops, the standby is promoted (`pg_promote`), and the daemon goes on
/// on the new primary.
@Suite("PostgreSQL failover under webhook load: the daemon continues on the promoted standby")
struct DatabaseFailoverEndToEndTests {
    @Test func webhooksGet503InTheGapAnd200AfterThePromotionAndNothingAcknowledgedIsLost() async throws {
        let pair = try await StreamingPair.start("db-failover", synchronous: true)
        defer { try? FileManager.default.removeItem(atPath: pair.directory) }
        let directory = try makeTemporaryDirectory("db-failover-d")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = try ExampleDaemon.writeConfiguration(in: directory) { config in
            var database = config["database"] as? [String: Any] ?? [:]
            database["url"] = pair.connectionString
            database["acquireTimeoutSeconds"] = 2
            database["connectTimeoutSeconds"] = 2
            config["database"] = database
        }
        let started = try await ExampleDaemon.start(configPath: config, directory: directory)
        let port = started.port

        /// Each delivery's wamid and the status it was answered with, in order; "promoted" marks the promotion.
        let answered = Mutex<[(wamid: String, status: Int)]>([])
        let signer = WebhookSignature(appSecret: try ExampleDaemon.appSecret())
        let load = Task {
            // Until 40 deliveries were answered 200 after the promotion (bounded: 3,000 in all).
            for index in 1...3000 {
                let done = answered.withLock { list -> Bool in
                    guard let start = list.firstIndex(where: { $0.wamid == "promoted" }) else { return false }
                    return list[start...].filter { $0.status == 200 }.count >= 40
                }
                if done || Task.isCancelled { break }
                let wamid = "wamid.FAILOVER-\(index)"
                let body = AutomationEndToEndTests.webhook(line: "106540352242922", customer: "4477009002\(String(format: "%02d", index % 50))",
                                                           name: "Load \(index % 50)", wamid: wamid, text: "message \(index)")
                let status = (try? await httpRequest(port: port, method: "POST", path: "/webhooks/whatsapp",
                                                     headers: ["X-Hub-Signature-256": signer.headerValue(for: body), "Content-Type": "application/json"],
                                                     body: body).status) ?? 0
                answered.withLock { $0.append((wamid, status)) }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        // Some load on the primary first.
        for _ in 0..<1200 where answered.withLock({ $0.filter { $0.status == 200 }.count }) < 40 { try await Task.sleep(for: .milliseconds(25)) }
        await pair.primary.stop()
        try await Task.sleep(for: .milliseconds(500))
        try await pair.standby.promote()
        answered.withLock { $0.append(("promoted", 0)) }
        _ = await load.value

        let all = answered.withLock { $0 }
        let promotion = try #require(all.firstIndex { $0.wamid == "promoted" })
        let deliveries = all.filter { $0.wamid != "promoted" }
        #expect(Set(deliveries.map(\.status)).isSubset(of: [200, 503]), "only 200 or 503, never a 500 or a dropped connection: \(Set(deliveries.map(\.status)))")
        #expect(all[promotion...].filter { $0.status == 200 }.count >= 40, "answered 200 again after the promotion; log:\n\(started.process.log.suffix(3000))")
        // Every acknowledged message is on the new primary (synchronous replication kept the primary's).
        let acknowledged = deliveries.filter { $0.status == 200 }.map(\.wamid)
        let database = try await PostgresConnection.connect(.init(connectionString: pair.standby.connectionString()))
        let stored = Set(try await database.query("SELECT wamid FROM switchboard.messages WHERE wamid = ANY($1)", [acknowledged]).map { try $0.decode(0, as: String.self) })
        #expect(stored.count == acknowledged.count, "lost: \(Set(acknowledged).subtracting(stored).sorted().prefix(10))")
        await database.close()
        started.process.signal(SIGTERM)
        #expect(await started.process.waitForExit() == 0, "log:\n\(started.process.log.suffix(3000))")
        await pair.standby.stop()
    }
}

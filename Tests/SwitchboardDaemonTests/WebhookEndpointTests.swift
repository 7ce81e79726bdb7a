import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Postgres
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport
import WhatsApp

@Suite("POST /webhooks/whatsapp: verify, decode, commit, then answer")
struct WebhookEndpointTests {
    static let secret = "test-app-secret"
    static let signer = WebhookSignature(appSecret: secret)
    static let signatureHeader = HTTPField.Name("X-Hub-Signature-256")!
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures/whatsapp")

    private func app(pool: PostgresPool) -> some ApplicationProtocol {
        let ingestor = WebhookIngestor(store: WebhookIngestStore(pool: pool, reopenWithin: 86400), maxBatch: 16, maxInFlight: 3, linger: .zero,
                                       sink: NoSink())
        let endpoint = WebhookEndpoint(appSecret: Self.secret, verifyToken: "verify-me", ingestor: ingestor, logger: TestDatabase.quietLogger)
        return Application(router: HTTPServer.makeRouter(readiness: Readiness(), pool: pool, webhook: endpoint), logger: TestDatabase.quietLogger)
    }

    private func migratedPool(_ label: String) async throws -> PostgresPool {
        let pool = try await TestDatabase.freshPool(label, size: 8)
        try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: TestDatabase.quietLogger).migrate()
        return pool
    }

    private func post(_ client: some TestClientProtocol, _ body: [UInt8], signature: String?) async throws -> HTTPResponse.Status {
        var headers = HTTPFields()
        if let signature { headers[Self.signatureHeader] = signature }
        return try await client.execute(uri: "/webhooks/whatsapp", method: .post, headers: headers, body: ByteBuffer(bytes: body)).status
    }

    private func count(_ pool: PostgresPool, _ sql: String) async throws -> Int {
        try await pool.query(sql).first?.decode(0, as: Int.self) ?? -1
    }

    private func webhookFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path).filter { $0.hasSuffix(".json") }.sorted()
            .map { Self.fixtures.appendingPathComponent($0) }
    }

    /// The distinct message wamids and (wamid, status) pairs in the files, read with JSONSerialization.
    private func expectedContents(_ files: [URL]) throws -> (wamids: Set<String>, statuses: Set<String>, echoes: Set<String>) {
        var wamids = Set<String>(), statuses = Set<String>(), echoes = Set<String>()
        for file in files {
            let root = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any] ?? [:]
            for entry in root["entry"] as? [[String: Any]] ?? [] {
                for change in entry["changes"] as? [[String: Any]] ?? [] where change["field"] as? String == "smb_message_echoes" {
                    let value = change["value"] as? [String: Any] ?? [:]
                    for echo in value["message_echoes"] as? [[String: Any]] ?? [] { echoes.insert(echo["id"] as? String ?? "?") }
                }
                for change in entry["changes"] as? [[String: Any]] ?? [] where change["field"] as? String == "messages" {
                    let value = change["value"] as? [String: Any] ?? [:]
                    for message in value["messages"] as? [[String: Any]] ?? [] { wamids.insert(message["id"] as? String ?? "?") }
                    for status in value["statuses"] as? [[String: Any]] ?? [] {
                        statuses.insert("\(status["id"] as? String ?? "?")|\(status["status"] as? String ?? "?")")
                    }
                }
            }
        }
        return (wamids, statuses, echoes)
    }

    @Test func everyFixtureIsAcceptedAndStoredOnceEvenWhenSentManyTimesAtOnce() async throws {
        let pool = try await migratedPool("webhook_fixtures")
        let files = try webhookFiles()
        let expected = try expectedContents(files)
        try await app(pool: pool).test(.router) { client async throws in
            for file in files {
                let body = Array(try Data(contentsOf: file))
                #expect(try await post(client, body, signature: Self.signer.headerValue(for: body)) == .ok, "\(file.lastPathComponent)")
            }
            // Meta delivers at least once: the same deliveries again, many at a time.
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for file in files.prefix(20) {
                    let body = Array(try Data(contentsOf: file))
                    for _ in 0..<3 {
                        group.addTask { try await post(client, body, signature: Self.signer.headerValue(for: body)) }
                    }
                }
                for try await status in group { #expect(status == .ok) }
            }
        }
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.messages WHERE direction = 'inbound'") == expected.wamids.count)
        #expect(try await count(pool, "SELECT count(DISTINCT wamid) FROM switchboard.messages WHERE direction = 'inbound'") == expected.wamids.count)
        // The business app's echoes: each on its customer's ticket once, or, for a customer without
        // one, kept raw with the reason on its delivery.
        let storedEchoes = try await pool.query("SELECT wamid FROM switchboard.messages WHERE direction = 'outbound'").map { try $0.decode(0, as: String.self) }
        #expect(Set(storedEchoes).count == storedEchoes.count)
        let problems = try await pool.query("SELECT decode_problem FROM switchboard.webhook_deliveries WHERE decode_problem LIKE '%message_echoes %'")
            .map { try $0.decode(0, as: String.self) }
        let unplaced = Set(expected.echoes.filter { echo in problems.contains { $0.contains("message_echoes \(echo):") } })
        #expect(Set(storedEchoes).union(unplaced) == expected.echoes && Set(storedEchoes).isDisjoint(with: unplaced), "\(storedEchoes) \(unplaced)")
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.message_statuses") == expected.statuses.count)
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.webhook_deliveries") == files.count + 60)
        // One active ticket per customer and number, and every message on a ticket of its sender.
        #expect(try await count(pool, "SELECT count(*) FROM (SELECT customer_id, business_number FROM switchboard.tickets WHERE status <> 'resolved' GROUP BY 1, 2 HAVING count(*) > 1) AS t") == 0)
    }

    @Test func aWrongOrMissingSignatureIs401AndWritesNothing() async throws {
        let pool = try await migratedPool("webhook_unsigned")
        let body = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent("meta-openapi-text.json")))
        try await app(pool: pool).test(.router) { client async throws in
            #expect(try await post(client, body, signature: nil) == .unauthorized)
            #expect(try await post(client, body, signature: WebhookSignature(appSecret: "forged").headerValue(for: body)) == .unauthorized)
            var changed = body
            changed[changed.count / 2] ^= 0x20
            #expect(try await post(client, changed, signature: Self.signer.headerValue(for: body)) == .unauthorized)
        }
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.webhook_deliveries") == 0)
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.messages") == 0)
    }

    @Test func aBodyOver3MBIs413() async throws {
        let pool = try await migratedPool("webhook_large")
        let body = [UInt8](repeating: UInt8(ascii: " "), count: WebhookEndpoint.maxBodyBytes + 1)
        try await app(pool: pool).test(.router) { client async throws in
            #expect(try await post(client, body, signature: Self.signer.headerValue(for: body)) == .contentTooLarge)
        }
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.webhook_deliveries") == 0)
    }

    @Test func aSignedBodyThatCannotBeDecodedIsKeptRawAndAcknowledged() async throws {
        let pool = try await migratedPool("webhook_garbage")
        let body = Array("this is not { json".utf8)
        try await app(pool: pool).test(.router) { client async throws in
            #expect(try await post(client, body, signature: Self.signer.headerValue(for: body)) == .ok)
        }
        let row = try #require(try await pool.query("SELECT body, decode_problem FROM switchboard.webhook_deliveries").first)
        #expect(try row.decode(0, as: PostgresBytes.self).bytes == body)
        #expect(try row.decode(1, as: String.self).contains("invalid JSON"))
    }

    @Test func theSubscriptionHandshake() async throws {
        let pool = try await migratedPool("webhook_handshake")
        try await app(pool: pool).test(.router) { client async throws in
            let accepted = try await client.execute(uri: "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444", method: .get)
            #expect(accepted.status == .ok)
            #expect(String(buffer: accepted.body) == "1158201444")
            let refused = try await client.execute(uri: "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", method: .get)
            #expect(refused.status == .forbidden)
        }
    }

    @Test func databaseDownMeans503AndARedeliveryAfterwardsStoresOnce() async throws {
        let directory = "/tmp/sbtest-wh-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = EmbeddedPostgres(configuration: TestDatabase.fastSettings(directory: directory), logger: TestDatabase.quietLogger)
        try await cluster.start()
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: cluster.connectionString()), size: 4, acquireTimeout: .seconds(5)), logger: TestDatabase.quietLogger)
        try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: TestDatabase.quietLogger).migrate()
        let file = Self.fixtures.appendingPathComponent("netflie-batch-two-changes-one-entry.json")
        let body = Array(try Data(contentsOf: file))
        let signature = Self.signer.headerValue(for: body)
        try await app(pool: pool).test(.router) { client async throws in
            await cluster.stop()
            #expect(try await post(client, body, signature: signature) == .serviceUnavailable)
            #expect(try await post(client, body, signature: signature) == .serviceUnavailable)
            try await cluster.start()
            var status = HTTPResponse.Status.serviceUnavailable
            for _ in 0..<100 where status != .ok {
                status = try await post(client, body, signature: signature)
                if status != .ok { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(status == .ok)
            #expect(try await post(client, body, signature: signature) == .ok)
        }
        let expected = try expectedContents([file])
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.messages") == expected.wamids.count)
        #expect(try await count(pool, "SELECT count(*) FROM switchboard.webhook_deliveries") == 2)
        await pool.close()
        await cluster.stop()
    }
}

private struct NoSink: TicketActivitySink {
    func committed(_ messages: [IngestResult.StoredMessage]) async {}
    func statusesChanged(_ changes: [IngestResult.StatusChange]) async {}
}

extension WebhookEndpointTests {
    @Test func withoutAWhatsAppSectionTheWebhookSaysItIsNotConfigured() async throws {
        let pool = try await migratedPool("webhook_unconfigured")
        let app = Application(router: HTTPServer.makeRouter(readiness: Readiness(), pool: pool, webhook: nil), logger: TestDatabase.quietLogger)
        try await app.test(.router) { client async throws in
            let response = try await client.execute(uri: "/webhooks/whatsapp", method: .post, body: ByteBuffer(string: "{}"))
            #expect(response.status == .notFound)
            #expect(String(buffer: response.body).contains("not configured"))
        }
    }

    @Test func rawBodiesPastRetentionAreDeletedAndNewerOnesKept() async throws {
        let pool = try await migratedPool("webhook_retention")
        try await pool.query("INSERT INTO switchboard.webhook_deliveries (received_at, body) VALUES (now() - interval '8 days', '\\x01'), (now() - interval '6 days', '\\x02'), (now(), '\\x03')")
        await RetentionService([.rawWebhooks(RawWebhookStore(pool: pool), days: 7)], logger: TestDatabase.quietLogger).purge()
        let kept = try await pool.query("SELECT body FROM switchboard.webhook_deliveries ORDER BY received_at").map { try $0.decode(0, as: PostgresBytes.self).bytes }
        #expect(kept == [[0x02], [0x03]])
    }
}

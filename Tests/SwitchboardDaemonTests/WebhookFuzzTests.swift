import Foundation
import Postgres
import Testing
import TestSupport
import WhatsApp

/// A seeded mutation fuzzer over the shared sample payloads, against the real daemon (issue #16):
/// thousands of signed variants — bytes flipped, keys deleted, wrong types, huge numbers, deep
/// nesting, NUL and invalid UTF-8 in strings — sent concurrently with valid deliveries, so that bad
/// and good ones share ingest's group commits. Meta signs what it sends, so each variant is signed:
/// every one must be acknowledged (Meta would resend a refused one for days), kept raw, and never
/// make a valid delivery beside it fail.
@Suite("Webhook fuzzing with the real daemon")
struct WebhookFuzzTests {
    static let seed: UInt64 = 16_000_016
    static let variants = 2_400
    /// Mutated and valid deliveries sent at once, sharing ingest's transactions.
    static let mutatedPerGroup = 6, validPerGroup = 2

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/fixtures/whatsapp")

    struct Sent {
        var body: [UInt8]
        var what: String
        var status: Int
        var answer: String
    }

    @Test func signedMutatedDeliveriesAreAcknowledgedKeptRawAndNeverFailTheValidOnesBesideThem() async throws {
        let directory = try makeTemporaryDirectory("webhook-fuzz")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configPath = try ExampleDaemon.writeConfiguration(in: directory)
        let started = try await ExampleDaemon.start(configPath: configPath, directory: directory)
        let daemon = started.process, port = started.port
        let signature = WebhookSignature(appSecret: try ExampleDaemon.appSecret())

        let names = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path).filter { $0.hasSuffix(".json") }.sorted()
        let documents = try names.map { ($0, try WebhookMutator.read(Data(contentsOf: Self.fixtures.appendingPathComponent($0)))) }
        #expect(documents.count >= 40, "the shared fixtures are missing")
        let template = try String(contentsOf: ExampleDaemon.repository.appendingPathComponent("dev/webhooks/english-customer.json"), encoding: .utf8)

        var mutator = WebhookMutator(seed: Self.seed)
        var sent: [Sent] = []
        var validWamids: [String] = []
        var index = 0
        while index < Self.variants {
            var group: [(body: [UInt8], what: String)] = []
            for _ in 0..<Self.mutatedPerGroup where index < Self.variants {
                let (name, document) = documents[index % documents.count]
                let (body, mutation) = mutator.mutate(document)
                group.append((body, "variant \(index) of \(name): \(mutation.rawValue)"))
                index += 1
            }
            for valid in 0..<Self.validPerGroup {
                let wamid = "wamid.FUZZ-VALID-\(index)-\(valid)"
                let customer = "4477009" + String(format: "%05d", (index + valid) % 40)
                let body = template.replacingOccurrences(of: "wamid.DEV-ENGLISH-0001", with: wamid).replacingOccurrences(of: "447700900123", with: customer)
                validWamids.append(wamid)
                group.append((Array(body.utf8), "valid \(wamid)"))
            }
            let answers = try await withThrowingTaskGroup(of: Sent.self) { tasks in
                for delivery in group {
                    tasks.addTask {
                        let response = try await httpRequest(port: port, method: "POST", path: "/webhooks/whatsapp",
                                                             headers: ["X-Hub-Signature-256": signature.headerValue(for: delivery.body),
                                                                       "Content-Type": "application/json"],
                                                             body: delivery.body)
                        return Sent(body: delivery.body, what: delivery.what, status: response.status, answer: response.body)
                    }
                }
                var answers: [Sent] = []
                for try await answer in tasks { answers.append(answer) }
                return answers
            }
            sent += answers
        }

        // Every signed delivery is acknowledged: no 500, no 503 (the database is up), no refusal.
        let refused = sent.filter { $0.status != 200 }
        #expect(refused.count == 0, "\(refused.count) of \(sent.count) not acknowledged, e.g. \(refused.prefix(5).map { "\($0.what) → \($0.status) \($0.answer)" })")

        // Every acknowledged delivery has its raw row, byte for byte.
        let database = try await PostgresConnection.connect(.init(connectionString: "host=\(directory)/state/postgres/data port=5432 user=switchboard dbname=switchboard"))
        var stored: [Data: Int] = [:]
        for row in try await database.query("SELECT body FROM switchboard.webhook_deliveries") {
            stored[try row.decode(0, as: Data.self), default: 0] += 1
        }
        var expected: [Data: Int] = [:]
        for delivery in sent where delivery.status == 200 { expected[Data(delivery.body), default: 0] += 1 }
        let missing = expected.filter { stored[$0.key, default: 0] < $0.value }
        #expect(missing.count == 0, "\(missing.count) acknowledged bodies have no raw row, e.g. \(sent.filter { missing[Data($0.body)] != nil }.prefix(5).map(\.what))")
        #expect(stored.values.reduce(0, +) == sent.filter { $0.status == 200 }.count, "one raw row per acknowledged delivery")

        // Every valid delivery sent beside the mutated ones is stored as a message.
        let messages = Set(try await database.query("SELECT wamid FROM switchboard.messages WHERE wamid LIKE 'wamid.FUZZ-VALID-%'")
            .map { try $0.decode(0, as: String.self) })
        let lost = validWamids.filter { !messages.contains($0) }
        #expect(lost.count == 0, "\(lost.count) of \(validWamids.count) valid messages not stored, e.g. \(lost.prefix(5))")

        // A NUL in a customer's text is stored as U+FFFD, the way docs/operations.md says.
        let withReplacement = try await database.query("SELECT count(*) FROM switchboard.messages WHERE body LIKE '%' || chr(65533) || '%'").first?.decode(0, as: Int.self) ?? 0
        #expect(withReplacement > 0, "no message text kept a replaced NUL")
        await database.close()

        // The log has no raw control characters: one event, one line, nothing for a terminal to obey.
        let log = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/daemon.log")))
        let controls = log.filter { $0 < 0x20 && $0 != 0x0A || $0 == 0x7F }
        #expect(controls.count == 0, "the log holds \(controls.count) raw control bytes, e.g. \(controls.prefix(8))")

        #expect(try await httpGet(port: port, path: "/readyz").status == 200)
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log:\n\(daemon.log.suffix(4000))")
    }
}

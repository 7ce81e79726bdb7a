import Foundation
import Testing
import TestSupport
import WhatsApp

/// The daemon run as systemd runs `switchboard.service` with `switchboard.socket`: both sockets passed
/// (`LISTEN_FDS`, `LISTEN_FDNAMES=control:http`, `LISTEN_PID`), readiness and watchdog through
/// `NOTIFY_SOCKET` and `WATCHDOG_USEC`, the WhatsApp secrets as credentials in `CREDENTIALS_DIRECTORY`.
@Suite("Socket activation: passed sockets, notify, watchdog, credentials")
struct SocketActivationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theDaemonServesOnThePassedSocketsAndAWebhookSentDuringARestartIsAnswered() async throws {
        let directory = try makeTemporaryDirectory("activation")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let dev = Self.repository.appendingPathComponent("dev").path
        let appSecret = try String(contentsOfFile: dev + "/whatsapp-app-secret", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let verifyToken = try String(contentsOfFile: dev + "/whatsapp-verify-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)

        // The credentials, as LoadCredential= places them; the configuration names them only.
        let credentials = directory + "/credentials"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try (appSecret + "\n").write(toFile: credentials + "/whatsapp-app-secret", atomically: true, encoding: .utf8)
        try (verifyToken + "\n").write(toFile: credentials + "/whatsapp-verify-token", atomically: true, encoding: .utf8)
        // Addresses the daemon must not use (systemd passed it sockets), and secrets by credential name only.
        let configPath = try ExampleDaemon.writeConfiguration(in: directory) { config in
            var control = config["control"] as? [String: Any] ?? [:]
            control["socket"] = directory + "/configured-control.sock"
            config["control"] = control
            var whatsapp = config["whatsapp"] as? [String: Any] ?? [:]
            whatsapp["appSecret"] = ["credential": "whatsapp-app-secret"]
            whatsapp["verifyToken"] = ["credential": "whatsapp-verify-token"]
            config["whatsapp"] = whatsapp
        }

        let sockets = try ActivationSockets(controlPath: directory + "/control.sock")
        let environment = { (listener: NotifyListener) in
            ["NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "1000000", "CREDENTIALS_DIRECTORY": credentials]
        }
        let first = try NotifyListener(abstract: false, directory: directory)
        let daemon = try SocketActivatedDaemon(sockets: sockets, arguments: ["run", "--config", configPath],
                                               environment: environment(first), logFile: directory + "/daemon.log")
        try #require(await first.waitFor("READY=1").count == 1, "no READY=1; log:\n\(daemon.log)")
        #expect(first.lastStatus?.contains("http 127.0.0.1:\(sockets.httpPort)") == true, "STATUS=\(first.lastStatus ?? "-")")
        // The watchdog (every half of WATCHDOG_USEC) pings while the database answers.
        #expect(await first.waitFor("WATCHDOG=1", count: 2).count >= 2, "log:\n\(daemon.log)")

        // HTTP on the passed socket; the verify token and app secret were read from the credentials.
        let ready = try await httpGet(port: sockets.httpPort, path: "/readyz")
        #expect(ready.status == 200, "\(ready.body)")
        let head = try await httpRequestHead(port: sockets.httpPort, path: "/healthz")
        #expect(head.contains("\r\nServer: switchboard\r\n"), "\(head)")
        #expect(head.range(of: #"\r\nDate: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT\r\n"#,
                           options: .regularExpression) != nil, "\(head)")
        let handshake = try await httpGet(port: sockets.httpPort, path: "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=\(verifyToken)&hub.challenge=4242")
        #expect(handshake.status == 200 && handshake.body == "4242", "\(handshake)")
        let signature = WebhookSignature(appSecret: appSecret)
        let spanish = Array(try Data(contentsOf: Self.repository.appendingPathComponent("dev/webhooks/spanish-customer.json")))
        let delivered = try await httpRequest(port: sockets.httpPort, method: "POST", path: "/webhooks/whatsapp",
                                              headers: ["X-Hub-Signature-256": signature.headerValue(for: spanish)], body: spanish)
        #expect(delivered.status == 200, "\(delivered.body)")

        // The control socket is the passed one; the configured path is never created.
        let client = try await VarlinkTestClient.connect(sockets.controlPath)
        let status = try await client.call("io.switchboard.Control.Status")
        #expect(status["error"] == nil && status["parameters"] != nil, "\(status)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/configured-control.sock"))

        // A restart: while no daemon runs, a webhook connects (the listener is still open) and is
        // answered by the next daemon.
        let english = Array(try Data(contentsOf: Self.repository.appendingPathComponent("dev/webhooks/english-customer.json")))
        try FileManager.default.createDirectory(atPath: directory + "/second", withIntermediateDirectories: true)
        let second = try NotifyListener(abstract: false, directory: directory + "/second")
        daemon.signal(SIGTERM)
        try #require(await daemon.waitForExit() == 0, "log:\n\(daemon.log)")
        // The delivery is written to the socket while no daemon runs: the kernel queues the connection.
        let duringRestart = try await HTTPRequestInFlight.sent(port: sockets.httpPort, method: "POST", path: "/webhooks/whatsapp",
                                                               headers: ["X-Hub-Signature-256": signature.headerValue(for: english)], body: english)
        let restarted = try SocketActivatedDaemon(sockets: sockets, arguments: ["run", "--config", configPath],
                                                  environment: environment(second), logFile: directory + "/daemon-2.log")
        let answer = try await duringRestart.response()
        #expect(answer.status == 200, "\(answer); log:\n\(restarted.log)")
        try #require(await second.waitFor("READY=1").count == 1, "no READY=1 after the restart; log:\n\(restarted.log)")
        restarted.signal(SIGTERM)
        #expect(await restarted.waitForExit() == 0, "log:\n\(restarted.log)")
    }

    @Test func aMissingCredentialStopsTheStartWithItsName() async throws {
        let directory = try makeTemporaryDirectory("activation-cred")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let credentials = directory + "/credentials"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        let configPath = try ExampleDaemon.writeConfiguration(in: directory) { config in
            var whatsapp = config["whatsapp"] as? [String: Any] ?? [:]
            whatsapp["appSecret"] = ["credential": "whatsapp-app-secret"]
            whatsapp["verifyToken"] = ["credential": "whatsapp-verify-token"]
            config["whatsapp"] = whatsapp
        }

        let result = try await runSwitchboardd(["run", "--config", configPath], environment: ["CREDENTIALS_DIRECTORY": credentials])
        #expect(result.status == 1)
        #expect(result.stderr.contains("whatsapp.appSecret") && result.stderr.contains(credentials + "/whatsapp-app-secret"), "\(result.stderr)")
        // Migrations need the database only: the same file without the WhatsApp credentials is fine.
        let migrate = try await runSwitchboardd(["migrate", "--dry-run", "--config", configPath], environment: ["CREDENTIALS_DIRECTORY": credentials])
        #expect(migrate.status == 0 && migrate.stdout.contains("pending 0008_bi_views.sql"), "\(migrate)")
    }
}

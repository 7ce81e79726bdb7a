import Foundation
import JSON
import NIOCore
import SwitchboardCore
import Testing
import TestSupport
import WhatsApp

/// The README's photo, end to end: the real daemon, PostgreSQL and `dev/graph-api-standin.py`. A
/// customer's photo arrives by webhook, is fetched in the background, and its agent downloads the
/// same bytes the webhook's SHA-256 describes; an agent who may not see the ticket gets 404.
@Suite("Media end to end: the real daemon and the README's Graph API stand-in")
struct MediaEndToEndTests {
    @Test func aCustomersPhotoIsFetchedAndItsAgentDownloadsTheBytesMetaDescribed() async throws {
        let directory = try makeTemporaryDirectory("media-e2e")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let repository = ExampleDaemon.repository
        let graphPort = try FreePort.next()
        let standIn = Process()
        standIn.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        standIn.arguments = ["python3", repository.appendingPathComponent("dev/graph-api-standin.py").path, "\(graphPort)"]
        standIn.standardOutput = FileHandle.nullDevice
        try standIn.run()
        defer { kill(standIn.processIdentifier, SIGKILL) }
        let devToken = try String(contentsOf: repository.appendingPathComponent("dev/graph-access-token"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        for _ in 0..<200 where (try? await httpRequest(port: graphPort, method: "GET", path: "/v24.0/dev-photo", headers: ["Authorization": "Bearer \(devToken)"]).status) != 200 {
            try await Task.sleep(for: .milliseconds(50))
        }
        let configPath = try ExampleDaemon.writeConfiguration(in: directory) { config in
            var whatsapp = config["whatsapp"] as? [String: Any] ?? [:]
            whatsapp["accessToken"] = ["file": repository.appendingPathComponent("dev/graph-access-token").path]
            whatsapp["graphAPI"] = ["baseURL": "http://127.0.0.1:\(graphPort)", "version": "v24.0", "timeoutSeconds": 5]
            config["whatsapp"] = whatsapp
        }
        let started = try await ExampleDaemon.start(configPath: configPath, directory: directory)
        let daemon = started.process, port = started.port, ctl = started.switchboardctl, socket = directory + "/control.sock"
        func token(_ agent: String) async throws -> String {
            let issued = try await runCommand(ctl, ["issue-token", agent, "--socket", socket])
            return try #require(issued.output.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("sbt_") }.map(String.init), "\(issued.output)")
        }
        let ben = try await token("ben"), ana = try await token("ana")

        let webhook = Array(try Data(contentsOf: repository.appendingPathComponent("dev/webhooks/photo-customer.json")))
        let signer = WebhookSignature(appSecret: try ExampleDaemon.appSecret())
        let posted = try await httpRequest(port: port, method: "POST", path: "/webhooks/whatsapp",
                                           headers: ["X-Hub-Signature-256": signer.headerValue(for: webhook), "Content-Type": "application/json"], body: webhook)
        #expect(posted.status == 200)
        let described = try #require(try JSONParser.parse(webhook)["entry"]?.array.first?["changes"]?.array.first?["value"]?["messages"]?.array.first?["image"])

        // Mia writes English: Ben's ticket. Its photo is fetched in the background.
        var media: JSONValue?
        for _ in 0..<400 {
            let page = try await httpRequest(port: port, method: "GET", path: "/api/v1/tickets?assignee=me", headers: ["Authorization": "Bearer \(ben)"])
            if let reference = try? JSONParser.parse(Array(page.body.utf8))["tickets"]?.array.first(where: { $0["customer"]?.string == "Mia Clarke" })?["reference"]?.string {
                let ticket = try await httpRequest(port: port, method: "GET", path: "/api/v1/tickets/\(reference)", headers: ["Authorization": "Bearer \(ben)"])
                media = try? JSONParser.parse(Array(ticket.body.utf8))["messages"]?.array.first?["media"]
                if media?["state"]?.string == "stored" { break }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(media?["state"]?.string == "stored", "media: \(media.map(JSONWriter.write) ?? "none")\nlog:\n\(daemon.log)")
        let url = try #require(media?["url"]?.string)

        // Downloaded as any client would (a GET with the agent's bearer token).
        func download(_ bearer: String) async throws -> [UInt8] {
            let client = GraphAPIClient(configuration: .init(baseURL: "http://127.0.0.1:\(port)", version: "v1", accessToken: bearer, timeout: .seconds(10)),
                                        httpClient: .shared)
            var bytes: [UInt8] = []
            _ = try await client.download("http://127.0.0.1:\(port)\(url)", maxBytes: 1 << 24) { bytes += $0.readableBytesView }
            return bytes
        }
        let photo = try await download(ben)
        #expect(Array(photo.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
        #expect(MediaDigest.check(try #require(MediaDigest.decode(SHA256Hasher.hex(photo))), against: described["sha256"]?.string) == .matches)
        #expect(media?["size"]?.number == Double(photo.count) && media?["mime_type"]?.string == "image/png")
        await #expect(throws: GraphAPIError.self) { _ = try await download(ana) }
        // The shell shows the same: what the file is, and that it is there.
        let reference = try #require(try JSONParser.parse(Array(try await httpRequest(port: port, method: "GET", path: "/api/v1/tickets?assignee=me",
            headers: ["Authorization": "Bearer \(ben)"]).body.utf8))["tickets"]?.array.first { $0["customer"]?.string == "Mia Clarke" }?["reference"]?.string)
        let shown = try await runCommand(ctl, ["ticket", reference, "--socket", socket])
        let kilobytes = (Double(photo.count) / 1024 * 10).rounded() / 10
        #expect(shown.output.contains("< [image] The box arrived like this (file \(media?["id"]?.text ?? "?"): image/png, \(kilobytes) KB, stored)"),
                "\(shown.output)")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log:\n\(daemon.log)")
    }
}

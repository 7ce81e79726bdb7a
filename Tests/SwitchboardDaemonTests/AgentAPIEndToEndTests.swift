import Foundation
import JSON
import Testing
import TestSupport
import WhatsApp

/// The README's API walk-through, automated: the real daemon, PostgreSQL, `switchboardctl` and the
/// Graph API stand-in. A webhook arrives, the agent's event stream announces the assignment, the
/// agent replies, the stand-in receives the send, a status webhook marks it delivered, the ticket
/// shows it, and a stream resumed after a disconnect replays what it missed.
@Suite("Agents' API end to end: the real daemon, the Graph API stand-in")
struct AgentAPIEndToEndTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func aWebhookAnAnnouncedAssignmentAReplyDeliveredAndAResumedStream() async throws {
        let directory = try makeTemporaryDirectory("api-e2e")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let standIn = try await GraphAPIStandIn.start(accessToken: "e2e-access-token")
        defer { standIn.stop() }
        try "e2e-access-token\n".write(toFile: directory + "/access-token", atomically: true, encoding: .utf8)
        let configPath = try ExampleDaemon.writeConfiguration(in: directory) { config in
            var whatsapp = config["whatsapp"] as? [String: Any] ?? [:]
            whatsapp["accessToken"] = ["file": directory + "/access-token"]
            whatsapp["graphAPI"] = ["baseURL": standIn.baseURL, "version": "v24.0", "timeoutSeconds": 5]
            config["whatsapp"] = whatsapp
        }
        let started = try await ExampleDaemon.start(configPath: configPath, directory: directory)
        let daemon = started.process, port = started.port
        let ctl = started.switchboardctl
        let socket = directory + "/control.sock"

        // Ben (English 5) is who the English customer's ticket goes to; Ana goes away.
        #expect(try await runCommand(ctl, ["presence", "ana", "away", "--socket", socket]).status == 0)
        let issued = try await runCommand(ctl, ["issue-token", "ben", "--label", "e2e", "--socket", socket])
        let token = try #require(issued.output.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("sbt_") }.map(String.init), "\(issued.output)")
        let auth = ["Authorization": "Bearer \(token)"]

        var stream: EventStreamClient? = try EventStreamClient(port: port, path: "/api/v1/events", headers: auth)
        #expect(await stream?.waitFor("retry: 3000") == true)
        let secret = try ExampleDaemon.appSecret()
        let signer = WebhookSignature(appSecret: secret)
        func post(_ body: [UInt8]) async throws -> Int {
            try await httpRequest(port: port, method: "POST", path: "/webhooks/whatsapp",
                                  headers: ["X-Hub-Signature-256": signer.headerValue(for: body), "Content-Type": "application/json"], body: body).status
        }
        let inbound = Array(try Data(contentsOf: Self.repository.appendingPathComponent("dev/webhooks/english-customer.json")))
        #expect(try await post(inbound) == 200)
        #expect(await stream?.waitFor("event: assigned") == true, "stream: \(stream?.text ?? "")\nlog:\n\(daemon.log)")
        #expect(stream?.text.contains(#""agent":"ben""#) == true)
        let lastSeen = try #require(stream?.eventIDs.last)
        stream = nil

        // Ben replies (his client has dropped its stream meanwhile).
        let reply = try await httpRequest(port: port, method: "POST", path: "/api/v1/tickets/T-1001/messages",
                                          headers: auth.merging(["Content-Type": "application/json"]) { a, _ in a },
                                          body: Array(#"{"type": "text", "text": "Hi Oliver, let me check your order."}"#.utf8))
        #expect(reply.status == 202, "\(reply.body)")
        let outboundID = try #require(try JSONParser.parse(Array(reply.body.utf8))["id"]?.string)
        var sent: [GraphAPIStandIn.Received] = []
        for _ in 0..<1200 {
            sent = standIn.received.filter { $0.answeredCode == nil }
            if !sent.isEmpty { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(sent.count == 1, "log:\n\(daemon.log)")
        #expect(sent.first?.recipient == "447700900123")
        #expect(sent.first?.body["text"]?["body"]?.string == "Hi Oliver, let me check your order.")

        // Meta says it was delivered, echoing the callback data Switchboard sent (as Meta does: the
        // status may arrive before the send's own response has been recorded).
        let statusBody = Array("""
            {"object":"whatsapp_business_account","entry":[{"id":"419561257915477","changes":[{"field":"messages","value":{
              "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
              "statuses":[{"id":"wamid.standin1","status":"delivered","timestamp":"\(Int(Date().timeIntervalSince1970))","recipient_id":"447700900123","biz_opaque_callback_data":"\(outboundID)"}]}}]}]}
            """.utf8)
        #expect(try await post(statusBody) == 200)
        var shown: JSONValue?
        for _ in 0..<1200 {
            let ticket = try await httpRequest(port: port, method: "GET", path: "/api/v1/tickets/T-1001", headers: auth)
            shown = try? JSONParser.parse(Array(ticket.body.utf8))
            if shown?["messages"]?.array.contains(where: { $0["direction"]?.string == "outbound" && $0["status"]?.string == "delivered" }) == true { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let outbound = shown?["messages"]?.array.filter { $0["direction"]?.string == "outbound" } ?? []
        #expect(outbound.map { "\($0["body"]?.string ?? "") \($0["status"]?.string ?? "")" } == ["Hi Oliver, let me check your order. delivered"],
                "\(shown.map(JSONWriter.write) ?? "")")

        // Back online: the resumed stream replays his reply, missed while disconnected.
        let resumed = try EventStreamClient(port: port, path: "/api/v1/events", headers: auth.merging(["Last-Event-ID": lastSeen]) { a, _ in a })
        #expect(await resumed.waitFor(#""direction":"outbound""#), "\(resumed.text)")
        #expect(!resumed.text.contains("event: reset"))

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log:\n\(daemon.log)")
    }
}

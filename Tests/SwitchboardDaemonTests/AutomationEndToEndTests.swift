import Foundation
import JSON
import Postgres
import Testing
import TestSupport
import WhatsApp

/// Issue #20's automation end to end: the real daemon on the example configuration, PostgreSQL, and
/// the README's Graph API stand-in (`dev/graph-api-standin.py`), whose printed sends are what the
/// customer would have received.
@Suite("Automation end to end: out of hours once, a triage choice, auto-close and CSAT, a crash between recording and sending")
struct AutomationEndToEndTests {
    static let helpLine = "106540352242923"
    static let mainLine = "106540352242922"

    /// The example's `office` calendar closed today and tomorrow (UTC dates: whatever the hour and
    /// zone, it is closed now), as the README's walkthrough does.
    static func closeTheOffice(_ config: inout [String: Any]) {
        var calendars = config["calendars"] as? [String: Any] ?? [:]
        var office = calendars["office"] as? [String: Any] ?? [:]
        var holidays = office["holidays"] as? [String: Any] ?? [:]
        let format = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC") ?? .current).year().month().day()
        for offset in [0.0, 86_400] { holidays[Date().addingTimeInterval(offset).formatted(format)] = "closed" }
        office["holidays"] = holidays
        calendars["office"] = office
        config["calendars"] = calendars
    }

    /// A customer's message as Meta posts it: text, or a tapped button or list row.
    static func webhook(line: String, customer: String, name: String, wamid: String, text: String? = nil, choice: (kind: String, id: String, title: String)? = nil) -> [UInt8] {
        var message: [String: JSONValue] = ["from": .string(customer), "id": .string(wamid), "timestamp": .string(String(Int(Date().timeIntervalSince1970)))]
        if let choice {
            message["type"] = "interactive"
            message["interactive"] = .object(["type": .string(choice.kind), .init(choice.kind): .object(["id": .string(choice.id), "title": .string(choice.title)])])
        } else {
            message["type"] = "text"
            message["text"] = .object(["body": .string(text ?? "")])
        }
        let value: JSONValue = .object([
            "messaging_product": "whatsapp",
            "metadata": .object(["display_phone_number": "15550783882", "phone_number_id": .string(line)]),
            "contacts": .array([.object(["profile": .object(["name": .string(name)]), "wa_id": .string(customer)])]),
            "messages": .array([.object(message)]),
        ])
        let body: JSONValue = .object(["object": "whatsapp_business_account",
                                       "entry": .array([.object(["id": "419561257915477", "changes": .array([.object(["value": value, "field": "messages"])])])])])
        return Array(body.jsonText.utf8)
    }

    /// What the stand-in printed as sent to `customer`: each send's JSON body, in order.
    static func sends(to customer: String, in stage: MediaStage) -> [JSONValue] {
        stage.standInOutput.split(separator: "\n").compactMap { line -> JSONValue? in
            guard line.hasPrefix("send "), line.contains(" to \(customer): "), let brace = line.firstIndex(of: "{") else { return nil }
            return try? JSONParser.parse(Array(line[brace...].utf8))
        }
    }

    /// Polls until the stand-in has printed `count` sends to `customer` (bounded); returns them.
    static func waitForSends(_ count: Int, to customer: String, in stage: MediaStage) async -> [JSONValue] {
        for _ in 0..<1200 {
            let found = sends(to: customer, in: stage)
            if found.count >= count { return found }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return sends(to: customer, in: stage)
    }

    /// Polls a query until its first text column says `expected` (bounded); returns what it last said.
    static func waitFor(_ database: PostgresConnection, _ sql: String, _ parameters: [String], equals expected: String) async throws -> String? {
        var last: String?
        for _ in 0..<1200 {
            last = try await database.query(sql, parameters).first?.decode(0, as: String?.self) ?? nil
            if last == expected { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return last
    }

    @Test func outOfHoursTheCustomerGetsOneReplyAndTheMenuAndTheirChoiceRoutesTheTicket() async throws {
        let stage = try await MediaStage.start("automation-e2e-menu")
        defer { stage.stop() }
        let started = try await stage.startDaemon(try stage.writeConfiguration { Self.closeTheOffice(&$0) }, run: "1")
        let customer = "447700900150", name = "Amara Okafor"
        func write(_ text: String, _ wamid: String) async throws {
            #expect(try await stage.post(Self.webhook(line: Self.helpLine, customer: customer, name: name, wamid: wamid, text: text), to: started.port) == 200)
        }
        let database = try await stage.database()
        // The menu and the out-of-hours reply.
        try await write("Hello?", "wamid.E2E-NIGHT-1")
        var sent = await Self.waitForSends(2, to: customer, in: stage)
        #expect(sent.count == 2, "log:\n\(started.process.log.suffix(3000))")
        let reply = sent.compactMap { $0["text"]?["body"]?.string }
        #expect(reply.count == 1 && reply.first?.hasPrefix("Thanks Amara Okafor, we are closed now. We are back ") == true, "\(sent)")
        let menu = sent.first { $0["type"]?.string == "interactive" }
        #expect(menu?["interactive"]?["action"]?["buttons"]?.array.compactMap { $0["reply"]?["id"]?.string } == ["billing", "technical", "espanol"])
        let waiting = try #require(try await database.query("""
            SELECT t.queue, t.first_response_at FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id WHERE c.wa_id = $1
            """, [customer]).first)
        #expect(try waiting.decode(0, as: String?.self) == nil, "waiting on the menu, in no queue")
        #expect(try waiting.decode(1, as: Date?.self) == nil, "sent automatic messages are no first response (BI's first-response times)")

        // Free text instead of a choice: the menu once more, and no second out-of-hours reply.
        try await write("Is anyone there?", "wamid.E2E-NIGHT-2")
        sent = await Self.waitForSends(3, to: customer, in: stage)
        #expect(sent.count == 3 && sent.last?["type"]?.string == "interactive", "\(sent)")

        #expect(try await stage.post(Self.webhook(line: Self.helpLine, customer: customer, name: name, wamid: "wamid.E2E-NIGHT-CHOICE",
                                                  choice: ("button_reply", "billing", "Billing")), to: started.port) == 200)
        let placed = try await Self.waitFor(database, """
            SELECT t.queue || ' ' || coalesce(t.assignee, '-') || ' ' || array_to_string(t.tags, ',') FROM switchboard.tickets t
            JOIN switchboard.customers c ON c.id = t.customer_id WHERE c.wa_id = $1
            """, [customer], equals: "support ben billing")
        #expect(placed == "support ben billing", "the billing choice routed to support, to Ben (English), tagged; log:\n\(started.process.log.suffix(3000))")

        // Still the same closed night: more messages, no more automatic replies.
        try await write("Thanks!", "wamid.E2E-NIGHT-3")
        try await write("Talk tomorrow", "wamid.E2E-NIGHT-4")
        _ = try await Self.waitFor(database, """
            SELECT count(*)::text FROM switchboard.messages m JOIN switchboard.tickets t ON t.id = m.ticket_id
            JOIN switchboard.customers c ON c.id = t.customer_id WHERE c.wa_id = $1 AND m.direction = 'inbound'
            """, [customer], equals: "5")
        try await Task.sleep(for: .milliseconds(500))
        #expect(Self.sends(to: customer, in: stage).count == 3)
        await database.close()
        await MediaStage.stop(started)
    }

    @Test func aPendingTicketAutoClosesAndTheRatingIsStoredAndInBI() async throws {
        let stage = try await MediaStage.start("automation-e2e-csat")
        defer { stage.stop() }
        // Auto-close after 18 seconds' quiet (hours may be fractions); surveys on every number.
        let config = try stage.writeConfiguration { config in
            var automation = config["automation"] as? [String: Any] ?? [:]
            var autoClose = automation["autoClose"] as? [String: Any] ?? [:]
            autoClose["pendingAfterHours"] = 0.005
            automation["autoClose"] = autoClose
            var csat = automation["csat"] as? [String: Any] ?? [:]
            csat["when"] = nil
            csat["afterAutoClose"] = true
            automation["csat"] = csat
            config["automation"] = automation
        }
        let started = try await stage.startDaemon(config, run: "1")
        let customer = "447700900151", name = "Lena Fischer"
        #expect(try await stage.post(Self.webhook(line: Self.mainLine, customer: customer, name: name, wamid: "wamid.E2E-CSAT-1",
                                                  text: "Where is my parcel?"), to: started.port) == 200)
        let database = try await stage.database()
        let agent = try await Self.waitFor(database, """
            SELECT t.assignee FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id WHERE c.wa_id = $1
            """, [customer], equals: "ben")
        #expect(agent == "ben")
        let ref = try #require(try await database.query("""
            SELECT t.reference FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id WHERE c.wa_id = $1
            """, [customer]).first?.decode(0, as: String.self))
        // Ben asks a question and sets the ticket pending on the customer.
        let token = try await stage.token("ben", started)
        let asked = try await httpExchange(port: started.port, method: "POST", path: "/api/v1/tickets/\(ref)/messages",
                                           headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                                           body: Array(#"{"type": "text", "text": "Could you send me the tracking number?"}"#.utf8))
        #expect(asked.status == 202, "\(String(decoding: asked.body, as: UTF8.self))")
        let pending = try await httpExchange(port: started.port, method: "POST", path: "/api/v1/tickets/\(ref)/status",
                                             headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                                             body: Array(#"{"status": "pending"}"#.utf8))
        #expect(pending.status == 200, "\(String(decoding: pending.body, as: UTF8.self))")
        #expect(try await Self.waitFor(database, "SELECT status FROM switchboard.tickets WHERE reference = $1", [ref], equals: "resolved") == "resolved",
                "auto-closed; log:\n\(started.process.log.suffix(3000))")
        let sent = await Self.waitForSends(3, to: customer, in: stage)
        #expect(sent.dropFirst().first?["text"]?["body"]?.string == "We are closing this conversation for now, Lena Fischer. Write to us any time.")
        let survey = sent.dropFirst(2).first
        #expect(survey?["interactive"]?["type"]?.string == "list")
        #expect(survey?["interactive"]?["action"]?["sections"]?.array.first?["rows"]?.array.compactMap { $0["id"]?.string }
            == ["csat:1", "csat:2", "csat:3", "csat:4", "csat:5"])

        #expect(try await stage.post(Self.webhook(line: Self.mainLine, customer: customer, name: name, wamid: "wamid.E2E-CSAT-RATING",
                                                  choice: ("list_reply", "csat:4", "4 – Good")), to: started.port) == 200)
        let rated = try await Self.waitFor(database, "SELECT rating::text || ' ' || agent || ' ' || queue FROM bi.csat WHERE ticket = $1", [ref], equals: "4 ben support")
        #expect(rated == "4 ben support")
        #expect(try await database.query("SELECT status FROM switchboard.tickets WHERE reference = $1", [ref]).first?.decode(0, as: String.self) == "resolved")
        // The thanks went out, inside the window the rating opened.
        #expect(await Self.waitForSends(4, to: customer, in: stage).last?["text"]?["body"]?.string == "Thank you! Anything you would like to add? Just write it here.")
        await database.close()
        await MediaStage.stop(started)
    }

    @Test func killedBetweenRecordingAndSendingTheAutomaticMessagesGoOnceAfterTheRestart() async throws {
        let stage = try await MediaStage.start("automation-e2e-crash")
        defer { stage.stop() }
        // A refused token pauses sending: the out-of-hours reply and the menu are recorded, not sent.
        let wrongToken = stage.directory + "/wrong-token"
        try "not-the-token\n".write(toFile: wrongToken, atomically: true, encoding: .utf8)
        var started = try await stage.startDaemon(try stage.writeConfiguration(tokenFile: wrongToken) { Self.closeTheOffice(&$0) }, run: "1")
        let customer = "447700900152", name = "Tomás Ruiz"
        let first = Self.webhook(line: Self.helpLine, customer: customer, name: name, wamid: "wamid.E2E-CRASH-1", text: "Hola, ¿hay alguien?")
        #expect(try await stage.post(first, to: started.port) == 200)
        let database = try await stage.database()
        let recorded = try await Self.waitFor(database, """
            SELECT count(*)::text FROM switchboard.automation_sends a JOIN switchboard.outbox o ON o.id = a.outbox_id
            JOIN switchboard.tickets t ON t.id = a.ticket_id JOIN switchboard.customers c ON c.id = t.customer_id
            WHERE c.wa_id = $1 AND o.state = 'queued'
            """, [customer], equals: "2")
        #expect(recorded == "2", "both recorded and waiting; log:\n\(started.process.log.suffix(3000))")
        #expect(Self.sends(to: customer, in: stage).isEmpty)
        started.process.signal(SIGKILL)
        #expect(await started.process.waitForExit() != nil)

        // Restarted with the right token: each goes once; Meta's redelivery of the same webhook changes nothing.
        started = try await stage.startDaemon(try stage.writeConfiguration { Self.closeTheOffice(&$0) }, run: "2")
        let sent = await Self.waitForSends(2, to: customer, in: stage)
        #expect(sent.count == 2, "log:\n\(started.process.log.suffix(3000))")
        #expect(try await stage.post(first, to: started.port) == 200)
        try await Task.sleep(for: .milliseconds(500))
        let after = Self.sends(to: customer, in: stage)
        #expect(after.count == 2, "\(after)")
        #expect(after.filter { $0["type"]?.string == "interactive" }.count == 1 && after.filter { $0["type"]?.string == "text" }.count == 1)
        await database.close()
        await MediaStage.stop(started)
    }
}

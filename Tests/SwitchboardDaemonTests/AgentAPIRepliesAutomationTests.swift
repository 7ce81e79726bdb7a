import Foundation
import Hummingbird
import HummingbirdTesting
import JSON
import Synchronization
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport

/// What the reply box offers beyond free text, through the API: canned responses (listed for the
/// caller and the ticket, filled in when sent), the customer's tags (which routing's
/// `customerTags` then sees), and the queue's fallback template when the window has closed.
@Suite("Agents' API: canned responses, customer tags, the fallback template")
struct AgentAPIRepliesAutomationTests {
    typealias Config = AgentAPITests

    func outbound(_ harness: APIHarness, _ ticket: Int64) async throws -> [String] {
        try await harness.routing.pool.query("SELECT type, body FROM switchboard.messages WHERE ticket_id = $1 AND direction = 'outbound' ORDER BY id", [ticket])
            .map { "\(try $0.decode(0, as: String.self)): \(try $0.decode(1, as: String?.self) ?? "-")" }
    }

    @Test func theResponsesACallerMayUseAreListedWithAPreviewAndFilledInWhenSent() async throws {
        let harness = try await APIHarness.start("api_canned", configuration: Config.configuration())
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900701", "Hello")
        #expect(try await harness.routing.assignee(ticket) == "ana")
        let reference = try await harness.reference(ticket)
        let store = harness.store.cannedResponses, now = Date()
        func add(_ shortcut: String, _ title: String, _ body: String, _ scope: CannedScope) async throws -> Int64 {
            try await store.add(shortcut: shortcut, title: title, body: body, scope: scope, by: "test", now: now).id
        }
        let refund = try await add("refund", "Refund policy", "Hi {{customer.name|there}}, refunds take 5 days. {{agent.name}}, {{ticket.reference}}", .everyone)
        _ = try await add("care-hello", "Care hello", "Hello from care", .team("care"))
        let ops = try await add("ops", "Ops only", "Ops", .team("ops"))
        _ = try await add("reopen", "Reopened", "We reopened {{ticket.reference}}", .queue("support"))
        let escalated = try await add("escalated", "Escalated", "A supervisor will answer, {{customer.name}}", .queue("supervisors"))
        let ana = try await harness.token("ana"), ben = try await harness.token("ben"), sam = try await harness.token("sam"), ada = try await harness.token("ada")
        try await harness.application().test(.router) { client async throws in
            func listed(_ token: String, _ query: String = "") async throws -> [JSONValue] {
                let answer = try await harness.call(client, .get, "/api/v1/canned-responses", "/api/v1/canned-responses\(query)", token: token)
                #expect(answer.status == 200, "\(query): \(answer.status)")
                return answer.body?["canned_responses"]?.array ?? []
            }
            func shortcuts(_ token: String, _ query: String = "") async throws -> [String] {
                try await listed(token, query).compactMap { $0["shortcut"]?.string }
            }
            // Everyone's, the caller's teams' and their queues' (a supervisor's: their teams' queues).
            #expect(try await shortcuts(ana) == ["care-hello", "refund", "reopen"])
            #expect(try await shortcuts(ben) == ["care-hello", "refund", "reopen"])
            #expect(try await shortcuts(sam) == ["care-hello", "escalated", "refund", "reopen"])
            #expect(try await shortcuts(ada) == ["care-hello", "escalated", "ops", "refund", "reopen"])
            // For the picker: a shortcut's beginning first, then titles and bodies; a leading / is the shortcut's.
            #expect(try await shortcuts(ana, "?q=re") == ["refund", "reopen", "care-hello"])
            #expect(try await shortcuts(ana, "?q=%2Frefu") == ["refund"])
            #expect(try await shortcuts(ana, "?q=POLIC") == ["refund"])
            // With the ticket: each filled in for it and the caller, as it would go now.
            let previews = try await listed(ana, "?ticket=\(reference)&q=refund")
            #expect(previews.first?["preview"]?.string == "Hi Customer 447700900701, refunds take 5 days. Ana, \(reference)")
            #expect(previews.first?["body"]?.string?.contains("{{customer.name|there}}") == true)
            #expect(try await listed(ana).first?["preview"] == .null)
            // Ben may not see Ana's ticket: as for the ticket itself, it does not exist for him.
            #expect(try await harness.call(client, .get, "/api/v1/canned-responses", "/api/v1/canned-responses?ticket=\(reference)", token: ben).status == 404)
            let tooLong = try await harness.call(client, .get, "/api/v1/canned-responses", "/api/v1/canned-responses?q=\(String(repeating: "a", count: 101))", token: ana)
            #expect(tooLong.status == 400 && tooLong.body?["error"]?["field"]?.string == "q")

            // The customer changes their profile name after Ana picked the response: it goes out
            // with the name as it is when sent.
            try await harness.routing.pool.query("UPDATE switchboard.customers SET profile_name = 'Olga Petrova' WHERE wa_id = '447700900701'")
            let path = "/api/v1/tickets/\(reference)/messages", documented = "/api/v1/tickets/{ref}/messages"
            let sent = try await harness.call(client, .post, documented, path, token: ana, body: ["type": "canned", "canned": .number(Double(refund))])
            #expect(sent.status == 202)
            // Responses the caller may not use are not found, as what they may not see.
            for id in [ops, escalated, 9999] {
                let refused = try await harness.call(client, .post, documented, path, token: ana, body: ["type": "canned", "canned": .number(Double(id))])
                #expect(refused.status == 404 && refused.body?["error"]?["code"]?.string == "not_found", "\(id): \(refused.status)")
            }
            for bad: JSONValue in [0, "refund", .number(1.5)] {
                let refused = try await harness.call(client, .post, documented, path, token: ana, body: ["type": "canned", "canned": bad])
                #expect(refused.status == 400 && refused.body?["error"]?["field"]?.string == "canned", "\(bad)")
            }
            // Sam answers Ana's ticket with his team's queue's response.
            #expect(try await harness.call(client, .post, documented, path, token: sam, body: ["type": "canned", "canned": .number(Double(escalated))]).status == 202)
        }
        #expect(try await outbound(harness, ticket) == ["text: Hi Olga Petrova, refunds take 5 days. Ana, \(reference)",
                                                        "text: A supervisor will answer, Olga Petrova"])
    }

    @Test func aTagOnTheCustomerRoutesTheirNextTicketByCustomerTags() async throws {
        let rules = [RoutingRule(name: "vip", conditions: .init(customerTags: ["vip"]), actions: .init(queue: "supervisors", priority: .urgent)),
                     RoutingRule(name: "all", actions: .init(queue: "support"))]
        let configuration = RoutingConfiguration.testing(agents: [Config.ana, Config.ben, Config.sam, Config.ada],
                                                         presence: ["ana": .online, "ben": .offline, "sam": .offline, "ada": .offline],
                                                         extraQueues: [QueueDefinition(name: "supervisors")], rules: rules)
        let harness = try await APIHarness.start("api_customer_tags", configuration: configuration)
        defer { harness.stop() }
        let first = try await harness.routing.customerWrites("447700900711", "Hello")
        #expect(try await harness.routing.assignee(first) == "ana")
        let reference = try await harness.reference(first)
        let ana = try await harness.token("ana"), ben = try await harness.token("ben"), sam = try await harness.token("sam")
        try await harness.application().test(.router) { client async throws in
            let path = "/api/v1/tickets/\(reference)/customer/tags", documented = "/api/v1/tickets/{ref}/customer/tags"
            let tagged = try await harness.call(client, .post, documented, path, token: ana, body: ["tag": "vip"])
            #expect(tagged.status == 200)
            #expect(tagged.body?["customer_tags"] == ["vip"] && tagged.body?["changed"] == true)
            #expect(try await harness.call(client, .post, documented, path, token: ana, body: ["tag": "vip"]).body?["changed"] == false)
            let bad = try await harness.call(client, .post, documented, path, token: ana, body: ["tag": "very important"])
            #expect(bad.status == 400 && bad.body?["error"]?["field"]?.string == "tag")
            #expect(try await harness.call(client, .post, documented, path, token: ben, body: ["tag": "gold"]).status == 404)
            // The ticket and its row in the list show the customer's tags.
            let shown = try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(reference)", token: ana)
            #expect(shown.body?["customer_tags"] == ["vip"])
            let rows = try await harness.call(client, .get, "/api/v1/tickets", "/api/v1/tickets?view=mine", token: ana)
            #expect(rows.body?["tickets"]?.array.first?["customer_tags"] == ["vip"])
        }
        let event = try #require(try await harness.routing.events(first, "customer_tagged").first)
        #expect(event["tag"] as? String == "vip")
        #expect(try await harness.routing.pool.query("SELECT tags FROM switchboard.customers WHERE wa_id = '447700900711'").first?.decode(0, as: [String].self) == ["vip"])

        // The customer's next ticket (a day after this one was resolved) meets the vip rule.
        try await harness.routing.setStatus(first, .resolved)
        await harness.routing.advance(by: 25 * 3600)
        let next = try await harness.routing.customerWrites("447700900711", "Hello again")
        #expect(next != first)
        let placed = try await harness.routing.pool.query("SELECT queue || ' ' || priority || ' ' || routing_rule FROM switchboard.tickets WHERE id = $1", [next])
            .first?.decode(0, as: String.self)
        #expect(placed == "supervisors urgent vip")

        // Sam (the supervisors' queue is his) takes the tag off; recorded on the ticket he did it from.
        let nextReference = try await harness.reference(next)
        try await harness.application().test(.router) { client async throws in
            let removed = try await harness.call(client, .delete, "/api/v1/tickets/{ref}/customer/tags/{tag}",
                                                 "/api/v1/tickets/\(nextReference)/customer/tags/vip", token: sam)
            #expect(removed.status == 200 && removed.body?["customer_tags"] == [] && removed.body?["changed"] == true)
        }
        #expect(try await harness.routing.events(next, "customer_untagged").count == 1)
        let actors = try await harness.routing.pool.query("SELECT actor FROM switchboard.ticket_events WHERE kind LIKE 'customer_%' ORDER BY id")
            .map { try $0.decode(0, as: String.self) }
        #expect(actors == ["ana", "sam"])
    }

    @Test func aTextMeetingAClosedWindowMayGoAsTheQueuesFallbackTemplateOnceConfirmed() async throws {
        final class Automation: Sendable {
            let current = Mutex(AutomationConfiguration())
        }
        let automation = Automation()
        automation.current.withLock { config in
            config.templateFallbacks = [.init(queues: ["support"],
                                              template: MessageTemplate(name: "follow_up", language: "en_US", text: "Hello {{1}}, we have an answer about {{2}}."),
                                              parameters: ["{{customer.name|there}}", "{{ticket.reference}}"])]
        }
        // Ana's client stays "alive" across the day the test skips (her ticket stays hers).
        let harness = try await APIHarness.start("api_fallback", configuration: Config.configuration(), silence: 48 * 3600,
                                                 automation: { automation.current.withLock { $0 } })
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900721", "Hello")
        let reference = try await harness.reference(ticket)
        let ana = try await harness.token("ana")
        let path = "/api/v1/tickets/\(reference)/messages", documented = "/api/v1/tickets/{ref}/messages"
        try await harness.application().test(.router) { client async throws in
            // While the window is open the confirmation changes nothing: the text goes.
            let open = try await harness.call(client, .post, documented, path, token: ana,
                                              body: ["type": "text", "text": "On it", "confirm_template_fallback": true])
            #expect(open.status == 202 && open.body?["fallback_template"] == nil)
            await harness.routing.advance(by: 25 * 3600)

            let text: JSONValue = ["type": "text", "text": "Sorry for the wait: the parcel left today."]
            let refused = try await harness.call(client, .post, documented, path, token: ana, body: text)
            #expect(refused.status == 409)
            let error = refused.body?["error"]
            #expect(error?["code"]?.string == "customer_window_closed" && error?["template_required"] == true)
            #expect(error?["fallback_template"]?["name"]?.string == "follow_up")
            #expect(error?["fallback_template"]?["preview"]?.string == "Hello Customer 447700900721, we have an answer about \(reference).")

            guard case .object(var confirmed) = text else { return }
            confirmed["confirm_template_fallback"] = true
            let sent = try await harness.call(client, .post, documented, path, token: ana, body: .object(confirmed))
            #expect(sent.status == 202)
            #expect(sent.body?["fallback_template"]?["name"]?.string == "follow_up")
            #expect(sent.body?["note"]?.number != nil)

            // Reloaded without fallbacks: the plain refusal, confirmed or not.
            automation.current.withLock { $0 = AutomationConfiguration() }
            for body in [text, .object(confirmed)] {
                let plain = try await harness.call(client, .post, documented, path, token: ana, body: body)
                #expect(plain.status == 409 && plain.body?["error"]?["fallback_template"] == nil)
            }
        }
        #expect(try await outbound(harness, ticket) == ["text: On it", "template: follow_up"])
        let parameters = try await harness.routing.pool.query("""
            SELECT p->>'text' FROM switchboard.messages m, jsonb_array_elements(m.details->'template'->'components'->0->'parameters') p
            WHERE m.ticket_id = $1 AND m.type = 'template'
            """, [ticket]).map { try $0.decode(0, as: String.self) }
        #expect(parameters == ["Customer 447700900721", reference])
        // Nothing the agent wrote is lost: the text that was not sent is a note on the ticket.
        let notes = try await harness.routing.pool.query("SELECT author, body FROM switchboard.notes WHERE ticket_id = $1", [ticket])
            .map { "\(try $0.decode(0, as: String.self)): \(try $0.decode(1, as: String.self))" }
        #expect(notes == ["ana: Not sent: the 24-hour window had closed; template “follow_up” was sent instead. The reply was:\nSorry for the wait: the parcel left today."])
    }
}

import Foundation
import Hummingbird
import JSON
import SwitchboardCore
import SwitchboardStore
import WhatsApp

/// An agent's text that meets a closed 24-hour window, when the ticket's queue names a fallback
/// template (`automation.templateFallbacks`): the refusal offers the template with its text as the
/// customer would read it; the same request with `confirm_template_fallback: true` sends the
/// template instead, and keeps the agent's words as an internal note so nothing they wrote is lost.
extension AgentAPI {
    /// The queue's template with its parameters filled in now.
    struct ResolvedFallback: Sendable {
        var template: MessageTemplate
        var rendered: AutomationConfiguration.TemplateFallback.Rendered
    }

    /// The fallback of the ticket's queue as the configuration now says (it is reloadable).
    func templateFallback(for ticketID: Int64, caller: APICaller) async throws -> ResolvedFallback? {
        guard let facts = try await store.replyFacts(ticketID: ticketID), let fallback = automation().templateFallback(forQueue: facts.queue) else {
            return nil
        }
        let rendered = fallback.rendered(customerName: facts.customerName, agentName: await agentName(caller.agentID), reference: facts.reference)
        return ResolvedFallback(template: fallback.template, rendered: rendered)
    }

    /// Sends the template, then notes the text that was not sent.
    func sendFallback(_ fallback: ResolvedFallback, instead text: String, caller: APICaller, ticketID: Int64, reference: String,
                      place: Permissions.TicketPlace) async throws -> Response {
        guard let outbox else { throw APIFailure(status: .serviceUnavailable, code: "sending_not_configured", message: ReplyRefusal.sendingNotConfigured.description) }
        let parameters = fallback.rendered.parameters
        let components: JSONValue? = parameters.isEmpty ? nil
            : [["type": "body", "parameters": .array(parameters.map { ["type": "text", "text": .string($0)] })]]
        let content = OutboundContent.template(name: fallback.template.name, languageCode: fallback.template.language, components: components)
        let queued: QueuedReply
        do {
            queued = try await outbox.send(content, ticket: reference, author: caller.agentID)
        } catch let refusal as ReplyRefusal {
            throw Self.failure(refusal, reference)
        }
        published(queued, content, caller: caller, ticketID: ticketID, reference: reference)
        let now = Date()
        let note = "Not sent: the 24-hour window had closed; template “\(fallback.template.name)” was sent instead. The reply was:\n\(text)"
        let noteID = try await store.addNote(ticketID: ticketID, agentID: caller.agentID, author: caller.agentID, body: note, now: now)
        if let noteID {
            events.publish(DaemonEvent(kind: .noteAdded, ticketID: ticketID, reference: reference, queue: place.queue, agent: place.assignee, at: now,
                                       audience: [], details: ["author": caller.agentID, "note": "\(noteID)", "text": note]))
        }
        var result = Self.accepted(queued, reference)
        result["fallback_template"] = ["name": .string(fallback.template.name), "language": .string(fallback.template.language),
                                       "preview": .string(fallback.rendered.preview)]
        result["note"] = noteID.map { .number(Double($0)) } ?? .null
        return APIResponse.json(.object(result), status: .accepted)
    }
}

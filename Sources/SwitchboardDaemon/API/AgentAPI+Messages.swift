import Foundation
import Hummingbird
import JSON
import SwitchboardCore
import SwitchboardStore
import WhatsApp

/// Replies: recorded through the outbox (the Cloud API's rules — the customer service window, rate
/// and pacing — apply there), sent as soon as they allow.
extension AgentAPI {
    func reply(_ caller: APICaller, _ reference: String, _ request: Request) async throws -> Response {
        let body = try await APIBody.read(request)
        let asked = try Self.replyBody(body)
        let confirmsFallback = try body.optionalBool("confirm_template_fallback") ?? false
        guard let found = try await store.place(of: reference) else { throw APIFailure.notFound("ticket", reference) }
        try caller.require(.changeTicket(found.place), ticket: reference)
        let id = found.id
        guard let outbox else { throw APIFailure(status: .serviceUnavailable, code: "sending_not_configured", message: ReplyRefusal.sendingNotConfigured.description) }
        let content: OutboundContent, file: Int64?
        switch asked {
        case .content(let given): (content, file) = (given, nil)
        case .upload: (content, file) = try await uploadedFileContent(body, ticketID: id, reference: reference)
        case .canned(let canned): (content, file) = (.text(body: try await cannedText(canned, caller: caller, ticketID: id, place: found.place), previewURL: false), nil)
        }
        let queued: QueuedReply
        do {
            queued = try await outbox.send(content, ticket: reference, author: caller.agentID, file: file)
        } catch ReplyRefusal.customerWindowClosed(let closedAt) {
            var extra: [String: JSONValue] = ["window_closed_at": APIResponse.timestamp(closedAt), "template_required": true]
            var message = ReplyRefusal.customerWindowClosed(closedAt: closedAt).description + " (send {\"type\": \"template\", …})"
            if case .text(let text, _) = content, let fallback = try await templateFallback(for: id, caller: caller) {
                if confirmsFallback { return try await sendFallback(fallback, instead: text, caller: caller, ticketID: id, reference: reference, place: found.place) }
                extra["fallback_template"] = ["name": .string(fallback.template.name), "language": .string(fallback.template.language),
                                              "preview": .string(fallback.rendered.preview)]
                message += "; or send the queue's template \(fallback.template.name) instead: the same request with \"confirm_template_fallback\": true"
            }
            throw APIFailure.conflict("customer_window_closed", message, extra: extra)
        } catch let refusal as ReplyRefusal {
            throw Self.failure(refusal, reference)
        }
        published(queued, content, caller: caller, ticketID: id, reference: reference)
        return APIResponse.json(.object(Self.accepted(queued, reference)), status: .accepted)
    }

    /// What a reply's body asks to send.
    enum ReplyBody {
        case content(OutboundContent)
        /// A file uploaded for the ticket (`{"type": "media", "media": 12}`).
        case upload
        /// A canned response by id.
        case canned(Int64)
    }

    static func replyBody(_ body: APIBody) throws -> ReplyBody {
        switch body.object["type"]?.string {
        case "media" where body.object["media"] != nil: return .upload
        case "canned":
            try body.only(["type", "canned", "confirm_template_fallback"])
            guard case .number(let number)? = body.object["canned"], let id = Int64(exactly: number), id > 0 else {
                throw APIFailure.invalid("canned", "the id of a canned response (GET /api/v1/canned-responses)")
            }
            return .canned(id)
        default: return .content(try content(body))
        }
    }

    /// A refusal as the API answers it (a closed window is answered by `reply`, which may offer the
    /// queue's fallback template).
    static func failure(_ refusal: ReplyRefusal, _ reference: String) -> APIFailure {
        switch refusal {
        case .customerWindowClosed(let closedAt):
            return APIFailure.conflict("customer_window_closed", refusal.description + " (send {\"type\": \"template\", …})",
                                       extra: ["window_closed_at": APIResponse.timestamp(closedAt), "template_required": true])
        // What WhatsApp itself would refuse (a text longer than 4096 UTF-16 code units, a caption over 1024).
        case .invalidReply(let reason): return APIFailure.invalid("body", reason)
        case .unknownTicket: return APIFailure.notFound("ticket", reference)
        case .sendingNotConfigured: return APIFailure(status: .serviceUnavailable, code: "sending_not_configured", message: refusal.description)
        case .fileAlreadySent: return APIFailure.conflict("media_already_sent", refusal.description)
        }
    }

    /// Followers hear of the reply (a `message` event the enricher fills in).
    func published(_ queued: QueuedReply, _ content: OutboundContent, caller: APICaller, ticketID: Int64, reference: String) {
        var details = ["direction": "outbound", "type": content.typeName, "author": caller.agentID]
        if let message = queued.messageID { details["message"] = "\(message)" }
        events.publish(DaemonEvent(kind: .message, ticketID: ticketID, reference: reference, agent: caller.agentID, at: Date(), audience: [], details: details))
    }

    static func accepted(_ queued: QueuedReply, _ reference: String) -> [String: JSONValue] {
        var result: [String: JSONValue] = ["id": .string(queued.id.uuidString.lowercased()), "ticket": .string(reference), "status": "queued"]
        if let paused = queued.sendingPausedReason { result["sending_paused"] = .string(paused) }
        return result
    }

    /// `POST /tickets/{ref}/typing`: the agent is writing; the customer sees "typing…" (at most one
    /// indicator per 20 seconds per ticket goes to Meta; a client may call on every keystroke).
    func typing(_ caller: APICaller, _ reference: String) async throws -> Response {
        let id = try await ticketID(reference, caller, Permissions.Operation.changeTicket)
        guard let signals else { throw APIFailure(status: .serviceUnavailable, code: "sending_not_configured", message: ReplyRefusal.sendingNotConfigured.description) }
        switch try await signals.typing(id) {
        case .sent(let next):
            return APIResponse.json(["typing": true, "next_at": APIResponse.timestamp(next)], status: .accepted)
        case .throttled(let next):
            return APIResponse.json(["typing": true, "reason": "already_showing", "next_at": APIResponse.timestamp(next)])
        case .disabled:
            return APIResponse.json(["typing": false, "reason": "disabled", "next_at": .null])
        case .nothingToAnswer:
            return APIResponse.json(["typing": false, "reason": "customer_window_closed", "next_at": .null])
        }
    }

    /// A reply carrying a file uploaded for this ticket (`{"type": "media", "media": 12, "caption": …}`):
    /// its kind and name come from the upload, its Meta id is the one the upload got.
    func uploadedFileContent(_ body: APIBody, ticketID: Int64, reference: String) async throws -> (OutboundContent, Int64) {
        try body.only(["type", "media", "caption"])
        guard case .number(let number)? = body.object["media"], let id = Int64(exactly: number), id > 0 else {
            throw APIFailure.invalid("media", "the id POST /api/v1/media answered (a number)")
        }
        let caption = try body.optionalString("caption")
        guard let file = try await store.media.file(id), file.ticketID == ticketID, file.direction == "outbound",
              let kind = OutboundContent.MediaKind(rawValue: file.kind) else {
            throw APIFailure.invalid("media", "no file \(id) was uploaded for \(reference) (POST /api/v1/media?ticket=\(reference))")
        }
        guard file.messageID == nil else { throw APIFailure.conflict("media_already_sent", ReplyRefusal.fileAlreadySent(id).description) }
        guard file.state == "stored", let waMediaID = file.waMediaID else {
            throw APIFailure.conflict("media_\(file.state)", "file \(id) is \(file.state == "purged" ? "purged after its retention" : "not uploaded"); upload it again")
        }
        if let uploadedAt = file.uploadedAt, Date().timeIntervalSince(uploadedAt) > MediaUpload.metaKeepsUploadsFor - 3600 {
            throw APIFailure.conflict("media_expired", "Meta keeps an uploaded file 30 days and file \(id) is older; upload it again")
        }
        if caption != nil, kind == .audio || kind == .sticker { throw APIFailure.invalid("caption", "WhatsApp shows no caption on \(kind.rawValue)") }
        return (.media(kind, mediaID: waMediaID, caption: caption, filename: kind == .document ? file.fileName : nil), id)
    }

    /// The reply's content from its JSON: text, template (name, language, body parameters), media
    /// by id, or an interactive object (buttons or list) as the Cloud API takes it. Each type takes
    /// only its own fields (the document's `oneOf`); a text may also confirm the queue's fallback
    /// template (`confirm_template_fallback`).
    static func content(_ body: APIBody) throws -> OutboundContent {
        switch try body.choice("type", ["text", "template", "media", "interactive", "canned"]) {
        case "text":
            try body.only(["type", "text", "preview_url", "confirm_template_fallback"])
            return .text(body: try body.text("text", limit: 4096), previewURL: try body.optionalBool("preview_url") ?? false)
        case "template":
            try body.only(["type", "name", "language", "parameters"])
            let parameters = try body.optionalStrings("parameters") ?? []
            let components: JSONValue? = parameters.isEmpty ? nil
                : [["type": "body", "parameters": .array(parameters.map { ["type": "text", "text": .string($0)] })]]
            return .template(name: try body.string("name"), languageCode: try body.string("language"), components: components)
        case "media":
            try body.only(["type", "media_type", "media_id", "caption", "filename"])
            let kindText = try body.choice("media_type", OutboundContent.MediaKind.allCases.map(\.rawValue))
            guard let kind = OutboundContent.MediaKind(rawValue: kindText) else { throw APIFailure.invalid("media_type", "unknown") }
            return .media(kind, mediaID: try body.string("media_id"), caption: try body.optionalString("caption"), filename: try body.optionalString("filename"))
        case "canned":
            // Filled in from the store when sent (`replyBody`); never content by itself.
            throw APIFailure.invalid("canned", "a canned response is sent by id: {\"type\": \"canned\", \"canned\": 12}")
        default:
            try body.only(["type", "interactive"])
            guard let interactive = body.object["interactive"], interactive.isObject else {
                throw APIFailure.invalid("interactive", "an object as the Cloud API takes it (type button or list, body, action)")
            }
            guard let kind = interactive["type"]?.string, ["button", "list"].contains(kind) else {
                throw APIFailure.invalid("interactive.type", "button or list")
            }
            return .interactive(interactive)
        }
    }
}

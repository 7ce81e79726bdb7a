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
        let carriesUpload = body.object["type"]?.string == "media" && body.object["media"] != nil
        var content = carriesUpload ? nil : try Self.content(body)
        let id = try await ticketID(reference, caller, Permissions.Operation.changeTicket)
        guard let outbox else { throw APIFailure(status: .serviceUnavailable, code: "sending_not_configured", message: ReplyRefusal.sendingNotConfigured.description) }
        var file: Int64?
        if carriesUpload { (content, file) = try await uploadedFileContent(body, ticketID: id, reference: reference) }
        guard let content else { throw APIFailure.invalid("type", "a reply needs content") }
        let queued: QueuedReply
        do {
            queued = try await outbox.send(content, ticket: reference, author: caller.agentID, file: file)
        } catch let refusal as ReplyRefusal {
            switch refusal {
            case .customerWindowClosed(let closedAt):
                throw APIFailure.conflict("customer_window_closed", refusal.description + " (send {\"type\": \"template\", …})",
                                          extra: ["window_closed_at": APIResponse.timestamp(closedAt), "template_required": true])
            // What WhatsApp itself would refuse (a text longer than 4096 UTF-16 code units, a caption over 1024).
            case .invalidReply(let reason): throw APIFailure.invalid("body", reason)
            case .unknownTicket: throw APIFailure.notFound("ticket", reference)
            case .sendingNotConfigured: throw APIFailure(status: .serviceUnavailable, code: "sending_not_configured", message: refusal.description)
            case .fileAlreadySent: throw APIFailure.conflict("media_already_sent", refusal.description)
            }
        }
        var details = ["direction": "outbound", "type": content.typeName, "author": caller.agentID]
        if let message = queued.messageID { details["message"] = "\(message)" }
        events.publish(DaemonEvent(kind: .message, ticketID: id, reference: reference, agent: caller.agentID, at: Date(), audience: [], details: details))
        var result: [String: JSONValue] = ["id": .string(queued.id.uuidString.lowercased()), "ticket": .string(reference), "status": "queued"]
        if let paused = queued.sendingPausedReason { result["sending_paused"] = .string(paused) }
        return APIResponse.json(.object(result), status: .accepted)
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
    /// only its own fields (the document's `oneOf`).
    static func content(_ body: APIBody) throws -> OutboundContent {
        switch try body.choice("type", ["text", "template", "media", "interactive"]) {
        case "text":
            try body.only(["type", "text", "preview_url"])
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

import Foundation
import JSON

/// The JSON body of a Cloud API send request.
public enum SendRequest {
    /// Who a message goes to: a phone number (`wa_id`) when known, otherwise the business-scoped user id.
    public enum Recipient: Sendable, Equatable {
        case phone(String)
        case userID(String)
    }

    /// Marks the customer's message `messageID` (and those before it) read: blue ticks. With
    /// `typing`, their phone also shows "typing…" until the next message or for 25 seconds (Meta
    /// sends the typing indicator only with a read receipt).
    public static func readReceipt(messageID: String, typing: Bool = false) -> JSONValue {
        var body: [String: JSONValue] = ["messaging_product": .string("whatsapp"), "status": .string("read"), "message_id": .string(messageID)]
        if typing { body["typing_indicator"] = .object(["type": .string("text")]) }
        return .object(body)
    }

    /// The request body for `content`. `callbackData` is echoed back by Meta in status webhooks as
    /// `biz_opaque_callback_data` (Switchboard puts its outbound id there).
    public static func body(_ content: OutboundContent, to recipient: Recipient, callbackData: String) -> JSONValue {
        if case .markAsRead(let messageID) = content { return readReceipt(messageID: messageID) }
        var body: [String: JSONValue] = [
            "messaging_product": .string("whatsapp"),
            "recipient_type": .string("individual"),
            "type": .string(content.typeName),
            "biz_opaque_callback_data": .string(callbackData),
        ]
        switch recipient {
        case .phone(let number): body["to"] = .string(number)
        case .userID(let id): body["recipient"] = .string(id)
        }
        switch content {
        case .text(let text, let previewURL):
            body["text"] = .object(["body": .string(text), "preview_url": .bool(previewURL)])
        case .template(let name, let languageCode, let components):
            var template: [String: JSONValue] = ["name": .string(name), "language": .object(["code": .string(languageCode)])]
            if let components { template["components"] = components }
            body["template"] = .object(template)
        case .media(let kind, let mediaID, let caption, let filename):
            var media: [String: JSONValue] = ["id": .string(mediaID)]
            if let caption, kind != .audio, kind != .sticker { media["caption"] = .string(caption) }
            if let filename, kind == .document { media["filename"] = .string(filename) }
            body[kind.rawValue] = .object(media)
        case .interactive(let object):
            body["interactive"] = object
        case .reaction(let messageID, let emoji):
            body["reaction"] = .object(["message_id": .string(messageID), "emoji": .string(emoji)])
        case .markAsRead:
            preconditionFailure("handled above")
        }
        return .object(body)
    }
}

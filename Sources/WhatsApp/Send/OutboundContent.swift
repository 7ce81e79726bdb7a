import Foundation
import JSON

/// What a reply carries, in the shapes the Cloud API accepts on `POST /{phone-number-id}/messages`.
public enum OutboundContent: Sendable, Equatable {
    case text(body: String, previewURL: Bool = false)
    /// An approved template: the only thing that may be sent outside the customer service window.
    case template(name: String, languageCode: String, components: JSONValue? = nil)
    /// Media already uploaded to Meta, by its media id.
    case media(MediaKind, mediaID: String, caption: String? = nil, filename: String? = nil)
    /// An interactive message (buttons, list, …): Meta's `interactive` object as the client built it.
    case interactive(JSONValue)
    /// A reaction to a message; an empty emoji removes it.
    case reaction(toMessage: String, emoji: String)
    /// Marks a customer's message (and those before it) as read: blue ticks, no message on the ticket.
    case markAsRead(messageID: String)

    public enum MediaKind: String, Sendable, CaseIterable {
        case image, audio, video, document, sticker
    }

    /// The message type as stored on the ticket (`read` for a read receipt).
    public var typeName: String {
        switch self {
        case .text: return "text"
        case .template: return "template"
        case .media(let kind, _, _, _): return kind.rawValue
        case .interactive: return "interactive"
        case .reaction: return "reaction"
        case .markAsRead: return "read"
        }
    }

    /// Whether WhatsApp allows it only inside the customer service window.
    public var isFreeForm: Bool {
        switch self {
        case .template, .markAsRead: return false
        case .text, .media, .interactive, .reaction: return true
        }
    }

    /// Whether it becomes a message on the ticket (a read receipt does not).
    public var isMessage: Bool {
        if case .markAsRead = self { return false }
        return true
    }

    /// What a person reads on the ticket: the text, caption, emoji or template name.
    public var readableText: String? {
        switch self {
        case .text(let body, _): return body
        case .template(let name, _, _): return name
        case .media(_, _, let caption, let filename): return caption ?? filename
        case .interactive(let object): return object["body"]?["text"]?.string
        case .reaction(_, let emoji): return emoji
        case .markAsRead: return nil
        }
    }

    /// Why the content cannot be sent as it is, naming the field; nil when it can.
    public var problem: String? {
        switch self {
        case .text(let body, _):
            if body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return "text.body is empty" }
            if body.utf16.count > 4096 { return "text.body is longer than 4096 characters" }
        case .template(let name, let language, let components):
            if name.isEmpty { return "template.name is empty" }
            if language.isEmpty { return "template.language is empty" }
            if let components, !components.isArray { return "template.components must be an array" }
        case .media(_, let mediaID, let caption, _):
            if mediaID.isEmpty { return "media id is empty" }
            if let caption, caption.utf16.count > 1024 { return "caption is longer than 1024 characters" }
        case .interactive(let object):
            if !object.isObject { return "interactive must be an object" }
            if object["type"]?.string == nil { return "interactive.type is missing" }
        case .reaction(let messageID, _):
            if messageID.isEmpty { return "reaction.message_id is empty" }
        case .markAsRead(let messageID):
            if messageID.isEmpty { return "message_id is empty" }
        }
        return nil
    }
}

import JSON
import WhatsApp

extension OutboundContent {
    /// The structured parts stored in `messages.details`, shaped like the inbound ones.
    var detailsJSON: String {
        let details: JSONValue
        switch self {
        case .text(_, let previewURL):
            details = previewURL ? .object(["preview_url": .bool(true)]) : .object([:])
        case .template(let name, let languageCode, let components):
            var template: [String: JSONValue] = ["name": .string(name), "language": .string(languageCode)]
            if let components { template["components"] = components }
            details = .object(["template": .object(template)])
        case .media(let kind, let mediaID, let caption, let filename):
            var media: [String: JSONValue] = ["id": .string(mediaID), "kind": .string(kind.rawValue)]
            if let caption { media["caption"] = .string(caption) }
            if let filename { media["filename"] = .string(filename) }
            details = .object(["media": .object(media)])
        case .interactive(let object):
            details = .object(["interactive": object])
        case .reaction(let messageID, let emoji):
            details = .object(["reaction": .object(["message_id": .string(messageID), "emoji": .string(emoji)])])
        case .markAsRead(let messageID):
            details = .object(["message_id": .string(messageID)])
        }
        return details.jsonText
    }
}

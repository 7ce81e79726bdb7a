import Foundation
import JSON
import SwitchboardCore
import WhatsApp

/// Turns the WhatsApp gateway's reading of a webhook into the domain values the ticket store writes.
enum IncomingMapping {
    static func message(_ message: InboundMessage) -> IncomingMessage {
        IncomingMessage(
            wamid: message.wamid,
            businessNumberID: message.businessNumber.phoneNumberID,
            businessDisplayNumber: message.businessNumber.displayPhoneNumber,
            customerWaID: message.customer.waID,
            customerUserID: message.customer.userID,
            customerName: message.customer.profileName,
            type: message.type,
            body: message.text,
            detailsJSON: details(of: message).jsonText,
            payloadJSON: message.raw.jsonText,
            targetWamid: message.targetWamid,
            sentAt: message.sentAt,
            isEcho: message.isEcho
        )
    }

    static func status(_ status: StatusUpdate) -> IncomingStatus {
        IncomingStatus(
            wamid: status.wamid,
            status: status.status.description,
            occurredAt: status.at,
            errorCode: status.errors.first?.code,
            errorTitle: status.errors.first?.title,
            errorsJSON: (status.raw["errors"] ?? .array([])).jsonText,
            payloadJSON: status.raw.jsonText,
            // Other software on the same number may put anything there; only a UUID can be ours.
            outboundID: status.callbackData.flatMap { UUID(uuidString: $0) }
        )
    }

    /// The structured parts of a message, as one JSON object for the `details` column.
    private static func details(of message: InboundMessage) -> JSONValue {
        var members: [String: JSONValue] = [:]
        if let media = message.media {
            var object: [String: JSONValue] = ["voice": .bool(media.isVoice), "animated": .bool(media.isAnimated)]
            for (key, value) in [("id", media.id), ("mime_type", media.mimeType), ("sha256", media.sha256), ("filename", media.filename), ("url", media.url)] {
                if let value { object[key] = .string(value) }
            }
            members["media"] = .object(object)
        }
        if let location = message.location {
            var object: [String: JSONValue] = ["latitude": .number(location.latitude), "longitude": .number(location.longitude)]
            for (key, value) in [("name", location.name), ("address", location.address), ("url", location.url)] {
                if let value { object[key] = .string(value) }
            }
            members["location"] = .object(object)
        }
        if let choice = message.choice {
            var object: [String: JSONValue] = ["kind": .string(choice.kind)]
            for (key, value) in [("id", choice.id), ("title", choice.title), ("description", choice.description)] {
                if let value { object[key] = .string(value) }
            }
            members["choice"] = .object(object)
        }
        if let reaction = message.reaction {
            var object: [String: JSONValue] = ["removed": .bool(reaction.isRemoval)]
            if let id = reaction.messageWamid { object["message_id"] = .string(id) }
            if let emoji = reaction.emoji, !emoji.isEmpty { object["emoji"] = .string(emoji) }
            members["reaction"] = .object(object)
        }
        if let context = message.context {
            var object: [String: JSONValue] = ["forwarded": .bool(context.forwarded), "frequently_forwarded": .bool(context.frequentlyForwarded)]
            for (key, value) in [("id", context.wamid), ("from", context.from), ("referred_product_id", context.referredProductID)] {
                if let value { object[key] = .string(value) }
            }
            members["context"] = .object(object)
        }
        if let referral = message.referral { members["referral"] = referral }
        if !message.contacts.isEmpty { members["contacts"] = .array(message.contacts) }
        if !message.errors.isEmpty {
            members["errors"] = .array(message.errors.map { error in
                var object: [String: JSONValue] = [:]
                if let code = error.code { object["code"] = .number(Double(code)) }
                if let title = error.title { object["title"] = .string(title) }
                if let details = error.details { object["details"] = .string(details) }
                return .object(object)
            })
        }
        return .object(members)
    }
}

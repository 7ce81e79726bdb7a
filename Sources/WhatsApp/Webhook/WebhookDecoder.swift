import Foundation
import JSON

/// Reads a webhook body into a `WebhookBatch`.
///
/// Tolerant by design: every element of every array is read (libraries that read only the first lost
/// data); timestamps may be strings or numbers; unknown types and fields are kept; an element that
/// cannot be read is listed in `skipped` and never fails the rest.
public enum WebhookDecoder {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The body is not JSON, or not an object with an `entry` array.
        case notAWebhook(String)

        public var description: String {
            switch self {
            case .notAWebhook(let reason): return "not a WhatsApp webhook body: \(reason)"
            }
        }
    }

    public static func decode(_ body: some Collection<UInt8>) throws(Failure) -> WebhookBatch {
        let root: JSONValue
        do {
            root = try JSONParser.parse(body)
        } catch {
            throw .notAWebhook("invalid JSON: \(error)")
        }
        guard root.isObject else { throw .notAWebhook("the top level is not an object") }
        guard case .array(let entries)? = root["entry"] else { throw .notAWebhook("no entry array") }
        var batch = WebhookBatch()
        for (entryIndex, entry) in entries.enumerated() {
            for (changeIndex, change) in (entry["changes"]?.array ?? []).enumerated() {
                read(change, at: "entry[\(entryIndex)].changes[\(changeIndex)]", into: &batch)
            }
        }
        return batch
    }

    private static func read(_ change: JSONValue, at path: String, into batch: inout WebhookBatch) {
        let field = change["field"]?.string ?? ""
        let value = change["value"] ?? .null
        let number = value["metadata"]?["phone_number_id"]?.text.map {
            BusinessNumber(phoneNumberID: $0, displayPhoneNumber: value["metadata"]?["display_phone_number"]?.text)
        }
        if field == "smb_message_echoes", let number {
            readEchoes(value, number: number, at: path, into: &batch)
            return
        }
        guard field == "messages", let number else {
            batch.otherChanges.append(.init(field: field, businessNumber: number, value: value))
            if field == "messages" {
                // Seen in other projects' test payloads: without the business number, no message can be
                // placed on a ticket. Kept raw, and said.
                let messages = value["messages"]?.array.count ?? 0, statuses = value["statuses"]?.array.count ?? 0
                batch.skipped.append("\(path): a messages change without metadata.phone_number_id (\(messages) messages, \(statuses) statuses kept raw, not read)")
            } else if field == "smb_message_echoes" {
                let echoes = value["message_echoes"]?.array.count ?? 0
                batch.skipped.append("\(path): an smb_message_echoes change without metadata.phone_number_id (\(echoes) echoes kept raw, not read)")
            }
            return
        }
        let contacts = value["contacts"]?.array ?? []
        for (index, message) in (value["messages"]?.array ?? []).enumerated() {
            if let decoded = inboundMessage(message, number: number, contacts: contacts) {
                batch.messages.append(decoded)
            } else {
                batch.skipped.append("\(path).value.messages[\(index)]: no message id or no sender")
            }
        }
        for (index, status) in (value["statuses"]?.array ?? []).enumerated() {
            guard let wamid = status["id"]?.text, let name = status["status"]?.text else {
                batch.skipped.append("\(path).value.statuses[\(index)]: no message id or no status")
                continue
            }
            batch.statuses.append(StatusUpdate(
                wamid: wamid,
                businessNumber: number,
                status: DeliveryStatus(name),
                at: date(status["timestamp"]),
                recipientID: status["recipient_id"]?.text,
                recipientUserID: status["recipient_user_id"]?.text,
                callbackData: status["biz_opaque_callback_data"]?.text,
                errors: WhatsAppError.list(status["errors"]),
                raw: status
            ))
        }
        for error in WhatsAppError.list(value["errors"]) {
            batch.errors.append((number, error))
        }
        // Parts of a messages-field value this build does not read are kept, not dropped.
        let known: Set<String> = ["messaging_product", "metadata", "contacts", "messages", "statuses", "errors"]
        if case .object(let members) = value, members.keys.contains(where: { !known.contains($0) }) {
            batch.otherChanges.append(.init(field: field, businessNumber: number, value: value))
        }
    }

    /// Coexistence echoes: what the business sent from the WhatsApp Business app on this number,
    /// read like a customer's message (text, media, edits, revokes…) but addressed to the customer.
    private static func readEchoes(_ value: JSONValue, number: BusinessNumber, at path: String, into batch: inout WebhookBatch) {
        let contacts = value["contacts"]?.array ?? []
        for (index, echo) in (value["message_echoes"]?.array ?? []).enumerated() {
            guard let wamid = echo["id"]?.text, !wamid.isEmpty else {
                batch.skipped.append("\(path).value.message_echoes[\(index)]: no message id")
                continue
            }
            // The customer is `to`; some payloads carry the two numbers the other way round.
            var waID = echo["to"]?.text
            // Compared by their digits: a display number may come formatted ("+1 555-…").
            let digits = { (text: String?) in text.map { String($0.filter(\.isNumber)) } }
            if let display = digits(number.displayPhoneNumber), !display.isEmpty, digits(waID) == display { waID = echo["from"]?.text }
            let userID = echo["to_user_id"]?.text
            let contact = contacts.first { ($0["wa_id"]?.text).map { $0 == waID } ?? false }
                ?? contacts.first { userID != nil && $0["user_id"]?.text == userID }
                ?? (contacts.count == 1 ? contacts[0] : nil)
            let customer = CustomerIdentity(waID: waID ?? contact?["wa_id"]?.text, userID: userID ?? contact?["user_id"]?.text,
                                            profileName: contact?["profile"]?["name"]?.string)
            guard customer.waID != nil || customer.userID != nil else {
                batch.skipped.append("\(path).value.message_echoes[\(index)]: no customer (to)")
                continue
            }
            let type = echo["type"]?.text ?? "unknown"
            var decoded = InboundMessage(wamid: wamid, businessNumber: number, customer: customer, sentAt: date(echo["timestamp"]), type: type,
                                         errors: WhatsAppError.list(echo["errors"]), raw: echo)
            decoded.isEcho = true
            readContent(of: echo, type: type, into: &decoded)
            batch.messages.append(decoded)
        }
        let known: Set<String> = ["messaging_product", "metadata", "contacts", "message_echoes"]
        if case .object(let members) = value, members.keys.contains(where: { !known.contains($0) }) {
            batch.otherChanges.append(.init(field: "smb_message_echoes", businessNumber: number, value: value))
        }
    }

    private static func inboundMessage(_ message: JSONValue, number: BusinessNumber, contacts: [JSONValue]) -> InboundMessage? {
        guard let wamid = message["id"]?.text, !wamid.isEmpty else { return nil }
        let waID = message["from"]?.text
        let userID = message["from_user_id"]?.text
        // The contact of this sender; with one contact in the value, that one (its wa_id may differ
        // from `from`, as with Brazilian and Mexican numbers).
        let contact = contacts.first { ($0["wa_id"]?.text).map { $0 == waID } ?? false }
            ?? contacts.first { userID != nil && $0["user_id"]?.text == userID }
            ?? (contacts.count == 1 ? contacts[0] : nil)
        let customer = CustomerIdentity(
            waID: waID ?? contact?["wa_id"]?.text,
            userID: userID ?? contact?["user_id"]?.text,
            profileName: contact?["profile"]?["name"]?.string
        )
        guard customer.waID != nil || customer.userID != nil else { return nil }
        let type = message["type"]?.text ?? "unknown"
        var decoded = InboundMessage(
            wamid: wamid, businessNumber: number, customer: customer, sentAt: date(message["timestamp"]),
            type: type, errors: WhatsAppError.list(message["errors"]), raw: message
        )
        readContent(of: message, type: type, into: &decoded)
        return decoded
    }

    /// Fills text, media, location, choice, reaction, context and referral from the type's object.
    private static func readContent(of message: JSONValue, type: String, into decoded: inout InboundMessage) {
        let body = message[type]
        switch type {
        case "text":
            decoded.text = body?["body"]?.string
        case "image", "video", "audio", "document", "sticker":
            decoded.text = body?["caption"]?.string
            decoded.media = body.map(media)
        case "location":
            if let latitude = body?["latitude"]?.number, let longitude = body?["longitude"]?.number {
                decoded.location = .init(latitude: latitude, longitude: longitude, name: body?["name"]?.string,
                                         address: body?["address"]?.string, url: body?["url"]?.string)
                decoded.text = body?["name"]?.string ?? body?["address"]?.string
            }
        case "interactive":
            if let body, let kind = body["type"]?.string, let reply = body[kind] {
                decoded.choice = .init(kind: kind, id: reply["id"]?.text, title: reply["title"]?.string ?? reply["body"]?.string,
                                       description: reply["description"]?.string ?? reply["response_json"]?.string)
                decoded.text = decoded.choice?.title
            }
        case "button":
            decoded.choice = .init(kind: "button", id: body?["payload"]?.text, title: body?["text"]?.string, description: nil)
            decoded.text = body?["text"]?.string
        case "reaction":
            decoded.reaction = .init(messageWamid: body?["message_id"]?.text, emoji: body?["emoji"]?.string)
            decoded.text = body?["emoji"]?.string
        case "system":
            decoded.text = body?["body"]?.string
        case "edit":
            decoded.targetWamid = body?["original_message_id"]?.text
            if let inner = body?["message"], let innerType = inner["type"]?.text {
                readContent(of: inner, type: innerType, into: &decoded)
            }
        case "revoke":
            decoded.targetWamid = body?["original_message_id"]?.text
        case "order":
            decoded.text = body?["text"]?.string
        case "contacts":
            decoded.contacts = (message["contacts"]?.array ?? []).filter(\.isObject)
            let names = decoded.contacts.compactMap { $0["name"]?["formatted_name"]?.string }
            decoded.text = names.isEmpty ? nil : names.joined(separator: ", ")
        default:
            break
        }
        if let context = message["context"], context.isObject {
            decoded.context = .init(
                wamid: context["id"]?.text, from: context["from"]?.text,
                forwarded: context["forwarded"]?.bool ?? false,
                frequentlyForwarded: context["frequently_forwarded"]?.bool ?? false,
                referredProductID: context["referred_product"]?["product_retailer_id"]?.text
            )
        }
        if let referral = message["referral"], referral.isObject { decoded.referral = referral }
    }

    private static func media(_ body: JSONValue) -> InboundMessage.Media {
        .init(id: body["id"]?.text, mimeType: body["mime_type"]?.string, sha256: body["sha256"]?.string,
              filename: body["filename"]?.string, url: body["url"]?.string,
              isVoice: body["voice"]?.bool ?? false, isAnimated: body["animated"]?.bool ?? false)
    }

    /// Unix seconds, as a string or a number.
    static func date(_ value: JSONValue?) -> Date? {
        // Beyond year 5000 is not a timestamp (and PostgreSQL would refuse it, failing the batch).
        guard let seconds = value?.number, seconds.isFinite, seconds > 0, seconds < 1e11 else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }
}

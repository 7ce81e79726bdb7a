import Foundation

/// Rows of one ingest batch. The hot path's rows travel as one typed array per column
/// (`unnest($1::int8[], $2::text[], …)`): the server reads them without parsing JSON, and a
/// message's payload is parsed once, into its `jsonb` column. The rarer echoes and statuses still
/// travel as JSON documents for `jsonb_to_recordset`.
enum IngestRows {
    struct Number {
        let id: String
        let display: String?
    }

    struct NewTicket {
        let customerID: Int64
        let businessNumber: String
        let createdAt: Date
        let lastInboundAt: Date
        let windowCloses: Date
    }

    struct TicketUpdate {
        let id: Int64
        let lastInboundAt: Date
        let windowCloses: Date
        /// For a reopen: the ticket's place in routing as the core decides it (`TicketThreading.placeAfterReopen`).
        var place: Place?
        /// A message that asks for no answer: the ticket keeps its status.
        var keepStatus = false

        struct Place {
            let assignee: String?
            let queue: String?
            let waitingSince: Date?
            let excludedAgents: [String]
        }
    }

    /// A message the business sent from the WhatsApp Business app (a coexistence echo).
    struct Echo: Encodable {
        let ord: Int
        /// The delivery that carried it (`webhook_deliveries.id`): an echo with no ticket says so there.
        let deliveryID: Int64
        /// Says something (`ConversationTurn`): it answers the customer.
        let answers: Bool
        let waID: String?
        let userID: String?
        let businessNumber: String
        let wamid: String
        let type: String
        let body: String?
        let details: String
        let targetWamid: String?
        let payload: String
        let sentAt: Double?
        let receivedAt: Double

        enum CodingKeys: String, CodingKey {
            case ord, wamid, type, body, details, payload, answers
            case waID = "wa_id"
            case userID = "user_id"
            case deliveryID = "delivery_id"
            case businessNumber = "business_number"
            case targetWamid = "target_wamid"
            case sentAt = "sent_at"
            case receivedAt = "received_at"
        }
    }

    struct Message {
        /// Its place among the batch's events: `2 × position + 1`, after its thread's own event.
        let ord: Int
        let customerID: Int64
        let businessNumber: String
        let wamid: String
        let type: String
        let body: String?
        let details: String
        let targetWamid: String?
        let payload: String
        let sentAt: Date?
        let receivedAt: Date
        /// The ticket, when threading attached the message to a resolved one (otherwise: the
        /// customer's one ticket that is not resolved).
        var ticketID: Int64?
    }

    /// A thread's event (created, woken, reopened); its `message_received` events come from the messages.
    struct Event {
        /// `2 × position` of the thread's first new message.
        let ord: Int
        let customerID: Int64
        let businessNumber: String
        let at: Date
        let kind: String
        let data: String
    }

    struct Status: Encodable {
        let ord: Int
        let wamid: String
        let status: String
        let occurredAt: Double?
        let errors: String
        let payload: String

        enum CodingKeys: String, CodingKey {
            case ord
            case wamid
            case status
            case occurredAt = "occurred_at"
            case errors
            case payload
        }
    }

    struct StatusUpdate: Encodable {
        let id: Int64
        /// Filled in on a sent message whose wamid is not recorded yet (the send's outcome is still
        /// being recorded, or Meta's answer could not be read).
        let wamid: String
        let status: String
        let at: Double?
        let errorCode: Int?
        let errorTitle: String?

        enum CodingKeys: String, CodingKey {
            case id
            case wamid
            case status
            case at
            case errorCode = "error_code"
            case errorTitle = "error_title"
        }
    }

    static func json<T: Encodable>(_ rows: [T]) throws -> String {
        try JSONText.encode(rows)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

import Foundation

/// Rows of one ingest batch as JSON documents for `jsonb_to_recordset`: one parameter carries a whole
/// table's worth of rows, NULLs included, so a batch costs a few statements whatever its size.
enum IngestRows {
    struct Delivery: Encodable {
        let ord: Int
        let receivedAt: Double
        let bodyHex: String
        let messages: Int
        let statuses: Int
        let decodeProblem: String?

        enum CodingKeys: String, CodingKey {
            case ord
            case receivedAt = "received_at"
            case bodyHex = "body_hex"
            case messages
            case statuses
            case decodeProblem = "decode_problem"
        }
    }

    struct Customer: Encodable {
        let ord: Int
        let waID: String?
        let userID: String?
        let profileName: String?
        let country: String?
        let businessNumber: String

        enum CodingKeys: String, CodingKey {
            case ord
            case waID = "wa_id"
            case userID = "user_id"
            case profileName = "profile_name"
            case country
            case businessNumber = "business_number"
        }
    }

    struct Number: Encodable {
        let id: String
        let display: String?

        enum CodingKeys: String, CodingKey {
            case id
            case display
        }
    }

    struct NewTicket: Encodable {
        let ord: Int
        let customerID: Int64
        let businessNumber: String
        let createdAt: Double
        let lastInboundAt: Double
        let windowCloses: Double

        enum CodingKeys: String, CodingKey {
            case ord
            case customerID = "customer_id"
            case businessNumber = "business_number"
            case createdAt = "created_at"
            case lastInboundAt = "last_inbound_at"
            case windowCloses = "window_closes"
        }
    }

    struct TicketUpdate: Encodable {
        let id: Int64
        let lastInboundAt: Double
        let windowCloses: Double
        /// For a reopen: the ticket's place in routing as the core decides it (`TicketThreading.placeAfterReopen`).
        var place: Place?
        /// A message that asks for no answer: the ticket keeps its status.
        var keepStatus = false

        struct Place: Encodable {
            let assignee: String?
            let queue: String?
            let waitingSince: Double?
            let excludedAgents: [String]
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(lastInboundAt, forKey: .lastInboundAt)
            try container.encode(windowCloses, forKey: .windowCloses)
            try container.encode(place != nil, forKey: .reopen)
            try container.encode(keepStatus, forKey: .keepStatus)
            try container.encode(place?.assignee, forKey: .assignee)
            try container.encode(place?.queue, forKey: .queue)
            try container.encode(place?.waitingSince, forKey: .waitingSince)
            try container.encode(place?.excludedAgents ?? [], forKey: .excludedAgents)
        }

        enum CodingKeys: String, CodingKey {
            case id
            case lastInboundAt = "last_inbound_at"
            case windowCloses = "window_closes"
            case reopen, assignee, queue
            case keepStatus = "keep_status"
            case waitingSince = "waiting_since"
            case excludedAgents = "excluded_agents"
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

    struct Message: Encodable {
        let ord: Int
        let customerID: Int64
        let businessNumber: String
        let wamid: String
        let type: String
        let body: String?
        let details: String
        let targetWamid: String?
        let payload: String
        let sentAt: Double?
        let receivedAt: Double
        /// The ticket, when threading attached the message to a resolved one (otherwise: the
        /// customer's one ticket that is not resolved).
        var ticketID: Int64?

        enum CodingKeys: String, CodingKey {
            case ord
            case customerID = "customer_id"
            case businessNumber = "business_number"
            case ticketID = "ticket_id"
            case wamid
            case type
            case body
            case details
            case targetWamid = "target_wamid"
            case payload
            case sentAt = "sent_at"
            case receivedAt = "received_at"
        }
    }

    struct Event: Encodable {
        let ord: Int
        let customerID: Int64
        let businessNumber: String
        let at: Double
        let kind: String
        let data: String
        /// For `message_received`: the message, whose id and type fill the event's data.
        let wamid: String?
        /// As for `Message`.
        var ticketID: Int64?

        enum CodingKeys: String, CodingKey {
            case ord
            case customerID = "customer_id"
            case businessNumber = "business_number"
            case ticketID = "ticket_id"
            case at
            case kind
            case data
            case wamid
        }
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

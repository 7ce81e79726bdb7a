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
    }

    struct Customer: Encodable {
        let ord: Int
        let waID: String?
        let userID: String?
        let profileName: String?
        let country: String?
        let businessNumber: String
    }

    struct Number: Encodable {
        let id: String
        let display: String?
    }

    struct NewTicket: Encodable {
        let ord: Int
        let customerID: Int64
        let businessNumber: String
        let createdAt: Double
        let lastInboundAt: Double
        let windowCloses: Double
    }

    struct TicketUpdate: Encodable {
        let id: Int64
        let lastInboundAt: Double
        let windowCloses: Double
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
    }

    struct Status: Encodable {
        let ord: Int
        let wamid: String
        let status: String
        let occurredAt: Double?
        let errors: String
        let payload: String
    }

    struct StatusUpdate: Encodable {
        let id: Int64
        let status: String
        let at: Double?
        let errorCode: Int?
        let errorTitle: String?
    }

    static func json<T: Encodable>(_ rows: [T]) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(rows), as: UTF8.self)
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

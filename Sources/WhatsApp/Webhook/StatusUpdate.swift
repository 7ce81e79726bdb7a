import Foundation
import JSON

/// What Meta says happened to a message the business sent.
public struct StatusUpdate: Sendable, Equatable {
    public var wamid: String
    public var businessNumber: BusinessNumber
    public var status: DeliveryStatus
    public var at: Date?
    public var recipientID: String?
    public var recipientUserID: String?
    /// `biz_opaque_callback_data`: Switchboard's own id of the outbound message, echoed back.
    public var callbackData: String?
    public var errors: [WhatsAppError]
    public var raw: JSONValue
}

/// A delivery status, as Meta names it.
public enum DeliveryStatus: Sendable, Hashable, CustomStringConvertible {
    case sent, delivered, read, played, failed, deleted
    /// A status this build does not know; stored as it came.
    case other(String)

    public init(_ name: String) {
        switch name {
        case "sent": self = .sent
        case "delivered": self = .delivered
        case "read": self = .read
        case "played": self = .played
        case "failed": self = .failed
        case "deleted": self = .deleted
        default: self = .other(name)
        }
    }

    public var description: String {
        switch self {
        case .sent: return "sent"
        case .delivered: return "delivered"
        case .read: return "read"
        case .played: return "played"
        case .failed: return "failed"
        case .deleted: return "deleted"
        case .other(let name): return name
        }
    }
}

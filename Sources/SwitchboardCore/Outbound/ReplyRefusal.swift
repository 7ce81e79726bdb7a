import Foundation

/// Why a reply was refused before it was queued. Nothing is written when a reply is refused.
public enum ReplyRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// A free-form message outside WhatsApp's customer service window. `closedAt` is nil when the
    /// customer never wrote to this number.
    case customerWindowClosed(closedAt: Date?)
    /// No ticket with this reference.
    case unknownTicket(String)
    /// The reply itself is malformed (empty text, missing media id…); the text names the field.
    case invalidReply(String)
    /// Sending is not configured (no `whatsapp.accessToken`).
    case sendingNotConfigured
    /// The uploaded file is already carried by another reply (a file goes out once; upload it again).
    case fileAlreadySent(Int64)

    public var description: String {
        switch self {
        case .customerWindowClosed(let closedAt?):
            return "the customer service window closed at \(closedAt.formatted(.iso8601)); only an approved template can be sent now"
        case .customerWindowClosed(nil):
            return "the customer has not written to this number, so no customer service window is open; only an approved template can be sent"
        case .unknownTicket(let reference):
            return "no ticket \(reference)"
        case .invalidReply(let reason):
            return "invalid reply: \(reason)"
        case .sendingNotConfigured:
            return "sending is not configured: set whatsapp.accessToken"
        case .fileAlreadySent(let id):
            return "file \(id) was sent already; upload it again to send it once more"
        }
    }
}

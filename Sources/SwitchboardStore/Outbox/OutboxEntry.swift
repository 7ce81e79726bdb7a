import Foundation

/// A queued send, as the sender of its business number loads it.
public struct OutboxEntry: Sendable, Equatable {
    public var id: UUID
    public var sequence: Int64
    public var businessNumber: String
    /// The pacing key: wa_id or business-scoped user id.
    public var recipient: String
    /// The Graph API request body (JSON text).
    public var requestJSON: String
    public var nextAttemptAt: Date
}

/// A send about to leave: what the sender needs to decide and to perform it.
public struct OutboxAttempt: Sendable, Equatable {
    /// 1 for the first attempt.
    public var number: Int
    public var isFreeForm: Bool
    /// When the ticket's customer service window closes (nil: never opened).
    public var customerWindowExpiresAt: Date?
    public var requestJSON: String
}

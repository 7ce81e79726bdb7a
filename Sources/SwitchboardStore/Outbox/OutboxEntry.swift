import Foundation

/// A queued send, as the sender of its business number loads it.
public struct OutboxEntry: Sendable, Equatable {
    public var id: UUID
    public var sequence: Int64
    public var businessNumber: String
    /// The pacing and ordering key: the customer (whatever identifiers they are known by).
    public var recipient: String
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

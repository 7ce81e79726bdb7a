import JSON

/// Everything one webhook delivery carried, every element of every `entry[]` and `changes[]`.
public struct WebhookBatch: Sendable, Equatable {
    public var messages: [InboundMessage] = []
    public var statuses: [StatusUpdate] = []
    /// `value.errors`: problems Meta reports about a business number as a whole.
    public var errors: [(businessNumber: BusinessNumber?, error: WhatsAppError)] = []
    /// Changes of other fields (`smb_message_echoes`, group updates, user preferences, template
    /// status…) and message-field values with parts this build does not read, kept as they came.
    public var otherChanges: [OtherChange] = []
    /// Elements that could not be read (a message without an id, say), each with the reason; the rest
    /// of the batch is kept.
    public var skipped: [String] = []

    public struct OtherChange: Sendable, Equatable {
        public var field: String
        public var businessNumber: BusinessNumber?
        public var value: JSONValue
    }

    public init() {}

    public static func == (a: WebhookBatch, b: WebhookBatch) -> Bool {
        a.messages == b.messages && a.statuses == b.statuses && a.otherChanges == b.otherChanges && a.skipped == b.skipped
            && a.errors.map(\.error) == b.errors.map(\.error) && a.errors.map(\.businessNumber) == b.errors.map(\.businessNumber)
    }
}

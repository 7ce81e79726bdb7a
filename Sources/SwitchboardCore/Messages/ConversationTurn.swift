/// What a message is in the conversation, whoever sent it: a reaction, an edit or a deletion
/// changes an earlier message; anything else says something new. A customer's message that says
/// something asks for an answer (`TicketThreading.asksForAnswer`); one of ours, or of the WhatsApp
/// Business app on the same number, that says something answers (the SLA's response clocks,
/// `tickets.first_response_at`).
public enum ConversationTurn {
    public static func saysSomething(type: String) -> Bool {
        !silentTypes.contains(type)
    }

    /// The types that change another message rather than say something (for SQL that needs the
    /// same rule: `type <> ALL(silentTypes)`).
    public static let silentTypes = ["reaction", "revoke", "edit"]
}

/// Where a ticket is in its life.
public enum TicketStatus: String, Sendable, CaseIterable {
    /// Waiting for the support team.
    case open
    /// Waiting for the customer; a message from them opens it again.
    case pending
    /// Done; a message soon after reopens it, a later one starts a new ticket.
    case resolved
}

import Foundation

/// Something the daemon tells whoever follows it live (the control socket's `Watch`, the agents'
/// event stream): SLA warnings and breaches so far.
public struct DaemonEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case slaWarning = "sla_warning"
        case slaBreach = "sla_breach"
    }

    public var kind: Kind
    public var ticketID: Int64
    /// `T-1042`.
    public var reference: String
    public var at: Date
    /// Who must hear of it (agent handles), e.g. the supervisors of the ticket's team; empty: anyone
    /// following may see it, nobody in particular is told.
    public var audience: [String]
    public var details: [String: String]

    public init(kind: Kind, ticketID: Int64, reference: String, at: Date, audience: [String], details: [String: String]) {
        self.kind = kind
        self.ticketID = ticketID
        self.reference = reference
        self.at = at
        self.audience = audience
        self.details = details
    }
}

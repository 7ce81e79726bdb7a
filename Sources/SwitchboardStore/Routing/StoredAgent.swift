import Foundation
import SwitchboardCore

/// An agent as stored: the definition and the live fields the rebuild needs.
public struct StoredAgent: Sendable, Equatable {
    public var definition: AgentDefinition
    public var presence: AgentPresence
    public var presenceSince: Date
    public var lastAssignedAt: Date?
    public var fromConfiguration: Bool
}

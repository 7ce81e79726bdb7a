import Foundation
import SwitchboardCore

/// An agent as stored: the definition and the live fields the rebuild needs.
public struct StoredAgent: Sendable, Equatable {
    public var definition: AgentDefinition
    public var presence: AgentPresence
    public var presenceSince: Date
    public var lastAssignedAt: Date?
    public var fromConfiguration: Bool
    /// Receives no new assignments until undrained.
    public var draining: Bool

    public init(definition: AgentDefinition, presence: AgentPresence, presenceSince: Date, lastAssignedAt: Date?, fromConfiguration: Bool, draining: Bool = false) {
        self.definition = definition
        self.presence = presence
        self.presenceSince = presenceSince
        self.lastAssignedAt = lastAssignedAt
        self.fromConfiguration = fromConfiguration
        self.draining = draining
    }
}

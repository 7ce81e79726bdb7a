import Foundation
import SwitchboardCore

/// One agent's live state. Capacity is taken only through `reserve`, which runs without suspending,
/// so concurrent proposals from several queues are decided one after the other on fresh state.
public actor AgentActor {
    public nonisolated let id: String
    private var state: AgentState

    public init(state: AgentState) {
        self.id = state.definition.id
        self.state = state
    }

    public func snapshot() -> AgentSnapshot { state.snapshot }

    public var current: AgentState { state }

    /// Online; free (online, not draining, room for one more ticket); the queues served: what
    /// status counts, without copying the whole state.
    public func availability() -> (online: Bool, hasRoom: Bool, queues: [String]) {
        (state.presence == .online, state.presence == .online && !state.draining && state.load < state.definition.capacity, state.definition.queues)
    }

    public func setDraining(_ draining: Bool) { state.draining = draining }

    public func reserve(_ ticket: Int64, requirements: [SkillRequirement]) -> Bool {
        state.reserve(ticket, requirements: requirements)
    }

    public func confirm(_ ticket: Int64, status: TicketStatus, at date: Date) { state.confirm(ticket, status: status, at: date) }

    public func release(_ ticket: Int64) { state.release(ticket) }

    public func hold(_ ticket: Int64, status: TicketStatus) { state.hold(ticket, status: status) }

    @discardableResult
    public func drop(_ ticket: Int64) -> Bool { state.drop(ticket) }

    public func forget(_ ticket: Int64) { state.forget(ticket) }

    public func setPresence(_ presence: AgentPresence, at date: Date) { state.setPresence(presence, at: date) }

    public func update(_ definition: AgentDefinition, pendingCountsAgainstCapacity: Bool) {
        precondition(definition.id == id, "an actor keeps its agent")
        state.definition = definition
        state.pendingCountsAgainstCapacity = pendingCountsAgainstCapacity
    }

    public func setCapacity(_ capacity: Int) { state.definition.capacity = capacity }
}

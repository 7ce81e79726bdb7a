import SwitchboardCore

extension Permissions.Caller {
    /// Whether the caller may be told that a ticket's state refuses their take or acceptance (409 /
    /// `Conflict`) rather than that it does not exist: they may see it, or it is in a queue whose
    /// waiting tickets they see, so they saw it wait a moment ago. Everyone else is answered as for
    /// a ticket that does not exist.
    func knewOf(_ place: Permissions.TicketPlace) -> Bool {
        if Permissions.canSee(self, place) { return true }
        guard let queue = place.queue else { return false }
        return Permissions.canSee(self, .init(assignee: nil, queue: queue))
    }
}

import Synchronization

/// Which agent actors exist and which queues each serves; read synchronously by queue actors at the
/// start of every round, so a change of membership takes effect at the next round.
public final class AgentRoster: Sendable {
    private struct Entry {
        var actor: AgentActor
        var queues: Set<String>
    }

    private struct Members {
        var entries: [String: Entry] = [:]
        /// Each queue's agents in id order, kept as agents come, go or change queues: every round of
        /// every queue reads its list, and membership changes are rare.
        var byQueue: [String: [AgentActor]] = [:]

        mutating func reindex(_ queues: Set<String>) {
            for queue in queues {
                let serving = entries.values.filter { $0.queues.contains(queue) }.map(\.actor).sorted { $0.id < $1.id }
                byQueue[queue] = serving.isEmpty ? nil : serving
            }
        }
    }

    private let members = Mutex(Members())

    public init() {}

    public func agent(_ id: String) -> AgentActor? { members.withLock { $0.entries[id]?.actor } }

    public var all: [AgentActor] { members.withLock { $0.entries.values.map(\.actor).sorted { $0.id < $1.id } } }

    /// The agents of a queue, in id order.
    public func agents(serving queue: String) -> [AgentActor] {
        members.withLock { $0.byQueue[queue] ?? [] }
    }

    public func queues(of id: String) -> Set<String> { members.withLock { $0.entries[id]?.queues ?? [] } }

    /// Adds an agent or changes the queues it serves.
    public func set(_ actor: AgentActor, queues: [String]) {
        members.withLock { members in
            let new = Set(queues)
            let old = members.entries.updateValue(Entry(actor: actor, queues: new), forKey: actor.id)?.queues ?? []
            members.reindex(old.union(new))
        }
    }

    public func remove(_ id: String) {
        members.withLock { members in
            guard let removed = members.entries.removeValue(forKey: id) else { return }
            members.reindex(removed.queues)
        }
    }
}

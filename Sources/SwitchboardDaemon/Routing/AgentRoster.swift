import Synchronization

/// Which agent actors exist and which queues each serves; read synchronously by queue actors at the
/// start of every round, so a change of membership takes effect at the next round.
public final class AgentRoster: Sendable {
    private struct Entry {
        var actor: AgentActor
        var queues: Set<String>
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    public func agent(_ id: String) -> AgentActor? { entries.withLock { $0[id]?.actor } }

    public var all: [AgentActor] { entries.withLock { $0.values.map(\.actor).sorted { $0.id < $1.id } } }

    /// The agents of a queue, in id order.
    public func agents(serving queue: String) -> [AgentActor] {
        entries.withLock { entries in entries.values.filter { $0.queues.contains(queue) }.map(\.actor).sorted { $0.id < $1.id } }
    }

    public func queues(of id: String) -> Set<String> { entries.withLock { $0[id]?.queues ?? [] } }

    /// Adds an agent or changes the queues it serves.
    public func set(_ actor: AgentActor, queues: [String]) {
        entries.withLock { $0[actor.id] = Entry(actor: actor, queues: Set(queues)) }
    }

    public func remove(_ id: String) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }
}

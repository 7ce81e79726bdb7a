import JSON
import Logging
import ServiceLifecycle
import Synchronization
import SwitchboardStore

/// Moves the daemon's events into the numbered `EventLog`, filling in a ticket's reference, queue
/// and agent when the publisher did not have them at hand. Events are taken in batches — whatever
/// arrived while the previous batch was looked up — with one query per batch, so the lookups keep
/// up with hundreds of events a second; order is kept.
public struct EventEnricher: Service {
    let events: EventStream
    let log: EventLog
    let store: ControlStore
    let logger: Logger
    /// Most events looked up in one query.
    static let maxBatch = 1000

    public init(events: EventStream, log: EventLog, store: ControlStore, logger: Logger) {
        self.events = events
        self.log = log
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        let subscription = events.subscribe()
        let inbox = EventInbox()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in subscription { inbox.put(event) }
                    inbox.close()
                }
                group.addTask {
                    var references = ReferenceCache()
                    while let batch = await inbox.take(max: Self.maxBatch) {
                        for event in await enrich(batch, references: &references) { log.append(event) }
                    }
                }
                await group.waitForAll()
            }
        }
        // Followers (the agents' event streams) end, so the HTTP server can finish its requests.
        log.close()
    }

    /// Fills in what the publishers left out. A ticket's reference never changes, so it is
    /// remembered: an assignment (which names its queue and agent) then needs no query at all.
    func enrich(_ batch: [DaemonEvent], references: inout ReferenceCache) async -> [DaemonEvent] {
        await withMessages(await withTickets(batch, references: &references))
    }

    /// Each message event with the message as the API shows it (and the one it changes), read in
    /// one query per batch.
    func withMessages(_ batch: [DaemonEvent]) async -> [DaemonEvent] {
        let carriesMessage: Set<DaemonEvent.Kind> = [.message, .messageStatus]
        let ids = batch.compactMap { carriesMessage.contains($0.kind) ? $0.details["message"].flatMap { Int64($0) } : nil }
        guard !ids.isEmpty else { return batch }
        let found: [Int64: [TicketDetailRow.Message]]
        do {
            found = try await store.messagesShowing(Array(Set(ids)))
        } catch {
            logger.warning("message events passed on without the messages", metadata: ["events": "\(ids.count)", "error": "\(error)"])
            return batch
        }
        return batch.map { event in
            guard carriesMessage.contains(event.kind), let id = event.details["message"].flatMap({ Int64($0) }), let rows = found[id],
                  let asked = rows.first(where: { $0.id == id }) else { return event }
            var event = event
            let views = zip(rows, APIRepresentation.messages(rows))
            event.message = views.first { $0.0.id == id }?.1
            let details = (try? JSONParser.parse(Array(asked.details.utf8))) ?? [:]
            if let target = asked.targetWamid ?? details["reaction"]?["message_id"]?.string {
                event.changedMessage = views.first { $0.0.wamid == target }?.1
            }
            return event
        }
    }

    /// Events with their ticket's reference, queue and agent.
    func withTickets(_ batch: [DaemonEvent], references: inout ReferenceCache) async -> [DaemonEvent] {
        var batch = batch
        for index in batch.indices {
            guard let id = batch[index].ticketID else { continue }
            if let reference = batch[index].reference { references.remember(id, reference) } else { batch[index].reference = references[id] }
        }
        let missing = batch.filter(\.needsTicketLookup).compactMap(\.ticketID)
        guard !missing.isEmpty else { return batch }
        let found: [Int64: (reference: String, queue: String?, assignee: String?)]
        do {
            found = try await store.summaries(ofTickets: Array(Set(missing)))
        } catch {
            logger.warning("events passed on without their tickets' details", metadata: ["events": "\(missing.count)", "error": "\(error)"])
            return batch
        }
        return batch.map { event in
            guard event.needsTicketLookup, let id = event.ticketID, let ticket = found[id] else { return event }
            references.remember(id, ticket.reference)
            return event.filling(reference: ticket.reference, queue: ticket.queue, assignee: ticket.assignee)
        }
    }

}

/// Ticket references by id, bounded: forgotten all at once past the limit (they are looked up again).
struct ReferenceCache {
    private var references: [Int64: String] = [:]
    let limit = 100_000

    subscript(id: Int64) -> String? { references[id] }

    mutating func remember(_ id: Int64, _ reference: String) {
        if references.count >= limit { references.removeAll(keepingCapacity: true) }
        references[id] = reference
    }
}

/// Events waiting to be enriched: put without waiting, taken in batches.
final class EventInbox: Sendable {
    private struct State {
        var events: [DaemonEvent] = []
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let state = Mutex(State())

    func put(_ event: DaemonEvent) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.events.append(event)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Up to `max` events, oldest first, once there is at least one; nil once closed and empty.
    func take(max: Int) async -> [DaemonEvent]? {
        while true {
            enum Next { case batch([DaemonEvent]), finished, wait }
            let next = state.withLock { state -> Next in
                if !state.events.isEmpty {
                    let batch = Array(state.events.prefix(max))
                    state.events.removeFirst(batch.count)
                    return .batch(batch)
                }
                return state.closed ? .finished : .wait
            }
            switch next {
            case .batch(let batch): return batch
            case .finished: return nil
            case .wait:
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.events.isEmpty || state.closed { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }
}
